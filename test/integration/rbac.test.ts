// RBAC through HTTPS with the real kubectl: the default roles (view, edit, admin, aggregated by the
// ClusterRole aggregation controller) bound in one namespace to a user decide, request by request,
// what that user may do there and nowhere else; a refusal is kube-apiserver's 403 word for word.
// Escalation prevention, the kinds' columns and describe output, and `kubectl auth reconcile`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterRole } from '../../src/api/rbac/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ClusterRoles } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { ClusterRoleAggregationController } from '../../src/controllers/clusterroleaggregation/controller.ts';
import { SharedInformers } from '../../src/controllers/informers.ts';

const run = promisify(execFile);
const NS = 'team';
const OTHER = 'elsewhere';

let dir: string;
let cp: ControlPlane;
let client: ApiClient;
let informers: SharedInformers;
let aggregation: ClusterRoleAggregationController;

async function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('/usr/bin/kubectl', args, { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Waits until the aggregated role holds a rule for `resource` (the controller writes it). */
async function aggregated(role: string, resource: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const cr = await client.get<ClusterRole & { metadata: { name: string } }>(ClusterRoles, undefined, role);
    if (cr?.rules?.some((r) => r.resources?.includes(resource))) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`${role} never aggregated ${resource}`);
}

/** Probes until the request is allowed (the RBAC cache follows writes through a watch). */
async function allowedEventually(user: string, method: string, path: string, body?: unknown): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await client.request(method, path, { headers: { 'Impersonate-User': user }, ...(body ? { body } : {}) });
    if (res.statusCode !== 403) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${user} never got ${method} ${path}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-rbac-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'rbac-test' });
  informers = new SharedInformers(client, {});
  aggregation = new ClusterRoleAggregationController({ client, informers });
  aggregation.start();
  for (const ns of [NS, OTHER]) await ok(['create', 'namespace', ns]);
  for (const role of ['view', 'edit', 'admin']) {
    assert.equal(await ok(['create', 'rolebinding', `${role}-user`, `--clusterrole=${role}`, `--user=${role}-user`, '-n', NS]), `rolebinding.rbac.authorization.k8s.io/${role}-user created\n`);
  }
  await aggregated('view', 'pods');
  await aggregated('edit', 'secrets');
  await aggregated('admin', 'roles');
});

after(async () => {
  await aggregation?.stop();
  await informers?.stop();
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Target {
  verb: string;
  method: string;
  group: string;
  resource: string;
  /** Path under the namespace. */
  path: string;
  name?: string;
  body?: Record<string, unknown>;
}

const core = (resource: string, verb: string, method: string, o: Partial<Target> = {}): Target => ({ verb, method, group: '', resource, path: `/api/v1/namespaces/{ns}/${resource}`, ...o });
const grouped = (group: string, resource: string, verb: string, method: string, o: Partial<Target> = {}): Target => ({ verb, method, group, resource, path: `/apis/${group}/v1/namespaces/{ns}/${resource}`, ...o });
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'p-' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { generateName: 's-' } };
const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { generateName: 'd-' }, spec: { replicas: 0, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { generateName: 'r-' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };

const targets: Record<string, Target> = {
  'list pods': core('pods', 'list', 'GET'),
  'create pods': core('pods', 'create', 'POST', { body: pod }),
  'delete pods': core('pods', 'delete', 'DELETE', { name: 'nope' }),
  'get pods/log': core('pods', 'get', 'GET', { name: 'nope', path: '/api/v1/namespaces/{ns}/pods/nope/log', resource: 'pods/log' }),
  'list secrets': core('secrets', 'list', 'GET'),
  'create secrets': core('secrets', 'create', 'POST', { body: secret }),
  'list deployments': grouped('apps', 'deployments', 'list', 'GET'),
  'create deployments': grouped('apps', 'deployments', 'create', 'POST', { body: deployment }),
  'list roles': grouped('rbac.authorization.k8s.io', 'roles', 'list', 'GET'),
  'create roles': grouped('rbac.authorization.k8s.io', 'roles', 'create', 'POST', { body: role }),
  'list resourcequotas': core('resourcequotas', 'list', 'GET'),
};

// What each default role allows in its namespace (kube's bootstrap policy).
const allowed: Record<string, string[]> = {
  view: ['list pods', 'get pods/log', 'list deployments', 'list resourcequotas'],
  edit: ['list pods', 'create pods', 'delete pods', 'get pods/log', 'list secrets', 'create secrets', 'list deployments', 'create deployments', 'list resourcequotas'],
  admin: Object.keys(targets),
};

/** kube-apiserver's 403 text for these attributes. */
function forbidden(user: string, t: Target, ns: string): string {
  const [resource, sub] = t.resource.split('/');
  const qualified = t.group ? `${resource}.${t.group}` : resource;
  const what = t.name ? `${qualified} "${t.name}"` : qualified;
  return `${what} is forbidden: User "${user}" cannot ${t.verb} resource "${sub ? `${resource}/${sub}` : resource}" in API group "${t.group}" in the namespace "${ns}"`;
}

describe('403 matrix: default roles bound in one namespace, and kubectl auth can-i agreeing', () => {
  for (const [roleName, yes] of Object.entries(allowed)) {
    for (const ns of [NS, OTHER]) {
      test(`${roleName} in ${ns === NS ? 'its namespace' : 'another namespace'}`, async () => {
        const user = `${roleName}-user`;
        const got: string[] = [];
        const want: string[] = [];
        const canIs: string[] = [];
        const wantCanIs: string[] = [];
        for (const [what, t] of Object.entries(targets)) {
          const path = t.path.replace('{ns}', ns) + (t.name && !t.path.endsWith(t.name) ? `/${t.name}` : '');
          const res = await client.request(t.method, path, { headers: { 'Impersonate-User': user }, ...(t.body ? { body: t.body } : {}) });
          const status = JSON.parse(res.body.toString('utf8') || '{}') as { message?: string };
          got.push(`${what}: ${res.statusCode === 403 ? `403 ${status.message}` : 'allowed'}`);
          want.push(`${what}: ${ns === NS && yes.includes(what) ? 'allowed' : `403 ${forbidden(user, t, ns)}`}`);
          // kubectl auth can-i (a SelfSubjectAccessReview as the impersonated user) agrees with the request.
          const [resource, sub] = t.resource.split('/') as [string, string | undefined];
          const typed = t.group ? `${resource}.${t.group}` : resource;
          const canI = await kubectl(['auth', 'can-i', t.verb, t.name ? `${typed}/${t.name}` : typed, ...(sub ? [`--subresource=${sub}`] : []), '-n', ns, '--as', user]);
          canIs.push(`${what}: ${canI.stdout.trim()} (exit ${canI.code})`);
          wantCanIs.push(`${what}: ${res.statusCode === 403 ? 'no (exit 1)' : 'yes (exit 0)'}`);
        }
        assert.deepEqual(got, want);
        assert.deepEqual(canIs, wantCanIs);
      });
    }
  }

  test('kubectl prints the refusal as against kube-apiserver', async () => {
    const r = await kubectl(['--as', 'view-user', '-n', NS, 'delete', 'pod', 'web']);
    assert.equal(r.stderr, 'Error from server (Forbidden): pods "web" is forbidden: User "view-user" cannot delete resource "pods" in API group "" in the namespace "team"\n');
    const out = await ok(['--as', 'view-user', '-n', NS, 'get', 'pods', '-o', 'name']);
    assert.match(out, /^(pod\/\S+\n)*$/);
  });

  test('a binding to a missing role: the 403 says so after the message', async () => {
    await ok(['create', 'rolebinding', 'ghost', '--clusterrole=ghost', '--user=ghost-user', '-n', NS]);
    const res = await client.request('GET', `/api/v1/namespaces/${NS}/pods`, { headers: { 'Impersonate-User': 'ghost-user' } });
    assert.equal(res.statusCode, 403);
    assert.equal(JSON.parse(res.body.toString('utf8')).message, 'pods is forbidden: User "ghost-user" cannot list resource "pods" in API group "" in the namespace "team": RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found');
  });

  test('non-resource URLs: discovery for the authenticated, /version for anyone, nothing else for anonymous', async () => {
    const as = (user: string, path: string) => client.request('GET', path, { headers: { 'Impersonate-User': user } });
    assert.equal((await as('view-user', '/apis')).statusCode, 200);
    assert.equal((await as('system:anonymous', '/version')).statusCode, 200);
    const api = await as('system:anonymous', '/api');
    assert.equal(api.statusCode, 403);
    assert.equal(JSON.parse(api.body.toString('utf8')).message, 'forbidden: User "system:anonymous" cannot get path "/api"');
  });

  test('service accounts: a RoleBinding subject without namespace means the binding\'s', async () => {
    await ok(['create', 'rolebinding', 'sa-view', '--clusterrole=view', `--serviceaccount=${NS}:robot`, '-n', NS]);
    const res = await client.request('GET', `/api/v1/namespaces/${NS}/pods`, { headers: { 'Impersonate-User': `system:serviceaccount:${NS}:robot` } });
    assert.equal(res.statusCode, 200);
  });
});

describe('escalation prevention', () => {
  test('a role with rules the author does not hold is refused, with the rules it lacks', async () => {
    const r = await kubectl(['--as', 'admin-user', '-n', NS, 'create', 'role', 'esc', '--verb=get', '--verb=list', '--resource=nodes,pods']);
    assert.equal(r.stderr, 'Error from server (Forbidden): roles.rbac.authorization.k8s.io "esc" is forbidden: user "admin-user" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}\n');
    assert.equal(await ok(['--as', 'admin-user', '-n', NS, 'create', 'role', 'fine', '--verb=get', '--resource=pods']), 'role.rbac.authorization.k8s.io/fine created\n');
  });

  test('binding a role whose rules the author does not hold is refused; one they hold is allowed', async () => {
    const r = await kubectl(['--as', 'admin-user', '-n', NS, 'create', 'rolebinding', 'esc', '--clusterrole=cluster-admin', '--user=mallory']);
    assert.equal(r.stderr, 'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "esc" is forbidden: user "admin-user" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}\n');
    assert.equal(await ok(['--as', 'admin-user', '-n', NS, 'create', 'rolebinding', 'delegated', '--clusterrole=edit', '--user=bob']), 'rolebinding.rbac.authorization.k8s.io/delegated created\n');
  });

  test('escalation is refused before validation, as kube-apiserver checks it (403, not 422)', async () => {
    const file = join(dir, 'bad-escalating.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bad-rule', namespace: NS }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods'], verbs: [] }] }));
    const r = await kubectl(['--as', 'admin-user', 'create', '-f', file]);
    assert.equal(r.stderr, `Error from server (Forbidden): error when creating "${file}": roles.rbac.authorization.k8s.io "bad-rule" is forbidden: user "admin-user" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}\n`);
    assert.match((await kubectl(['create', '-f', file])).stderr, /^The Role "bad-rule" is invalid: rules\[1\]\.verbs: Required value/);
    writeFileSync(file, JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'bad-subject', namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: '' }] }));
    const b = await kubectl(['--as', 'admin-user', 'create', '-f', file]);
    assert.match(b.stderr, /^Error from server \(Forbidden\): error when creating ".*": rolebindings\.rbac\.authorization\.k8s\.io "bad-subject" is forbidden: user "admin-user" .* is attempting to grant RBAC permissions not currently held:\n/);
    // With nothing to escalate (the admin), the same invalid objects get validation's 422.
    const v = await kubectl(['create', '-f', file]);
    assert.match(v.stderr, /^The RoleBinding "bad-subject" is invalid: \n\* subjects\[0\]\.name: Required value\n/);
  });

  test('the escalate and bind verbs let a user do it anyway', async () => {
    const file = join(dir, 'escalator.yaml');
    writeFileSync(file, JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'escalator' },
      rules: [
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create'] },
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] },
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['cluster-admin'] },
      ],
    }));
    await ok(['apply', '-f', file]);
    await ok(['create', 'rolebinding', 'escalator', '--clusterrole=escalator', '--user=esc-user', '-n', NS]);
    // The authorizer's cache has the new binding once the user may list roles through it.
    await allowedEventually('esc-user', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles?dryRun=All`, role);
    assert.equal(await ok(['--as', 'esc-user', '-n', NS, 'create', 'role', 'big', '--verb=*', '--resource=secrets']), 'role.rbac.authorization.k8s.io/big created\n');
    assert.equal(await ok(['--as', 'esc-user', '-n', NS, 'create', 'rolebinding', 'big', '--clusterrole=cluster-admin', '--user=someone']), 'rolebinding.rbac.authorization.k8s.io/big created\n');
  });
});

describe('kubectl and the RBAC kinds', () => {
  test('create, get (wide) and describe print as against kube-apiserver', async () => {
    assert.equal(await ok(['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods', '--resource-name=web', '-n', NS]), 'role.rbac.authorization.k8s.io/pod-reader created\n');
    assert.equal(await ok(['create', 'clusterrole', 'health', '--verb=get', '--non-resource-url=/healthz']), 'clusterrole.rbac.authorization.k8s.io/health created\n');
    assert.equal(await ok(['create', 'clusterrolebinding', 'health', '--clusterrole=health', '--group=ops', '--serviceaccount=kube-system:robot']), 'clusterrolebinding.rbac.authorization.k8s.io/health created\n');
    const roles = await ok(['get', 'roles', 'pod-reader', '-n', NS]);
    assert.match(roles, /^NAME\s+CREATED AT\npod-reader\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    const wide = await ok(['get', 'rolebinding', 'view-user', '-n', NS, '-o', 'wide']);
    assert.match(wide, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\nview-user\s+ClusterRole\/view\s+\d+s\s+view-user\s*\n$/);
    const crb = await ok(['get', 'clusterrolebinding', 'health', '-o', 'wide']);
    assert.match(crb, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\nhealth\s+ClusterRole\/health\s+\d+s\s+ops\s+kube-system\/robot\n$/);
    const describeRole = await ok(['describe', 'role', 'pod-reader', '-n', NS]);
    assert.match(describeRole, /PolicyRule:\n\s+Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n\s+-+\s+-+\s+-+\s+-+\n\s+pods\s+\[\]\s+\[web\]\s+\[get list\]\n/);
    const describeCR = await ok(['describe', 'clusterrole', 'health']);
    assert.match(describeCR, /\n\s+\[\/healthz\]\s+\[\]\s+\[get\]\n/);
    const describeRB = await ok(['describe', 'rolebinding', 'view-user', '-n', NS]);
    assert.match(describeRB, /Role:\n\s+Kind:\s+ClusterRole\n\s+Name:\s+view\nSubjects:\n\s+Kind\s+Name\s+Namespace\n\s+-+\s+-+\s+-+\n\s+User\s+view-user\s*\n/);
  });

  test('a binding\'s roleRef cannot change', async () => {
    const r = await kubectl(['patch', 'rolebinding', 'view-user', '-n', NS, '--type=merge', '-p', '{"roleRef":{"name":"edit"}}']);
    assert.equal(r.stderr, 'The RoleBinding "view-user" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef\n');
  });

  test('kubectl auth reconcile creates, then adds missing rules', async () => {
    const file = join(dir, 'rbac.yaml');
    writeFileSync(file, ['apiVersion: rbac.authorization.k8s.io/v1', 'kind: Role', 'metadata: {name: rec, namespace: team}', 'rules:', '- {apiGroups: [""], resources: [configmaps], verbs: [get]}', ''].join('\n'));
    const first = await ok(['auth', 'reconcile', '-f', file]);
    assert.match(first, /role\.rbac\.authorization\.k8s\.io\/rec reconciled/);
    writeFileSync(file, ['apiVersion: rbac.authorization.k8s.io/v1', 'kind: Role', 'metadata: {name: rec, namespace: team}', 'rules:', '- {apiGroups: [""], resources: [configmaps], verbs: [get, list]}', ''].join('\n'));
    await ok(['auth', 'reconcile', '-f', file]);
    const rules = JSON.parse(await ok(['get', 'role', 'rec', '-n', NS, '-o', 'jsonpath={.rules}'])) as Array<{ verbs: string[] }>;
    assert.ok(rules.some((r) => r.verbs.includes('list')), JSON.stringify(rules));
  });

  test('aggregation: a ClusterRole labelled aggregate-to-view lends its rules to view', async () => {
    await ok(['create', 'clusterrole', 'nodes-view', '--verb=get', '--resource=nodes']);
    await ok(['label', 'clusterrole', 'nodes-view', 'rbac.authorization.k8s.io/aggregate-to-view=true']);
    await aggregated('view', 'nodes');
    await ok(['delete', 'clusterrole', 'nodes-view']);
    for (let i = 0; i < 200; i++) {
      const cr = await client.get<ClusterRole & { metadata: { name: string } }>(ClusterRoles, undefined, 'view');
      if (!cr?.rules?.some((r) => r.resources?.includes('nodes'))) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.fail('view kept the rules of a deleted role');
  });
});
