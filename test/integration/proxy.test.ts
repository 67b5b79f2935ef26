// pods/proxy and nodes/proxy end to end, in-process and on loopback only: an API server whose connect
// handler may proxy to loopback (kube-apiserver refuses it, which the default keeps), a backend HTTP
// server standing in for a pod (its Pod's status.podIP is 127.0.0.1), and a node agent's HTTPS
// endpoint over the fake runtime. The real kubectl reads both through `get --raw`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { Node, Pod, PodList } from '../../src/api/types.ts';
import { createAuthenticator, createSecureServerOptions, isAnonymousPath } from '../../src/apiserver/auth/authn.ts';
import { alwaysAllow } from '../../src/apiserver/auth/authorizer.ts';
import { adminEntries, kubeconfigYaml, serverUrl } from '../../src/apiserver/auth/kubeconfig.ts';
import { issueClientCert, issueServingCert } from '../../src/apiserver/auth/pki.ts';
import { AGENT_CLIENT_CN, createConnectHandler, type ClosableConnectHandler } from '../../src/apiserver/connect/index.ts';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { Agent } from '../../src/kubelet/agent.ts';
import { TEST_MACHINE } from './test-machine.ts';
import { FakeRuntime } from '../../src/kubelet/runtime/fake-runtime.ts';
import { createStreamingServer, type StreamingServer } from '../../src/kubelet/streaming/server.ts';

const NODE = 'node1';
const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';

let dir: string;
let cp: ControlPlane;
let api: ApiServer;
let connect: ClosableConnectHandler;
let front: https.Server;
let apiPort = 0;
let client: ApiClient;
let kubeconfig: string;
let backend: Server;
let backendPort = 0;
let wss: WebSocketServer;
let agent: StreamingServer;
let nodeAgent: Agent;
const machine = TEST_MACHINE;
/** Requests the backend saw, newest last. */
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
/** Resolved by the test that streams a response, to let the backend finish it. */
let finishStream: () => void = () => undefined;
let firstRequestChunk: (chunk: string) => void = () => undefined;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A request to the API server as the admin (client certificate), or with the given headers. */
function call(method: string, path: string, opts: { body?: string; headers?: Record<string, string>; cert?: boolean; port?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const useCert = opts.cert ?? true;
    const req = https.request({
      host: '127.0.0.1', port: opts.port ?? apiPort, path, method, agent: false,
      ca: cp.pki.caCertPem, ...(useCert ? { cert: cp.pki.adminCertPem, key: cp.pki.adminKeyPem } : {}),
      headers: { ...(opts.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
    }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, HOME: dir }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Waits for a state another component writes, checking every 20 ms. */
async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await fn())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function makePod(name: string, ports: { name?: string; containerPort: number }[], podIP?: string): Promise<void> {
  const created = await client.create<Pod>(Pods, 'default', { metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', ports }] } } as Pod);
  if (podIP) await client.updateStatus(Pods, 'default', { ...created, status: { ...created.status, phase: 'Running', podIP, podIPs: [{ ip: podIP }] } } as Pod);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tk-proxy-'));
  // AlwaysAllow: the impersonated user below is about credentials not reaching the pod, not about RBAC.
  cp = await startControlPlane({ dataDir: join(dir, 'cp'), listen: '127.0.0.1:0', authorizer: alwaysAllow });
  const apiClientCert = await issueClientCert(cp.pki, AGENT_CLIENT_CN, ['system:masters']);
  // Loopback is refused by default (kube-apiserver's rule): this test's pods and node live there.
  connect = createConnectHandler({ tls: { ca: cp.pki.caCertPem, cert: apiClientCert.certPem, key: apiClientCert.keyPem }, proxyableAddress: () => true });
  const authn = createAuthenticator(cp.pki);
  api = createApiServer({ registry: cp.registry, authenticate: (req) => authn.authenticate(req), isAnonymousPath, connect });
  front = https.createServer(createSecureServerOptions(cp.pki), (req, res) => api.handle(req, res));
  front.on('upgrade', (req, socket, head) => api.upgrade(req, socket, head));
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  apiPort = (front.address() as AddressInfo).port;
  const { cluster, user, context } = adminEntries(cp.pki, serverUrl('127.0.0.1', apiPort));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(cluster, user, context), { mode: 0o600 });
  client = ApiClient.fromKubeconfig(kubeconfig);

  // The "pod": echoes what it got, answers 404 and redirects on some paths, streams on /stream.
  backend = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (parts.length === 0) firstRequestChunk(c.toString());
      parts.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url?.startsWith('/missing')) {
        res.writeHead(404, { 'Content-Type': 'text/plain', 'X-Backend': 'yes' });
        return res.end('no such page here');
      }
      if (req.url === '/login') {
        res.writeHead(302, { Location: '/welcome?x=1', 'Access-Control-Allow-Origin': '*' });
        return res.end();
      }
      if (req.url === '/stream') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('first\n');
        finishStream = () => res.end('last\n');
        return;
      }
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json', 'Set-Cookie': ['a=1', 'b=2'], 'X-Backend': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    });
  });
  wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws, req) => {
    ws.send(`hello ${req.url}`);
    ws.on('message', (m) => ws.send(`echo ${m.toString()}`));
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  backendPort = (backend.address() as AddressInfo).port;

  // A node agent over the fake runtime, with its HTTPS endpoint; it registers the Node itself and
  // publishes the endpoint's port as daemonEndpoints.kubeletEndpoint.
  nodeAgent = new Agent({ client, runtime: new FakeRuntime({ images: ['busybox'] }), nodeName: NODE, dataDir: join(dir, 'agent'), logRoot: join(dir, 'logs'), nodeIP: '127.0.0.1', mounts: false, plegPeriodMs: 100, machine, podCIDRWaitMs: 0 });
  await nodeAgent.start();
  const serving = await issueServingCert(cp.pki, NODE, ['127.0.0.1']);
  agent = createStreamingServer({
    runtime: new FakeRuntime(),
    logRoot: join(dir, 'logs'),
    resolvePod: (ns, name) => nodeAgent.streamingPod(ns, name),
    listPods: () => nodeAgent.pods(),
    summary: () => nodeAgent.summary.get(),
    tls: { cert: serving.certPem, key: serving.keyPem, ca: cp.pki.caCertPem },
  });
  const agentAddr = await agent.listen(0, '127.0.0.1');
  nodeAgent.setKubeletPort(agentAddr.port);
  await until('the Node publishes the agent port', async () => (await client.get<Node>(Nodes, undefined, NODE)).status?.daemonEndpoints?.kubeletEndpoint?.Port === agentAddr.port);
  // No controllers run here (no default account, no kube-root-ca.crt): no token volume for the agent to fill.
  await client.create<Pod>(Pods, 'default', { metadata: { name: 'on-node' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } } as Pod);

  await makePod('web', [{ name: 'http', containerPort: backendPort }], '127.0.0.1');
  await makePod('pending', [{ containerPort: backendPort }]);
});

after(async () => {
  await nodeAgent?.stop({ removePods: true });
  client?.close();
  await agent?.close();
  wss?.close();
  backend?.closeAllConnections();
  await new Promise((r) => backend?.close(r));
  connect?.close();
  api?.close();
  front?.closeAllConnections();
  await new Promise((r) => front?.close(r));
  await cp?.close();
  await rm(dir, { recursive: true, force: true });
});

const podPath = (id: string, rest = '') => `/api/v1/namespaces/default/pods/${id}/proxy${rest}`;

describe('pods/proxy', () => {
  it('GET with a path and a query reaches the pod; status, headers and body come back', async () => {
    const r = await call('GET', podPath(`web:${backendPort}`, '/some/path?a=1&b=two%20words'), { headers: { 'X-Custom': 'kept' } });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { method: 'GET', url: '/some/path?a=1&b=two%20words', body: '' });
    assert.equal(r.headers['x-backend'], 'yes');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    const got = seen.at(-1)!;
    assert.equal(got.headers['x-custom'], 'kept');
    assert.equal(got.headers['x-forwarded-uri'], podPath(`web:${backendPort}`, '/some/path'));
    assert.equal(got.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('the caller credentials never reach the pod', async () => {
    const r = await call('GET', podPath(`web:${backendPort}`, '/who'), { cert: false, headers: { Authorization: `Bearer ${cp.pki.adminToken}`, 'Impersonate-User': 'jane' } });
    assert.equal(r.status, 200, r.body);
    const got = seen.at(-1)!;
    assert.equal(got.headers.authorization, undefined);
    assert.equal(got.headers['impersonate-user'], undefined);
  });

  const methods: [string, number][] = [['POST', 201], ['PUT', 200], ['PATCH', 200], ['DELETE', 200], ['OPTIONS', 200]];
  for (const [method, status] of methods) {
    it(`${method} with a body is passed on`, async () => {
      const r = await call(method, podPath(`web:${backendPort}`, '/items/1'), { body: `{"n":"${method}"}`, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, status, `${method}: ${r.body}`);
      assert.deepEqual(JSON.parse(r.body), { method, url: '/items/1', body: `{"n":"${method}"}` });
    });
  }

  it('a method kube-apiserver does not proxy is a 405', async () => {
    const r = await call('PROPFIND', podPath(`web:${backendPort}`, '/x'));
    assert.equal(r.status, 405, r.body);
    assert.equal(JSON.parse(r.body).reason, 'MethodNotAllowed');
  });

  it('HEAD answers the headers only', async () => {
    const r = await call('HEAD', podPath(`web:${backendPort}`, '/x'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'yes');
    assert.equal(r.body, '');
  });

  it("the pod's own 404 passes through as it is", async () => {
    const r = await call('GET', podPath(`web:${backendPort}`, '/missing'));
    assert.equal(r.status, 404);
    assert.equal(r.body, 'no such page here');
    assert.equal(r.headers['x-backend'], 'yes');
  });

  it('a named port, the first declared port, http: and a trailing slash', async () => {
    const cases: [string, string][] = [
      [podPath('web:http', '/named'), '/named'],
      [podPath('web', '/first'), '/first'],
      [podPath(`http:web:${backendPort}`, '/scheme'), '/scheme'],
      [podPath(`web:${backendPort}`, '/dir/'), '/dir/'],
      [podPath(`web:${backendPort}`, '/'), '/'],
    ];
    for (const [path, want] of cases) {
      const r = await call('GET', path);
      assert.equal(r.status, 200, `${path}: ${r.body}`);
      assert.equal(JSON.parse(r.body).url, want, path);
    }
  });

  it('an empty path is redirected to the trailing slash (GET), as kube-apiserver does', async () => {
    const r = await call('GET', podPath(`web:${backendPort}`, '?q=1'));
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `${podPath(`web:${backendPort}`)}/?q=1`);
  });

  it("a backend redirect's Location is rewritten under the proxy path; CORS headers are dropped", async () => {
    const r = await call('GET', podPath(`web:${backendPort}`, '/login'));
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, podPath(`web:${backendPort}`, '/welcome?x=1'));
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  it('response and request bodies are streamed, not buffered', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: apiPort, path: podPath(`web:${backendPort}`, '/stream'), agent: false, ca: cp.pki.caCertPem, cert: cp.pki.adminCertPem, key: cp.pki.adminKeyPem }, resolve).on('error', reject);
    });
    assert.equal(res.statusCode, 200);
    const [first] = (await once(res, 'data')) as [Buffer];
    assert.equal(first.toString(), 'first\n');
    let rest = '';
    res.on('data', (d: Buffer) => (rest += d.toString()));
    finishStream();
    await once(res, 'end');
    assert.equal(rest, 'last\n');

    // The pod sees the first chunk of a request body while the caller is still sending it.
    const chunk = new Promise<string>((resolve) => (firstRequestChunk = resolve));
    const done = new Promise<Answer>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: apiPort, path: podPath(`web:${backendPort}`, '/upload'), method: 'POST', agent: false, ca: cp.pki.caCertPem, cert: cp.pki.adminCertPem, key: cp.pki.adminKeyPem }, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
      });
      req.on('error', reject);
      req.write('part one;');
      void chunk.then(() => req.end('part two'));
    });
    assert.equal(await chunk, 'part one;');
    const r = await done;
    assert.equal(JSON.parse(r.body).body, 'part one;part two');
    firstRequestChunk = () => undefined;
  });

  it('a WebSocket upgrade is relayed to the pod', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${apiPort}${podPath(`web:${backendPort}`, '/ws?room=1')}`, { ca: cp.pki.caCertPem, cert: cp.pki.adminCertPem, key: cp.pki.adminKeyPem });
    const messages: string[] = [];
    const two = new Promise<void>((resolve) => ws.on('message', (m) => {
      messages.push(m.toString());
      if (messages.length === 2) resolve();
    }));
    await once(ws, 'open');
    ws.send('ping');
    await two;
    assert.deepEqual(messages, ['hello /ws?room=1', 'echo ping']);
    ws.close();
    await once(ws, 'close');
  });

  it('errors as kube-apiserver words them', async () => {
    const refused = await closedPort();
    const cases: [string, string, number, string][] = [
      ['no pod IP yet', podPath(`pending:${backendPort}`, '/x'), 400, 'address not allowed'],
      ['nothing listening', podPath(`web:${refused}`, '/x'), 503, `error trying to reach service: dial tcp 127.0.0.1:${refused}: connect: connection refused`],
      ['a port name nobody declared', podPath('web:nope', '/x'), 503, 'error trying to reach service: dial tcp: lookup tcp/nope: unknown port'],
      ['no such pod', podPath('ghost:80', '/x'), 404, 'pods "ghost" not found'],
      ['a bad scheme', podPath('ftp:web:80', '/x'), 400, 'invalid pod request "ftp:web:80"'],
      ['too many colons', podPath('a:b:c:d', '/x'), 400, 'invalid pod request "a:b:c:d"'],
    ];
    for (const [name, path, code, message] of cases) {
      const r = await call('GET', path);
      assert.equal(r.status, code, `${name}: ${r.body}`);
      const status = JSON.parse(r.body) as { kind: string; code: number; message: string };
      assert.equal(status.kind, 'Status', name);
      assert.equal(status.message, message, name);
    }
  });

  it("loopback is refused by default, as kube-apiserver refuses it (the control plane's own handler)", async () => {
    const r = await call('GET', podPath(`web:${backendPort}`, '/x'), { port: cp.port });
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, 'address not allowed');
    const n = await call('GET', `/api/v1/nodes/${NODE}/proxy/healthz`, { port: cp.port });
    assert.equal(n.status, 400, n.body);
    assert.equal(JSON.parse(n.body).message, 'address not allowed');
  });

  it('kubectl get --raw through pods/proxy', async () => {
    const r = await kubectl(['get', '--raw', podPath(`web:${backendPort}`, '/x?via=kubectl')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { method: 'GET', url: '/x?via=kubectl', body: '' });
    const named = await kubectl(['get', '--raw', podPath('web:http', '/named')]);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(JSON.parse(named.stdout).url, '/named');
  });
});

describe('nodes/proxy', () => {
  it("reaches the node agent's /healthz and /pods with the API server's client certificate", async () => {
    const health = await call('GET', `/api/v1/nodes/${NODE}/proxy/healthz`);
    assert.equal(health.status, 200, health.body);
    assert.equal(health.body, 'ok');
    // The agent's pods, with the status it computed (Running once the fake runtime started it).
    let list: PodList | undefined;
    await until('the agent lists its pod as Running', async () => {
      const pods = await call('GET', `/api/v1/nodes/${NODE}/proxy/pods`);
      assert.equal(pods.status, 200, pods.body);
      list = JSON.parse(pods.body) as PodList;
      return list.items[0]?.status?.phase === 'Running';
    });
    assert.equal(list!.kind, 'PodList');
    assert.deepEqual(list!.items.map((p) => `${p.kind} ${p.metadata?.namespace}/${p.metadata?.name}`), ['Pod default/on-node']);
    // The agent's port named explicitly is the agent too.
    const port = (agent.server.address() as AddressInfo).port;
    assert.equal((await call('GET', `/api/v1/nodes/${NODE}:${port}/proxy/healthz`)).body, 'ok');
  });

  it("another port goes to the node's address over plain HTTP", async () => {
    const r = await call('GET', `/api/v1/nodes/${NODE}:${backendPort}/proxy/on/node?z=9`);
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).url, '/on/node?z=9');
  });

  it("the agent's own refusals and a missing node", async () => {
    const missing = await call('GET', `/api/v1/nodes/${NODE}/proxy/nothing-here`);
    assert.equal(missing.status, 404);
    const ghost = await call('GET', '/api/v1/nodes/ghost/proxy/healthz');
    assert.equal(ghost.status, 404);
    assert.equal(JSON.parse(ghost.body).message, 'nodes "ghost" not found');
  });

  it('kubectl get --raw through nodes/proxy', async () => {
    const health = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
    assert.equal(health.code, 0, health.stderr);
    assert.equal(health.stdout, 'ok');
    const pods = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/pods`]);
    assert.equal(pods.code, 0, pods.stderr);
    assert.equal((JSON.parse(pods.stdout) as PodList).items[0]?.metadata?.name, 'on-node');
    const stats = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]);
    assert.equal(stats.code, 0, stats.stderr);
    const summary = JSON.parse(stats.stdout) as { node: { nodeName: string; fs?: { capacityBytes?: number } }; pods: Array<{ podRef: { name: string } }> };
    assert.equal(summary.node.nodeName, NODE);
    assert.ok((summary.node.fs?.capacityBytes ?? 0) > 0);
    assert.ok(summary.pods.some((p) => p.podRef.name === 'on-node'), stats.stdout);
  });
});
