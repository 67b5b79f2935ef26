// Generic ephemeral volumes (component-helpers' storage/ephemeral): the claim of a pod's
// `ephemeral` volume is named `<pod>-<volume>` and is the pod's only if the pod controls it. Shared by
// the ephemeral-volume controller (which makes the claims), the PVC protection controller and the
// controllers' pod index by claim.

import type { PersistentVolumeClaim, Pod, Volume } from '../types.ts';

/** VolumeClaimName: deterministic, so nothing needs to be recorded on the pod. */
export function ephemeralClaimName(pod: Pod, volume: Volume): string {
  return `${pod.metadata?.name ?? ''}-${volume.name}`;
}

/** The names of the claims a pod's volumes refer to (persistentVolumeClaim and ephemeral volumes), in volume order. */
export function podClaimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(ephemeralClaimName(pod, v));
  }
  return out;
}

/**
 * VolumeIsForPod: undefined when the claim was made for the pod (same namespace, the pod is its
 * controller), else Kubernetes' message saying why it may not be used.
 */
export function ephemeralClaimMismatch(pod: Pod, pvc: PersistentVolumeClaim): string | undefined {
  const ns = pvc.metadata?.namespace ?? '';
  // IsControlledBy: the first controller reference decides.
  const controller = (pvc.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  if (ns === pod.metadata?.namespace && controller !== undefined && controller.uid === pod.metadata?.uid) return undefined;
  return `PVC ${ns}/${pvc.metadata?.name ?? ''} was not created for pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''} (pod is not owner)`;
}
