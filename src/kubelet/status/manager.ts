// The status manager: the one writer of pod status to the API server, in one loop. Pod workers hand
// it the status they computed after each sync; it writes (merge patch of pods/{name}/status) only
// when the status differs from the last one written, retries failed writes with a delay, and drops a
// pod once it is gone. As in the kubelet, workers never block on the API: setPodStatus returns at once.
//
// Callers: pod workers (concurrently, one per pod) call setPodStatus/removePod; probes and streaming
// read through the PodStatusProvider view.
import type { ApiClient } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { Pods } from '../../client/resources.ts';
import type { Pod, PodStatus } from '../../api/types.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { sameStatus } from './generate.ts';

/** The read-only view of the statuses the agent last computed. */
export interface PodStatusProvider {
  getPodStatus(uid: string): PodStatus | undefined;
}

/** Where statuses go: the API server in the agent, a recorder in unit tests. */
export interface StatusWriter {
  /** Writes the whole status of one pod; throws on failure (NotFound when the pod is gone). */
  writeStatus(namespace: string, name: string, uid: string, status: PodStatus): Promise<void>;
}

export class ApiStatusWriter implements StatusWriter {
  readonly #client: ApiClient;
  constructor(client: ApiClient) {
    this.#client = client;
  }
  async writeStatus(namespace: string, name: string, uid: string, status: PodStatus): Promise<void> {
    // A merge patch replaces lists wholesale (conditions, containerStatuses), which is what a full
    // status write means, and it cannot clobber labels or annotations changed meanwhile. The uid
    // precondition keeps a stale write off a new pod of the same name.
    await this.#client.patch(Pods, namespace, name, 'merge', { metadata: { uid }, status }, { subresource: 'status' });
  }
}

/**
 * The agent's last word on a deleted pod: once its containers are gone, delete it with grace 0 and a
 * uid precondition (the kubelet's status manager does this in syncPod when the pod can be deleted), so
 * the object leaves the API. A pod already gone counts as done. Used by the agent and simulated nodes.
 */
export async function confirmPodDeletion(client: ApiClient, pod: Pod): Promise<void> {
  try {
    await client.delete(Pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? '' } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

interface Entry {
  namespace: string;
  name: string;
  uid: string;
  desired: PodStatus;
  written: PodStatus | undefined;
  /** A write is queued or running. */
  dirty: boolean;
}

export interface StatusManagerOptions {
  writer: StatusWriter;
  clock: Clock;
  /** Delay before retrying a failed write (default 1 s). */
  retryMs?: number;
  onError?: (err: unknown) => void;
}

export class StatusManager implements PodStatusProvider {
  readonly #writer: StatusWriter;
  readonly #clock: Clock;
  readonly #retryMs: number;
  readonly #onError: (err: unknown) => void;
  readonly #pods = new Map<string, Entry>();
  readonly #queue: string[] = [];
  #running = false;
  #retryTimer: Timer | undefined;
  #idleWaiters: Array<() => void> = [];
  #stopped = false;
  /** Count of writes made (for tests and benchmarks). */
  writes = 0;

  constructor(opts: StatusManagerOptions) {
    this.#writer = opts.writer;
    this.#clock = opts.clock;
    this.#retryMs = opts.retryMs ?? 1000;
    this.#onError = opts.onError ?? (() => {});
  }

  getPodStatus(uid: string): PodStatus | undefined {
    return this.#pods.get(uid)?.desired;
  }

  /** Records the computed status; a write follows if it differs from what was written last. */
  setPodStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata?.uid ?? '';
    let e = this.#pods.get(uid);
    if (!e) {
      e = { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', uid, desired: status, written: undefined, dirty: false };
      // What the API already holds counts as written: an adopted pod with an unchanged status costs no write.
      if (pod.status && sameStatus(pod.status, status)) e.written = status;
      this.#pods.set(uid, e);
    }
    e.desired = status;
    if (sameStatus(e.written, status) || e.dirty) return;
    e.dirty = true;
    this.#queue.push(uid);
    this.#kick();
  }

  removePod(uid: string): void {
    this.#pods.delete(uid);
  }

  /** Resolves when no write is queued or running (tests; `stop` of the agent). */
  idle(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  stop(): void {
    this.#stopped = true;
    this.#retryTimer?.cancel();
  }

  #kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    void this.#loop();
  }

  async #loop(): Promise<void> {
    let failed = false;
    while (this.#queue.length > 0 && !this.#stopped) {
      const uid = this.#queue.shift()!;
      const e = this.#pods.get(uid);
      if (!e || !e.dirty) continue;
      const status = e.desired;
      try {
        await this.#writer.writeStatus(e.namespace, e.name, e.uid, status);
        this.writes++;
        e.written = status;
        e.dirty = false;
        // A newer status arrived while writing.
        if (!sameStatus(e.desired, status)) {
          e.dirty = true;
          this.#queue.push(uid);
        }
      } catch (err) {
        if (isNotFound(err)) {
          e.dirty = false;
          e.written = status;
          continue;
        }
        this.#onError(err);
        failed = true;
        this.#queue.push(uid);
        break;
      }
    }
    this.#running = false;
    if (failed && !this.#stopped) {
      this.#retryTimer = this.#clock.setTimeout(() => this.#kick(), this.#retryMs);
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
