// Storage object in-use protection (pkg/controller/volume/protectionutil and pvcprotection's pod
// checks): a claim with the kubernetes.io/pvc-protection finalizer stays, Terminating, while a pod
// uses it. Pure: the controllers read caches and write.

import { ephemeralClaimMismatch, ephemeralClaimName, podClaimNames } from '../../api/volumes/ephemeral.ts';
import type { ObjectMeta, PersistentVolumeClaim, Pod } from '../../api/types.ts';

interface WithMeta {
  metadata?: ObjectMeta;
}

/** IsDeletionCandidate: being deleted and still holding the finalizer. */
export function isDeletionCandidate(obj: WithMeta, finalizer: string): boolean {
  return !!obj.metadata?.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(finalizer);
}

/**
 * NeedToAddFinalizer: not being deleted and without the finalizer. Admission adds it on create; the
 * controller adds it to objects made before (or without) that admission, as Kubernetes does.
 */
export function needsFinalizer(obj: WithMeta, finalizer: string): boolean {
  return !obj.metadata?.deletionTimestamp && !(obj.metadata?.finalizers ?? []).includes(finalizer);
}

/**
 * podIsShutDown: deleted with a zero grace period (the node agent is done with it, or it was
 * force-deleted). Its ephemeral claims no longer count as used, which breaks a pod finalizer waiting
 * on its claim while the claim waits on the pod.
 */
export function podIsShutDown(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 0;
}

/**
 * podUsesPVC: only a scheduled pod counts (a node agent refuses to start a pod whose claim is being
 * deleted). A persistentVolumeClaim volume counts whatever the pod's phase, as in Kubernetes: a
 * finished pod that still names the claim keeps it until the pod is deleted. An ephemeral volume counts
 * while the pod is not shut down, and only if the claim was made for this pod.
 */
export function podUsesClaim(pod: Pod, pvc: PersistentVolumeClaim): boolean {
  if (!pod.spec?.nodeName) return false;
  if (pod.metadata?.namespace !== pvc.metadata?.namespace) return false;
  const name = pvc.metadata?.name;
  for (const v of pod.spec.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName === name) return true;
    if (v.ephemeral && !podIsShutDown(pod) && ephemeralClaimName(pod, v) === name && ephemeralClaimMismatch(pod, pvc) === undefined) return true;
  }
  return false;
}

/**
 * IsPodTerminated: phase Succeeded or Failed, or being deleted with no container running. The
 * controllers' pod cache keeps only terminated states (client/trim.ts), so a container that is
 * waiting counts as running here until the pod's deletion event.
 */
export function isPodTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return true;
  if (!pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.containerStatuses ?? []).every((s) => !!s.state?.terminated || !!s.state?.waiting);
}

/**
 * enqueuePVCs: the claim keys (`<namespace>/<name>`) a pod event may free. Only a deleted, terminated
 * or unscheduled pod can let a claim go; a running pod's events queue nothing.
 */
export function claimKeysToCheck(pod: Pod, deleted: boolean): string[] {
  if (!deleted && !isPodTerminated(pod) && pod.spec?.nodeName) return [];
  const ns = pod.metadata?.namespace ?? '';
  return podClaimNames(pod).map((c) => `${ns}/${c}`);
}

/** The object's finalizers without `finalizer`, the others kept in order. */
export function withoutFinalizer(finalizers: readonly string[] | undefined, finalizer: string): string[] {
  return (finalizers ?? []).filter((f) => f !== finalizer);
}
