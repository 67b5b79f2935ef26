import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { selfSignedLoopback } from '../client/testing/tls.ts';
import { until } from '../testing/until.ts';
import { PreboundListener } from './prebound.ts';

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
  const { cert, key } = await selfSignedLoopback();
  const listener = await PreboundListener.listen(0, '127.0.0.1');
  t.after(() => listener.close());
  assert.ok(listener.port > 0);
  const early = get(listener.port, cert);
  await until('the early connection waits', () => listener.waiting === 1);
  const server = https.createServer({ cert, key }, (req, res) => res.end(`served ${req.url}`));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  listener.serve(server);
  assert.deepEqual(await early, { status: 200, body: 'served /hello' });
  assert.equal(listener.waiting, 0);
  assert.deepEqual(await get(listener.port, cert), { status: 200, body: 'served /hello' });
  assert.throws(() => listener.serve(server), /already served/);
});

test('closing before a server came closes the waiting connections and frees the port', async () => {
  const { cert } = await selfSignedLoopback();
  const listener = await PreboundListener.listen(0, '127.0.0.1');
  const early = get(listener.port, cert).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code ?? err.message);
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
