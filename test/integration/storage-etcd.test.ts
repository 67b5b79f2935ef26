// The etcd backend against a real etcd (Debian's etcd-server), started for this file on loopback
// ports with a tmpfs data dir: the shared conformance suite (each backend under a fresh key prefix,
// so it sees an empty key space), API servers sharing one etcd, watches surviving an etcd restart,
// and the control plane serving the API (and kubectl) from etcd.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runBackendConformance, WatchRecorder } from '../../src/storage/testing/conformance.ts';
import { openEtcdBackend, type EtcdBackend, type EtcdBackendOptions } from '../../src/storage/etcd/etcd-backend.ts';
import { etcdBinary, startTestEtcd, type TestEtcd } from '../../src/storage/etcd/testing-etcd.ts';
import { CompactedError, KeyExistsError, RequestTooLargeError, RevisionMismatchError } from '../../src/storage/errors.ts';
import { openBackend } from '../../src/storage/registry.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { Etcd3 } from 'etcd3';
import { ApiClient } from '../../src/client/client.ts';
import { Pods } from '../../src/client/resources.ts';
import type { Pod } from '../../src/api/types.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (Debian etcd-server)';
let etcd: TestEtcd;
const opened: EtcdBackend[] = [];
const run = randomBytes(3).toString('hex');
let seq = 0;
const freshPrefix = () => `/tk-test-${run}-${++seq}`;

before(async () => {
  if (!skip) etcd = await startTestEtcd();
});
after(async () => {
  for (const b of opened) await b.close();
  await etcd?.stop();
});

async function open(prefix = freshPrefix(), opts: Omit<EtcdBackendOptions, 'prefix'> = {}): Promise<EtcdBackend> {
  const b = await openEtcdBackend([etcd.endpoint], { ...opts, prefix });
  opened.push(b);
  return b;
}

if (!skip) {
  runBackendConformance('etcd', async () => {
    const backend = await open();
    return { backend, cleanup: () => backend.close() };
  });
  // Unlimited lists read in chunks of two, so every chunk boundary is crossed.
  runBackendConformance('etcd, tiny list chunks', async () => {
    const backend = await open(freshPrefix(), { listChunk: 2 });
    return { backend, cleanup: () => backend.close() };
  });
}

describe('etcd backend', { skip }, () => {
  test('two API servers on one etcd see each other\'s writes, conflicts, watches and compaction', async () => {
    const prefix = freshPrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const key = '/registry/pods/default/web';
    const r1 = await a.create(key, 'v1');
    assert.deepEqual(await b.get(key), { key, value: 'v1', createRevision: r1, modRevision: r1 });
    await assert.rejects(b.create(key, 'again'), KeyExistsError);

    const rec = new WatchRecorder();
    const w = b.watch('/registry/pods/', 0, rec);
    const u = await a.update(key, 'v2', r1);
    await rec.until(1);
    assert.deepEqual(rec.events[0], { type: 'put', kv: u, prevKv: { key, value: 'v1', createRevision: r1, modRevision: r1 }, created: false });
    // B's stale write loses, as a second API server's would.
    await assert.rejects(b.update(key, 'v3', r1), (e) => e instanceof RevisionMismatchError && e.actual === u.modRevision);
    w.close();

    // A compacts; B learns the floor from etcd, and its reads and watches below it fail.
    const d = await a.delete(key);
    await a.compact(d.modRevision);
    assert.equal(await b.compactedRevision(), d.modRevision);
    await assert.rejects(b.get(key, r1), (e) => e instanceof CompactedError && e.compacted === d.modRevision);
    const below = new WatchRecorder();
    b.watch('/registry/pods/', r1, below);
    assert.ok((await below.error()) instanceof CompactedError);
  });

  test('clusters under different prefixes do not see each other', async () => {
    const [a, b] = [await open(), await open()];
    const rec = new WatchRecorder();
    a.watch('/registry/', 0, rec);
    await b.create('/registry/pods/ns/x', 'from b');
    const ra = await a.create('/registry/pods/ns/y', 'from a');
    await rec.until(1);
    assert.deepEqual(rec.events.map((e) => e.kv.key), ['/registry/pods/ns/y']);
    assert.equal(rec.events[0].kv.modRevision, ra);
    assert.deepEqual((await a.list('/registry/')).items.map((i) => i.key), ['/registry/pods/ns/y']);
    assert.equal(await b.count('/'), 1);
  });

  test('watches survive an etcd restart without a gap or a repeat, and calls work at once', async () => {
    const b = await open();
    const r0 = await b.create('/registry/pods/ns/a', '0');
    // Several streams break at once: etcd3's default circuit breaker would then refuse calls for 5 s.
    const recs = Array.from({ length: 4 }, () => new WatchRecorder());
    for (const rec of recs) b.watch('/registry/pods/', r0, rec);
    const r1 = await b.create('/registry/pods/ns/b', '1');
    await Promise.all(recs.map((rec) => rec.until(1)));
    await etcd.restart();
    const r2 = await b.create('/registry/pods/ns/c', '2');
    const r3 = await b.create('/registry/pods/ns/d', '3');
    for (const rec of recs) {
      await rec.until(3);
      assert.deepEqual(rec.revisions(), [r1, r2, r3]);
      assert.equal(rec.errors.length, 0);
    }
  });

  test('one foreign transaction writing two keys reaches a watcher as two events of one revision', async () => {
    const prefix = freshPrefix();
    const b = await open(prefix);
    const rec = new WatchRecorder();
    b.watch('/registry/', 0, rec);
    const raw = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      const key = (k: string) => Buffer.from(prefix + k);
      const res = await raw.kv.txn({
        success: [
          { request_put: { key: key('/registry/a'), value: Buffer.from('1') } },
          { request_put: { key: key('/registry/b'), value: Buffer.from('2') } },
        ],
      });
      await rec.until(2);
      const rev = Number(res.header.revision);
      assert.deepEqual(rec.events.map((e) => [e.kv.key, e.kv.modRevision, e.created]), [
        ['/registry/a', rev, true],
        ['/registry/b', rev, true],
      ]);
    } finally {
      raw.close();
    }
  });

  test('a watch from now on a backend idle since before a compaction starts at the compacted revision', async () => {
    const prefix = freshPrefix();
    const [idle, busy] = [await open(prefix), await open(prefix)];
    for (let i = 0; i < 3; i++) await busy.create(`/registry/pods/ns/p${i}`, 'x');
    await busy.compact(await busy.currentRevision());
    const rec = new WatchRecorder();
    idle.watch('/registry/pods/', 0, rec);
    const r = await busy.create('/registry/pods/ns/after', 'x');
    await rec.until(1);
    assert.deepEqual(rec.revisions(), [r]);
    assert.equal(rec.errors.length, 0);
  });

  test("etcd's own refusal of a request over its --max-request-bytes is the backend's RequestTooLargeError", async () => {
    // The backend refuses what is over etcd's default limit before sending it; a member started with a
    // lower limit refuses smaller writes itself, and they must read the same.
    const small = await startTestEtcd({ args: ['--max-request-bytes', '65536'] });
    const b = await openEtcdBackend([small.endpoint], { prefix: freshPrefix() });
    try {
      const key = '/registry/configmaps/ns/big';
      const r = await b.create(key, 'x');
      await assert.rejects(b.update(key, 'y'.repeat(100_000), r), (e) => e instanceof RequestTooLargeError && e.message === 'etcdserver: request is too large');
      await assert.rejects(b.create(key + '2', 'y'.repeat(100_000)), RequestTooLargeError);
      // Over the limit by more than gRPC's 512 KiB allowance: gRPC refuses it before etcd does.
      await assert.rejects(b.create(key + '3', 'y'.repeat(1024 * 1024)), RequestTooLargeError);
      assert.equal((await b.get(key))?.value, 'x');
    } finally {
      await b.close();
      await small.stop();
    }
  });

  test('the store spec "etcd:URL/prefix" opens this backend', async () => {
    const prefix = freshPrefix();
    const b = await openBackend(`etcd:${etcd.endpoint}${prefix}`);
    try {
      assert.equal(b.name, 'etcd');
      const rev = await b.create('/registry/namespaces/x', '{}');
      const direct = await open(prefix);
      assert.equal((await direct.get('/registry/namespaces/x'))?.modRevision, rev);
    } finally {
      await b.close();
    }
  });

  test('two control planes serve one cluster from etcd (API and kubectl)', async () => {
    const store = `etcd:${etcd.endpoint}${freshPrefix()}`;
    const dirs = [mkdtempSync(join(tmpdir(), 'tk-cp-etcd-')), mkdtempSync(join(tmpdir(), 'tk-cp-etcd-'))];
    const planes: ControlPlane[] = [];
    const clients: ApiClient[] = [];
    try {
      for (const dataDir of dirs) planes.push(await startControlPlane({ dataDir, listen: '127.0.0.1:0', store }));
      for (const cp of planes) clients.push(ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'storage-etcd-test' }));
      const [ca, cb] = clients;
      // A watch on one API server sees a pod created through the other.
      const ac = new AbortController();
      const from = (await cb.list<Pod>(Pods, 'default')).metadata.resourceVersion;
      const watch = await cb.watch<Pod>(Pods, 'default', { resourceVersion: from, signal: ac.signal });
      const created = await ca.create<Pod>(Pods, 'default', { metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      const seen: string[] = [];
      for await (const ev of watch) {
        seen.push(`${ev.type} ${ev.object.metadata?.name} ${ev.object.metadata?.resourceVersion}`);
        break;
      }
      ac.abort();
      assert.deepEqual(seen, [`ADDED web ${created.metadata?.resourceVersion}`]);
      const listed = await cb.list<Pod>(Pods, 'default');
      assert.deepEqual(listed.items.map((p) => p.metadata?.uid), [created.metadata?.uid]);
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          '/usr/bin/kubectl',
          ['--kubeconfig', planes[1].kubeconfigPath, '--cache-dir', join(dirs[1], 'kubectl-cache'), 'get', 'pods', '-o', 'name'],
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        );
      });
      assert.equal(out.trim(), 'pod/web');
    } finally {
      for (const c of clients) c.close();
      for (const cp of planes) await cp.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
