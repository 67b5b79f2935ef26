import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from './client.ts';
import { ApiError, ClientConfigError, ClientTimeoutError, isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import { Leases, Nodes, Pods } from './resources.ts';

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  accept: string | undefined;
  body: unknown;
  remotePort: number | undefined;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
// Routes answer by path; anything else echoes what was received.
const routes: Record<string, (res: http.ServerResponse) => void> = {
  '/api/v1/namespaces/default/pods/missing': (res) => status(res, 404, 'NotFound', 'pods "missing" not found', { name: 'missing', kind: 'pods' }),
  '/api/v1/namespaces/default/pods/dup': (res) => status(res, 409, 'AlreadyExists', 'pods "dup" already exists'),
  '/api/v1/namespaces/default/pods/stale': (res) => status(res, 409, 'Conflict', 'Operation cannot be fulfilled on pods "stale"'),
  '/api/v1/namespaces/default/pods/text': (res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('404 page not found\n');
  },
  '/api/v1/namespaces/default/pods/slow': () => {},
  // Headers and half a body, then silence.
  '/api/v1/namespaces/default/pods/half': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"kind":"Pod","metadata":');
  },
};

function status(res: http.ServerResponse, code: number, reason: string, message: string, details?: object): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, details, code }));
}

before(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, 'http://x');
    const text = Buffer.concat(chunks).toString();
    seen.push({
      method: req.method!,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
      accept: req.headers.accept,
      body: text ? JSON.parse(text) : undefined,
      remotePort: req.socket.remotePort,
    });
    const route = routes[url.pathname];
    if (route) return route(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ echoed: true, metadata: { name: 'x' } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function last(): Seen {
  return seen[seen.length - 1];
}

test('verbs build Kubernetes paths, methods, queries, bodies and content types', async (t) => {
  const c = new ApiClient({ server: base });
  t.after(() => c.close());
  const pod = { metadata: { name: 'web', namespace: 'default' }, spec: {} };
  const cases: Array<[string, () => Promise<unknown>, Partial<Seen>]> = [
    ['get', () => c.get(Pods, 'default', 'web'), { method: 'GET', path: '/api/v1/namespaces/default/pods/web', query: {}, accept: 'application/json' }],
    ['get subresource', () => c.get(Pods, 'default', 'web', { subresource: 'status' }), { method: 'GET', path: '/api/v1/namespaces/default/pods/web/status' }],
    ['list all namespaces', () => c.list(Pods, undefined, { labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: 500, continue: 'tok', resourceVersion: '0' }),
      { method: 'GET', path: '/api/v1/pods', query: { labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: '500', continue: 'tok', resourceVersion: '0' } }],
    ['list cluster-scoped', () => c.list(Nodes), { path: '/api/v1/nodes', query: {} }],
    ['list other group', () => c.list(Leases, 'kube-node-lease'), { path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases' }],
    ['create', () => c.create(Pods, 'default', pod, { fieldManager: 'tinykube', fieldValidation: 'Strict' }),
      { method: 'POST', path: '/api/v1/namespaces/default/pods', query: { fieldManager: 'tinykube', fieldValidation: 'Strict' }, contentType: 'application/json', body: pod }],
    ['update', () => c.update(Pods, 'default', pod, { dryRun: true }), { method: 'PUT', path: '/api/v1/namespaces/default/pods/web', query: { dryRun: 'All' }, body: pod }],
    ['updateStatus', () => c.updateStatus(Pods, 'default', pod), { method: 'PUT', path: '/api/v1/namespaces/default/pods/web/status', body: pod }],
    ['binding', () => c.createSubresource(Pods, 'default', 'web', 'binding', { target: { kind: 'Node', name: 'n1' } }),
      { method: 'POST', path: '/api/v1/namespaces/default/pods/web/binding', body: { target: { kind: 'Node', name: 'n1' } } }],
    ['strategic patch', () => c.patch(Pods, 'default', 'web', 'strategic', { metadata: { labels: { a: 'b' } } }),
      { method: 'PATCH', contentType: 'application/strategic-merge-patch+json', body: { metadata: { labels: { a: 'b' } } } }],
    ['merge patch of status', () => c.patch(Pods, 'default', 'web', 'merge', { status: {} }, { subresource: 'status' }),
      { path: '/api/v1/namespaces/default/pods/web/status', contentType: 'application/merge-patch+json' }],
    ['json patch', () => c.patch(Pods, 'default', 'web', 'json', [{ op: 'remove', path: '/metadata/labels/a' }]), { contentType: 'application/json-patch+json' }],
    ['apply patch', () => c.patch(Nodes, undefined, 'n1', 'apply', { apiVersion: 'v1', kind: 'Node' }, { fieldManager: 'agent', force: true }),
      { path: '/api/v1/nodes/n1', contentType: 'application/apply-patch+yaml', query: { fieldManager: 'agent', force: 'true' } }],
    ['delete', () => c.delete(Pods, 'default', 'web', { gracePeriodSeconds: 0, preconditions: { uid: 'u1' } }),
      { method: 'DELETE', path: '/api/v1/namespaces/default/pods/web', body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: 'u1' } } }],
    ['deleteCollection', () => c.deleteCollection(Pods, 'default', { labelSelector: 'app=web', propagationPolicy: 'Background' }),
      { method: 'DELETE', path: '/api/v1/namespaces/default/pods', query: { labelSelector: 'app=web' }, body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } }],
  ];
  for (const [name, call, want] of cases) {
    await call();
    const got = last();
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof Seen], v, `${name}: ${k}`);
  }
  // Keep-alive: sequential requests share one connection.
  assert.equal(new Set(seen.slice(-cases.length).map((s) => s.remotePort)).size, 1);
});

test('error answers become ApiError with the Status, synthesised for non-Status bodies', async (t) => {
  const c = new ApiClient({ server: base });
  t.after(() => c.close());
  await assert.rejects(c.get(Pods, 'default', 'missing'), (e: unknown) =>
    e instanceof ApiError && isNotFound(e) && e.reason === 'NotFound' && e.message === 'pods "missing" not found' && e.status.details?.name === 'missing');
  await assert.rejects(c.get(Pods, 'default', 'dup'), isAlreadyExistsErr);
  await assert.rejects(c.get(Pods, 'default', 'stale'), (e: unknown) => isConflict(e));
  await assert.rejects(c.get(Pods, 'default', 'text'), (e: unknown) =>
    e instanceof ApiError && e.code === 404 && e.reason === 'NotFound' && e.message === 'the server could not find the requested resource');
});

function isAlreadyExistsErr(e: unknown): boolean {
  return isAlreadyExists(e) && (e as ApiError).code === 409;
}

test('a silent server hits the request timeout; configuration mistakes are refused early', async (t) => {
  const c = new ApiClient({ server: base, timeoutMs: 50 });
  t.after(() => c.close());
  await assert.rejects(c.get(Pods, 'default', 'slow'), ClientTimeoutError);
  // Silence in the middle of the body ends the request too, with the same error.
  await assert.rejects(c.get(Pods, 'default', 'half'), ClientTimeoutError);
  assert.throws(() => new ApiClient({ server: base, token: 't' }), ClientConfigError);
  assert.throws(() => new ApiClient({ server: 'https://x', certPem: 'c' }), ClientConfigError);
  assert.throws(() => new ApiClient({ server: 'ftp://x' }), ClientConfigError);
  await assert.rejects(c.update(Pods, 'default', { metadata: {} }), ClientConfigError);
});
