// The one suite every storage backend must pass (as Kubernetes' storage/testing does for etcd3 and
// the watch cache). A backend's test file calls runBackendConformance with an opener.
//
// What an opener must give: a backend over an empty key space, used by one test at a time. The
// revision need not start at zero (a shared etcd has history), so every assertion here is relative
// to the revision read at the start of the test; only this test writes while it runs.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, KeyValue, WatchCallbacks, WatchEvent, Watcher } from '../backend.ts';
import {
  BackendClosedError,
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  MAX_REQUEST_BYTES,
  RequestTooLargeError,
  RevisionMismatchError,
} from '../errors.ts';

export interface OpenedBackend {
  backend: Backend;
  cleanup(): Promise<void>;
}

const T = { timeout: 20_000 };
const P = '/registry/pods/';

/** Records a watch and lets a test await a number of events or the error. */
export class WatchRecorder implements WatchCallbacks {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  #waiters: { n: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #errWaiters: ((e: Error) => void)[] = [];

  onEvent(ev: WatchEvent): void {
    this.events.push(ev);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.events.length < w.n) return true;
      w.resolve();
      return false;
    });
  }

  onError(err: Error): void {
    this.errors.push(err);
    for (const w of this.#waiters) w.reject(err);
    this.#waiters = [];
    for (const r of this.#errWaiters) r(err);
    this.#errWaiters = [];
  }

  /** Resolves once `n` events have arrived; rejects if the watch fails first. */
  until(n: number): Promise<void> {
    if (this.events.length >= n) return Promise.resolve();
    if (this.errors.length > 0) return Promise.reject(this.errors[0]);
    return new Promise((resolve, reject) => this.#waiters.push({ n, resolve, reject }));
  }

  error(): Promise<Error> {
    if (this.errors.length > 0) return Promise.resolve(this.errors[0]);
    return new Promise((resolve) => this.#errWaiters.push(resolve));
  }

  revisions(): number[] {
    return this.events.map((e) => e.kv.modRevision);
  }
}

function watchInto(b: Backend, prefix: string, from: number): { rec: WatchRecorder; watcher: Watcher } {
  const rec = new WatchRecorder();
  return { rec, watcher: b.watch(prefix, from, rec) };
}

function kv(key: string, value: string, createRevision: number, modRevision: number): KeyValue {
  return { key, value, createRevision, modRevision };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

const pad = (i: number) => String(i).padStart(3, '0');

export function runBackendConformance(name: string, open: () => Promise<OpenedBackend>): void {
  const withBackend = (fn: (b: Backend) => Promise<void>) => async () => {
    const { backend, cleanup } = await open();
    try {
      await fn(backend);
    } finally {
      await cleanup();
    }
  };

  describe(`storage backend conformance: ${name}`, () => {
    test('create then get; create of an existing key fails and writes nothing', T, withBackend(async (b) => {
      const r0 = await b.currentRevision();
      assert.equal(await b.get(P + 'ns/a'), null);
      const r1 = await b.create(P + 'ns/a', '{"a":1}');
      assert.equal(r1, r0 + 1);
      assert.deepEqual(await b.get(P + 'ns/a'), kv(P + 'ns/a', '{"a":1}', r1, r1));
      await assert.rejects(b.create(P + 'ns/a', 'other'), (e) => e instanceof KeyExistsError && e.key === P + 'ns/a');
      assert.equal(await b.currentRevision(), r1, 'a refused write must not use a revision');
      assert.equal((await b.get(P + 'ns/a'))?.value, '{"a":1}');
    }));

    test('the revision increases by one per write, across keys and write kinds', T, withBackend(async (b) => {
      const r0 = await b.currentRevision();
      const ra = await b.create(P + 'ns/a', '1');
      const rb = await b.create(P + 'ns/b', '1');
      const ua = await b.update(P + 'ns/a', '2', ra);
      const db = await b.delete(P + 'ns/b');
      assert.deepEqual([ra, rb, ua.modRevision, db.modRevision], [r0 + 1, r0 + 2, r0 + 3, r0 + 4]);
      assert.equal(await b.currentRevision(), r0 + 4);
    }));

    test('update compares the expected revision and keeps createRevision', T, withBackend(async (b) => {
      const r1 = await b.create(P + 'ns/a', 'v1');
      const u = await b.update(P + 'ns/a', 'v2', r1);
      assert.deepEqual(u, kv(P + 'ns/a', 'v2', r1, r1 + 1));
      assert.deepEqual(await b.get(P + 'ns/a'), u);
      await assert.rejects(b.update(P + 'ns/a', 'v3', r1), (e) => {
        assert.ok(e instanceof RevisionMismatchError);
        assert.equal(e.code, 'ERR_STORAGE_REVISION_MISMATCH');
        assert.equal(e.expected, r1);
        assert.equal(e.actual, u.modRevision);
        assert.deepEqual(e.current, u);
        return true;
      });
      assert.equal(await b.currentRevision(), u.modRevision);
      await assert.rejects(b.update(P + 'ns/missing', 'x', 1), KeyNotFoundError);
    }));

    test('delete with and without an expected revision', T, withBackend(async (b) => {
      const r1 = await b.create(P + 'ns/a', 'va');
      const r2 = await b.create(P + 'ns/b', 'vb');
      await assert.rejects(b.delete(P + 'ns/a', r2), (e) => e instanceof RevisionMismatchError && e.actual === r1);
      assert.notEqual(await b.get(P + 'ns/a'), null, 'a refused delete keeps the key');
      const da = await b.delete(P + 'ns/a', r1);
      assert.deepEqual(da, kv(P + 'ns/a', 'va', r1, r2 + 1));
      const dbb = await b.delete(P + 'ns/b');
      assert.deepEqual(dbb, kv(P + 'ns/b', 'vb', r2, r2 + 2));
      assert.equal(await b.get(P + 'ns/a'), null);
      await assert.rejects(b.delete(P + 'ns/a'), KeyNotFoundError);
      await assert.rejects(b.update(P + 'ns/a', 'x', r1), KeyNotFoundError);
      // A key created again is a new incarnation.
      const r5 = await b.create(P + 'ns/a', 'again');
      assert.deepEqual(await b.get(P + 'ns/a'), kv(P + 'ns/a', 'again', r5, r5));
    }));

    test('get at a revision sees the key as it was', T, withBackend(async (b) => {
      const r0 = await b.currentRevision();
      const r1 = await b.create(P + 'ns/a', 'v1');
      const u = await b.update(P + 'ns/a', 'v2', r1);
      const d = await b.delete(P + 'ns/a');
      if (r0 > 0) assert.equal(await b.get(P + 'ns/a', r0), null);
      assert.deepEqual(await b.get(P + 'ns/a', r1), kv(P + 'ns/a', 'v1', r1, r1));
      assert.deepEqual(await b.get(P + 'ns/a', u.modRevision), u);
      assert.equal(await b.get(P + 'ns/a', d.modRevision), null);
    }));

    test('list returns keys in order and, at an old revision, the state then', T, withBackend(async (b) => {
      const ra = await b.create(P + 'ns/c', 'c1');
      const rb = await b.create(P + 'ns/a', 'a1');
      const rc = await b.create(P + 'ns/b', 'b1');
      const now = await b.list(P);
      assert.deepEqual(now.items.map((i) => i.key), [P + 'ns/a', P + 'ns/b', P + 'ns/c']);
      assert.equal(now.revision, rc);
      assert.equal(now.more, false);
      await b.delete(P + 'ns/a');
      const ub = await b.update(P + 'ns/b', 'b2', rc);
      const at = await b.list(P, { revision: rc });
      assert.equal(at.revision, rc);
      assert.deepEqual(at.items, [kv(P + 'ns/a', 'a1', rb, rb), kv(P + 'ns/b', 'b1', rc, rc), kv(P + 'ns/c', 'c1', ra, ra)]);
      const later = await b.list(P);
      assert.deepEqual(later.items, [ub, kv(P + 'ns/c', 'c1', ra, ra)]);
      assert.equal(later.revision, await b.currentRevision());
      assert.deepEqual((await b.list(P, { revision: ra })).items, [kv(P + 'ns/c', 'c1', ra, ra)]);
    }));

    test('pagination is consistent at one revision while writes continue', T, withBackend(async (b) => {
      for (const i of range(25)) await b.create(`${P}ns/k${pad(i)}`, `v${i}`);
      const full = await b.list(P);
      const p1 = await b.list(P, { limit: 10 });
      assert.deepEqual(p1.items, full.items.slice(0, 10));
      assert.equal(p1.more, true);
      assert.equal(p1.remaining, 15);
      // Writes after the first page: on both sides of the page boundary, and new keys.
      await b.delete(`${P}ns/k015`);
      await b.delete(`${P}ns/k003`);
      const u = full.items[20];
      await b.update(u.key, 'changed', u.modRevision);
      await b.create(`${P}ns/k0155`, 'new');
      await b.create(`${P}ns/k999`, 'new');
      const p2 = await b.list(P, { limit: 10, revision: p1.revision, startAfter: p1.items[9].key });
      assert.equal(p2.revision, p1.revision);
      assert.deepEqual(p2.items, full.items.slice(10, 20));
      assert.equal(p2.more, true);
      assert.equal(p2.remaining, 5);
      const p3 = await b.list(P, { limit: 10, revision: p1.revision, startAfter: p2.items[9].key });
      assert.deepEqual(p3.items, full.items.slice(20));
      assert.equal(p3.more, false);
      assert.equal(p3.remaining, undefined);
      // The same at the current revision sees the writes.
      const c1 = await b.list(P, { limit: 10 });
      assert.equal(c1.remaining, 25 - 2 + 2 - 10);
      const c2 = await b.list(P, { limit: 100, startAfter: c1.items[9].key });
      assert.equal(c2.items.length, 15);
      assert.equal(c2.more, false);
      assert.ok(c2.items.some((i) => i.key === `${P}ns/k0155`));
      assert.equal(c2.items.find((i) => i.key === u.key)?.value, 'changed');
      // A page exactly as long as what is left has nothing more.
      const exact = await b.list(P, { limit: 15, startAfter: c1.items[9].key });
      assert.equal(exact.more, false);
      assert.equal((await b.list(P, { limit: 5, startAfter: `${P}ns/k999` })).items.length, 0);
    }));

    test('a prefix never leaks into its neighbours', T, withBackend(async (b) => {
      const keys = [P + 'a', P + 'a/x', P + 'a/y', P + 'ab/x', P + 'a0/x', '/registry/podsx/a/x', '/registry/pods-a/x'];
      for (const k of keys) await b.create(k, k);
      const inA = (await b.list(P + 'a/')).items.map((i) => i.key);
      assert.deepEqual(inA, [P + 'a/x', P + 'a/y']);
      assert.equal(await b.count(P + 'a/'), 2);
      assert.equal(await b.count(P), 5);
      assert.deepEqual((await b.list(P + 'a/', { limit: 1 })).remaining, 1);
      // A continue key outside the prefix must not widen the range, whatever else it does.
      for (const startAfter of [P + '0', P + 'ab/x', '/registry/podsx/a/x', '/']) {
        for (const k of (await b.list(P + 'a/', { startAfter })).items.map((i) => i.key)) {
          assert.ok(k.startsWith(P + 'a/'), `${k} leaked with startAfter ${startAfter}`);
        }
      }
      const { rec } = watchInto(b, P + 'a/', 0);
      await b.update(P + 'ab/x', 'n', (await b.get(P + 'ab/x'))!.modRevision);
      await b.update(P + 'a', 'n', (await b.get(P + 'a'))!.modRevision);
      await b.update(P + 'a/x', 'n', (await b.get(P + 'a/x'))!.modRevision);
      await rec.until(1);
      assert.deepEqual(rec.events.map((e) => e.kv.key), [P + 'a/x']);
    }));

    test('count follows creates and deletes', T, withBackend(async (b) => {
      assert.equal(await b.count(P), 0);
      for (const i of range(7)) await b.create(`${P}ns/p${i}`, '{}');
      await b.create('/registry/nodes/n1', '{}');
      assert.equal(await b.count(P), 7);
      assert.equal(await b.count(P + 'ns/'), 7);
      await b.delete(`${P}ns/p3`);
      assert.equal(await b.count(P), 6);
      assert.equal(await b.count('/registry/'), 7);
    }));

    test('watch from 0 sees only new events, with created and prevKv', T, withBackend(async (b) => {
      const ra = await b.create(P + 'ns/a', 'a1');
      const { rec } = watchInto(b, P, 0);
      const ua = await b.update(P + 'ns/a', 'a2', ra);
      const rb = await b.create(P + 'ns/b', 'b1');
      const da = await b.delete(P + 'ns/a');
      await rec.until(3);
      assert.deepEqual(rec.events, [
        { type: 'put', kv: ua, prevKv: kv(P + 'ns/a', 'a1', ra, ra), created: false },
        { type: 'put', kv: kv(P + 'ns/b', 'b1', rb, rb), created: true },
        { type: 'delete', kv: da, prevKv: ua, created: false },
      ]);
      assert.equal(da.value, 'a2');
    }));

    test('watch from an old revision replays in order, then continues live without gaps or repeats', T, withBackend(async (b) => {
      const r0 = await b.currentRevision();
      for (const i of range(30)) await b.create(`${P}ns/k${pad(i)}`, `v${i}`);
      await b.create('/registry/nodes/n1', 'other prefix');
      const k5 = await b.get(`${P}ns/k005`);
      await b.update(k5!.key, 'v5b', k5!.modRevision);
      await b.delete(`${P}ns/k006`);
      const from = r0 + 10;
      const { rec } = watchInto(b, P, from);
      // Writes racing the replay: they must appear exactly once, after the history.
      const racing = range(20).map((i) => b.create(`${P}ns/live${pad(i)}`, 'x'));
      await Promise.all(racing);
      const last = await b.currentRevision();
      const expected: number[] = [];
      for (let r = from + 1; r <= last; r++) if (r !== r0 + 31) expected.push(r);
      await rec.until(expected.length);
      assert.deepEqual(rec.revisions(), expected);
      const upd = rec.events.find((e) => e.kv.key === k5!.key && e.type === 'put' && !e.created);
      assert.deepEqual(upd?.prevKv, k5);
      const del = rec.events.find((e) => e.type === 'delete');
      assert.equal(del?.kv.key, `${P}ns/k006`);
      assert.equal(del?.kv.value, 'v6');
      assert.equal(del?.prevKv?.value, 'v6');
      assert.equal(rec.events[0].created, true);
      assert.equal(rec.events[0].prevKv, undefined);
      // And it stays live.
      const more = await b.create(`${P}ns/after`, 'x');
      await rec.until(expected.length + 1);
      assert.equal(rec.events.at(-1)?.kv.modRevision, more);
    }));

    test('watch from a revision not yet reached waits for it', T, withBackend(async (b) => {
      const r0 = await b.currentRevision();
      const { rec } = watchInto(b, P, r0 + 2);
      for (const i of range(4)) await b.create(`${P}ns/k${i}`, 'x');
      await rec.until(2);
      assert.deepEqual(rec.revisions(), [r0 + 3, r0 + 4]);
    }));

    test('many watchers each get exactly their prefix, in order', T, withBackend(async (b) => {
      const prefixes = [P, P + 'ns1/', P + 'ns2/', '/registry/nodes/'];
      const recs = range(40).map((i) => ({ prefix: prefixes[i % prefixes.length], ...watchInto(b, prefixes[i % prefixes.length], 0) }));
      const writes: KeyValue[] = [];
      for (const i of range(30)) {
        const key = i % 3 === 0 ? `/registry/nodes/n${i}` : `${P}ns${(i % 3)}/p${i}`;
        const rev = await b.create(key, String(i));
        writes.push(kv(key, String(i), rev, rev));
      }
      for (const { prefix, rec } of recs) {
        const want = writes.filter((w) => w.key.startsWith(prefix));
        await rec.until(want.length);
        assert.deepEqual(rec.events.map((e) => e.kv), want);
      }
    }));

    test('a closed watcher gets nothing more; close is idempotent', T, withBackend(async (b) => {
      const { rec, watcher } = watchInto(b, P, 0);
      await b.create(P + 'ns/a', '1');
      await rec.until(1);
      watcher.close();
      watcher.close();
      const rb = await b.create(P + 'ns/b', '1');
      // A watcher opened before the write proves the event has been delivered by now.
      const sentinel = watchInto(b, P, rb - 1);
      await sentinel.rec.until(1);
      assert.equal(rec.events.length, 1);
      assert.equal(rec.errors.length, 0);
    }));

    test('compaction: history below fails, the compacted revision and live keys stay readable', T, withBackend(async (b) => {
      const r0 = await b.currentRevision();
      const ra = await b.create(P + 'ns/a', 'a1');
      const ua = await b.update(P + 'ns/a', 'a2', ra);
      const rb = await b.create(P + 'ns/b', 'b1');
      const db = await b.delete(P + 'ns/b');
      const rc = await b.create(P + 'ns/c', 'c1');
      const ud = await b.update(P + 'ns/a', 'a3', ua.modRevision);
      assert.equal(db.modRevision, r0 + 4);
      await b.compact(db.modRevision);
      assert.equal(await b.compactedRevision(), db.modRevision);
      for (const read of [() => b.get(P + 'ns/a', rb), () => b.list(P, { revision: rb }), () => b.list(P, { revision: ra, limit: 1 })]) {
        await assert.rejects(read(), (e) => e instanceof CompactedError && e.code === 'ERR_STORAGE_COMPACTED' && e.compacted === db.modRevision);
      }
      assert.deepEqual((await b.list(P, { revision: db.modRevision })).items, [ua]);
      assert.deepEqual(await b.get(P + 'ns/a', db.modRevision), ua);
      assert.deepEqual((await b.list(P)).items, [ud, kv(P + 'ns/c', 'c1', rc, rc)]);
      assert.equal(await b.count(P), 2);
      const below = watchInto(b, P, rb);
      const err = await below.rec.error();
      assert.ok(err instanceof CompactedError);
      assert.equal(below.rec.events.length, 0);
      // From the compacted revision itself everything after it replays, with prevKv kept.
      const at = watchInto(b, P, db.modRevision);
      await at.rec.until(2);
      assert.deepEqual(at.rec.events, [
        { type: 'put', kv: kv(P + 'ns/c', 'c1', rc, rc), created: true },
        { type: 'put', kv: ud, prevKv: ua, created: false },
      ]);
      // Compacting again at or below is a no-op; beyond the head is refused.
      await b.compact(ra);
      assert.equal(await b.compactedRevision(), db.modRevision);
      await assert.rejects(b.compact((await b.currentRevision()) + 1), FutureRevisionError);
      // Compacting at the head keeps every live key.
      await b.delete(P + 'ns/c');
      await b.compact(await b.currentRevision());
      assert.deepEqual((await b.list(P)).items, [ud]);
      assert.deepEqual(await b.get(P + 'ns/a'), ud);
      await assert.rejects(b.update(P + 'ns/a', 'x', ua.modRevision), RevisionMismatchError);
      const next = await b.create(P + 'ns/c', 'c2');
      assert.equal(next, rc + 3, 'the revision never goes back after compaction');
    }));

    test('a watch catching up fails when compaction overtakes it', T, withBackend(async (b) => {
      // Watching from 0 would mean "from now": make sure the starting revision is a real one.
      const r0 = await b.create('/registry/nodes/seed', 'x');
      for (const i of range(5)) await b.create(`${P}ns/k${i}`, 'x');
      for (const i of range(5)) await b.delete(`${P}ns/k${i}`);
      const { rec } = watchInto(b, P, r0);
      await b.compact(await b.currentRevision());
      // Either it finished replaying before the compaction or it reports the compaction: never a
      // silent gap.
      if (rec.errors.length === 0 && rec.events.length < 10) {
        const err = await Promise.race([rec.error(), rec.until(10).then(() => null)]);
        if (err) assert.ok(err instanceof CompactedError);
      }
      if (rec.errors.length === 0) assert.deepEqual(rec.revisions(), range(10).map((i) => r0 + 1 + i));
    }));

    test('reads beyond the current revision fail with FutureRevisionError', T, withBackend(async (b) => {
      await b.create(P + 'ns/a', '1');
      const cur = await b.currentRevision();
      await assert.rejects(b.get(P + 'ns/a', cur + 1), (e) => e instanceof FutureRevisionError && e.current === cur && e.requested === cur + 1);
      await assert.rejects(b.list(P, { revision: cur + 5 }), FutureRevisionError);
      assert.equal((await b.list(P, { revision: cur })).items.length, 1);
    }));

    test('concurrent creates of one key: exactly one wins', T, withBackend(async (b) => {
      const results = await Promise.allSettled(range(10).map((i) => b.create(P + 'ns/race', `writer-${i}`)));
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof KeyExistsError);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      assert.equal((await b.get(P + 'ns/race'))?.value, `writer-${winner}`);
    }));

    test('concurrent updates from one revision: exactly one wins', T, withBackend(async (b) => {
      const r1 = await b.create(P + 'ns/cas', '0');
      const results = await Promise.allSettled(range(8).map((i) => b.update(P + 'ns/cas', `u${i}`, r1)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof RevisionMismatchError);
      assert.equal(await b.currentRevision(), r1 + 1);
    }));

    test('unicode values round-trip through get, list and watch', T, withBackend(async (b) => {
      const value = JSON.stringify({ s: 'héllo wörld ✓ 日本語 𝄞 😀 e\u0301', rtl: 'مرحبا', nul: '\u0000' });
      const { rec } = watchInto(b, P, 0);
      const r = await b.create(P + 'ns/üñí', value);
      assert.equal((await b.get(P + 'ns/üñí'))?.value, value);
      assert.deepEqual((await b.list(P + 'ns/')).items, [kv(P + 'ns/üñí', value, r, r)]);
      await rec.until(1);
      assert.equal(rec.events[0].kv.value, value);
    }));

    test('1 MiB values are stored whole', T, withBackend(async (b) => {
      const big = 'x'.repeat(1024 * 1024 - 7) + '😀end';
      const { rec } = watchInto(b, P, 0);
      const r = await b.create(P + 'ns/big', big);
      const got = await b.get(P + 'ns/big');
      assert.equal(got?.value.length, big.length);
      assert.equal(got?.value, big);
      const u = await b.update(P + 'ns/big', big + '!', r);
      await rec.until(2);
      assert.equal(rec.events[1].prevKv?.value, big);
      assert.equal(rec.events[1].kv.value, u.value);
      assert.equal((await b.list(P)).items[0].value, big + '!');
    }));

    test("a write over etcd's request limit is refused whole, in etcd's words, using no revision", T, withBackend(async (b) => {
      const key = P + 'ns/huge';
      // Multi-byte text: the limit counts UTF-8 bytes, not characters.
      const over = 'é'.repeat(MAX_REQUEST_BYTES / 2);
      const r0 = await b.currentRevision();
      await assert.rejects(b.create(key, over), (e) => e instanceof RequestTooLargeError && e.message === 'etcdserver: request is too large');
      assert.equal(await b.get(key), null);
      const r1 = await b.create(key, 'small');
      assert.equal(r1, r0 + 1, 'a refused write must not use a revision');
      await assert.rejects(b.update(key, over, r1), RequestTooLargeError);
      assert.equal((await b.get(key))?.value, 'small');
      // Just under the limit, with the key and the transaction's framing, is stored.
      const under = 'x'.repeat(MAX_REQUEST_BYTES - 3 * Buffer.byteLength(key) - 1024);
      const u = await b.update(key, under, r1);
      assert.equal((await b.get(key))?.value.length, under.length);
      assert.equal(u.modRevision, r1 + 1);
    }));

    test('close ends open watches with an error and refuses further calls', T, async () => {
      const { backend: b, cleanup } = await open();
      try {
        const { rec } = watchInto(b, P, 0);
        await b.create(P + 'ns/a', '1');
        await rec.until(1);
        await b.close();
        await b.close();
        assert.ok((await rec.error()) instanceof BackendClosedError);
        await assert.rejects(b.create(P + 'ns/b', '1'), BackendClosedError);
        await assert.rejects(b.get(P + 'ns/a'), BackendClosedError);
      } finally {
        await cleanup();
      }
    });
  });
}
