// The Job controller (kube-controller-manager's "job-controller"): runs a Job's pods to completion.
// Each sync of a Job, from the informer caches:
//   1. claims the pods its selector matches;
//   2. finds pods that finished since the last sync; they are first recorded in
//      status.uncountedTerminatedPods, then their `batch.kubernetes.io/job-tracking` finalizer is
//      removed, then they move to status.succeeded/failed (so a pod deleted at any moment is still
//      counted exactly once);
//   3. decides whether the Job failed (pod failure policy, backoffLimit, activeDeadlineSeconds,
//      failed indexes) or succeeded, recording FailureTarget / SuccessCriteriaMet first and
//      Failed / Complete once no pod of it is left running or uncounted;
//   4. otherwise creates or deletes pods towards parallelism and the remaining completions, waiting
//      out the exponential back-off of failed pods, or deletes them all while suspended.
// Pods whose Job is gone or finished lose their finalizer through an "orphan" key of their own.

import type { Job, JobCondition, JobStatus, KubeObject, Pod } from '../../api/types.ts';
import { fromLabelSelector } from '../../api/labels.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import type { Informer } from '../../client/informer.ts';
import { Jobs, Pods } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock, rfc3339 } from '../../util/clock.ts';
import type { EventSink, EventTarget } from '../events.ts';
import { POD_BY_CONTROLLER, POD_BY_NAMESPACE, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { claim, controllerOf, type OwnerIdentity } from '../podcontrol/controllerref.ts';
import { Expectations } from '../podcontrol/expectations.ts';
import { deletionOrder, isPodActive, isPodReady } from '../podcontrol/pods.ts';
import { slowStartBatch } from '../podcontrol/slowstart.ts';
import { podFromTemplate } from '../podcontrol/template.ts';
import * as L from './logic.ts';

/** MaxPodCreateDeletePerSync. */
const MAX_PER_SYNC = 500;
const ORPHAN_PREFIX = 'pod:';

export interface JobControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  events?: EventSink;
  workers?: number;
  /** First delay after a failed pod (kube: 10 s), doubled per further failure up to backoffMaxMs (6 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  onError?: (err: unknown) => void;
}

type JobObj = Job & HasMetadata;
type Tracked = { pod: Pod; as: 'succeeded' | 'failed' | 'ignored' };

const jobKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
const uidOf = (p: Pod) => p.metadata?.uid ?? '';
const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export class JobController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #events: EventSink | undefined;
  readonly #loop: KeyLoop;
  readonly #expectations: Expectations;
  readonly #backoff = new Map<string, L.BackoffRecord>();
  /** Pods whose finalizer we removed and whose update the cache has not shown yet. */
  readonly #unfinalized = new Set<string>();
  readonly #base: number;
  readonly #max: number;

  constructor(o: JobControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#events = o.events;
    this.#base = o.backoffBaseMs ?? L.DEFAULT_BACKOFF_MS;
    this.#max = o.backoffMaxMs ?? L.MAX_BACKOFF_MS;
    this.#expectations = new Expectations(this.#clock);
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers ?? 2, onError: o.onError ?? ((err) => console.error(`tinykube: job controller: ${(err as Error).message}`)) });
  }

  #jobs(): Informer<JobObj> {
    return this.#informers.resource<JobObj>(Jobs);
  }

  start(): void {
    const q = this.#loop.queue;
    const jobs = this.#jobs();
    const pods = this.#informers.pods();
    this.#loop.start(this.#informers, () => [
      jobs.addEventHandler({
        onAdd: (j) => q.add(jobKey(j.metadata?.namespace, j.metadata!.name!)),
        onUpdate: (_o, j) => q.add(jobKey(j.metadata?.namespace, j.metadata!.name!)),
        onDelete: (j) => {
          const key = jobKey(j.metadata?.namespace, j.metadata!.name!);
          this.#expectations.forget(key);
          this.#backoff.delete(key);
          for (const p of pods.store.byIndex(POD_BY_CONTROLLER, j.metadata?.uid ?? '')) if (L.hasTrackingFinalizer(p)) q.add(ORPHAN_PREFIX + jobKey(p.metadata?.namespace, p.metadata!.name!));
        },
      }),
      pods.addEventHandler({
        onAdd: (p) => this.#podEvent(p, undefined, false),
        onUpdate: (old, p) => this.#podEvent(p, old, false),
        onDelete: (p) => this.#podEvent(p, undefined, true),
      }),
    ], (key) => (key.startsWith(ORPHAN_PREFIX) ? this.#syncOrphan(key.slice(ORPHAN_PREFIX.length)) : this.sync(key)));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  #podEvent(p: Pod, old: Pod | undefined, deleted: boolean): void {
    const uid = uidOf(p);
    if (deleted || !L.hasTrackingFinalizer(p)) this.#unfinalized.delete(uid);
    const ref = controllerOf(p);
    const ns = p.metadata?.namespace;
    if (!ref || ref.kind !== 'Job') {
      if (L.hasTrackingFinalizer(p) && !deleted) this.#loop.queue.add(ORPHAN_PREFIX + jobKey(ns, p.metadata!.name!));
      return;
    }
    const key = jobKey(ns, ref.name);
    if (deleted || (p.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) this.#expectations.deletionObserved(key, uid);
    else if (!old) this.#expectations.creationObserved(key);
    const job = this.#jobs().store.get(ns, ref.name);
    if (!deleted && L.hasTrackingFinalizer(p) && (!job || job.metadata?.uid !== ref.uid)) this.#loop.queue.add(ORPHAN_PREFIX + jobKey(ns, p.metadata!.name!));
    else this.#loop.queue.add(key);
  }

  /** A pod with our finalizer whose Job is gone, replaced or finished: release it. */
  async #syncOrphan(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const pod = this.#informers.pods().store.get(ns, name);
    if (!pod || !L.hasTrackingFinalizer(pod) || this.#unfinalized.has(uidOf(pod))) return;
    const ref = controllerOf(pod);
    const job = ref?.kind === 'Job' ? this.#jobs().store.get(ns, ref.name) : undefined;
    if (job && job.metadata?.uid === ref?.uid && !L.isJobFinished(job)) return;
    await this.#removeFinalizer(pod);
  }

  async #removeFinalizer(pod: Pod): Promise<void> {
    const patch = { metadata: { uid: uidOf(pod), [`$deleteFromPrimitiveList/finalizers`]: [L.JOB_TRACKING_FINALIZER] } };
    try {
      await this.#client.patch(Pods, pod.metadata?.namespace, pod.metadata?.name ?? '', 'strategic', patch);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#unfinalized.add(uidOf(pod));
  }

  #event(job: Job, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const target: EventTarget = { apiVersion: 'batch/v1', kind: 'Job', namespace: job.metadata?.namespace, name: job.metadata?.name ?? '', uid: job.metadata?.uid };
    this.#events?.event(target, type, reason, message);
  }

  async #claimPods(job: JobObj): Promise<Pod[]> {
    const ns = job.metadata?.namespace ?? '';
    const sel = fromLabelSelector(job.spec?.selector);
    const owner: OwnerIdentity & { deleting: boolean } = { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '', deleting: !!job.metadata?.deletionTimestamp };
    const owned = await claim<KubeObject>({
      client: this.#client,
      ref: Pods,
      owner,
      matches: (p) => sel.matches(p.metadata?.labels ?? {}),
      candidates: this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, ns) as unknown as KubeObject[],
      canAdopt: async () => {
        try {
          const fresh = await this.#client.get<Job>(Jobs, ns, owner.name);
          return fresh.metadata?.uid === owner.uid && !fresh.metadata?.deletionTimestamp;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      },
    });
    return owned as unknown as Pod[];
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const job = this.#jobs().store.get(ns, name);
    if (!job) {
      this.#expectations.forget(key);
      this.#backoff.delete(key);
      return;
    }
    if (L.isJobFinished(job)) {
      this.#backoff.delete(key);
      const left = this.#informers.pods().store.byIndex(POD_BY_CONTROLLER, job.metadata?.uid ?? '').filter((p) => L.hasTrackingFinalizer(p) && !this.#unfinalized.has(uidOf(p)));
      await Promise.all(left.map((p) => this.#removeFinalizer(p)));
      return;
    }
    const pods = await this.#claimPods(job);
    await this.#syncJob(key, job, pods);
  }

  async #syncJob(key: string, job: JobObj, pods: Pod[]): Promise<void> {
    const now = this.#clock.now();
    const spec = job.spec!;
    const st: JobStatus = job.status ?? {};
    const indexed = L.isIndexed(job);
    const completions = spec.completions ?? undefined;
    const limit = completions ?? Number.MAX_SAFE_INTEGER;
    const satisfied = this.#expectations.satisfied(key);
    const uncSucc = new Set(st.uncountedTerminatedPods?.succeeded ?? []);
    const uncFail = new Set(st.uncountedTerminatedPods?.failed ?? []);
    const completed = indexed ? L.parseIndexes(st.completedIndexes, limit) : new Set<number>();
    const failedIdx = L.parseIndexes(st.failedIndexes, limit);
    const perIndex = indexed && spec.backoffLimitPerIndex != null;
    const active = pods.filter(isPodActive);
    const terminating = () => pods.filter((p) => p.metadata?.deletionTimestamp && !isTerminal(p)).length;

    // Pods that finished since the last sync (finalizer still on, not yet recorded as uncounted).
    const tracked: Tracked[] = [];
    const fresh = (p: Pod) => L.hasTrackingFinalizer(p) && !this.#unfinalized.has(uidOf(p)) && !uncSucc.has(uidOf(p)) && !uncFail.has(uidOf(p));
    let failJobMessage: string | undefined;
    for (const p of pods) {
      if (!fresh(p)) continue;
      const ix = L.completionIndex(p);
      if (p.status?.phase === 'Succeeded') {
        if (!indexed) tracked.push({ pod: p, as: 'succeeded' });
        else if (ix !== undefined && ix < limit && !completed.has(ix)) {
          completed.add(ix);
          tracked.push({ pod: p, as: 'succeeded' });
        } else tracked.push({ pod: p, as: 'ignored' });
        continue;
      }
      if (!L.isPodFailed(p, job)) continue;
      // Pods a suspension ended are not failures (they are made again on resume).
      if (spec.suspend && p.status?.phase !== 'Failed') {
        tracked.push({ pod: p, as: 'ignored' });
        continue;
      }
      const match = p.status?.phase === 'Failed' ? L.matchPodFailurePolicy(spec.podFailurePolicy, p) : undefined;
      if (match?.action === 'Ignore') {
        tracked.push({ pod: p, as: 'ignored' });
        continue;
      }
      if (indexed && (ix === undefined || ix >= limit)) {
        tracked.push({ pod: p, as: 'ignored' });
        continue;
      }
      tracked.push({ pod: p, as: 'failed' });
      if (match?.action === 'FailJob') failJobMessage ??= match.message;
      if (perIndex && ix !== undefined) {
        const failures = Number.parseInt(p.metadata?.annotations?.[L.INDEX_FAILURE_COUNT_ANNOTATION] ?? '0', 10) + 1;
        if (match?.action === 'FailIndex' || failures > (spec.backoffLimitPerIndex ?? 0)) failedIdx.add(ix);
      }
    }
    const newSucc = tracked.filter((t) => t.as === 'succeeded').length;
    const newFail = tracked.filter((t) => t.as === 'failed').length;
    const failedCount = (st.failed ?? 0) + uncFail.size + newFail;
    const succeededCount = indexed ? completed.size : (st.succeeded ?? 0) + uncSucc.size + newSucc;
    if (newSucc + newFail > 0) this.#backoff.set(key, L.nextBackoffRecord(this.#backoff.get(key), newSucc, newFail, now));

    let conditions: JobCondition[] | undefined = st.conditions ? [...st.conditions] : undefined;
    let interim = L.conditionTrue(job, 'FailureTarget') ?? L.conditionTrue(job, 'SuccessCriteriaMet');
    const setInterim = (type: 'FailureTarget' | 'SuccessCriteriaMet', reason: string, message: string) => {
      conditions = L.withCondition(conditions, type, 'True', reason, message, now) ?? conditions;
      interim = conditions!.find((c) => c.type === type);
    };
    if (!interim) {
      const left = L.deadlineRemaining(job, now);
      if (failJobMessage) setInterim('FailureTarget', L.REASON_POD_FAILURE_POLICY, failJobMessage);
      else if (failedCount > (spec.backoffLimit ?? 6) || L.pastBackoffLimitOnFailure(job, active)) setInterim('FailureTarget', L.REASON_BACKOFF_LIMIT, L.MSG_BACKOFF_LIMIT);
      else if (left !== undefined && left <= 0) setInterim('FailureTarget', L.REASON_DEADLINE, L.MSG_DEADLINE);
      else if (perIndex && spec.maxFailedIndexes != null && failedIdx.size > spec.maxFailedIndexes) setInterim('FailureTarget', L.REASON_MAX_FAILED_INDEXES, L.MSG_MAX_FAILED_INDEXES);
      else if (left !== undefined) this.#loop.queue.addAfter(key, left);
    }

    let startTime = st.startTime;
    let activeCount = active.length;
    if (interim) {
      // A finishing Job ends every pod still running; each counts as failed (as kube counts them).
      await this.#deletePods(job, key, active);
      for (const p of pods) if (fresh(p) && p.status?.phase !== 'Succeeded' && !tracked.some((t) => t.pod === p)) tracked.push({ pod: p, as: 'failed' });
      activeCount = 0;
    } else if (!interim) {
      if (satisfied && !job.metadata?.deletionTimestamp) {
        activeCount = await this.#manage(key, job, active, { succeeded: succeededCount, completed, failedIdx, terminating: terminating(), pods });
        const suspended = spec.suspend === true;
        const next = suspended
          ? L.withCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)
          : L.withCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
        if (next) {
          conditions = next;
          this.#event(job, 'Normal', suspended ? 'Suspended' : 'Resumed', suspended ? 'Job suspended' : 'Job resumed');
          // activeDeadlineSeconds counts time continuously active: a resumed Job starts again.
          if (!suspended) startTime = rfc3339(now);
        }
      }
      const done = completions == null ? succeededCount > 0 && activeCount === 0 : succeededCount + (indexed ? failedIdx.size : 0) >= completions && activeCount === 0;
      if (done && indexed && failedIdx.size > 0) setInterim('FailureTarget', L.REASON_FAILED_INDEXES, L.MSG_FAILED_INDEXES);
      else if (done) setInterim('SuccessCriteriaMet', L.REASON_COMPLETIONS_REACHED, L.MSG_COMPLETIONS_REACHED);
    }
    if (!startTime && spec.suspend !== true) startTime = rfc3339(now);

    // First write: what finished is recorded as uncounted before any finalizer goes.
    const counted = (as: Tracked['as']) => tracked.filter((t) => t.as === as).map((t) => uidOf(t.pod));
    const next: JobStatus = {
      ...st,
      active: interim ? 0 : activeCount,
      ready: interim ? 0 : Math.min(activeCount, active.filter(isPodReady).length),
      terminating: terminating(),
      uncountedTerminatedPods: { succeeded: [...uncSucc, ...counted('succeeded')], failed: [...uncFail, ...counted('failed')] },
    };
    if (startTime) next.startTime = startTime;
    if (conditions) next.conditions = conditions;
    if (indexed) next.completedIndexes = L.formatIndexes(completed);
    if (perIndex) next.failedIndexes = L.formatIndexes(failedIdx);
    let current: JobObj = job;
    if (JSON.stringify(next) !== JSON.stringify(st)) {
      const written = await this.#writeStatus({ ...job, status: next });
      if (!written) return;
      current = written;
    }

    // Then the finalizers of every recorded pod (this sync's and any an earlier sync left).
    const byUid = new Map(pods.map((p) => [uidOf(p), p]));
    const release = [...tracked.map((t) => t.pod), ...[...uncSucc, ...uncFail].map((u) => byUid.get(u)).filter((p): p is Pod => !!p && L.hasTrackingFinalizer(p) && !this.#unfinalized.has(uidOf(p)))];
    const results = await Promise.allSettled(release.map((p) => this.#removeFinalizer(p)));
    const released = (uid: string) => {
      const p = byUid.get(uid);
      return !p || !L.hasTrackingFinalizer(p) || this.#unfinalized.has(uid);
    };

    // Second write: released pods move to the counters; the final condition once nothing is left.
    const after: JobStatus = structuredClone(current.status ?? {});
    const unc = after.uncountedTerminatedPods ?? {};
    const stillSucc = (unc.succeeded ?? []).filter((u) => !released(u));
    const stillFail = (unc.failed ?? []).filter((u) => !released(u));
    after.succeeded = (after.succeeded ?? 0) + (unc.succeeded ?? []).length - stillSucc.length;
    after.failed = (after.failed ?? 0) + (unc.failed ?? []).length - stillFail.length;
    after.uncountedTerminatedPods = { succeeded: stillSucc, failed: stillFail };
    if (interim && stillSucc.length + stillFail.length === 0 && terminating() === 0 && (interim.type === 'FailureTarget' || activeCount === 0)) {
      const fin = L.finalConditionFor(interim);
      after.conditions = L.withCondition(after.conditions, fin.type, 'True', fin.reason, fin.message, now) ?? after.conditions;
      if (fin.type === 'Complete') after.completionTime = rfc3339(now);
      after.active = 0;
      after.ready = 0;
      after.terminating = 0;
      after.uncountedTerminatedPods = {};
      if (fin.type === 'Complete') this.#event(job, 'Normal', 'Completed', 'Job completed');
      else this.#event(job, 'Warning', fin.reason, fin.message);
      this.#backoff.delete(key);
    }
    if (JSON.stringify(after) !== JSON.stringify(current.status ?? {})) await this.#writeStatus({ ...current, status: after });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The Job with its new status, or undefined when the Job is gone (deleted meanwhile: nothing left to do). */
  async #writeStatus(job: JobObj): Promise<JobObj | undefined> {
    try {
      return await this.#client.updateStatus<JobObj>(Jobs, job.metadata?.namespace, job);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #deletePods(job: Job, key: string, pods: readonly Pod[]): Promise<number> {
    if (pods.length === 0) return 0;
    this.#expectations.expect(key, 0, pods.map(uidOf));
    const results = await Promise.allSettled(
      pods.map(async (p) => {
        try {
          await this.#client.delete(Pods, p.metadata?.namespace, p.metadata?.name ?? '');
          this.#event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
        } catch (err) {
          this.#expectations.deletionObserved(key, uidOf(p));
          if (isNotFound(err)) return;
          this.#event(job, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
          throw err;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return pods.length;
  }

  /** manageJob: the active pods the Job should have, created or deleted; returns how many are active now. */
  async #manage(key: string, job: JobObj, active: Pod[], c: { succeeded: number; completed: Set<number>; failedIdx: Set<number>; terminating: number; pods: Pod[] }): Promise<number> {
    const spec = job.spec!;
    const indexed = L.isIndexed(job);
    const parallelism = spec.parallelism ?? 1;
    if (spec.suspend) return active.length - (await this.#deletePods(job, key, active));
    const completions = spec.completions;
    let want: number;
    if (completions == null) want = c.succeeded > 0 ? active.length : parallelism;
    else want = Math.max(0, Math.min(parallelism, completions - c.succeeded - (indexed ? c.failedIdx.size : 0)));

    // Indexed: pods of an index that is out of range, done, failed or duplicated go first.
    const surplus: Pod[] = [];
    const keep: Pod[] = [];
    const seen = new Set<number>();
    for (const p of [...active].sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''))) {
      const ix = L.completionIndex(p);
      if (indexed && (ix === undefined || ix >= (completions ?? 0) || c.completed.has(ix) || c.failedIdx.has(ix) || seen.has(ix))) surplus.push(p);
      else {
        if (ix !== undefined) seen.add(ix);
        keep.push(p);
      }
    }
    if (keep.length > want) surplus.push(...deletionOrder(keep).slice(0, keep.length - want));
    if (surplus.length) return active.length - (await this.#deletePods(job, key, surplus));

    const terminating = L.onlyReplaceFailedPods(job) ? c.terminating : 0;
    let diff = want - terminating - active.length;
    if (diff <= 0) return active.length;
    if (spec.backoffLimitPerIndex == null) {
      const wait = L.remainingBackoff(this.#backoff.get(key), this.#clock.now(), this.#base, this.#max);
      if (wait > 0) {
        this.#loop.queue.addAfter(key, wait);
        return active.length;
      }
    }
    diff = Math.min(diff, MAX_PER_SYNC);
    let indexes: number[] = [];
    const indexFailures = new Map<number, number>();
    if (indexed) {
      indexes = L.firstPendingIndexes(diff, completions ?? 0, new Set([...c.completed, ...c.failedIdx, ...seen]));
      diff = indexes.length;
      for (const p of c.pods) {
        const ix = L.completionIndex(p);
        if (ix === undefined || p.status?.phase !== 'Failed') continue;
        const n = Number.parseInt(p.metadata?.annotations?.[L.INDEX_FAILURE_COUNT_ANNOTATION] ?? '0', 10) + 1;
        indexFailures.set(ix, Math.max(indexFailures.get(ix) ?? 0, n));
      }
    }
    if (diff <= 0) return active.length;
    this.#expectations.expect(key, diff);
    const ns = job.metadata?.namespace ?? '';
    const owner: OwnerIdentity = { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '' };
    const res = await slowStartBatch(diff, async (i) => {
      const pod = this.#podFor(job, owner, ns, indexed ? indexes[i] : undefined, indexFailures);
      try {
        const made = await this.#client.create<Pod & HasMetadata>(Pods, ns, pod);
        this.#event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata?.name}`);
      } catch (err) {
        this.#expectations.creationObserved(key);
        this.#event(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        throw err;
      }
    });
    for (let i = 0; i < res.skipped; i++) this.#expectations.creationObserved(key);
    if (res.error) throw res.error;
    return active.length + res.successes;
  }

  #podFor(job: JobObj, owner: OwnerIdentity, ns: string, ix: number | undefined, indexFailures: Map<number, number>): Pod {
    const name = job.metadata?.name ?? '';
    if (ix === undefined) {
      const pod = podFromTemplate(job.spec?.template, owner, ns);
      pod.metadata!.finalizers = [...new Set([...(pod.metadata!.finalizers ?? []), L.JOB_TRACKING_FINALIZER])];
      return pod;
    }
    const annotations: Record<string, string> = { [L.COMPLETION_INDEX_ANNOTATION]: String(ix) };
    if (job.spec?.backoffLimitPerIndex != null) annotations[L.INDEX_FAILURE_COUNT_ANNOTATION] = String(indexFailures.get(ix) ?? 0);
    const pod = podFromTemplate(job.spec?.template, owner, ns, { labels: { [L.COMPLETION_INDEX_ANNOTATION]: String(ix) }, annotations });
    // podGenerateNameWithIndex: `<job>-<index>-`, the job's part cut so the name stays valid.
    const suffix = String(ix).length + 2;
    pod.metadata!.generateName = `${name.length + suffix > 58 ? name.slice(0, 58 - suffix) : name}-${ix}-`;
    pod.metadata!.finalizers = [...new Set([...(pod.metadata!.finalizers ?? []), L.JOB_TRACKING_FINALIZER])];
    const spec = pod.spec!;
    if (!spec.hostname) spec.hostname = `${name}-${ix}`;
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      if (!(c.env ?? []).some((e) => e.name === L.COMPLETION_INDEX_ENV)) c.env = [...(c.env ?? []), L.completionIndexEnv()];
    }
    return pod;
  }
}
