// Services (core/v1): defaults and validation as Kubernetes 1.32, a ClusterIP from the Service range
// and node ports from the node port range claimed around every write (allocator.ts), and the status
// subresource a load balancer writes. Other subresources (services/proxy) join `subresources` below.

import type { Service } from '../../../api/types.ts';
import { defaultService } from '../../../api/defaults/service.ts';
import { validateService, validateServiceStatusUpdate, validateServiceUpdate } from '../../../api/validation/services.ts';
import { defineKind } from '../../kind.ts';
import { statusOnly } from '../../rules.ts';
import type { WriteHooks } from '../../store.ts';
import { ServiceAllocator } from './allocator.ts';
import { serviceFieldSelectors } from './fields.ts';
import { servicePrinter } from './printer.ts';
import { serviceProxy } from './proxy.ts';
import { dropTypeDependentFields, initIPFamilies, normalizeClusterIPs } from './strategy.ts';

export const services = defineKind<Service>({
  identity: { group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'] },
  strategy: {
    defaults: defaultService,
    // svcStrategy.PrepareForCreate: status is the server's (an empty load balancer status).
    prepareForCreate(svc) {
      svc.status = { loadBalancer: {} };
      const spec = (svc.spec ??= {});
      normalizeClusterIPs(spec, undefined);
      initIPFamilies(spec, undefined);
    },
    validate: validateService,
    prepareForUpdate(svc, old) {
      if (old.status === undefined) delete svc.status;
      else svc.status = old.status;
      const spec = (svc.spec ??= {});
      normalizeClusterIPs(spec, old.spec);
      dropTypeDependentFields(svc, old);
      initIPFamilies(spec, old.spec);
    },
    validateUpdate: validateServiceUpdate,
  },
  printer: servicePrinter,
  fields: serviceFieldSelectors,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validateServiceStatusUpdate } },
    proxy: { verbs: ['create', 'delete', 'get', 'patch', 'update'], kind: { group: '', version: 'v1', kind: 'ServiceProxyOptions' }, connect: true, proxy: serviceProxy },
  },
  writeHooks(env): WriteHooks {
    const al = new ServiceAllocator(env.backend, env.serviceRanges, { clock: env.clock });
    return {
      beginCreate: (obj, dryRun) => al.allocateCreate(obj as Service, dryRun),
      beginUpdate: (obj, old, dryRun) => al.allocateUpdate(obj as Service, old as Service, dryRun),
      afterDelete: (obj) => al.release(obj as Service),
    };
  },
});
