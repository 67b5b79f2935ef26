// An unpaginated JSON LIST over HTTPS is read in batches at one revision and streamed: every item
// in key order, one resourceVersion, the same body gzip'd or not, and writes made while the body is
// still being sent (the client holds it back) do not show in it, as they would not in one read.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import type { KubeObject } from '../../src/api/types.ts';

const count = 1_700;
const name = (i: number) => `cm-${String(i).padStart(5, '0')}`;
let dir: string;
let cp: ControlPlane;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-list-unpaginated-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  const store = cp.registry.store('configmaps');
  // 8 KB each: a batch of items is megabytes, more than the socket buffers hold while the client waits.
  const filler = 'x'.repeat(8 * 1024);
  await Promise.all(
    Array.from({ length: count }, (_, i) => store.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name(i) }, data: { v: String(i), filler } })),
  );
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: cp.port, path, ca: cp.pki.caCertPem, servername: 'localhost', headers: { Authorization: `Bearer ${cp.pki.adminToken}`, ...headers } }, resolve)
      .on('error', reject)
      .end();
  });
}

function body(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (d: Buffer) => chunks.push(d));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

interface List {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string };
  items: KubeObject[];
}

test('an unpaginated list streams every item at one revision, plain and gzip', async () => {
  for (const gzip of [false, true]) {
    const res = await get('/api/v1/namespaces/default/configmaps', gzip ? { 'Accept-Encoding': 'gzip' } : {});
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], undefined, 'streamed, not sized up front');
    assert.equal(res.headers['content-encoding'] === 'gzip', gzip);
    const raw = await body(res);
    const list = JSON.parse((gzip ? gunzipSync(raw) : raw).toString('utf8')) as List;
    assert.equal(list.kind, 'ConfigMapList');
    assert.equal(list.metadata.continue, undefined);
    assert.deepEqual(list.items.map((o) => o.metadata?.name), Array.from({ length: count }, (_, i) => name(i)));
    const rv = Number(list.metadata.resourceVersion);
    assert.ok(list.items.every((o) => Number(o.metadata?.resourceVersion) <= rv && o.apiVersion === undefined));
  }
});

test('writes made while an unpaginated list is being sent do not show in it', async () => {
  const store = cp.registry.store('configmaps');
  const last = name(count - 1);
  const before = await store.get('default', last);
  const res = await get('/api/v1/namespaces/default/configmaps', {});
  assert.equal(res.statusCode, 200);
  // Take the first chunk, hold the rest back, write, then read on.
  const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
  res.pause();
  const rv = Number(/"resourceVersion":"(\d+)"/.exec(first.toString('utf8'))![1]);
  await store.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'zz-late' }, data: { v: 'late' } });
  await store.guaranteedUpdate('default', name(count - 2), (o) => ({ ...o, data: { v: 'changed' } }));
  await store.delete('default', last);
  const rest = body(res);
  res.resume();
  const list = JSON.parse(Buffer.concat([first, await rest]).toString('utf8')) as List;
  assert.equal(list.metadata.resourceVersion, String(rv));
  const names = list.items.map((o) => o.metadata?.name);
  assert.equal(names.length, count);
  assert.ok(!names.includes('zz-late'), 'a key created after the list began is not in it');
  const got = new Map(list.items.map((o) => [o.metadata?.name, o]));
  assert.equal(got.get(last)?.metadata?.resourceVersion, before.metadata?.resourceVersion, 'a key deleted meanwhile is there as it was');
  assert.equal((got.get(name(count - 2)) as { data?: { v?: string } }).data?.v, String(count - 2), 'a key updated meanwhile is there as it was');
  const after = await body(await get('/api/v1/namespaces/default/configmaps', {}));
  const now = JSON.parse(after.toString('utf8')) as List;
  assert.ok(now.items.some((o) => o.metadata?.name === 'zz-late') && !now.items.some((o) => o.metadata?.name === last));
});
