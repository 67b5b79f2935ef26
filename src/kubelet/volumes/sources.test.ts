// ApiConfigSource against a small HTTP server: claims and volumes read (and cached), and the
// TokenRequest answers told apart (served, a missing service account, a server without the API).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../client/client.ts';
import { FakeClock } from '../../util/clock.ts';
import { ApiConfigSource } from './sources.ts';

let server: http.Server;
let base: string;
const seen: { method: string; path: string; body: unknown }[] = [];

function reply(res: http.ServerResponse, code: number, body: object): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const notFound = (message: string, details: object) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message, details });

const routes: Record<string, (res: http.ServerResponse, body: unknown) => void> = {
  'GET /api/v1/namespaces/ns/persistentvolumeclaims/data': (res) => reply(res, 200, { kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns' }, status: { phase: 'Bound' } }),
  'GET /api/v1/namespaces/ns/persistentvolumeclaims/none': (res) => reply(res, 404, notFound('persistentvolumeclaims "none" not found', { name: 'none', kind: 'persistentvolumeclaims' })),
  'GET /api/v1/persistentvolumes/pv-1': (res) => reply(res, 200, { kind: 'PersistentVolume', metadata: { name: 'pv-1' } }),
  'POST /api/v1/namespaces/ns/serviceaccounts/app/token': (res, body) =>
    reply(res, 201, { ...(body as object), status: { token: 'jwt', expirationTimestamp: '2026-01-01T01:00:00Z' } }),
  'POST /api/v1/namespaces/ns/serviceaccounts/ghost/token': (res) => reply(res, 404, notFound('serviceaccounts "ghost" not found', { name: 'ghost', kind: 'serviceaccounts' })),
  // What an API server without the subresource answers (tinykube's pageNotFound, kube's 404).
  'POST /api/v1/namespaces/ns/serviceaccounts/default/token': (res) => reply(res, 404, notFound('the server could not find the requested resource', {})),
};

before(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body: unknown = text ? JSON.parse(text) : undefined;
    const path = new URL(req.url!, 'http://x').pathname;
    seen.push({ method: req.method!, path, body });
    const route = routes[`${req.method} ${path}`];
    if (route) return route(res, body);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('404 page not found\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('ApiConfigSource', () => {
  it('reads claims and volumes, a missing one as undefined, and caches them for ttlMs', async (t) => {
    const client = new ApiClient({ server: base });
    t.after(() => client.close());
    const clock = new FakeClock();
    const src = new ApiConfigSource(client, clock, 2000);
    assert.equal((await src.getPersistentVolumeClaim('ns', 'data'))?.status?.phase, 'Bound');
    assert.equal(await src.getPersistentVolumeClaim('ns', 'none'), undefined);
    assert.equal((await src.getPersistentVolume('pv-1'))?.metadata?.name, 'pv-1');
    const gets = () => seen.filter((s) => s.path === '/api/v1/namespaces/ns/persistentvolumeclaims/data').length;
    await src.getPersistentVolumeClaim('ns', 'data');
    assert.equal(gets(), 1, 'cached');
    clock.advance(2000);
    await src.getPersistentVolumeClaim('ns', 'data');
    assert.equal(gets(), 2, 'read again after ttlMs');
  });

  const tokenCases: { sa: string; want: object }[] = [
    { sa: 'app', want: { kind: 'token', token: 'jwt', expirationTimestamp: '2026-01-01T01:00:00Z', expirationSeconds: 3600 } },
    { sa: 'ghost', want: { kind: 'notFound', message: 'serviceaccounts "ghost" not found' } },
    {
      sa: 'default',
      want: { kind: 'unserved', message: 'the API server does not serve TokenRequest (POST serviceaccounts/default/token: the server could not find the requested resource)' },
    },
  ];
  for (const c of tokenCases) {
    it(`tells a TokenRequest answer apart: ${c.sa}`, async (t) => {
      const client = new ApiClient({ server: base });
      t.after(() => client.close());
      const src = new ApiConfigSource(client, new FakeClock());
      const spec = { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' } };
      assert.deepEqual(await src.requestToken('ns', c.sa, spec), c.want);
      const sent = seen.findLast((s) => s.path === `/api/v1/namespaces/ns/serviceaccounts/${c.sa}/token`);
      assert.deepEqual(sent?.body, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });
    });
  }
});
