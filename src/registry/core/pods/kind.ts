// Pods (core/v1): graceful deletion on their node, binding by the scheduler, eviction, the
// streaming subresources the node agent serves, and the proxy to the pod's own ports.

import type { Pod } from '../../../api/types.ts';
import { defineKind } from '../../kind.ts';
import { statusOnly } from '../../rules.ts';
import type { DeletionPolicy } from '../../store.ts';
import { bindingSubresource } from './binding.ts';
import { evictionSubresource } from './eviction.ts';
import { ephemeralContainersSubresource } from './ephemeral.ts';
import { podFieldSelectors } from './fields.ts';
import { podPrinter } from './printer.ts';
import { podProxy } from './proxy.ts';
import * as rules from './strategy.ts';

/** Pods bound to a node wait for it (graceful); unbound or finished pods go at once. */
const podDeletion: DeletionPolicy = {
  gracePeriod(obj, requested) {
    const spec = (obj.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = requested ?? spec.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  },
};

const streaming = (kind: string, verbs: readonly string[]) => ({ verbs, kind: { group: '', version: 'v1', kind }, connect: true });

export const pods = defineKind<Pod>({
  identity: { group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'] },
  strategy: {
    defaults: rules.defaults,
    prepareForCreate: rules.prepareForCreate,
    validate: rules.validate,
    prepareForUpdate: rules.prepareForUpdate,
    validateUpdate: rules.validateUpdate,
  },
  printer: podPrinter,
  fields: podFieldSelectors,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: rules.validateStatusUpdate } },
    binding: bindingSubresource,
    eviction: evictionSubresource,
    ephemeralcontainers: ephemeralContainersSubresource,
    log: streaming('Pod', ['get']),
    exec: streaming('PodExecOptions', ['create', 'get']),
    attach: streaming('PodAttachOptions', ['create', 'get']),
    portforward: streaming('PodPortForwardOptions', ['create', 'get']),
    proxy: { verbs: ['create', 'delete', 'get', 'patch', 'update'], kind: { group: '', version: 'v1', kind: 'PodProxyOptions' }, connect: true, proxy: podProxy },
  },
  deletion: podDeletion,
  // kube-apiserver's pod storage does not create on PUT, and answers DELETE with the pod.
  createOnUpdate: false,
  returnsDeletedObject: true,
});
