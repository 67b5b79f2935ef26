// The TTL-after-finished controller (kube-controller-manager's "ttl-after-finished-controller"):
// a finished Job with spec.ttlSecondsAfterFinished is deleted that long after it finished. The Job
// is re-read uncached before deletion (its TTL may have changed), and deleted in the foreground
// with its uid as a precondition, as Kubernetes does, so its pods go with it.

import type { Job } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { Jobs } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';

export interface TTLAfterFinishedOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

/** When the Job finished (completionTime, else the Complete/Failed condition's transition), or undefined. */
export function finishTime(job: Job): number | undefined {
  const c = (job.status?.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  if (!c) return undefined;
  const t = Date.parse(job.status?.completionTime ?? c.lastTransitionTime ?? '');
  return Number.isNaN(t) ? undefined : t;
}

/** When a Job expires (epoch ms), or undefined when it has no TTL, is not finished or is being deleted. */
export function expiresAt(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl == null || job.metadata?.deletionTimestamp) return undefined;
  const t = finishTime(job);
  return t === undefined ? undefined : t + ttl * 1000;
}

export class TTLAfterFinishedController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #loop: KeyLoop;

  constructor(o: TTLAfterFinishedOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: ttl-after-finished controller: ${(err as Error).message}`)) });
  }

  start(): void {
    const q = this.#loop.queue;
    const jobs = this.#informers.resource<Job & HasMetadata>(Jobs);
    const add = (j: Job & HasMetadata) => {
      if (expiresAt(j) !== undefined) q.add(`${j.metadata?.namespace}/${j.metadata?.name}`);
    };
    this.#loop.start(this.#informers, () => [jobs.addEventHandler({ onAdd: add, onUpdate: (_o, j) => add(j) })], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const cached = this.#informers.resource<Job & HasMetadata>(Jobs).store.get(ns, name);
    const at = cached ? expiresAt(cached) : undefined;
    if (at === undefined) return;
    if (at > this.#clock.now()) {
      this.#loop.queue.addAfter(key, at - this.#clock.now());
      return;
    }
    let fresh: Job;
    try {
      fresh = await this.#client.get<Job>(Jobs, ns, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const freshAt = expiresAt(fresh);
    if (freshAt === undefined) return;
    if (freshAt > this.#clock.now()) {
      this.#loop.queue.addAfter(key, freshAt - this.#clock.now());
      return;
    }
    try {
      await this.#client.delete(Jobs, ns, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
