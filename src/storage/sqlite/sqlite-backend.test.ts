import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';
import { runBackendConformance, WatchRecorder } from '../testing/conformance.ts';
import { openSqliteBackend, type SqliteBackendOptions } from './sqlite-backend.ts';
import { StorageError } from '../errors.ts';

const root = mkdtempSync(join(tmpdir(), 'tk-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const freshPath = () => join(root, `db-${++seq}.sqlite`);

function opener(opts?: SqliteBackendOptions) {
  return async () => {
    const backend = openSqliteBackend(freshPath(), opts);
    return { backend, cleanup: () => backend.close() };
  };
}

runBackendConformance('sqlite', opener());
// Tiny chunks make every watch replay and every compaction take many steps, so the hand-over
// between steps (and between replay and live delivery) is exercised too.
runBackendConformance('sqlite, tiny replay and compaction chunks', opener({ replayChunk: 2, compactChunk: 2 }));

describe('sqlite backend', () => {
  test('a write is acknowledged and published only once the WAL is fsynced, off the event loop; writes meanwhile share the next fsync', async () => {
    const held: Array<(err: Error | null) => void> = [];
    const fsyncsWaiting = () => held.length;
    const b = openSqliteBackend(freshPath(), { fdatasync: (_fd, done) => held.push(done) });
    try {
      const rec = new WatchRecorder();
      b.watch('/registry/cm/', 0, rec);
      let acked = false;
      const first = b.create('/registry/cm/a', '1').then((rev) => ((acked = true), rev));
      while (fsyncsWaiting() === 0) await new Promise((r) => setImmediate(r));
      // Committed, not yet durable: not acknowledged and not published; the thread is free meanwhile.
      await new Promise((r) => setImmediate(r));
      assert.equal(acked, false);
      assert.equal(rec.events.length, 0);
      // Writes during the fsync commit and wait for the next one, together.
      const more = [b.create('/registry/cm/b', '2'), b.create('/registry/cm/c', '3')];
      await new Promise((r) => setImmediate(r));
      assert.equal(held.length, 1, 'one fsync at a time');
      held.shift()!(null);
      const rev = await first;
      assert.equal(rec.events.length, 1);
      while (fsyncsWaiting() === 0) await new Promise((r) => setImmediate(r));
      assert.equal(rec.events.length, 1, 'the later writes wait for their own fsync');
      held.shift()!(null);
      const revs = await Promise.all(more);
      assert.deepEqual(revs, [rev + 1, rev + 2]);
      assert.deepEqual(rec.events.map((e) => e.kv.key), ['/registry/cm/a', '/registry/cm/b', '/registry/cm/c']);
      assert.equal(held.length, 0, 'no fsync without a new commit');
    } finally {
      const closing = b.close();
      for (const done of held.splice(0)) done(null);
      await closing;
    }
  });

  test('a failed fsync fails its writes and every later one: durability can no longer be promised', async () => {
    const b = openSqliteBackend(freshPath(), { fdatasync: (_fd, done) => done(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })) });
    try {
      await assert.rejects(b.create('/registry/cm/a', '1'), (err: unknown) => err instanceof StorageError && err.code === 'ERR_STORAGE_IO' && /fsync of .*-wal failed: EIO/.test(err.message));
      await assert.rejects(b.create('/registry/cm/b', '1'), (err: unknown) => err instanceof StorageError && err.code === 'ERR_STORAGE_IO');
    } finally {
      await b.close();
    }
  });

  test('later pages at an old revision are the same whichever way the writes since are found (few or many)', async () => {
    const b = openSqliteBackend(freshPath());
    try {
      const key = (i: number) => `/registry/pods/ns/p${String(i).padStart(3, '0')}`;
      const revs: number[] = [];
      for (let i = 0; i < 40; i++) revs.push(await b.create(key(i), `v${i}`));
      const first = await b.list('/registry/pods/ns/', { limit: 10 });
      const at = first.revision;
      const expected = (await b.list('/registry/pods/ns/', { revision: at })).items.slice(10);
      const pageAfter = async () => {
        const r = await b.list('/registry/pods/ns/', { revision: at, startAfter: first.items[9].key });
        return { items: r.items, remaining: await b.list('/registry/pods/ns/', { revision: at, startAfter: first.items[9].key, limit: 5 }).then((x) => x.remaining) };
      };
      // Changes after the first page: updates, deletions and creations inside the range.
      await b.update(key(12), 'changed', revs[12]);
      await b.delete(key(20));
      await b.create('/registry/pods/ns/p015x', 'new');
      const few = await pageAfter();
      assert.deepEqual(few.items, expected);
      assert.equal(few.remaining, 25);
      // More than 20,000 writes since: the (name, id) index is used instead of the revision scan.
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 20_050; i++) writes.push(b.create(`/registry/leases/ns/l${i}`, 'x'));
      await Promise.all(writes);
      const many = await pageAfter();
      assert.deepEqual(many.items, expected);
      assert.equal(many.remaining, 25);
    } finally {
      await b.close();
    }
  });

  test('reopening keeps data, revision and compaction floor', async () => {
    const path = freshPath();
    const a = openSqliteBackend(path);
    const r1 = await a.create('/registry/pods/ns/a', 'a1');
    await a.update('/registry/pods/ns/a', 'a2', r1);
    await a.create('/registry/pods/ns/b', 'b');
    const d = await a.delete('/registry/pods/ns/b');
    await a.compact(d.modRevision);
    await a.close();

    const b = openSqliteBackend(path);
    try {
      assert.equal(await b.currentRevision(), d.modRevision, 'a compacted-away tombstone must not lower the revision');
      assert.equal(await b.compactedRevision(), d.modRevision);
      assert.deepEqual((await b.list('/registry/pods/')).items.map((i) => [i.key, i.value]), [['/registry/pods/ns/a', 'a2']]);
      assert.equal(await b.create('/registry/pods/ns/c', 'c'), d.modRevision + 1);
    } finally {
      await b.close();
    }
  });

  test('only one process (or connection) may own the file', async () => {
    const path = freshPath();
    const a = openSqliteBackend(path);
    await a.create('/k', 'v');
    assert.throws(() => openSqliteBackend(path), (e) => e instanceof StorageError && e.code === 'ERR_STORAGE_LOCKED');
    await a.close();
    const b = openSqliteBackend(path);
    assert.equal((await b.get('/k'))?.value, 'v');
    await b.close();
  });

  test('compaction deletes superseded rows and tombstones, keeps what is still readable', async () => {
    const b = openSqliteBackend(freshPath(), { compactChunk: 3 });
    try {
      let rev = await b.create('/registry/pods/ns/a', '0');
      for (let i = 1; i <= 9; i++) rev = (await b.update('/registry/pods/ns/a', String(i), rev)).modRevision;
      await b.create('/registry/pods/ns/gone', 'x');
      await b.delete('/registry/pods/ns/gone');
      const keep = await b.create('/registry/pods/ns/z', 'z');
      assert.equal(b.stats().logRows, 13);
      await b.compact(keep);
      assert.deepEqual(b.stats(), {
        revision: keep,
        compactedRevision: keep,
        logRows: 2,
        liveKeys: 2,
        watchers: 0,
        pendingWrites: 0,
      });
    } finally {
      await b.close();
    }
  });

  test('a compaction interrupted by a crash is finished on open', async () => {
    const path = freshPath();
    const a = openSqliteBackend(path);
    let rev = await a.create('/k', '0');
    for (let i = 1; i <= 5; i++) rev = (await a.update('/k', String(i), rev)).modRevision;
    await a.close();
    // As if the process died right after recording the new floor, before cleaning any row.
    const raw = new DatabaseSync(path);
    raw.prepare("INSERT INTO meta (key, value) VALUES ('compact_rev', ?)").run(rev);
    raw.close();
    const b = openSqliteBackend(path);
    try {
      assert.equal(b.stats().logRows, 1);
      assert.equal(await b.compactedRevision(), rev);
      assert.equal((await b.get('/k'))?.value, '5');
    } finally {
      await b.close();
    }
  });

  test('writes queued in one turn commit together and are acknowledged in order', async () => {
    const b = openSqliteBackend(':memory:');
    try {
      const revs = await Promise.all(Array.from({ length: 50 }, (_, i) => b.create(`/k${i}`, 'v')));
      assert.deepEqual(revs, Array.from({ length: 50 }, (_, i) => i + 1));
    } finally {
      await b.close();
    }
  });

  test('a watcher whose callback throws is ended alone; the write and other watchers go on', async () => {
    const b = openSqliteBackend(':memory:');
    try {
      const errors: Error[] = [];
      const bad = b.watch('/p/', 0, {
        onEvent: () => {
          throw new Error('boom');
        },
        onError: (e) => errors.push(e),
      });
      const good = new WatchRecorder();
      b.watch('/p/', 0, good);
      assert.equal(await b.create('/p/a', '1'), 1);
      await b.create('/p/b', '1');
      await good.until(2);
      assert.deepEqual(errors.map((e) => e.message), ['boom']);
      assert.equal(b.stats().watchers, 1);
      bad.close();
    } finally {
      await b.close();
    }
  });

  test('writes accepted before close are committed', async () => {
    const path = freshPath();
    const a = openSqliteBackend(path);
    const pending = a.create('/k', 'v');
    await a.close();
    assert.equal(await pending, 1);
    const b = openSqliteBackend(path);
    assert.equal((await b.get('/k'))?.value, 'v');
    await b.close();
  });

  test('kill -9 loses no acknowledged write', { timeout: 60_000 }, async () => {
    const path = freshPath();
    const script = fileURLToPath(new URL('../testing/durability-writer.ts', import.meta.url));
    // process.execPath is the Node 24 running this test (node_modules/.bin/node), wherever the repo is.
    const child = spawn(process.execPath, [script, path, '1000000', '8'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const acked = new Map<number, number>();
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) {
      const m = /^ack (\d+) (\d+)$/.exec(line);
      assert.ok(m, `unexpected output: ${line}`);
      acked.set(Number(m[1]), Number(m[2]));
      if (acked.size === 400) child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');
    assert.ok(acked.size >= 400);

    const b = openSqliteBackend(path);
    try {
      const maxAcked = Math.max(...acked.values());
      assert.ok((await b.currentRevision()) >= maxAcked);
      for (const [i, rev] of acked) {
        const kv = await b.get(`/registry/pods/durability/k${i}`);
        assert.equal(kv?.modRevision, rev, `acknowledged key k${i} (revision ${rev}) lost`);
      }
      // Every committed revision is a key: nothing half-written.
      assert.equal(await b.count('/registry/pods/durability/'), await b.currentRevision());
    } finally {
      await b.close();
    }
  });
});
