// PersistentVolumeClaimResize: a claim's storage request may grow only when its class allows volume
// expansion (allowVolumeExpansion: true) and the class is unchanged; otherwise the update is Forbidden
// with kube-apiserver's words. Validation (the claim's strategy) already refuses shrinking and resizing
// an unbound claim.

import type { KubeObject, PersistentVolumeClaim, StorageClass } from '../../api/types.ts';
import { tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';
import { claimClass } from '../../api/volumes/binding.ts';
import type { Registry } from '../../registry/registry.ts';
import type { Store } from '../../registry/store.ts';
import { forbidden } from '../../util/status.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

const storageOf = (pvc: PersistentVolumeClaim) => {
  const q = tryParseQuantity(pvc.spec?.resources?.requests?.storage);
  return q ? quantityValue(q) : 0;
};

export class PersistentVolumeClaimResize implements AdmissionPlugin {
  readonly name = 'PersistentVolumeClaimResize';
  readonly #classes: Store | undefined;

  constructor(registry: Registry) {
    this.#classes = registry.tryStore('storageclasses', 'storage.k8s.io');
  }

  async validate(a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void> {
    if (a.operation !== 'UPDATE' || a.subresource || a.resource.group !== '' || a.resource.resource !== 'persistentvolumeclaims' || !obj || !old) return;
    const pvc = obj as PersistentVolumeClaim;
    const prev = old as PersistentVolumeClaim;
    if (storageOf(pvc) <= storageOf(prev)) return;
    if (!(await this.#allowResize(pvc, prev))) {
      throw forbidden('persistentvolumeclaims', a.name, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
    }
  }

  async #allowResize(pvc: PersistentVolumeClaim, prev: PersistentVolumeClaim): Promise<boolean> {
    const cls = claimClass(pvc);
    if (cls === '' || claimClass(prev) !== cls || !this.#classes) return false;
    const sc = (await this.#classes.tryGet(undefined, cls)) as StorageClass | null;
    return sc?.allowVolumeExpansion === true;
  }
}
