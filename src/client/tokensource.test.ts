// ApiClient with a TokenSource and withTokenSource(): each request carries the source's current token,
// a derived client shares its parent's connections, and a 401 is told to the source.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiClient } from './client.ts';
import { selfSignedLoopback } from './testing/tls.ts';
import { ClientConfigError } from './errors.ts';
import { ConfigMaps } from './resources.ts';
import type { TokenSource } from './tokensource.ts';

const tls = await selfSignedLoopback();
/** What the server saw: the bearer token and the client's port (one port = one connection). */
const seen: Array<{ token: string; port: number }> = [];
const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  seen.push({ token, port: req.socket.remotePort ?? 0 });
  req.resume();
  req.on('end', () => {
    const code = token === 'revoked' ? 401 : 200;
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(code === 200 ? { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' } } : { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401, message: 'Unauthorized' }));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.closeAllConnections();
  server.close();
});

class Rotating implements TokenSource {
  current = 'controller-1';
  invalidated: string[] = [];
  token(): Promise<string> {
    return Promise.resolve(this.current);
  }
  invalidate(token: string): void {
    this.invalidated.push(token);
  }
}

test("a derived client sends its source's current token over its parent's connection; a 401 is told to the source", async () => {
  seen.length = 0;
  const root = new ApiClient({ server: url, caPem: tls.cert, token: 'root', maxSockets: 1 });
  const source = new Rotating();
  const controller = root.withTokenSource(source, 'controller');
  await root.get(ConfigMaps, 'default', 'x');
  await controller.get(ConfigMaps, 'default', 'x');
  source.current = 'controller-2';
  await controller.get(ConfigMaps, 'default', 'x');
  await root.get(ConfigMaps, 'default', 'x');
  assert.deepEqual(seen.map((s) => s.token), ['root', 'controller-1', 'controller-2', 'root']);
  assert.equal(new Set(seen.map((s) => s.port)).size, 1, 'one kept-alive connection for both identities');
  source.current = 'revoked';
  await assert.rejects(controller.get(ConfigMaps, 'default', 'x'), (err: Error & { code?: number }) => err.code === 401);
  assert.deepEqual(source.invalidated, ['revoked']);
  controller.close();
  await root.get(ConfigMaps, 'default', 'x');
  assert.equal(new Set(seen.map((s) => s.port)).size, 1, "closing the derived client leaves the parent's connection");
  root.close();
});

test('a client with a certificate does not lend its connections; a token source needs https', () => {
  const withCert = new ApiClient({ server: url, caPem: tls.cert, certPem: tls.cert, keyPem: tls.key });
  assert.throws(() => withCert.withTokenSource(new Rotating()), ClientConfigError);
  withCert.close();
  assert.throws(() => new ApiClient({ server: 'http://127.0.0.1:1', tokenSource: new Rotating() }), ClientConfigError);
});
