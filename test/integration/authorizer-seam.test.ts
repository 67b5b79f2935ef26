// The authorization seam with a rule-based authorizer: every request (resource and non-resource, list
// and watch, subresources, and upgrade requests such as exec) is judged on Kubernetes' attributes
// before it is routed, and a refusal is the 403 Status kube-apiserver writes, as the real kubectl
// prints it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AuthorizationAttributes, Authorizer } from '../../src/apiserver/auth/authorizer.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ApiError } from '../../src/client/errors.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const run = promisify(execFile);

/** Denies what a rule matches ("*" matches anything); allows the rest. Records what it was asked. */
interface Rule {
  user?: string;
  verb?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  path?: string;
  reason?: string;
}
const rules: Rule[] = [
  { verb: 'list', resource: 'secrets', namespace: 'default' },
  { verb: 'get', resource: 'pods', subresource: '', namespace: 'default', reason: 'pods are private here' },
  { verb: 'watch', resource: 'configmaps' },
  { verb: 'list', resource: 'nodes' },
  { verb: 'create', resource: 'leases' },
  { resource: 'pods', subresource: 'exec' },
  { path: '/openapi/v3' },
  { verb: 'impersonate', resource: 'users', name: 'root' },
  { user: 'jane', verb: 'get', resource: 'configmaps' },
];
const seen: AuthorizationAttributes[] = [];
const ruleAuthorizer: Authorizer = {
  authorize(a) {
    seen.push(a);
    const match = (want: string | undefined, got: string) => want === undefined || want === '*' || want === got;
    for (const r of rules) {
      if (r.path !== undefined) {
        if (!a.isResourceRequest && a.path === r.path) return { decision: 'deny', reason: r.reason ?? '' };
        continue;
      }
      if (a.isResourceRequest && match(r.user, a.user.name) && match(r.verb, a.verb) && match(r.resource, a.resource) && match(r.subresource, a.subresource) && match(r.namespace, a.namespace) && match(r.name, a.name)) {
        return { decision: 'deny', reason: r.reason ?? '' };
      }
    }
    return { decision: 'allow', reason: '' };
  },
};

let dir: string;
let cp: ControlPlane;
let client: ApiClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-authz-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', authorizer: ruleAuthorizer });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'authz-test' });
});

after(async () => {
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function status(method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<ApiError> {
  try {
    await client.requestJson(method, path, { query, headers, body: method === 'POST' ? {} : undefined });
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return err;
  }
  throw new Error(`${method} ${path} was allowed`);
}

test('refusals are the Status kube-apiserver writes', async () => {
  const cases: Array<[string, string, Record<string, string>, string, Record<string, string>]> = [
    ['GET', '/api/v1/namespaces/default/secrets', {}, 'secrets is forbidden: User "admin" cannot list resource "secrets" in API group "" in the namespace "default"', { kind: 'secrets' }],
    ['GET', '/api/v1/namespaces/default/pods/web', {}, 'pods "web" is forbidden: User "admin" cannot get resource "pods" in API group "" in the namespace "default": pods are private here', { name: 'web', kind: 'pods' }],
    ['GET', '/api/v1/configmaps', { watch: 'true' }, 'configmaps is forbidden: User "admin" cannot watch resource "configmaps" in API group "" at the cluster scope', { kind: 'configmaps' }],
    ['GET', '/api/v1/nodes', {}, 'nodes is forbidden: User "admin" cannot list resource "nodes" in API group "" at the cluster scope', { kind: 'nodes' }],
    ['POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {}, 'leases.coordination.k8s.io is forbidden: User "admin" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"', { group: 'coordination.k8s.io', kind: 'leases' }],
    ['POST', '/api/v1/namespaces/default/pods/web/exec', { command: 'date', stdout: 'true' }, 'pods "web" is forbidden: User "admin" cannot create resource "pods/exec" in API group "" in the namespace "default"', { name: 'web', kind: 'pods' }],
    ['GET', '/openapi/v3', {}, 'forbidden: User "admin" cannot get path "/openapi/v3"', {}],
  ];
  for (const [method, path, query, message, details] of cases) {
    const err = await status(method, path, query);
    assert.equal(err.code, 403, path);
    assert.equal(err.reason, 'Forbidden', path);
    assert.equal(err.message, message, path);
    if (Object.keys(details).length) assert.deepEqual(err.status?.details, details, path);
  }
  // What is not denied goes through: the authorizer is asked, and allows.
  await client.requestJson('GET', '/api/v1/namespaces/kube-system/secrets');
  const last = seen.at(-1)!;
  assert.deepEqual([last.user.name, last.verb, last.resource, last.namespace, last.isResourceRequest], ['admin', 'list', 'secrets', 'kube-system', true]);
  assert.ok(last.user.groups.includes('system:masters'));
});

test('upgrade requests (exec over WebSocket) are authorized before they are routed', async () => {
  seen.length = 0;
  const res = await new Promise<{ code: number; body: string }>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: cp.port,
      path: '/api/v1/namespaces/default/pods/nosuchpod/exec?command=date&stdout=true',
      ca: cp.pki.caCertPem,
      servername: 'localhost',
      headers: { Authorization: `Bearer ${cp.pki.adminToken}`, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' },
    });
    req.on('response', (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => resolve({ code: r.statusCode ?? 0, body }));
    });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('error', reject);
    req.end();
  });
  assert.equal(res.code, 403);
  assert.equal(JSON.parse(res.body).message, 'pods "nosuchpod" is forbidden: User "admin" cannot get resource "pods/exec" in API group "" in the namespace "default"');
  assert.equal(seen.length, 1);
});

test('kubectl prints the refusal as it does for kube-apiserver', async () => {
  const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
  const err = await run('/usr/bin/kubectl', ['get', 'secrets', '-n', 'default'], { env }).then(
    () => assert.fail('kubectl get secrets was allowed'),
    (e: { stderr: string; code: number }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /Error from server \(Forbidden\): secrets is forbidden: User "admin" cannot list resource "secrets" in API group "" in the namespace "default"/);
  const ok = await run('/usr/bin/kubectl', ['get', 'secrets', '-n', 'kube-system', '-o', 'name'], { env });
  assert.equal(ok.stderr, '');
});

test('impersonation: kubectl --as runs the request as that user, once the caller may impersonate it', async () => {
  const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
  const who = await run('/usr/bin/kubectl', ['auth', 'whoami', '--as=jane', '--as-group=devs', '--as-group=ops'], { env });
  assert.match(who.stdout, /^ATTRIBUTE\s+VALUE\nUsername\s+jane\nGroups\s+\[devs ops system:authenticated\]\n$/);
  const me = await run('/usr/bin/kubectl', ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { env });
  assert.equal(me.stdout, 'admin');
  // The authorizer judges the impersonated user.
  const denied = await run('/usr/bin/kubectl', ['get', 'configmap', 'kube-root-ca.crt', '--as=jane'], { env }).then(
    () => assert.fail('allowed'),
    (e: { stderr: string }) => e,
  );
  assert.match(denied.stderr, /Error from server \(Forbidden\): configmaps "kube-root-ca.crt" is forbidden: User "jane" cannot get resource "configmaps" in API group "" in the namespace "default"/);
  // Impersonating someone the caller may not impersonate is refused.
  const root = await run('/usr/bin/kubectl', ['get', 'ns', '--as=root'], { env }).then(
    () => assert.fail('allowed'),
    (e: { stderr: string }) => e,
  );
  assert.match(root.stderr, /users "root" is forbidden: User "admin" cannot impersonate resource "users" in API group "" at the cluster scope/);
  // A service account gets its groups.
  const sa = await run('/usr/bin/kubectl', ['auth', 'whoami', '--as=system:serviceaccount:kube-system:builder', '-o', 'jsonpath={.status.userInfo.groups}'], { env });
  assert.equal(sa.stdout, '["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]');
  // Malformed impersonation headers are a 400.
  const err = await status('GET', '/api/v1/namespaces', {}, { 'Impersonate-Group': 'devs' });
  assert.equal(err.code, 400);
  assert.equal(err.message, 'requested [{Group  devs}] without impersonating a user');
});
