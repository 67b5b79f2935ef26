// The CronJob controller (kube-controller-manager's "cronjob-controller", v2): each sync of a CronJob
// reconciles status.active with the Jobs it owns, starts the Job of the most recent due schedule
// (honouring suspend, startingDeadlineSeconds and concurrencyPolicy), trims finished Jobs to the
// history limits, and requeues itself for the next scheduled time on the injected clock.

import type { CronJob, Job, KubeObject, ObjectReference } from '../../api/types.ts';
import { parseSchedule } from '../../api/cron/schedule.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { Informer } from '../../client/informer.ts';
import { CronJobs, Jobs } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock, rfc3339 } from '../../util/clock.ts';
import type { EventSink } from '../events.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { controllerOf, controllerRef } from '../podcontrol/controllerref.ts';
import * as L from './logic.ts';

export interface CronJobControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  events?: EventSink;
  workers?: number;
  onError?: (err: unknown) => void;
}

type CronJobObj = CronJob & HasMetadata;
type JobObj = Job & HasMetadata;

const ctl = (j: JobObj) => controllerOf(j as unknown as KubeObject);

/** The finished condition of a Job (Complete or Failed, True), if any. */
function finishedAs(job: Job): 'Complete' | 'Failed' | undefined {
  const c = (job.status?.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.type as 'Complete' | 'Failed' | undefined;
}

export class CronJobController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #events: EventSink | undefined;
  readonly #loop: KeyLoop;

  constructor(o: CronJobControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#events = o.events;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: cronjob controller: ${(err as Error).message}`)) });
  }

  #cronJobs(): Informer<CronJobObj> {
    return this.#informers.resource<CronJobObj>(CronJobs);
  }

  #jobs(): Informer<JobObj> {
    return this.#informers.resource<JobObj>(Jobs);
  }

  start(): void {
    const q = this.#loop.queue;
    const key = (o: HasMetadata) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    const jobEvent = (j: JobObj) => {
      const ref = ctl(j);
      if (ref?.kind === 'CronJob') q.add(`${j.metadata?.namespace}/${ref.name}`);
    };
    this.#loop.start(this.#informers, () => [
      this.#cronJobs().addEventHandler({ onAdd: (c) => q.add(key(c)), onUpdate: (_o, c) => q.add(key(c)) }),
      this.#jobs().addEventHandler({ onAdd: jobEvent, onUpdate: (_o, j) => jobEvent(j), onDelete: jobEvent }),
    ], (k) => this.sync(k));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  #event(cj: CronJob, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#events?.event({ apiVersion: 'batch/v1', kind: 'CronJob', namespace: cj.metadata?.namespace, name: cj.metadata?.name ?? '', uid: cj.metadata?.uid }, type, reason, message);
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const cached = this.#cronJobs().store.get(ns, name);
    if (!cached) return;
    const cj: CronJobObj = structuredClone(cached);
    const uid = cj.metadata?.uid;
    const jobs = this.#jobs().store.list().filter((j) => j.metadata?.namespace === ns && ctl(j)?.uid === uid);
    const before = JSON.stringify(cj.status ?? {});
    const requeue = await this.#syncCronJob(cj, jobs);
    await this.#cleanupFinished(cj, jobs);
    if (JSON.stringify(cj.status ?? {}) !== before) {
      try {
        await this.#client.updateStatus<CronJobObj>(CronJobs, ns, cj);
      } catch (err) {
        // Deleted meanwhile: its Jobs go with it.
        if (isNotFound(err)) return;
        throw err;
      }
    }
    // The time to look again is absolute: the sync awaits the API, and an injected clock may move meanwhile
    // (a delay taken from the sync's start would then be counted from the later time, and a run skipped).
    if (requeue !== undefined) this.#loop.queue.addAt(key, requeue);
  }

  /** syncCronJob: changes cj.status in place; returns when to look again (clock ms), if at all. */
  async #syncCronJob(cj: CronJobObj, jobs: JobObj[]): Promise<number | undefined> {
    const now = this.#clock.now();
    let status = (cj.status ??= {});
    const inActive = (u: string | undefined) => (status.active ?? []).some((r) => r.uid === u);
    const dropActive = (u: string | undefined) => {
      status.active = (status.active ?? []).filter((r) => r.uid !== u);
    };
    const children = new Set<string>();
    for (const j of jobs) {
      const ju = j.metadata?.uid ?? '';
      children.add(ju);
      const fin = finishedAs(j);
      if (!inActive(ju) && !fin) {
        // Our cache of the CronJob may be older than the Job we made: read it fresh before complaining.
        const fresh = await this.#client.get<CronJobObj>(CronJobs, cj.metadata?.namespace, cj.metadata?.name ?? '').catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (!fresh) return undefined;
        if (fresh.metadata?.uid === cj.metadata?.uid && (fresh.status?.active ?? []).some((r) => r.uid === ju)) {
          cj.metadata = fresh.metadata;
          cj.spec = fresh.spec;
          cj.status = fresh.status ?? {};
          status = cj.status;
          continue;
        }
        this.#event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata?.name}`);
      } else if (inActive(ju) && fin) {
        dropActive(ju);
        this.#event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name}, condition: ${fin}`);
      }
      if (fin === 'Complete' && j.status?.completionTime) {
        const last = status.lastSuccessfulTime ? Date.parse(status.lastSuccessfulTime) : Number.NaN;
        if (Number.isNaN(last) || Date.parse(j.status.completionTime) > last) status.lastSuccessfulTime = j.status.completionTime;
      }
    }
    // An active Job that is gone (checked uncached: the cache may lag) leaves the list.
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.#client.get<Job>(Jobs, ref.namespace ?? cj.metadata?.namespace, ref.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.#event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        dropActive(ref.uid);
      }
    }
    if (cj.metadata?.deletionTimestamp) return undefined;
    const spec = cj.spec!;
    const parsed = parseSchedule(spec.schedule, spec.timeZone ?? undefined);
    if ('error' in parsed) {
      if (spec.timeZone != null && parsed.error.startsWith('unknown time zone')) this.#event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(spec.timeZone)}: ${parsed.error}`);
      else this.#event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${parsed.error}`);
      return undefined;
    }
    if (spec.suspend) return undefined;
    const sched = parsed.schedule;
    const due = L.nextScheduleTime(cj, now, sched);
    if (due.tooManyMissed) this.#event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    if (due.error) {
      this.#event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${due.error}`);
      return undefined;
    }
    const again = () => now + L.requeueAfter(cj, now, sched);
    if (due.time === undefined) return again();
    const scheduled = due.time;
    const sds = spec.startingDeadlineSeconds;
    if (sds != null && scheduled + sds * 1000 < now) {
      this.#event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${L.rfc1123z(scheduled)}`);
      return again();
    }
    const name = L.jobName(cj.metadata?.name ?? '', scheduled);
    if ((status.active ?? []).some((r) => r.name === name) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === Math.floor(scheduled / 1000) * 1000)) return again();
    if (spec.concurrencyPolicy === 'Forbid' && (status.active ?? []).length > 0) {
      this.#event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return again();
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) await this.#deleteJob(cj, ref.name ?? '', ref.uid);
    }
    const ns = cj.metadata?.namespace;
    const tmpl = spec.jobTemplate ?? {};
    const job: JobObj = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: ns,
        labels: { ...tmpl.metadata?.labels },
        annotations: { ...tmpl.metadata?.annotations, [L.SCHEDULED_TIMESTAMP_ANNOTATION]: L.rfc3339InZone(scheduled, spec.timeZone ?? undefined) },
        ownerReferences: [controllerRef({ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata?.name ?? '', uid: cj.metadata?.uid ?? '' })],
      },
      spec: structuredClone(tmpl.spec ?? { template: {} }),
    };
    let made: JobObj;
    try {
      made = await this.#client.create<JobObj>(Jobs, ns, job);
      this.#event(cj, 'Normal', 'SuccessfulCreate', `Created job ${made.metadata?.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.#event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      // Made by an earlier sync whose status update was lost, or by someone else.
      made = await this.#client.get<JobObj>(Jobs, ns, name);
      if (ctl(made)?.uid !== cj.metadata?.uid || inActive(made.metadata?.uid)) return undefined;
    }
    const ref: ObjectReference = { kind: 'Job', namespace: made.metadata?.namespace, name: made.metadata?.name, uid: made.metadata?.uid, apiVersion: 'batch/v1', resourceVersion: made.metadata?.resourceVersion };
    status.active = [...(status.active ?? []), ref];
    status.lastScheduleTime = rfc3339(scheduled);
    return again();
  }

  /** deleteJob: background deletion and the reference out of status.active. */
  async #deleteJob(cj: CronJobObj, name: string, uid: string | undefined): Promise<void> {
    let gone = false;
    try {
      await this.#client.delete(Jobs, cj.metadata?.namespace, name, { propagationPolicy: 'Background', preconditions: uid ? { uid } : undefined });
    } catch (err) {
      // Already gone (our cache lagged our own deletion): nothing to report.
      if (!isNotFound(err)) {
        this.#event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
        throw err;
      }
      gone = true;
    }
    const status = (cj.status ??= {});
    status.active = (status.active ?? []).filter((r) => r.uid !== uid);
    if (!gone) this.#event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
  }

  /** cleanupFinishedJobs: the oldest finished Jobs beyond the history limits go. */
  async #cleanupFinished(cj: CronJobObj, jobs: JobObj[]): Promise<void> {
    const spec = cj.spec!;
    const byStart = (a: JobObj, b: JobObj) => {
      const sa = a.status?.startTime;
      const sb = b.status?.startTime;
      if (sa && sb && sa !== sb) return sa < sb ? -1 : 1;
      if (!!sa !== !!sb) return sa ? -1 : 1;
      return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
    };
    for (const [as, limit] of [['Complete', spec.successfulJobsHistoryLimit], ['Failed', spec.failedJobsHistoryLimit]] as const) {
      if (limit == null) continue;
      const done = jobs.filter((j) => finishedAs(j) === as && !j.metadata?.deletionTimestamp).sort(byStart);
      for (const j of done.slice(0, Math.max(0, done.length - limit))) await this.#deleteJob(cj, j.metadata?.name ?? '', j.metadata?.uid);
    }
  }
}
