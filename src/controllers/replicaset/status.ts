// The status a ReplicaSet (or ReplicationController) reports (calculateStatus): counts of the pods it
// owns, and the ReplicaFailure condition while creating or deleting pods fails. Pure.

import type { Pod, ReplicaSetCondition, ReplicaSetStatus } from '../../api/types.ts';
import { isPodAvailable, isPodReady } from '../podcontrol/pods.ts';
import { rfc3339 } from '../../util/clock.ts';

export interface StatusInput {
  /** Active pods the controller owns. */
  pods: readonly Pod[];
  templateLabels: Readonly<Record<string, string>>;
  minReadySeconds: number;
  generation: number | undefined;
  previous: ReplicaSetStatus | undefined;
  /** Why the last create or delete failed ("FailedCreate" / "FailedDelete" and the message), or undefined. */
  failure?: { reason: 'FailedCreate' | 'FailedDelete'; message: string };
  now: number;
}

export function calculateStatus(i: StatusInput): ReplicaSetStatus {
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of i.pods) {
    const labels = p.metadata?.labels ?? {};
    if (Object.entries(i.templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, i.minReadySeconds, i.now)) available++;
    }
  }
  const out: ReplicaSetStatus = { replicas: i.pods.length, fullyLabeledReplicas: fullyLabeled, readyReplicas: ready, availableReplicas: available };
  if (i.generation !== undefined) out.observedGeneration = i.generation;
  const others = (i.previous?.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  const had = i.previous?.conditions?.find((c) => c.type === 'ReplicaFailure');
  const conditions: ReplicaSetCondition[] = [...others];
  if (i.failure) {
    const same = had && had.status === 'True' && had.reason === i.failure.reason && had.message === i.failure.message;
    conditions.push(same ? had : { type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(i.now), reason: i.failure.reason, message: i.failure.message });
  }
  if (conditions.length) out.conditions = conditions;
  // Kubernetes omits zero counts (omitempty) but always writes replicas.
  for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const) if (!out[k]) delete out[k];
  return out;
}

/** Whether two statuses differ in anything the controller writes. */
export function statusChanged(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  const pick = (s: ReplicaSetStatus | undefined) => JSON.stringify([s?.replicas ?? 0, s?.fullyLabeledReplicas ?? 0, s?.readyReplicas ?? 0, s?.availableReplicas ?? 0, s?.observedGeneration, s?.conditions ?? []]);
  return pick(a) !== pick(b);
}
