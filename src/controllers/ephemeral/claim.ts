// What the ephemeral-volume controller makes for a pod (pkg/controller/volume/ephemeral's handleVolume):
// the claim of each generic ephemeral volume, from the volume's template, controlled by the pod so the
// garbage collector deletes it with the pod. Pure: the controller reads caches and writes.

import { ephemeralClaimMismatch, ephemeralClaimName } from '../../api/volumes/ephemeral.ts';
import type { Mutable, PersistentVolumeClaim, Pod, Volume } from '../../api/types.ts';
import { controllerRef } from '../podcontrol/controllerref.ts';

/** The claim for one ephemeral volume: the template's labels, annotations and spec, owned by the pod. */
export function claimForVolume(pod: Pod, volume: Volume): Mutable<PersistentVolumeClaim> {
  const template = volume.ephemeral?.volumeClaimTemplate;
  const metadata: Mutable<PersistentVolumeClaim>['metadata'] = {
    name: ephemeralClaimName(pod, volume),
    namespace: pod.metadata?.namespace,
    ownerReferences: [controllerRef({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' })],
  };
  if (template?.metadata?.labels) metadata.labels = { ...template.metadata.labels };
  if (template?.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec: structuredClone(template?.spec ?? {}) };
}

/** What one ephemeral volume of a pod needs. */
export type VolumeStep =
  | { volume: string; action: 'create'; claim: Mutable<PersistentVolumeClaim> }
  /** A claim of that name exists and is the pod's: nothing to do. */
  | { volume: string; action: 'none' }
  /** A claim of that name exists and belongs to something else: the pod cannot use it (VolumeIsForPod's message). */
  | { volume: string; action: 'conflict'; message: string };

/**
 * The steps for each ephemeral volume of a pod, given the claims of its namespace by name. A pod being
 * deleted needs none (its claims go with it).
 */
export function planPod(pod: Pod, claimNamed: (name: string) => PersistentVolumeClaim | undefined): VolumeStep[] {
  if (pod.metadata?.deletionTimestamp) return [];
  const out: VolumeStep[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (!v.ephemeral) continue;
    const existing = claimNamed(ephemeralClaimName(pod, v));
    if (!existing) {
      out.push({ volume: v.name, action: 'create', claim: claimForVolume(pod, v) });
      continue;
    }
    const message = ephemeralClaimMismatch(pod, existing);
    out.push(message === undefined ? { volume: v.name, action: 'none' } : { volume: v.name, action: 'conflict', message });
  }
  return out;
}

export function hasEphemeralVolume(pod: Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => !!v.ephemeral);
}
