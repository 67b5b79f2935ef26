// The default StorageClass `tinykube up` starts with: `local-path`, served by the built-in local-path
// provisioner (src/controllers/localpath, src/kubelet/volumes/localpath-deleter.ts), Delete reclaim and
// WaitForFirstConsumer binding, expansion allowed, marked default, as k3s ships rancher's local-path class. Made once
// when missing at start (as k3s applies its local-storage manifest at start): a class the
// administrator changed is left as it is, and one deleted comes back only with the next start.
import type { KubeObject, StorageClass } from '../../../api/types.ts';
import { ANN_DEFAULT_STORAGE_CLASS } from '../../../api/volumes/binding.ts';
import { LOCAL_PATH_CLASS, LOCAL_PATH_PROVISIONER } from '../../../api/volumes/localpath.ts';
import { StatusError } from '../../../util/status.ts';
import type { Store } from '../../store.ts';

export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [ANN_DEFAULT_STORAGE_CLASS]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    // A directory grows for free: claims may ask for more (the local-path resizer checks the node's room).
    allowVolumeExpansion: true,
  };
}

/** Creates the local-path class when no class of that name exists; true when it made it. */
export async function ensureLocalPathStorageClass(store: Store): Promise<boolean> {
  if (await store.tryGet(undefined, LOCAL_PATH_CLASS)) return false;
  try {
    await store.create(undefined, localPathStorageClass() as KubeObject);
    return true;
  } catch (err) {
    // Another API server made it first.
    if (err instanceof StatusError && err.code === 409) return false;
    throw err;
  }
}
