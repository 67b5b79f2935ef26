// DefaultStorageClass: a new claim that names no class (storageClassName nil and no beta class
// annotation; "" is a choice, of no class) gets the default StorageClass, the one annotated
// storageclass.kubernetes.io/is-default-class "true". With several, the newest wins (ties: the first
// name), as since Kubernetes 1.28; with none the claim is left as it is.
//
// Classes come from a watched copy (Kubernetes' plugin reads an informer's lister). When the copy
// knows no default class the store is listed, so a default class created a moment before the claim
// is always found.

import type { KubeObject, PersistentVolumeClaim, StorageClass } from '../../api/types.ts';
import type { Registry } from '../../registry/registry.ts';
import type { Store } from '../../registry/store.ts';
import { defaultClass as pickDefaultClass } from '../../api/volumes/binding.ts';
import { WatchedCache } from './cache.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

export class DefaultStorageClass implements AdmissionPlugin {
  readonly name = 'DefaultStorageClass';
  readonly #store: Store | undefined;
  readonly #classes: WatchedCache<StorageClass> | undefined;

  constructor(registry: Registry) {
    this.#store = registry.tryStore('storageclasses', 'storage.k8s.io');
    this.#classes = this.#store && new WatchedCache<StorageClass>(this.#store);
  }

  async start(): Promise<void> {
    await this.#classes?.start();
  }

  stop(): void {
    this.#classes?.stop();
  }

  async admit(a: AdmissionAttributes, obj: KubeObject): Promise<void> {
    if (!this.#store || a.operation !== 'CREATE' || a.subresource || a.resource.group !== '' || a.resource.resource !== 'persistentvolumeclaims') return;
    const pvc = obj as PersistentVolumeClaim;
    // PersistentVolumeClaimHasClass
    if (pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] !== undefined) return;
    if (pvc.spec?.storageClassName != null) return;
    const def = await this.defaultClass();
    if (!def) return;
    pvc.spec = { ...pvc.spec, storageClassName: def.metadata?.name };
  }

  /** The default class now, or undefined when there is none. */
  async defaultClass(): Promise<StorageClass | undefined> {
    const cached = pickDefaultClass(this.#classes?.values() ?? []);
    if (cached || !this.#store) return cached;
    const list = await this.#store.list({});
    return pickDefaultClass(list.items as unknown as StorageClass[]);
  }
}
