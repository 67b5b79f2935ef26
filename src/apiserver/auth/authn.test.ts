// Real TLS handshakes between an https server built from createSecureServerOptions and the project's
// ApiClient (and, where installed, the real kubectl), for token and client-certificate authentication.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ApiClient } from '../../client/client.ts';
import type { ApiClientOptions } from '../../client/client.ts';
import { ApiError } from '../../client/errors.ts';
import { CaPinError, caHashFromToken, fetchPinnedCa } from '../../client/bootstrap.ts';
import { unauthorized } from '../../util/status.ts';
import { createAuthenticator, createSecureServerOptions, isAnonymousPath } from './authn.ts';
import type { User } from './authn.ts';
import { adminEntries, mergeIntoKubeconfig, serverUrl, writeAdminKubeconfig } from './kubeconfig.ts';
import { ensurePki, issueClientCert } from './pki.ts';
import type { Pki } from './pki.ts';

let dir: string;
let pki: Pki;
let otherPki: Pki;
let server: https.Server;
let port: number;
const clients: ApiClient[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tk-authn-'));
  pki = await ensurePki(path.join(dir, 'cluster'));
  otherPki = await ensurePki(path.join(dir, 'other'));
  const authn = createAuthenticator(pki);
  authn.addToken('scheduler-token', 'system:kube-scheduler');
  // The shape the API server's HTTP layer takes: anonymous paths first, then authenticate or 401.
  server = https.createServer(createSecureServerOptions(pki), (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (isAnonymousPath(req.url ?? '/')) {
      res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' }));
      return;
    }
    const user = authn.authenticate(req);
    if (!user) {
      res.statusCode = 401;
      res.end(JSON.stringify(unauthorized().toStatus()));
      return;
    }
    res.end(JSON.stringify({ kind: 'WhoAmI', user }));
  });
  await new Promise<void>((r) => server.listen(0, '::', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const c of clients) c.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

function client(options: Partial<ApiClientOptions>, host = '127.0.0.1'): ApiClient {
  const c = new ApiClient({ server: serverUrl(host, port), caPem: pki.caCertPem, ...options });
  clients.push(c);
  return c;
}

async function whoami(c: ApiClient): Promise<User> {
  return (await c.requestJson<{ user: User }>('GET', '/api/v1/namespaces')).user;
}

function is401(err: unknown): boolean {
  return err instanceof ApiError && err.code === 401 && err.reason === 'Unauthorized' && err.message === 'Unauthorized';
}

test('bearer tokens and client certificates map to users and groups', async () => {
  const node = await issueClientCert(pki, 'system:node:n1', ['system:nodes']);
  const cases: Array<[string, Partial<ApiClientOptions>, Omit<User, 'via'> & { via: User['via'] }]> = [
    ['admin token', { token: pki.adminToken }, { name: 'admin', groups: ['system:masters', 'system:authenticated'], via: 'token' }],
    ['node join token', { token: pki.nodeToken }, { name: 'system:bootstrap:node', groups: ['system:bootstrappers', 'system:authenticated'], via: 'token' }],
    ['added static token', { token: 'scheduler-token' }, { name: 'system:kube-scheduler', groups: ['system:authenticated'], via: 'token' }],
    ['admin client cert', { certPem: pki.adminCertPem, keyPem: pki.adminKeyPem }, { name: 'admin', groups: ['system:masters', 'system:authenticated'], via: 'x509' }],
    ['node client cert', { certPem: node.certPem, keyPem: node.keyPem }, { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'], via: 'x509' }],
    ['cert wins over a valid token', { certPem: node.certPem, keyPem: node.keyPem, token: pki.adminToken }, { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'], via: 'x509' }],
  ];
  for (const [name, opts, want] of cases) assert.deepEqual(await whoami(client(opts)), want, name);
});

test('missing or invalid credentials get a 401 Unauthorized Status', async () => {
  const cases: Array<[string, Partial<ApiClientOptions>]> = [
    ['no credentials', {}],
    ['wrong token', { token: 'nope' }],
    ['other cluster admin token', { token: otherPki.adminToken }],
    ['cert from another CA', { certPem: otherPki.adminCertPem, keyPem: otherPki.adminKeyPem }],
    ['valid cert but a wrong token', { certPem: pki.adminCertPem, keyPem: pki.adminKeyPem, token: 'nope' }],
  ];
  for (const [name, opts] of cases) await assert.rejects(whoami(client(opts)), is401, name);
});

test('anonymous callers reach only the public paths', async () => {
  const anon = client({});
  const v = await anon.requestJson<{ gitVersion: string }>('GET', '/version', { query: { timeout: '32s' } });
  assert.equal(v.gitVersion, 'v1.32.4');
  await anon.requestJson('GET', '/healthz/ping');
  await assert.rejects(anon.requestJson('GET', '/api'), is401);
  const table: Array<[string, boolean]> = [
    ['/version', true], ['/version/', true], ['/version?timeout=5s', true], ['/healthz', true], ['/livez', true],
    ['/readyz', true], ['/readyz/ping', true], ['/healthzz', false], ['/versions', false], ['/api', false],
    ['/api/v1/namespaces/default/pods', false], ['/', false], ['/openapi/v3', false],
  ];
  for (const [p, want] of table) assert.equal(isAnonymousPath(p), want, p);
});

test('the client verifies the server: wrong CA and unlisted names are refused', async () => {
  await assert.rejects(whoami(client({ caPem: otherPki.caCertPem, token: pki.adminToken })), (e: NodeJS.ErrnoException) =>
    ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(e.code ?? ''));
  await assert.rejects(whoami(client({ token: pki.adminToken, servername: 'evil.example' })), (e: NodeJS.ErrnoException) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
  for (const host of ['localhost', '::1']) assert.equal((await whoami(client({ token: pki.adminToken }, host))).name, 'admin', host);
});

test('a joining agent pins the CA named by its node token', async () => {
  const hash = caHashFromToken(pki.nodeToken);
  assert.ok(hash);
  const caPem = await fetchPinnedCa(serverUrl('127.0.0.1', port), hash);
  assert.equal(new X509Certificate(caPem).fingerprint256, new X509Certificate(pki.caCertPem).fingerprint256);
  assert.equal((await whoami(client({ caPem, token: pki.nodeToken }))).name, 'system:bootstrap:node');
  await assert.rejects(fetchPinnedCa(serverUrl('127.0.0.1', port), caHashFromToken(otherPki.nodeToken)!), CaPinError);
});

test('the admin kubeconfig works for the ApiClient, with a client cert or the token', async () => {
  for (const auth of ['cert', 'token'] as const) {
    const file = await writeAdminKubeconfig(pki, serverUrl('127.0.0.1', port), { path: path.join(dir, `kc-${auth}`), auth });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const doc = parse(await readFile(file, 'utf8')) as { 'current-context': string; clusters: Array<{ cluster: Record<string, string> }> };
    assert.equal(doc['current-context'], 'tinykube');
    assert.equal(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), pki.caCertPem);
    const c = ApiClient.fromKubeconfig(file);
    clients.push(c);
    assert.deepEqual(await whoami(c), { name: 'admin', groups: ['system:masters', 'system:authenticated'], via: auth === 'cert' ? 'x509' : 'token' });
  }
});

test('mergeIntoKubeconfig keeps other entries and replaces ours by name', async () => {
  const file = path.join(dir, 'home', '.kube', 'config');
  const existing = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'prod', cluster: { server: 'https://prod:6443' } }, { name: 'tinykube', cluster: { server: 'https://stale:1' } }],
    users: [{ name: 'prod-user', user: { token: 'p' } }],
    contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod-user' } }],
    'current-context': 'prod',
    preferences: { colors: true },
  };
  await mergeIntoKubeconfig(file, { name: 'x', server: 'https://x:1', caPem: 'x' }, { name: 'x-user', token: 't' }, { name: 'x', cluster: 'x', user: 'x-user' }, { setCurrentContext: false });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const created = parse(await readFile(file, 'utf8')) as { 'current-context'?: string; contexts: unknown[] };
  assert.equal(created['current-context'], undefined);
  assert.equal(created.contexts.length, 1);
  await writeFile(file, JSON.stringify(existing)); // JSON is YAML: a kubeconfig someone else wrote
  const { cluster, user, context } = adminEntries(pki, serverUrl('127.0.0.1', port), { auth: 'token' });
  await mergeIntoKubeconfig(file, cluster, user, context);
  await mergeIntoKubeconfig(file, cluster, user, context); // idempotent
  const doc = parse(await readFile(file, 'utf8')) as typeof existing;
  assert.deepEqual(doc.clusters.map((c) => [c.name, c.cluster.server]), [['prod', 'https://prod:6443'], ['tinykube', serverUrl('127.0.0.1', port)]]);
  assert.deepEqual(doc.users.map((u) => u.name), ['prod-user', 'tinykube-admin']);
  assert.deepEqual(doc.contexts.map((c) => c.name), ['prod', 'tinykube']);
  assert.equal(doc['current-context'], 'tinykube');
  assert.deepEqual(doc.preferences, { colors: true });
  const c = ApiClient.fromKubeconfig(file);
  clients.push(c);
  assert.equal((await whoami(c)).name, 'admin');
  const prod = ApiClient.fromKubeconfig(file, { context: 'prod' });
  clients.push(prod);
  assert.equal(prod.server, 'https://prod:6443');
});

const KUBECTL = '/usr/bin/kubectl';
test('the real kubectl completes TLS and authenticates with the admin kubeconfig', { skip: !existsSync(KUBECTL) && 'kubectl not installed' }, async () => {
  for (const auth of ['cert', 'token'] as const) {
    const file = await writeAdminKubeconfig(pki, serverUrl('127.0.0.1', port), { path: path.join(dir, `kubectl-${auth}`), auth });
    const out = await new Promise<string>((resolve, reject) =>
      execFile(KUBECTL, ['--kubeconfig', file, 'get', '--raw', '/api/v1/whoami'], { timeout: 20_000, env: { ...process.env, HOME: dir } }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    assert.equal((JSON.parse(out) as { user: User }).user.name, 'admin', auth);
  }
});
