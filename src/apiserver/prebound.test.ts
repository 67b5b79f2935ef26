import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../testing/until.ts';
import { ensurePki } from './auth/pki.ts';
import { PreboundListener } from './prebound.ts';

/** The cluster's own serving certificate for 127.0.0.1, and the CA to trust it by. */
async function loopbackServing(): Promise<{ cert: string; key: string; ca: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-prebound-'));
  try {
    const pki = await ensurePki(dir, { hosts: ['127.0.0.1'] });
    return { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caCertPem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function get(port: number, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/hello', ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

test('connections made before the HTTPS server exists wait, then are served by it; later ones go straight to it', async (t) => {
  const { cert, key, ca } = await loopbackServing();
  const listener = await PreboundListener.listen(0, '127.0.0.1');
  t.after(() => listener.close());
  assert.ok(listener.port > 0);
  const early = get(listener.port, ca);
  await until('the early connection waits', () => listener.waiting === 1);
  const server = https.createServer({ cert, key }, (req, res) => res.end(`served ${req.url}`));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  listener.serve(server);
  assert.deepEqual(await early, { status: 200, body: 'served /hello' });
  assert.equal(listener.waiting, 0);
  assert.deepEqual(await get(listener.port, ca), { status: 200, body: 'served /hello' });
  assert.throws(() => listener.serve(server), /already served/);
});

test('closing before a server came closes the waiting connections and frees the port', async () => {
  const { ca } = await loopbackServing();
  const listener = await PreboundListener.listen(0, '127.0.0.1');
  const early = get(listener.port, ca).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code ?? err.message);
  await until('the early connection waits', () => listener.waiting === 1);
  await listener.close();
  assert.match(await early, /ECONNRESET|socket hang up/);
  // The port is free again: binding it succeeds.
  const again = net.createServer();
  await new Promise<void>((resolve, reject) => again.once('error', reject).listen(listener.port, '127.0.0.1', resolve));
  await new Promise((r) => again.close(r));
});

test('a port already taken is refused as listen refuses it', async () => {
  const first = await PreboundListener.listen(0, '127.0.0.1');
  try {
    await assert.rejects(PreboundListener.listen(first.port, '127.0.0.1'), { code: 'EADDRINUSE' });
  } finally {
    await first.close();
  }
});

test('closing ends the connections it handed over, kept alive or not, and does not wait for their keep-alive timeout', async () => {
  const { cert, key, ca } = await loopbackServing();
  const listener = await PreboundListener.listen(0, '127.0.0.1');
  const server = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
  // As long as the API server's (65 s): the idle connection would outlive this test.
  server.keepAliveTimeout = 120_000;
  listener.serve(server);
  const agent = new https.Agent({ keepAlive: true, ca });
  let clientClosed = false;
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: listener.port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('socket', (s) => s.once('close', () => (clientClosed = true)));
    req.on('error', reject);
  });
  assert.equal(status, 200);
  // What the control plane's close does: the HTTPS server ends its connections, the listener closes.
  server.closeAllConnections();
  server.close();
  let closed = false;
  void listener.close().then(() => (closed = true));
  await until('the listener closed, its handed-over connection with it', () => closed, { timeoutMs: 10_000 });
  await until('the client saw its kept-alive connection end', () => clientClosed, { timeoutMs: 10_000 });
  agent.destroy();
});
