// The admission plugins and their order: the one place that lists them (kube-apiserver's
// recommended order, reduced to the plugins tinykube has). Later plugins (LimitRanger,
// ResourceQuota, NodeRestriction...) are added here.

import type { Registry } from '../../registry/registry.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import { AdmissionChain } from './chain.ts';
import type { AdmissionPluginConfigs } from './config.ts';
import { DefaultStorageClass } from './default-storage-class.ts';
import { NamespaceLifecycle } from './namespace-lifecycle.ts';
import { NodeRestriction } from './node-restriction.ts';
import { PodSecurity } from './pod-security.ts';
import { PriorityAdmission } from './priority.ts';
import { PersistentVolumeClaimResize } from './pvc-resize.ts';
import { RBACEscalation } from './rbac-escalation.ts';
import { ServiceAccountAdmission } from './service-account.ts';
import { StorageObjectInUseProtection } from './storage-object-in-use-protection.ts';

/**
 * `authorizer` is the server's configured one: the RBAC escalation checks ask it for `escalate` and
 * `bind` (none = AlwaysAllow, which allows both). `configs` come from --admission-control-config-file.
 */
export function defaultAdmission(registry: Registry, authorizer?: Authorizer, configs: AdmissionPluginConfigs = {}): AdmissionChain {
  return new AdmissionChain([
    new NamespaceLifecycle(registry),
    new ServiceAccountAdmission(registry),
    new NodeRestriction(registry),
    new PodSecurity(registry, configs.podSecurity),
    new PriorityAdmission(registry),
    new DefaultStorageClass(registry),
    new StorageObjectInUseProtection(),
    new PersistentVolumeClaimResize(registry),
    // Last of the mutating plugins (it only refuses): the RBAC kinds' storage checks it before validation.
    ...(authorizer && registry.tryStore('roles', 'rbac.authorization.k8s.io') ? [new RBACEscalation(registry, authorizer)] : []),
  ]);
}
