// Leader election through a coordination.k8s.io/v1 Lease, with client-go's leaderelection semantics,
// so that of several `tinykube server` processes on one store exactly one scheduler and one
// controller manager act (kube-scheduler's and kube-controller-manager's --leader-elect).
//
// What is matched (client-go tools/leaderelection, resourcelock/leaselock.go):
//  - The record lives in the Lease's spec: holderIdentity, leaseDurationSeconds, acquireTime,
//    renewTime, leaseTransitions. Writes are PUTs of the last read Lease, so its resourceVersion makes
//    every acquire and renew a compare-and-swap: of two candidates racing, one gets a 409.
//  - Candidates never trust the timestamps inside the record (other machines' clocks): a lease counts
//    as expired when the record has not changed for leaseDuration of the candidate's own clock since
//    it last saw it change.
//  - A candidate tries at once, then every retryPeriod with up to 1.2× jitter. A leader renews every
//    retryPeriod; a renewal that has not succeeded within renewDeadline ends the term. Defaults as
//    kube-scheduler's: 15 s, 10 s, 2 s; leaseDuration > renewDeadline > 1.2 × retryPeriod.
//  - Taking over from another holder counts a transition; renewing keeps acquireTime and the count.
//  - Release (ReleaseOnCancel) writes an empty holder with leaseDurationSeconds 1, so the next
//    candidate takes over on its next try instead of after a whole lease duration.
//  - Events on the Lease: Normal LeaderElection "<identity> became leader" / "<identity> stopped leading".
//
// A deviation for a faster fail-over, with the same clock-skew safety: a candidate also watches the
// Lease (ResourceLock.observe) so it sees each renewal as it happens instead of at its next poll (up to
// 2.4 × retryPeriod later), and when the holder's lease would expire before its next poll it tries at
// the moment of expiry. A dead leader is so replaced about one lease duration after its last renewal
// (client-go's candidates take up to 15 s + 2 × 4.4 s).
//
// Another deviation: kube's components exit when they lose the lease; here the elector calls
// onStoppedLeading, waits for it (the component stops its work), releases, and becomes a candidate
// again. onStartedLeading/onStoppedLeading never overlap and are called from the elector's one loop.
// The holder gives up at most retryPeriod + renewDeadline after its last successful renewal, while
// others wait leaseDuration after seeing that renewal: the gap (3 s by default) is the time a
// component has to stop before someone else may start.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../util/clock.ts';
import { realClock, rfc3339, rfc3339Micro } from '../util/clock.ts';
import type { ApiClient } from './client.ts';
import { isNotFound } from './errors.ts';
import { Informer, listWatch } from './informer.ts';
import { Events, Leases } from './resources.ts';
import type { Lease } from '../api/types.ts';

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** client-go's JitterFactor: waits between tries are retryPeriod × (1 + up to 1.2). */
const JITTER_FACTOR = 1.2;

/** The election state as the Lease spec carries it; times are epoch milliseconds. */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaderTransitions: number;
}

/**
 * Where the record is kept. Called only from one LeaderElector's loop, never concurrently; update()
 * must be a compare-and-swap against the object the last get()/create()/update() returned.
 */
export interface ResourceLock {
  readonly identity: string;
  /** "namespace/name", for messages. */
  describe(): string;
  /** The record and a canonical text of it (compared to see whether it changed); undefined = no lock object yet. */
  get(signal?: AbortSignal): Promise<{ record: LeaderElectionRecord; raw: string } | undefined>;
  create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
  update(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
  /** "<identity> <message>" as an event on the lock object; best effort, never throws. */
  recordEvent(message: string): void;
  /**
   * Optional: calls back with the record whenever the lock object changes (a watch), until the
   * returned function is called. A candidate that sees a renewal the moment it happens counts the
   * lease duration from then, not from its next poll.
   */
  observe?(onChange: (current: { record: LeaderElectionRecord; raw: string }) => void): () => void;
}

export class LeaderElectionConfigError extends Error {
  readonly code = 'ERR_LEADER_ELECTION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'LeaderElectionConfigError';
  }
}

/** kube-scheduler's and kube-controller-manager's identity: the host name and a fresh UUID. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export interface LeaseLockOptions {
  namespace: string;
  name: string;
  identity: string;
  /** The event source (reportingComponent), e.g. "kube-scheduler"; absent: no events. */
  eventComponent?: string;
  clock?: Clock;
}

/** A ResourceLock on a Lease, through the API (resourcelock.LeaseLock). */
export class LeaseLock implements ResourceLock {
  readonly identity: string;
  readonly #client: ApiClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #component: string | undefined;
  readonly #clock: Clock;
  #lease: Lease | undefined;
  #seq = 0;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(client: ApiClient, o: LeaseLockOptions) {
    this.#client = client;
    this.#namespace = o.namespace;
    this.#name = o.name;
    this.identity = o.identity;
    this.#component = o.eventComponent;
    this.#clock = o.clock ?? realClock;
  }

  describe(): string {
    return `${this.#namespace}/${this.#name}`;
  }

  async get(signal?: AbortSignal): Promise<{ record: LeaderElectionRecord; raw: string } | undefined> {
    try {
      this.#lease = await this.#client.get<Lease>(Leases, this.#namespace, this.#name, { signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const record = recordFromSpec(this.#lease.spec ?? {});
    return { record, raw: rawRecord(record) };
  }

  async create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    this.#lease = await this.#client.create<Lease>(Leases, this.#namespace, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.#name, namespace: this.#namespace }, spec: specFromRecord(record) }, { signal });
  }

  async update(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    if (!this.#lease) throw new LeaderElectionConfigError('lease not initialized, call get or create first');
    this.#lease = await this.#client.update<Lease>(Leases, this.#namespace, { ...this.#lease, spec: specFromRecord(record) }, { signal });
  }

  observe(onChange: (current: { record: LeaderElectionRecord; raw: string }) => void): () => void {
    const informer = new Informer<Lease>(listWatch<Lease>(this.#client, Leases, this.#namespace, { fieldSelector: `metadata.name=${this.#name}` }), { clock: this.#clock });
    const seen = (lease: Lease) => {
      const record = recordFromSpec(lease.spec ?? {});
      onChange({ record, raw: rawRecord(record) });
    };
    informer.addEventHandler({ onAdd: seen, onUpdate: (_old, lease) => seen(lease) });
    informer.start();
    return () => void informer.stop();
  }

  recordEvent(message: string): void {
    if (this.#component === undefined || !this.#lease) return;
    const now = this.#clock.now();
    const meta = this.#lease.metadata ?? {};
    const p = this.#client
      .create(Events, this.#namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${this.#name}.${(BigInt(now) * 1_000_000n + BigInt(++this.#seq % 1_000_000)).toString(16)}`, namespace: this.#namespace },
        involvedObject: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.#namespace, name: this.#name, uid: meta.uid, resourceVersion: meta.resourceVersion },
        reason: 'LeaderElection',
        message: `${this.identity} ${message}`,
        type: 'Normal',
        source: { component: this.#component },
        reportingComponent: this.#component,
        reportingInstance: this.identity,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        count: 1,
      })
      .catch(() => {});
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Waits for the events in flight (so a stopping server does not close its client under them). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

function recordFromSpec(spec: NonNullable<Lease['spec']>): LeaderElectionRecord {
  const time = (t: string | undefined) => (t ? Date.parse(t) : 0);
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: time(spec.acquireTime),
    renewTime: time(spec.renewTime),
    leaderTransitions: spec.leaseTransitions ?? 0,
  };
}

function specFromRecord(r: LeaderElectionRecord): NonNullable<Lease['spec']> {
  return {
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    acquireTime: rfc3339Micro(r.acquireTime),
    renewTime: rfc3339Micro(r.renewTime),
    leaseTransitions: r.leaderTransitions,
  };
}

/** The canonical text of a record: two reads are "the same" exactly when it is equal. */
export function rawRecord(r: LeaderElectionRecord): string {
  return JSON.stringify([r.holderIdentity, r.leaseDurationSeconds, r.acquireTime, r.renewTime, r.leaderTransitions]);
}

export interface LeaderCallbacks {
  /**
   * This candidate now leads: start the work. Awaited before renewals begin; `signal` aborts when the
   * term ends. A rejection ends the term (the lease is released so another candidate can try).
   */
  onStartedLeading(signal: AbortSignal): Promise<void> | void;
  /** The term ended (lease lost or elector stopped): stop the work; awaited before anyone else may be let in. */
  onStoppedLeading(): Promise<void> | void;
  /** A different holder was observed (including the first one seen, and this candidate itself). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  lock: ResourceLock;
  callbacks: LeaderCallbacks;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Clear the holder when stop() is called while leading (client-go's ReleaseOnCancel). Default true. */
  releaseOnCancel?: boolean;
  clock?: Clock;
  random?: () => number;
  /** Failed tries and callback failures, for logs (the loop carries on). */
  onError?: (err: unknown) => void;
}

/**
 * One candidate. start() runs the candidate → leader → candidate loop until stop(); isLeader() and
 * getLeader() may be called from anywhere.
 */
export class LeaderElector {
  readonly #lock: ResourceLock;
  readonly #callbacks: LeaderCallbacks;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #releaseOnCancel: boolean;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #onError: (err: unknown) => void;
  #observed: LeaderElectionRecord | undefined;
  #observedRaw = '';
  #observedTime = 0;
  #reportedLeader = '';
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #firstTry: Promise<void>;
  #firstTryDone: () => void = () => {};
  #unobserve: (() => void) | undefined;

  constructor(config: LeaderElectionConfig) {
    this.#leaseDurationMs = config.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.#renewDeadlineMs = config.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.#retryPeriodMs = config.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    // NewLeaderElector's checks and messages.
    if (this.#leaseDurationMs <= this.#renewDeadlineMs) throw new LeaderElectionConfigError('leaseDuration must be greater than renewDeadline');
    if (this.#renewDeadlineMs <= JITTER_FACTOR * this.#retryPeriodMs) throw new LeaderElectionConfigError('renewDeadline must be greater than retryPeriod*JitterFactor');
    if (this.#leaseDurationMs < 1000) throw new LeaderElectionConfigError('leaseDuration must be at least one second (the Lease counts whole seconds)');
    if (this.#retryPeriodMs < 1) throw new LeaderElectionConfigError('retryPeriod must be greater than zero');
    if (!config.lock.identity) throw new LeaderElectionConfigError('Lock identity is empty');
    this.#lock = config.lock;
    this.#callbacks = config.callbacks;
    this.#releaseOnCancel = config.releaseOnCancel ?? true;
    this.#clock = config.clock ?? realClock;
    this.#random = config.random ?? Math.random;
    this.#onError = config.onError ?? (() => {});
    this.#firstTry = new Promise((resolve) => (this.#firstTryDone = resolve));
  }

  get identity(): string {
    return this.#lock.identity;
  }

  /** The last observed holder ("" when none has been seen or the lease was released). */
  getLeader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /** True while the last observed record names this candidate. */
  isLeader(): boolean {
    return this.#observed !== undefined && this.#observed.holderIdentity === this.#lock.identity;
  }

  /**
   * Resolves after the first try to acquire: when it succeeded, after onStartedLeading finished too.
   * A single server starts its scheduler before it reports itself started; a standby does not wait.
   */
  firstTry(): Promise<void> {
    return this.#firstTry;
  }

  start(): void {
    if (this.#loop) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#unobserve = this.#lock.observe?.((current) => {
      if (current.raw === this.#observedRaw) return;
      this.#setObserved(current.record);
      this.#observedRaw = current.raw;
    });
    this.#loop = this.#run(abort.signal).catch((err: unknown) => this.#onError(err));
  }

  /** Ends the loop: a leader stops its work (onStoppedLeading), then releases the lease. Idempotent. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#unobserve?.();
    this.#unobserve = undefined;
    await this.#loop;
    this.#firstTryDone();
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.#acquire(signal))) break;
      const term = new AbortController();
      const endTerm = () => term.abort();
      signal.addEventListener('abort', endTerm, { once: true });
      this.#lock.recordEvent('became leader');
      // Started beside the renewals, as client-go runs OnStartedLeading in its own goroutine: a start
      // that takes long (a large first list) must not let the lease lapse.
      const starting = Promise.resolve()
        .then(() => this.#callbacks.onStartedLeading(term.signal))
        .then(
          () => true,
          (err: unknown) => {
            this.#onError(err);
            term.abort();
            return false;
          },
        );
      void starting.then(() => this.#firstTryDone());
      await this.#renew(term.signal);
      term.abort();
      signal.removeEventListener('abort', endTerm);
      const started = await starting;
      // The work stops before the lease is given up: with ReleaseOnCancel another candidate may start
      // the moment the holder is cleared.
      try {
        await this.#callbacks.onStoppedLeading();
      } catch (err) {
        this.#onError(err);
      }
      this.#lock.recordEvent('stopped leading');
      if (this.#releaseOnCancel || !started) await this.#release();
      // A term that could not even start is not retried at once.
      if (!started) await this.#clock.sleep(this.#jittered(), signal).catch(() => {});
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const ok = await this.#tryAcquireOrRenew(signal);
      this.#maybeReportTransition();
      if (ok) return true;
      this.#firstTryDone();
      try {
        // The next poll, or the moment the observed holder's lease runs out if that comes first.
        const expiresIn = this.#observedTime + (this.#observed?.leaseDurationSeconds ?? 0) * 1000 - this.#clock.now();
        const wait = this.#jittered();
        await this.#clock.sleep(expiresIn > 0 && expiresIn < wait ? expiresIn + 1 : wait, signal);
      } catch {
        return false;
      }
    }
  }

  /** Renews every retryPeriod until a renewal fails for renewDeadline or the term is aborted. */
  async #renew(term: AbortSignal): Promise<void> {
    for (;;) {
      // The acquiring write was the first renewal.
      await this.#clock.sleep(this.#retryPeriodMs, term).catch(() => {});
      if (term.aborted) return;
      const deadline = new AbortController();
      const timer = this.#clock.setTimeout(() => deadline.abort(), this.#renewDeadlineMs);
      const onTerm = () => deadline.abort();
      term.addEventListener('abort', onTerm, { once: true });
      let renewed = false;
      try {
        while (!deadline.signal.aborted) {
          if (await this.#tryAcquireOrRenew(deadline.signal)) {
            renewed = true;
            break;
          }
          await this.#clock.sleep(this.#retryPeriodMs, deadline.signal).catch(() => {});
        }
      } finally {
        timer.cancel();
        term.removeEventListener('abort', onTerm);
      }
      this.#maybeReportTransition();
      if (!renewed) return;
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.#clock.now();
    const desired: LeaderElectionRecord = {
      holderIdentity: this.#lock.identity,
      leaseDurationSeconds: Math.floor(this.#leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaderTransitions: 0,
    };
    // 1. The leader's fast path: assume the record it wrote last is still current.
    if (this.isLeader() && this.#isLeaseValid(now)) {
      const record = { ...desired, acquireTime: this.#observed!.acquireTime, leaderTransitions: this.#observed!.leaderTransitions };
      try {
        await this.#lock.update(record, signal);
        this.#setObserved(record);
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        this.#onError(err);
      }
    }
    // 2. Read the record, or create it.
    let current: { record: LeaderElectionRecord; raw: string } | undefined;
    try {
      current = await this.#lock.get(signal);
      if (current === undefined) {
        await this.#lock.create(desired, signal);
        this.#setObserved(desired);
        return true;
      }
    } catch (err) {
      if (!signal.aborted) this.#onError(err);
      return false;
    }
    // 3. Another holder whose lease has not expired by our own clock keeps it.
    if (current.raw !== this.#observedRaw) {
      this.#setObserved(current.record);
      this.#observedRaw = current.raw;
    }
    if (current.record.holderIdentity !== '' && this.#isLeaseValid(now) && !this.isLeader()) return false;
    // 4. Take over (a transition) or renew.
    const record = this.isLeader()
      ? { ...desired, acquireTime: current.record.acquireTime, leaderTransitions: current.record.leaderTransitions }
      : { ...desired, leaderTransitions: current.record.leaderTransitions + 1 };
    try {
      await this.#lock.update(record, signal);
    } catch (err) {
      if (!signal.aborted) this.#onError(err);
      return false;
    }
    this.#setObserved(record);
    return true;
  }

  async #release(): Promise<void> {
    if (!this.isLeader()) return;
    const now = this.#clock.now();
    const record: LeaderElectionRecord = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaderTransitions: this.#observed!.leaderTransitions };
    const timeout = new AbortController();
    const timer = this.#clock.setTimeout(() => timeout.abort(), this.#renewDeadlineMs);
    try {
      await this.#lock.update(record, timeout.signal);
      this.#setObserved(record);
    } catch (err) {
      this.#onError(err);
    } finally {
      timer.cancel();
    }
  }

  #isLeaseValid(now: number): boolean {
    return this.#observedTime + (this.#observed?.leaseDurationSeconds ?? 0) * 1000 > now;
  }

  #setObserved(record: LeaderElectionRecord): void {
    this.#observed = record;
    this.#observedTime = this.#clock.now();
  }

  #maybeReportTransition(): void {
    const holder = this.#observed?.holderIdentity ?? '';
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    try {
      this.#callbacks.onNewLeader?.(holder);
    } catch (err) {
      this.#onError(err);
    }
  }

  #jittered(): number {
    return this.#retryPeriodMs * (1 + this.#random() * JITTER_FACTOR);
  }
}
