// ApiClient with several servers: which failures move a request to the next server, which do not, and
// that the client stays with the server that answered.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import '../util/reflect-shim.ts';
import * as x509 from '@peculiar/x509';
import { ApiClient } from './client.ts';
import { selfSignedLoopback } from './testing/tls.ts';
import { ClientConfigError } from './errors.ts';
import { ConfigMaps } from './resources.ts';
import { fetchPinnedCa } from './bootstrap.ts';
import { createHash, X509Certificate } from 'node:crypto';

const closers: Array<() => void> = [];
after(() => {
  for (const c of closers) c();
});

interface Fake {
  url: string;
  seen: string[];
}

/** A server that answers every request with a ConfigMap named after itself, recording what it saw. */
async function answering(name: string, mod: 'http' | 'https' = 'http', tls?: { cert: string; key: string }): Promise<Fake> {
  const seen: string[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('watch=true')) {
        res.write(JSON.stringify({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name, resourceVersion: '7' } } }) + '\n');
        return;
      }
      res.end(JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name } }));
    });
  };
  const server = mod === 'https' ? https.createServer(tls!, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    server.close();
    server.closeAllConnections();
  });
  return { url: `${mod}://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A loopback port nobody listens on (connections are refused). */
async function refusing(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Accepts connections and reads requests, then resets them without an answer. */
async function resetting(): Promise<Fake> {
  const seen: string[] = [];
  const s = net.createServer((sock) => {
    sock.once('data', (d) => {
      seen.push(d.toString('utf8').split('\r\n')[0]);
      sock.resetAndDestroy();
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => s.close());
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
}

/** Accepts TCP connections and never says anything (a TLS handshake that does not finish). */
async function silent(): Promise<string> {
  const socks: net.Socket[] = [];
  const s = net.createServer((sock) => void socks.push(sock));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const x of socks) x.destroy();
    s.close();
  });
  return `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

test('a refused connection moves any request, writes included, to the next server, which then stays in use', async () => {
  const dead = await refusing();
  const b = await answering('b');
  const c = await answering('c');
  const client = new ApiClient({ server: `${dead},${b.url},${c.url}` });
  closers.push(() => client.close());
  assert.deepEqual(client.servers, [dead, b.url, c.url]);
  const created = await client.create(ConfigMaps, 'default', { metadata: { name: 'x' } });
  assert.equal(created.metadata?.name, 'b');
  assert.equal(client.currentServer, b.url);
  for (let i = 0; i < 3; i++) assert.equal((await client.get<{ metadata: { name: string } }>(ConfigMaps, 'default', 'x')).metadata.name, 'b');
  assert.deepEqual(b.seen.map((s) => s.split(' ')[0]), ['POST', 'GET', 'GET', 'GET']);
  assert.deepEqual(c.seen, []);
});

test('a reset before any answer: GET goes to the next server; POST is not sent again', async () => {
  const r = await resetting();
  const b = await answering('b');
  const reads = new ApiClient({ servers: [r.url, b.url] });
  closers.push(() => reads.close());
  assert.equal((await reads.get<{ metadata: { name: string } }>(ConfigMaps, 'default', 'x')).metadata.name, 'b');
  const writes = new ApiClient({ servers: [r.url, b.url] });
  closers.push(() => writes.close());
  await assert.rejects(writes.create(ConfigMaps, 'default', { metadata: { name: 'x' } }), (e) => (e as NodeJS.ErrnoException).code === 'ECONNRESET');
  assert.deepEqual(b.seen.filter((s) => s.startsWith('POST')), [], 'the write reached one server only');
  assert.equal(r.seen.filter((s) => s.startsWith('POST')).length, 1);
});

test('no connection within the connect timeout: the next server is tried', async () => {
  const pair = await selfSignedLoopback();
  const s = await silent();
  const b = await answering('b', 'https', pair);
  const client = new ApiClient({ servers: [s, b.url], insecureSkipTlsVerify: true, token: 't', connectTimeoutMs: 200 });
  closers.push(() => client.close());
  assert.equal((await client.create<{ metadata: { name: string } }>(ConfigMaps, 'default', { metadata: { name: 'x' } })).metadata.name, 'b');
  assert.equal(client.currentServer, b.url);
});

test('a watch opens on the next server when the current one is gone', async () => {
  const dead = await refusing();
  const b = await answering('b');
  const client = new ApiClient({ servers: [dead, b.url] });
  closers.push(() => client.close());
  const ac = new AbortController();
  const w = await client.watch<{ metadata: { name: string } }>(ConfigMaps, 'default', { resourceVersion: '5', signal: ac.signal });
  for await (const ev of w) {
    assert.equal(ev.type, 'ADDED');
    break;
  }
  ac.abort();
  assert.match(b.seen[0], /watch=true&resourceVersion=5/);
});

test('every server refusing: the last error', async () => {
  const client = new ApiClient({ servers: [await refusing(), await refusing()] });
  closers.push(() => client.close());
  await assert.rejects(client.get(ConfigMaps, 'default', 'x'), (e) => (e as NodeJS.ErrnoException).code === 'ECONNREFUSED');
});

test('server lists: blanks ignored, schemes not mixed', () => {
  assert.deepEqual(new ApiClient({ server: 'https://a:6443, https://b:6443,' }).servers, ['https://a:6443', 'https://b:6443']);
  assert.throws(() => new ApiClient({ server: 'https://a:6443,http://b:8080' }), ClientConfigError);
  assert.throws(() => new ApiClient({ server: ' , ' }), ClientConfigError);
});

test('fetchPinnedCa: the servers are tried in turn', async () => {
  const pair = await selfSignedLoopback();
  const b = await answering('b', 'https', pair);
  const hash = createHash('sha256').update(new X509Certificate(pair.cert).raw).digest('hex');
  const dead = (await refusing()).replace('http:', 'https:');
  const pem = await fetchPinnedCa(`${dead},${b.url}`, hash);
  assert.equal(new x509.X509Certificate(pem).serialNumber, '01');
});
