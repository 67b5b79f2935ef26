// What the Job controller decides, as pure functions over a Job and its (cached) pods, after
// kube-controller-manager's pkg/controller/job: which pods count as failed, the pod failure
// policy, the exponential back-off of failed pods, completion indexes and their interval notation,
// and the conditions with their reasons. No I/O; the controller applies the outcomes.

import type { Job, JobCondition, Pod, PodFailurePolicy } from '../../api/types.ts';
import { rfc3339 } from '../../util/clock.ts';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const INDEX_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-failure-count';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 6 * 60_000;

// Condition reasons and messages (batch/v1 JobReason* and the controller's texts).
export const REASON_BACKOFF_LIMIT = 'BackoffLimitExceeded';
export const REASON_DEADLINE = 'DeadlineExceeded';
export const REASON_POD_FAILURE_POLICY = 'PodFailurePolicy';
export const REASON_COMPLETIONS_REACHED = 'CompletionsReached';
export const REASON_FAILED_INDEXES = 'FailedIndexes';
export const REASON_MAX_FAILED_INDEXES = 'MaxFailedIndexesExceeded';
export const MSG_BACKOFF_LIMIT = 'Job has reached the specified backoff limit';
export const MSG_DEADLINE = 'Job was active longer than specified deadline';
export const MSG_COMPLETIONS_REACHED = 'Reached expected number of succeeded pods';
export const MSG_FAILED_INDEXES = 'Job has failed indexes';
export const MSG_MAX_FAILED_INDEXES = 'Job has exceeded the specified maximum number of failed indexes';

export const isIndexed = (job: Job): boolean => job.spec?.completionMode === 'Indexed';

export function conditionTrue(job: Job, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

export function isJobFinished(job: Job): boolean {
  return !!(conditionTrue(job, 'Complete') || conditionTrue(job, 'Failed'));
}

/** onlyReplaceFailedPods: with podReplacementPolicy Failed (or a pod failure policy) terminating pods are waited for. */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
}

/** isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded. */
export function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

export function hasTrackingFinalizer(p: Pod): boolean {
  return (p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

/** The pod's completion index (annotation, else label), or undefined when absent or not a number. */
export function completionIndex(p: Pod): number | undefined {
  const v = p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? p.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^[0-9]+$/.test(v)) return undefined;
  return Number.parseInt(v, 10);
}

/** Parses `1,3-5,7` (completedIndexes, failedIndexes); bad fragments are skipped. */
export function parseIndexes(s: string | undefined | null, limit = Number.MAX_SAFE_INTEGER): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map((x) => Number.parseInt(x, 10));
    if (Number.isNaN(a)) continue;
    const end = b === undefined || Number.isNaN(b) ? a : b;
    for (let i = a; i <= end && i < limit; i++) out.add(i);
  }
  return out;
}

/** The interval notation kube writes: ascending, runs of 2+ as `a-b`. */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(j > i ? `${xs[i]}-${xs[j]}` : `${xs[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The lowest `count` indexes below `completions` that are neither done nor being worked on. */
export function firstPendingIndexes(count: number, completions: number, taken: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** Failed pods since the last success and when the last one failed (kube's backoffRecord). */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime: number;
}

/** The delay before the next pod may be created: base·2^(failures−1), capped (0 without failures). */
export function backoffDelay(failures: number, baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number {
  if (failures <= 0) return 0;
  let d = baseMs;
  for (let i = 1; i < failures && d < maxMs; i++) d *= 2;
  return Math.min(d, maxMs);
}

/** How long pod creation must still wait at `now` (getRemainingTime). */
export function remainingBackoff(rec: BackoffRecord | undefined, now: number, baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number {
  if (!rec || rec.failuresAfterLastSuccess === 0) return 0;
  const left = rec.lastFailureTime + backoffDelay(rec.failuresAfterLastSuccess, baseMs, maxMs) - now;
  return left > 0 ? left : 0;
}

/** The record after pods finished at `now`: a success resets it, failures add up. */
export function nextBackoffRecord(rec: BackoffRecord | undefined, newSucceeded: number, newFailed: number, now: number): BackoffRecord {
  let r = rec ?? { failuresAfterLastSuccess: 0, lastFailureTime: 0 };
  if (newSucceeded > 0 && newFailed === 0) r = { failuresAfterLastSuccess: 0, lastFailureTime: r.lastFailureTime };
  if (newFailed > 0) r = { failuresAfterLastSuccess: (newSucceeded > 0 ? 0 : r.failuresAfterLastSuccess) + newFailed, lastFailureTime: now };
  return r;
}

export type FailurePolicyAction = 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';

/** matchPodFailurePolicy: the first rule a failed pod matches, with the FailJob message; undefined = count it. */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): { action: FailurePolicyAction; message?: string } | undefined {
  if (!policy) return undefined;
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  for (const [i, rule] of (policy.rules ?? []).entries()) {
    const action = rule.action as FailurePolicyAction;
    const ec = rule.onExitCodes;
    if (ec) {
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      const hit = statuses.find((cs) => {
        const code = cs.state?.terminated?.exitCode;
        if (code === undefined || code === 0) return false;
        if (ec.containerName && ec.containerName !== cs.name) return false;
        const inValues = (ec.values ?? []).includes(code);
        return ec.operator === 'In' ? inValues : !inValues;
      });
      if (!hit) continue;
      if (action === 'FailJob') {
        return { action, message: `Container ${hit.name} for pod ${ns}/${name} failed with exit code ${hit.state?.terminated?.exitCode} matching FailJob rule at index ${i}` };
      }
      return { action };
    }
    const conds = rule.onPodConditions ?? [];
    if (conds.length) {
      const hit = (pod.status?.conditions ?? []).find((c) => conds.some((p) => p.type === c.type && (p.status || 'True') === c.status));
      if (!hit) continue;
      if (action === 'FailJob') return { action, message: `Pod ${ns}/${name} has condition ${hit.type} matching FailJob rule at index ${i}` };
      return { action };
    }
  }
  return undefined;
}

/** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts of active pods count as failures. */
export function pastBackoffLimitOnFailure(job: Job, active: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of active) for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** Remaining time of activeDeadlineSeconds at `now` (ms; <= 0 = past), undefined without a deadline or a start. */
export function deadlineRemaining(job: Job, now: number): number | undefined {
  const ads = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime ? Date.parse(job.status.startTime) : Number.NaN;
  if (ads == null || Number.isNaN(start) || job.spec?.suspend) return undefined;
  return start + ads * 1000 - now;
}

/**
 * Sets a condition of `type` (ensureJobConditionStatus / addConditionToJob): a new one is appended;
 * an existing one is replaced when its status, reason or message differ.
 * Returns the new list, or undefined when nothing changed.
 */
export function withCondition(conditions: readonly JobCondition[] | undefined, type: string, status: 'True' | 'False', reason: string, message: string, now: number): JobCondition[] | undefined {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === type);
  const ts = rfc3339(now);
  if (i < 0) {
    // A False condition that was never True is not added (a Job never suspended has no Suspended=False).
    if (status === 'False') return undefined;
    list.push({ type, status, reason, message, lastProbeTime: ts, lastTransitionTime: ts });
    return list;
  }
  if (list[i].status === status && list[i].reason === reason && list[i].message === message) return undefined;
  list[i] = { ...list[i], status, reason, message, lastProbeTime: ts, lastTransitionTime: ts };
  return list;
}

/** The final condition an interim one leads to: FailureTarget → Failed, SuccessCriteriaMet → Complete. */
export function finalConditionFor(interim: JobCondition): { type: 'Failed' | 'Complete'; reason: string; message: string } {
  return { type: interim.type === 'FailureTarget' ? 'Failed' : 'Complete', reason: interim.reason ?? '', message: interim.message ?? '' };
}

/** The JOB_COMPLETION_INDEX variable kube adds to every container, from the pod's index label. */
export function completionIndexEnv(): { name: string; valueFrom: { fieldRef: { fieldPath: string } } } {
  return { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_ANNOTATION}']` } } };
}
