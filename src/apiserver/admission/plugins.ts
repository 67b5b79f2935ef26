// The admission plugins and their order: the one place that lists them (kube-apiserver's
// recommended order, reduced to the plugins tinykube has). Later plugins (LimitRanger,
// ResourceQuota, PodSecurity, NodeRestriction...) are added here.

import type { Registry } from '../../registry/registry.ts';
import { AdmissionChain } from './chain.ts';
import { DefaultStorageClass } from './default-storage-class.ts';
import { NamespaceLifecycle } from './namespace-lifecycle.ts';
import { NodeRestriction } from './node-restriction.ts';
import { PriorityAdmission } from './priority.ts';
import { PersistentVolumeClaimResize } from './pvc-resize.ts';
import { ServiceAccountAdmission } from './service-account.ts';
import { StorageObjectInUseProtection } from './storage-object-in-use-protection.ts';

export function defaultAdmission(registry: Registry): AdmissionChain {
  return new AdmissionChain([
    new NamespaceLifecycle(registry),
    new ServiceAccountAdmission(registry),
    new NodeRestriction(registry),
    new PriorityAdmission(registry),
    new DefaultStorageClass(registry),
    new StorageObjectInUseProtection(),
    new PersistentVolumeClaimResize(registry),
  ]);
}
