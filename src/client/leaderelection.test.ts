import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../util/clock.ts';
import { LeaderElectionConfigError, LeaderElector, rawRecord, type LeaderElectionConfig, type LeaderElectionRecord, type ResourceLock } from './leaderelection.ts';

// One Lease as the API server keeps it: a resourceVersion that every write bumps, create-if-absent and
// compare-and-swap updates. `down` holds the identities whose requests fail as if their server were gone.
class FakeLeaseStore {
  record: LeaderElectionRecord | undefined;
  rv = 0;
  writes = 0;
  events: string[] = [];
  down = new Set<string>();
  /** Watchers of the Lease (LeaseLock.observe's informer), told of every write. */
  watchers = new Set<(current: { record: LeaderElectionRecord; raw: string }) => void>();
}

class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

class FakeLock implements ResourceLock {
  readonly identity: string;
  readonly #store: FakeLeaseStore;
  #seenRv = -1;
  constructor(store: FakeLeaseStore, identity: string, watch = false) {
    this.#store = store;
    this.identity = identity;
    if (watch) {
      this.observe = (onChange) => {
        store.watchers.add(onChange);
        return () => void store.watchers.delete(onChange);
      };
    }
  }
  observe?: ResourceLock['observe'];
  describe(): string {
    return 'kube-system/kube-scheduler';
  }
  async get() {
    this.#reachable();
    const r = this.#store.record;
    if (!r) return undefined;
    this.#seenRv = this.#store.rv;
    return { record: { ...r }, raw: rawRecord(r) };
  }
  async create(record: LeaderElectionRecord) {
    this.#reachable();
    if (this.#store.record) throw new CodedError('AlreadyExists', 'leases.coordination.k8s.io "kube-scheduler" already exists');
    this.#write(record);
  }
  async update(record: LeaderElectionRecord) {
    this.#reachable();
    if (this.#seenRv !== this.#store.rv) throw new CodedError('Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
    this.#write(record);
  }
  recordEvent(message: string): void {
    this.#store.events.push(`${this.identity} ${message}`);
  }
  #write(record: LeaderElectionRecord) {
    this.#store.record = { ...record };
    this.#store.rv++;
    this.#store.writes++;
    this.#seenRv = this.#store.rv;
    for (const w of this.#store.watchers) w({ record: { ...record }, raw: rawRecord(record) });
  }
  #reachable() {
    if (this.#store.down.has(this.identity)) throw new CodedError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6443');
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** Moves fake time in small steps, letting the electors' requests and callbacks run between them. */
async function advance(clock: FakeClock, ms: number, until?: () => boolean): Promise<void> {
  for (let t = 0; t < ms && !until?.(); t += 100) {
    clock.advance(100);
    await settle();
  }
}

interface Candidate {
  elector: LeaderElector;
  log: string[];
  startedAt?: number;
  stoppedAt?: number;
}

function cluster() {
  const clock = new FakeClock();
  const store = new FakeLeaseStore();
  const leading = new Set<string>();
  let maxLeading = 0;
  const candidate = (id: string, extra: Partial<LeaderElectionConfig> = {}, watch = false): Candidate => {
    const c: Candidate = { log: [], elector: undefined as unknown as LeaderElector };
    c.elector = new LeaderElector({
      lock: new FakeLock(store, id, watch),
      clock,
      random: () => 0,
      callbacks: {
        onStartedLeading() {
          leading.add(id);
          maxLeading = Math.max(maxLeading, leading.size);
          c.startedAt = clock.now();
          c.log.push('started');
        },
        onStoppedLeading() {
          leading.delete(id);
          c.stoppedAt = clock.now();
          c.log.push('stopped');
        },
        onNewLeader: (holder) => c.log.push(`leader ${holder}`),
      },
      ...extra,
    });
    return c;
  };
  return { clock, store, leading, candidate, maxLeading: () => maxLeading };
}

test('a free lease is taken at once: holder, duration, times, no transition, an event', async () => {
  const { clock, store, candidate } = cluster();
  const a = candidate('a');
  a.elector.start();
  await a.elector.firstTry();
  assert.deepEqual(a.log, ['leader a', 'started']);
  assert.equal(a.elector.isLeader(), true);
  assert.deepEqual(store.record, { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: clock.now(), renewTime: clock.now(), leaderTransitions: 0 });
  assert.deepEqual(store.events, ['a became leader']);
  await a.elector.stop();
});

test('the leader renews every retry period; a candidate waits and never takes a live lease', async () => {
  const { clock, store, candidate } = cluster();
  const a = candidate('a');
  a.elector.start();
  await a.elector.firstTry();
  const acquired = clock.now();
  const b = candidate('b');
  b.elector.start();
  await b.elector.firstTry();
  await advance(clock, 60_000);
  assert.deepEqual(b.log, ['leader a']);
  assert.equal(b.elector.getLeader(), 'a');
  assert.equal(store.record?.holderIdentity, 'a');
  assert.equal(store.record?.acquireTime, acquired);
  assert.ok(store.record!.renewTime >= clock.now() - 2_000, 'renewed within the last retry period');
  assert.equal(store.record?.leaderTransitions, 0);
  await b.elector.stop();
  await a.elector.stop();
});

test('a leader that cannot renew stops before another takes over, after a whole lease duration', async () => {
  const { clock, store, candidate, leading, maxLeading } = cluster();
  const a = candidate('a');
  const b = candidate('b');
  a.elector.start();
  await a.elector.firstTry();
  b.elector.start();
  await advance(clock, 5_000);
  const lastRenew = store.record!.renewTime;
  store.down.add('a');
  await advance(clock, 60_000, () => b.startedAt !== undefined);
  assert.deepEqual(a.log, ['leader a', 'started', 'stopped']);
  assert.ok(a.stoppedAt! <= lastRenew + 2_000 + 10_000, 'a gave up within retry period + renew deadline of its last renewal');
  assert.ok(b.startedAt! >= lastRenew + 15_000, 'b waited a lease duration');
  assert.ok(a.stoppedAt! < b.startedAt!);
  assert.equal(maxLeading(), 1);
  assert.deepEqual([...leading], ['b']);
  assert.equal(store.record?.holderIdentity, 'b');
  assert.equal(store.record?.leaderTransitions, 1);
  assert.equal(store.record?.acquireTime, b.startedAt);
  // a comes back as a candidate and leaves b alone.
  store.down.delete('a');
  await advance(clock, 30_000);
  assert.deepEqual(a.log, ['leader a', 'started', 'stopped', 'leader b']);
  assert.equal(store.record?.holderIdentity, 'b');
  assert.equal(store.record?.leaderTransitions, 1);
  await a.elector.stop();
  await b.elector.stop();
});

test('a candidate that watches the Lease takes over one lease duration after the last renewal, not a poll later', async () => {
  for (const watch of [false, true]) {
    const { clock, store, candidate, maxLeading } = cluster();
    // The longest jitter: polls 4.4 s apart, so a polling candidate sees a renewal late and tries late.
    const a = candidate('a', { random: () => 1 });
    const b = candidate('b', { random: () => 1 }, watch);
    a.elector.start();
    await a.elector.firstTry();
    b.elector.start();
    await advance(clock, 7_000);
    store.down.add('a');
    const lastRenew = store.record!.renewTime;
    await advance(clock, 60_000, () => b.startedAt !== undefined);
    assert.ok(b.startedAt! >= lastRenew + 15_000, `watch ${watch}: b waited a lease duration`);
    if (watch) assert.ok(b.startedAt! <= lastRenew + 15_000 + 100, `b took over at ${b.startedAt! - lastRenew} ms after the last renewal`);
    else assert.ok(b.startedAt! > lastRenew + 15_000 + 100, `a polling candidate is later (${b.startedAt! - lastRenew} ms)`);
    assert.equal(maxLeading(), 1);
    await a.elector.stop();
    await b.elector.stop();
  }
});

test('stop() stops the work, then clears the holder: the next candidate takes over on its next try', async () => {
  const { clock, store, candidate, maxLeading } = cluster();
  const a = candidate('a');
  const b = candidate('b');
  a.elector.start();
  await a.elector.firstTry();
  b.elector.start();
  await advance(clock, 3_000);
  await a.elector.stop();
  assert.deepEqual(a.log, ['leader a', 'started', 'stopped']);
  assert.deepEqual({ holder: store.record?.holderIdentity, duration: store.record?.leaseDurationSeconds }, { holder: '', duration: 1 });
  const released = clock.now();
  await advance(clock, 10_000, () => b.startedAt !== undefined);
  assert.ok(b.startedAt! <= released + 2_000, 'taken over on the next retry');
  assert.equal(store.record?.holderIdentity, 'b');
  assert.equal(store.record?.leaderTransitions, 1);
  assert.equal(maxLeading(), 1);
  assert.deepEqual(store.events, ['a became leader', 'a stopped leading', 'b became leader']);
  await b.elector.stop();
});

test('two candidates racing for a free lease: one creates it, the other sees it held', async () => {
  const { store, candidate, maxLeading } = cluster();
  const a = candidate('a');
  const b = candidate('b');
  a.elector.start();
  b.elector.start();
  await Promise.all([a.elector.firstTry(), b.elector.firstTry()]);
  await settle();
  assert.equal(maxLeading(), 1);
  assert.equal([a, b].filter((c) => c.elector.isLeader()).length, 1);
  assert.equal(store.writes, 1);
  await a.elector.stop();
  await b.elector.stop();
});

test('a start that fails ends the term and gives the lease back', async () => {
  const { clock, store } = cluster();
  const log: string[] = [];
  const e = new LeaderElector({
    lock: new FakeLock(store, 'a'),
    clock,
    random: () => 0,
    onError: (err) => log.push(`error ${(err as Error).message}`),
    callbacks: {
      onStartedLeading: () => Promise.reject(new Error('informers did not sync')),
      onStoppedLeading: () => void log.push('stopped'),
    },
  });
  e.start();
  await e.firstTry();
  await settle();
  assert.deepEqual(log, ['error informers did not sync', 'stopped']);
  assert.equal(store.record?.holderIdentity, '');
  await e.stop();
});

test('configurations client-go refuses are refused', () => {
  const lock = new FakeLock(new FakeLeaseStore(), 'a');
  const callbacks = { onStartedLeading() {}, onStoppedLeading() {} };
  const cases: Array<{ what: string; c: Partial<LeaderElectionConfig>; want: RegExp }> = [
    { what: 'lease not longer than renew deadline', c: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, want: /leaseDuration must be greater than renewDeadline/ },
    { what: 'renew deadline within the jittered retry', c: { renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }, want: /renewDeadline must be greater than retryPeriod\*JitterFactor/ },
    { what: 'empty identity', c: { lock: new FakeLock(new FakeLeaseStore(), '') }, want: /Lock identity is empty/ },
  ];
  for (const { what, c, want } of cases) {
    assert.throws(() => new LeaderElector({ lock, callbacks, ...c }), (e) => e instanceof LeaderElectionConfigError && want.test(e.message), what);
  }
});
