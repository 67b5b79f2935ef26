// Events expire: kube-apiserver's --event-ttl (default 1 h) removes an Event that long after its last
// write. Kubernetes gets this from an etcd lease attached to every Event write; our backends have no
// leases, so the API server keeps the deadlines itself: one list of the events at start (their
// deadline counted from the newest of their timestamps, since the time of a write before this process
// is not stored), then a watch from that list's revision, where every write sets the key's deadline to
// now + ttl. Deadlines of writes seen by the watch are in write order, so they wait in a FIFO; a sweep
// takes what is due from its front and deletes each key if its last write is still the one the entry
// was made for (resourceVersion precondition: a write in between wins, and its own entry comes later).
//
// Without it a cluster's database only grew: a burst of 150,000 pods leaves 150,000 Scheduled events.
// Several API servers on one etcd each run a sweep; deleting a key twice is a NotFound they ignore.

import type { KubeObject } from '../api/types.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { StatusError } from '../util/status.ts';
import { Fifo } from '../util/fifo.ts';
import type { Store, StoreWatch } from './store.ts';

/** kube-apiserver's --event-ttl default. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

export interface EventTTLOptions {
  ttlMs?: number;
  /** How often due events are deleted (default: a minute, at most the TTL). */
  sweepMs?: number;
  onError?: (err: unknown) => void;
}

interface Due {
  namespace: string;
  name: string;
  resourceVersion: string;
  at: number;
}

/** The newest moment an event says it was written at (epoch ms), or undefined. */
export function lastWritten(ev: KubeObject): number | undefined {
  const e = ev as KubeObject & { lastTimestamp?: string; eventTime?: string; series?: { lastObservedTime?: string } };
  let best: number | undefined;
  for (const t of [e.lastTimestamp, e.eventTime, e.series?.lastObservedTime, e.metadata?.creationTimestamp]) {
    const ms = t ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms) && (best === undefined || ms > best)) best = ms;
  }
  return best;
}

export class EventTTL {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #sweepMs: number;
  readonly #onError: (err: unknown) => void;
  /** Deadlines in the order they fall due (watch events arrive in write order). */
  readonly #queue = new Fifo<Due>();
  #watch: StoreWatch | undefined;
  #timer: Timer | undefined;
  #sweeps: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(store: Store, clock: Clock, o: EventTTLOptions = {}) {
    this.#store = store;
    this.#clock = clock;
    this.#ttl = o.ttlMs ?? DEFAULT_EVENT_TTL_MS;
    this.#sweepMs = Math.max(1, o.sweepMs ?? Math.min(60_000, this.#ttl));
    this.#onError = o.onError ?? ((err) => console.error(`tinykube: event expiry: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Events waiting for their deadline. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Reads the current events and starts watching; resolves once the existing ones are scheduled. A
   * failure after stop() (the store closing under it) is not one.
   */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      if (!this.#stopped) throw err;
    }
  }

  async #start(): Promise<void> {
    const existing: Due[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#store.list({ limit: 1000, continue: cont });
      rv ||= page.resourceVersion;
      for (const ev of page.items) {
        const at = (lastWritten(ev) ?? this.#clock.now()) + this.#ttl;
        existing.push({ namespace: ev.metadata!.namespace!, name: ev.metadata!.name!, resourceVersion: ev.metadata!.resourceVersion!, at });
      }
      cont = page.continue;
    } while (cont && !this.#stopped);
    if (this.#stopped) return;
    existing.sort((a, b) => a.at - b.at);
    for (const d of existing) this.#queue.push(d);
    const watch = await this.#store.watch({
      resourceVersion: rv,
      onEvent: (e) => {
        if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
        const m = e.object.metadata!;
        // Every deadline set from here on is later than all those read at start: FIFO order holds.
        this.#queue.push({ namespace: m.namespace!, name: m.name!, resourceVersion: m.resourceVersion!, at: this.#clock.now() + this.#ttl });
      },
      onError: (err) => {
        // Only a store closing ends a watch from a fresh revision; say so unless we are stopping.
        if (!this.#stopped) this.#onError(err);
      },
    });
    if (this.#stopped) {
      watch.close();
      return;
    }
    this.#watch = watch;
    this.#schedule();
  }

  /** Deletes every event due when it runs, after any sweep already under way (tests call it after moving a fake clock). */
  sweep(): Promise<void> {
    this.#sweeps = this.#sweeps.then(() => this.#sweepDue()).catch((err: unknown) => this.#onError(err));
    return this.#sweeps;
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.close();
    this.#timer?.cancel();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.sweep().finally(() => this.#schedule());
    }, this.#sweepMs);
  }

  async #sweepDue(): Promise<void> {
    const now = this.#clock.now();
    while (!this.#stopped && (this.#queue.peek()?.at ?? Infinity) <= now) {
      const due = this.#queue.shift()!;
      try {
        await this.#store.delete(due.namespace, due.name, { preconditions: { resourceVersion: due.resourceVersion } });
      } catch (err) {
        // Gone already, or written since (its newer entry comes later): nothing to do.
        if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) this.#onError(err);
      }
    }
  }
}
