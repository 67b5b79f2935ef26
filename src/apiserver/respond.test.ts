// writeJSONList: small lists carry a Content-Length; large ones are streamed (chunked), gzip'd when
// accepted; both parse to the same list. Lists given in batches are streamed whatever their size,
// and a batch that fails after the head was sent surfaces to the caller.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { writeJSON, writeJSONList } from './respond.ts';
import { decodeProtobufObject } from './protobuf/envelope.ts';

function items(n: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ metadata: { name: `o${i}`, resourceVersion: String(i + 1) }, data: { v: 'x'.repeat(200) } }));
}

test('writeJSONList: small and streamed bodies, plain and gzip', async () => {
  let body: string[] = [];
  const server = createServer((req, res) => {
    void writeJSONList(req, res, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' } }, body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const get = (method: string, headers: Record<string, string>) =>
    new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, method, path: '/', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
  try {
    const cases = [
      { name: 'empty', n: 0, gzip: false, streamed: false },
      { name: 'small', n: 10, gzip: false, streamed: false },
      { name: 'small, gzip accepted', n: 100, gzip: true, streamed: false },
      { name: 'large', n: 20_000, gzip: false, streamed: true },
      { name: 'large, gzip', n: 20_000, gzip: true, streamed: true },
    ];
    for (const c of cases) {
      body = items(c.n);
      const r = await get('GET', c.gzip ? { 'accept-encoding': 'gzip' } : {});
      assert.equal(r.headers['content-type'], 'application/json', c.name);
      assert.equal(r.headers['content-length'] === undefined, c.streamed, c.name);
      assert.equal(r.headers['content-encoding'] === 'gzip', c.gzip, c.name);
      const text = (c.gzip ? gunzipSync(r.body) : r.body).toString('utf8');
      assert.deepEqual(JSON.parse(text), { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: body.map((t) => JSON.parse(t) as unknown) }, c.name);
      const head = await get('HEAD', {});
      assert.equal(head.body.length, 0, c.name);
    }
  } finally {
    server.close();
  }
});

test('writeJSONList: batches after the first are streamed in order; a failing batch reaches the caller', async () => {
  const all = items(1_200);
  let failAfter = Infinity;
  let caught: unknown;
  async function* rest(): AsyncGenerator<string[]> {
    for (let i = 2; i < all.length; i += 500) {
      if (i >= failAfter) throw new Error('store closed');
      yield all.slice(i, i + 500);
    }
  }
  const server = createServer((req, res) => {
    writeJSONList(req, res, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' } }, all.slice(0, 2), rest()).catch((err: unknown) => {
      caught = err;
      res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const get = () =>
    new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      }).on('error', reject).end();
    });
  try {
    const ok = await get();
    assert.equal(ok.headers['content-length'], undefined);
    assert.deepEqual(JSON.parse(ok.body.toString('utf8')), { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: all.map((t) => JSON.parse(t) as unknown) });
    failAfter = 600;
    await assert.rejects(get(), /aborted|socket hang up|ECONNRESET/);
    assert.match(String(caught), /store closed/);
  } finally {
    server.close();
  }
});

test('writeJSON and writeJSONList answer protobuf when the client prefers it and the kind has a protobuf form', async () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd' }, spec: { containers: [{ name: 'c', image: 'i', resources: {} }] }, status: {} };
  const discovery = { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1', resources: [] };
  const all = items(700);
  async function* rest(): AsyncGenerator<string[]> {
    yield all.slice(500);
  }
  const server = createServer((req, res) => {
    if (req.url === '/pod') writeJSON(req, res, 200, pod);
    else if (req.url === '/discovery') writeJSON(req, res, 200, discovery);
    else void writeJSONList(req, res, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' } }, all.slice(0, 500), rest());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const get = (path: string, accept: string) =>
    new Promise<{ type: string; body: Buffer }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, headers: { accept } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
  const protobuf = 'application/vnd.kubernetes.protobuf';
  const cases: [string, string, string][] = [
    ['/pod', `${protobuf}, */*`, protobuf],
    ['/pod', `${protobuf},application/json`, protobuf],
    ['/pod', `application/json, ${protobuf}`, 'application/json'],
    ['/pod', `${protobuf};q=0.5, application/json`, 'application/json'],
    ['/pod', `${protobuf};as=Table;v=v1;g=meta.k8s.io, application/json`, 'application/json'],
    ['/pod', '', 'application/json'],
    ['/discovery', `${protobuf}, */*`, 'application/json'],
    ['/list', `${protobuf}, */*`, protobuf],
    ['/list', 'application/json', 'application/json'],
  ];
  try {
    for (const [path, accept, want] of cases) {
      const r = await get(path, accept);
      assert.equal(r.type, want, `${path} ${accept}`);
      const got = want === protobuf ? (decodeProtobufObject(r.body) as { object: unknown }).object : (JSON.parse(r.body.toString('utf8')) as unknown);
      const expected = path === '/pod' ? pod : path === '/discovery' ? discovery : { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: all.map((t) => JSON.parse(t) as unknown) };
      assert.deepEqual(got, expected, `${path} ${accept}`);
    }
  } finally {
    server.close();
  }
});
