// The review kinds through the real kubectl: `kubectl auth can-i` (resources, subresources, names,
// non-resource URLs, --list, --as/--as-group, -n, --all-namespaces) asks SelfSubjectAccessReviews and
// SelfSubjectRulesReviews of an API server whose authorizer and rule resolver are the small rule set
// below (RBAC lands separately); `kubectl auth whoami`; SubjectAccessReviews, LocalSubjectAccessReviews
// and TokenReviews created with `kubectl create -f`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthorizationAttributes, Authorizer, NonResourceRuleInfo, ResourceRuleInfo, RuleResolver } from '../../src/apiserver/auth/authorizer.ts';
import type { User } from '../../src/apiserver/auth/user.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';

/** Who may do what: rules per namespace ("" = every namespace and the cluster scope), as a role binding would give them. */
interface Grant {
  to: { user?: string; group?: string };
  namespace: string;
  resourceRules?: ResourceRuleInfo[];
  nonResourceRules?: NonResourceRuleInfo[];
}

const grants: Grant[] = [
  // What kube's system:basic-user and system:discovery roles give every authenticated user.
  {
    to: { group: 'system:authenticated' },
    namespace: '',
    resourceRules: [
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
    ],
    nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/'] }],
  },
  { to: { group: 'system:masters' }, namespace: '', resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] },
  {
    to: { user: 'jane' },
    namespace: 'dev',
    resourceRules: [
      { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'] },
      { verbs: ['create'], apiGroups: ['apps'], resources: ['deployments'] },
      { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] },
    ],
  },
  { to: { user: 'jane' }, namespace: '', nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/logs', '/logs/*'] }] },
  { to: { group: 'auditors' }, namespace: '', resourceRules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] },
];

const applies = (g: Grant, u: User) => (g.to.user !== undefined && g.to.user === u.name) || (g.to.group !== undefined && u.groups.includes(g.to.group));
const has = (list: readonly string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);
const pathMatches = (urls: readonly string[] | undefined, path: string) => (urls ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));

const testAuthorizer: Authorizer = {
  authorize(a: AuthorizationAttributes) {
    // An explicit deny, as an authorizer with deny rules (a webhook) answers.
    if (a.user.name === 'jane' && a.verb === 'delete') return { decision: 'deny', reason: 'deletes are frozen' };
    for (const g of grants) {
      if (!applies(g, a.user)) continue;
      if (!a.isResourceRequest) {
        if ((g.nonResourceRules ?? []).some((r) => has(r.verbs, a.verb) && pathMatches(r.nonResourceURLs, a.path))) return { decision: 'allow', reason: '' };
        continue;
      }
      if (g.namespace && g.namespace !== a.namespace) continue;
      const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
      const ok = (g.resourceRules ?? []).some((r) => has(r.verbs, a.verb) && has(r.apiGroups, a.apiGroup) && has(r.resources, resource) && (!r.resourceNames?.length || r.resourceNames.includes(a.name)));
      if (ok) return { decision: 'allow', reason: `allowed by the test grant to ${g.to.user ?? g.to.group}` };
    }
    return { decision: 'noOpinion', reason: '' };
  },
};

const testRules: RuleResolver = {
  rulesFor(user, namespace) {
    // carol's permissions come from somewhere that cannot list them.
    if (user.name === 'carol') return Promise.resolve({ resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'carol is authorized elsewhere' });
    const mine = grants.filter((g) => applies(g, user) && (!g.namespace || g.namespace === namespace));
    return Promise.resolve({ resourceRules: mine.flatMap((g) => g.resourceRules ?? []), nonResourceRules: mine.flatMap((g) => g.nonResourceRules ?? []), incomplete: false });
  },
};

let dir: string;
let cp: ControlPlane;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-reviews-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', authorizer: testAuthorizer, ruleResolver: testRules });
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('kubectl auth can-i', () => {
  const cases: Array<{ args: string[]; out: string; code: number }> = [
    { args: ['list', 'pods', '-n', 'dev', '--as', 'jane'], out: 'yes\n', code: 0 },
    { args: ['list', 'pods', '-n', 'prod', '--as', 'jane'], out: 'no\n', code: 1 },
    { args: ['watch', 'pods', '-n', 'dev', '--as', 'jane'], out: 'yes\n', code: 0 },
    { args: ['get', 'pods', '--subresource=log', '-n', 'dev', '--as', 'jane'], out: 'yes\n', code: 0 },
    { args: ['create', 'pods', '--subresource=exec', '-n', 'dev', '--as', 'jane'], out: 'no\n', code: 1 },
    { args: ['create', 'deployments.apps', '-n', 'dev', '--as', 'jane'], out: 'yes\n', code: 0 },
    { args: ['create', 'deployments', '-n', 'dev', '--as', 'jane'], out: 'yes\n', code: 0 },
    { args: ['get', 'configmaps/settings', '-n', 'dev', '--as', 'jane'], out: 'yes\n', code: 0 },
    { args: ['get', 'configmaps/other', '-n', 'dev', '--as', 'jane'], out: 'no\n', code: 1 },
    { args: ['delete', 'pods', '-n', 'dev', '--as', 'jane'], out: 'no - deletes are frozen\n', code: 1 },
    { args: ['get', '/logs/kube.log', '--as', 'jane'], out: 'yes\n', code: 0 },
    { args: ['get', '/metrics', '--as', 'jane'], out: 'no\n', code: 1 },
    { args: ['list', 'pods', '--all-namespaces', '--as', 'jane'], out: 'no\n', code: 1 },
    { args: ['list', 'pods', '--all-namespaces', '--as', 'bob', '--as-group', 'auditors'], out: 'yes\n', code: 0 },
    { args: ['list', 'pods', '-n', 'dev', '--as', 'bob'], out: 'no\n', code: 1 },
    { args: ['delete', 'nodes'], out: 'yes\n', code: 0 },
    { args: ['-q', 'list', 'pods', '-n', 'prod', '--as', 'jane'], out: '', code: 1 },
  ];
  for (const c of cases) {
    test(c.args.join(' '), async () => {
      const r = await kubectl(['auth', 'can-i', ...c.args]);
      assert.deepEqual({ out: r.stdout, code: r.code }, { out: c.out, code: c.code }, r.stderr);
    });
  }

  // What every authenticated user may do (system:basic-user), among the rows as kubectl sorts them.
  const everyone = [
    'selfsubjectreviews.authentication.k8s.io        []                  []               [create]',
    'selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]',
    'selfsubjectrulesreviews.authorization.k8s.io    []                  []               [create]',
  ];
  test('--list in a namespace: the rules, compacted and sorted by kubectl', async () => {
    const r = await kubectl(['auth', 'can-i', '--list', '-n', 'dev', '--as', 'jane']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Resources                                       Non-Resource URLs   Resource Names   Verbs',
        'deployments.apps                                []                  []               [create]',
        ...everyone,
        'pods/log                                        []                  []               [get list watch]',
        'pods                                            []                  []               [get list watch]',
        ...['/api/*', '/api', '/apis/*', '/apis', '/logs/*', '/logs', '/openapi/*', '/openapi', '/version/', '/version'].map((u) => `${' '.repeat(48)}${`[${u}]`.padEnd(20)}[]               [get]`),
        'configmaps                                      []                  [settings]       [get]',
        '',
      ].join('\n'),
    );
    assert.equal(r.stderr, '');
  });

  test('--list elsewhere shows only what applies there', async () => {
    const r = await kubectl(['auth', 'can-i', '--list', '-n', 'prod', '--as', 'jane', '--no-headers']);
    const rows = r.stdout.split('\n').map((l) => l.trimEnd());
    assert.ok(!rows.some((l) => /pods|configmaps|deployments/.test(l)), r.stdout);
    assert.ok(rows.some((l) => /^\s+\[\/logs\]\s+\[\]\s+\[get\]$/.test(l)), r.stdout);
  });

  test('--list of a user whose rules cannot be listed warns that the list may be incomplete', async () => {
    const r = await kubectl(['auth', 'can-i', '--list', '-n', 'dev', '--as', 'carol']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'Resources   Non-Resource URLs   Resource Names   Verbs\n');
    assert.match(r.stderr, /^Warning: the list may be incomplete: carol is authorized elsewhere/);
  });
});

test('kubectl auth whoami, as the caller and as someone else', async () => {
  const me = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}']);
  assert.equal(me.stdout, 'admin ["system:masters","system:authenticated"]');
  const jane = await kubectl(['auth', 'whoami', '--as', 'jane', '--as-group', 'dev']);
  assert.equal(jane.stdout, ['ATTRIBUTE   VALUE', 'Username    jane', 'Groups      [dev system:authenticated]', ''].join('\n'));
});

describe('SubjectAccessReview and LocalSubjectAccessReview', () => {
  const sar = (spec: object, kind = 'SubjectAccessReview') => JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind, spec });
  const statusOf = async (body: string, ns: string[] = []) => {
    const r = await kubectl(['create', '-f', '-', '-o', 'jsonpath={.status}', ...ns], body);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as object;
  };

  test('about a user, with the authorizer reason', async () => {
    assert.deepEqual(await statusOf(sar({ user: 'jane', resourceAttributes: { namespace: 'dev', verb: 'list', resource: 'pods' } })), { allowed: true, reason: 'allowed by the test grant to jane' });
    assert.deepEqual(await statusOf(sar({ user: 'jane', resourceAttributes: { namespace: 'dev', verb: 'delete', resource: 'pods' } })), { allowed: false, denied: true, reason: 'deletes are frozen' });
    assert.deepEqual(await statusOf(sar({ user: 'nobody', groups: ['auditors'], resourceAttributes: { verb: 'get', resource: 'pods' } })), { allowed: true, reason: 'allowed by the test grant to auditors' });
    assert.deepEqual(await statusOf(sar({ user: 'jane', nonResourceAttributes: { verb: 'get', path: '/healthz' } })), { allowed: false });
  });

  test("the answer is the review sent, with the caller's fields recorded", async () => {
    const r = await kubectl(['create', '-f', '-', '-o', 'json', '--show-managed-fields'], sar({ user: 'jane', resourceAttributes: { namespace: 'dev', verb: 'list', resource: 'pods' } }));
    const out = JSON.parse(r.stdout) as { kind: string; metadata: { managedFields?: Array<{ manager: string; operation: string; fieldsV1: object }> }; spec: object };
    assert.equal(out.kind, 'SubjectAccessReview');
    assert.deepEqual(out.spec, { user: 'jane', resourceAttributes: { namespace: 'dev', verb: 'list', resource: 'pods' } });
    assert.deepEqual(out.metadata.managedFields?.map((f) => [f.manager, f.operation]), [['kubectl-create', 'Update']]);
  });

  test('a review asking nothing of nobody is a 422 naming both fields', async () => {
    const r = await kubectl(['create', '-f', '-'], sar({}));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      // kube-apiserver's 422 for a review names no kind (`.authorization.k8s.io "" is invalid`): kubectl says "The request".
      'The request is invalid: \n* spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified\n* spec.user: Invalid value: "": at least one of user or group must be specified\n',
    );
  });

  test('a LocalSubjectAccessReview in its namespace, and about another one', async () => {
    const spec = (ns: string) => ({ user: 'jane', resourceAttributes: { namespace: ns, verb: 'get', resource: 'pods' } });
    assert.deepEqual(await statusOf(sar(spec('dev'), 'LocalSubjectAccessReview'), ['-n', 'dev']), { allowed: true, reason: 'allowed by the test grant to jane' });
    const r = await kubectl(['create', '-f', '-', '-n', 'dev'], sar(spec('prod'), 'LocalSubjectAccessReview'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'The request is invalid: spec.resourceAttributes.namespace: Invalid value: "prod": must match metadata.namespace\n');
  });
});

describe('TokenReview', () => {
  const review = (token: string, audiences?: string[]) => JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } });
  const statusOf = async (body: string) => {
    const r = await kubectl(['create', '-f', '-', '-o', 'jsonpath={.status}'], body);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as object;
  };

  test("the admin token is admin's, for the API server's audience", async () => {
    assert.deepEqual(await statusOf(review(cp.pki.adminToken)), {
      authenticated: true,
      user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
  });

  test("the node join token is a bootstrap token's identity", async () => {
    assert.deepEqual(await statusOf(review(cp.pki.nodeToken, ['https://kubernetes.default.svc.cluster.local'])), {
      authenticated: true,
      user: { username: 'system:bootstrap:node', groups: ['system:bootstrappers', 'system:authenticated'] },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
  });

  test("a bad token, or a static token for another audience, is not authenticated: kube's bearer-token error", async () => {
    assert.deepEqual(await statusOf(review('not-a-token')), { user: {}, error: 'invalid bearer token' });
    assert.deepEqual(await statusOf(review(cp.pki.adminToken, ['vault'])), { user: {}, error: 'invalid bearer token' });
  });

  test('a review without a token is a 400', async () => {
    const r = await kubectl(['create', '-f', '-'], review(''));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (BadRequest): error when creating "STDIN": token is required for TokenReview in authentication\n');
  });
});
