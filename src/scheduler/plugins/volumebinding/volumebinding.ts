// VolumeBinding (PreFilter part): a pod waits until every claim it names exists, is not being deleted
// and is bound, with the reasons kube-scheduler gives. Which node a bound volume may be used on (its
// node affinity) and binding WaitForFirstConsumer claims at Reserve/PreBind come with PersistentVolumes
// and StorageClasses (the storage issue); until then there is no class that delays binding, so every
// unbound claim counts as an immediate one, as a claim without a class does in Kubernetes.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { Handle, PreFilterPlugin } from '../../framework/interfaces.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { skip, success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import type { PersistentVolumeClaim, Pod } from '../../../api/types.ts';

export const NAME = 'VolumeBinding';
export const ERR_REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
/** Set by the volume controller once it has bound a claim (isPVCFullyBound checks it). */
const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';

/** The claims a pod's volumes name: persistentVolumeClaim volumes, and generic ephemeral volumes' `<pod>-<volume>`. */
export function podClaimNames(pod: Pod): { name: string; ephemeral: boolean }[] {
  const out: { name: string; ephemeral: boolean }[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push({ name: v.persistentVolumeClaim.claimName, ephemeral: false });
    else if (v.ephemeral) out.push({ name: `${pod.metadata?.name ?? ''}-${v.name}`, ephemeral: true });
  }
  return out;
}

/** isPVCFullyBound, also accepting the Bound phase a volume controller reports. */
export function claimIsBound(pvc: PersistentVolumeClaim): boolean {
  if (!pvc.spec?.volumeName) return false;
  return pvc.status?.phase === 'Bound' || pvc.metadata?.annotations?.[BIND_COMPLETED_ANNOTATION] !== undefined;
}

export class VolumeBinding implements PreFilterPlugin {
  readonly name = NAME;
  readonly #handle: Handle;

  constructor(handle: Handle) {
    this.#handle = handle;
  }

  /** podHasPVCs, then GetPodVolumeClaims' unbound immediate claims; all UnschedulableAndUnresolvable. */
  preFilter(_state: CycleState, info: PodInfo): Status {
    const pod = info.pod;
    const claims = podClaimNames(pod);
    if (claims.length === 0) return skip();
    const namespace = pod.metadata?.namespace ?? '';
    let unbound = false;
    for (const { name, ephemeral } of claims) {
      const pvc = this.#handle.persistentVolumeClaim(namespace, name);
      if (!pvc) {
        return unresolvable(ephemeral ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${name}"` : `persistentvolumeclaim "${name}" not found`);
      }
      if (pvc.status?.phase === 'Lost') return unresolvable(`persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ''}"`);
      if (pvc.metadata?.deletionTimestamp) return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
      if (ephemeral && !(pvc.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === pod.metadata?.uid)) {
        return unresolvable(`PVC ${namespace}/${name} was not created for pod ${namespace}/${pod.metadata?.name ?? ''} (pod is not owner)`);
      }
      if (!claimIsBound(pvc)) unbound = true;
    }
    return unbound ? unresolvable(ERR_REASON_UNBOUND_IMMEDIATE) : success();
  }
}

export const factory = (handle: Handle): VolumeBinding => new VolumeBinding(handle);
