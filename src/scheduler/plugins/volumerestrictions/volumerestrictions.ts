// VolumeRestrictions (the part that applies here): a claim with the ReadWriteOncePod access mode may
// be used by one pod in the whole cluster. A second pod naming it is rejected everywhere with
// kube-scheduler's reason until the first is gone (the pod informer's delete moves it back to the
// active queue). The per-node conflicts of GCE PD, AWS EBS, iSCSI and RBD volumes do not arise: the
// node agent mounts none of those.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { Handle, PreFilterPlugin } from '../../framework/interfaces.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { skip, success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import { podClaimNames } from '../../../api/volumes/ephemeral.ts';

export const NAME = 'VolumeRestrictions';
export const ERR_REASON_RWOP_CONFLICT = 'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode';

export class VolumeRestrictions implements PreFilterPlugin {
  readonly name = NAME;
  readonly #handle: Handle;

  constructor(handle: Handle) {
    this.#handle = handle;
  }

  preFilter(_state: CycleState, info: PodInfo): Status {
    const ns = info.namespace;
    const rwop = podClaimNames(info.pod).filter((name) => this.#handle.persistentVolumeClaim(ns, name)?.spec?.accessModes?.includes('ReadWriteOncePod'));
    if (rwop.length === 0) return skip();
    const wanted = new Set(rwop);
    for (const node of this.#handle.nodes.list()) {
      for (const other of node.pods.values()) {
        if (other.namespace !== ns || other.key === info.key) continue;
        if (podClaimNames(other.pod).some((c) => wanted.has(c))) return unresolvable(ERR_REASON_RWOP_CONFLICT);
      }
    }
    return success();
  }
}

export const factory = (handle: Handle): VolumeRestrictions => new VolumeRestrictions(handle);
