// StorageObjectInUseProtection: every new PersistentVolume gets the kubernetes.io/pv-protection
// finalizer and every new claim kubernetes.io/pvc-protection, so neither leaves storage while still
// in use; the protection controllers remove them once nothing uses the object (kube-apiserver's plugin).

import type { KubeObject } from '../../api/types.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';

const FINALIZER_OF: Readonly<Record<string, string>> = {
  persistentvolumes: PV_PROTECTION_FINALIZER,
  persistentvolumeclaims: PVC_PROTECTION_FINALIZER,
};

export class StorageObjectInUseProtection implements AdmissionPlugin {
  readonly name = 'StorageObjectInUseProtection';

  async admit(a: AdmissionAttributes, obj: KubeObject): Promise<void> {
    if (a.operation !== 'CREATE' || a.subresource || a.resource.group !== '') return;
    const finalizer = Object.hasOwn(FINALIZER_OF, a.resource.resource) ? FINALIZER_OF[a.resource.resource] : undefined;
    if (!finalizer) return;
    const meta = (obj.metadata ??= {});
    if (meta.finalizers?.includes(finalizer)) return;
    meta.finalizers = [...(meta.finalizers ?? []), finalizer];
  }
}
