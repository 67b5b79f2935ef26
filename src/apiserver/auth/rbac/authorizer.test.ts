// The RBAC authorizer on a registry on SQLite: bindings followed through the watch as they are
// created, changed and deleted; users, groups and service accounts as subjects; the reason for a
// binding to a missing role; the rules SelfSubjectRulesReview lists.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../api/types.ts';
import { Registry } from '../../../registry/registry.ts';
import type { Store } from '../../../registry/store.ts';
import { openBackend } from '../../../storage/registry.ts';
import type { Backend } from '../../../storage/backend.ts';
import { FakeClock } from '../../../util/clock.ts';
import type { AuthorizationAttributes } from '../authorizer.ts';
import type { User } from '../user.ts';
import { RBACAuthorizer } from './authorizer.ts';

const G = 'rbac.authorization.k8s.io';
let dir: string;
let backend: Backend;
let registry: Registry;
let z: RBACAuthorizer;
let roleBindings: Store;
let clusterRoleBindings: Store;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-rbac-authz-'));
  backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  registry = new Registry(backend, { clock: new FakeClock() });
  await registry.bootstrap();
  await registry.store('clusterroles', G).create(undefined, { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }, { nonResourceURLs: ['/metrics'], verbs: ['get'] }] } as KubeObject);
  await registry.store('roles', G).create('a', { metadata: { name: 'cm-writer', namespace: 'a' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'], resourceNames: [] }] } as KubeObject);
  roleBindings = registry.store('rolebindings', G);
  clusterRoleBindings = registry.store('clusterrolebindings', G);
  z = new RBACAuthorizer(registry);
  await z.start();
});

after(async () => {
  z.stop();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

const attrs = (user: User, verb: string, resource: string, namespace: string): AuthorizationAttributes => ({ user, verb, isResourceRequest: true, apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace, name: '', path: '' });
const jane: User = { name: 'jane', groups: ['devs', 'system:authenticated'] };
const robot: User = { name: 'system:serviceaccount:a:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'] };

async function decision(a: AuthorizationAttributes): Promise<string> {
  return (await z.authorize(a)).decision;
}

/** Waits until the authorizer's copy reflects the last write (the cache follows a watch). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail('the authorizer never saw the write');
}

test('subjects: user, group, service account (namespace defaulted to the binding\'s)', async () => {
  const rb = (name: string, subjects: unknown[], ref = { apiGroup: G, kind: 'ClusterRole', name: 'pod-reader' }) => roleBindings.create('a', { metadata: { name, namespace: 'a' }, roleRef: ref, subjects } as KubeObject);
  await rb('by-user', [{ kind: 'User', apiGroup: G, name: 'jane' }]);
  await eventually(async () => (await decision(attrs(jane, 'list', 'pods', 'a'))) === 'allow');
  assert.equal(await decision(attrs(jane, 'list', 'pods', 'b')), 'noOpinion', 'a RoleBinding grants only in its namespace');
  assert.equal(await decision(attrs(jane, 'delete', 'pods', 'a')), 'noOpinion');
  await rb('by-sa', [{ kind: 'ServiceAccount', name: 'robot' }], { apiGroup: G, kind: 'Role', name: 'cm-writer' });
  await eventually(async () => (await decision(attrs(robot, 'create', 'configmaps', 'a'))) === 'allow');
  const devs: User = { name: 'joe', groups: ['devs'] };
  await clusterRoleBindings.create(undefined, { metadata: { name: 'devs' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'pod-reader' }, subjects: [{ kind: 'Group', apiGroup: G, name: 'devs' }] } as KubeObject);
  await eventually(async () => (await decision(attrs(devs, 'get', 'pods', 'anywhere'))) === 'allow');
  assert.equal(await decision({ ...attrs(devs, 'get', '', ''), isResourceRequest: false, path: '/metrics' }), 'allow');
  assert.equal(await decision({ ...attrs(devs, 'get', '', ''), isResourceRequest: false, path: '/metrics/x' }), 'noOpinion');
});

test('a binding changed or deleted stops granting', async () => {
  const u: User = { name: 'temp', groups: [] };
  await roleBindings.create('a', { metadata: { name: 'temp', namespace: 'a' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'pod-reader' }, subjects: [{ kind: 'User', apiGroup: G, name: 'temp' }] } as KubeObject);
  await eventually(async () => (await decision(attrs(u, 'get', 'pods', 'a'))) === 'allow');
  const cur = await roleBindings.get('a', 'temp');
  await roleBindings.update('a', 'temp', { ...cur, subjects: [{ kind: 'User', apiGroup: G, name: 'other' }] });
  await eventually(async () => (await decision(attrs(u, 'get', 'pods', 'a'))) === 'noOpinion');
  await roleBindings.update('a', 'temp', { ...(await roleBindings.get('a', 'temp')), subjects: [{ kind: 'User', apiGroup: G, name: 'temp' }] });
  await eventually(async () => (await decision(attrs(u, 'get', 'pods', 'a'))) === 'allow');
  await roleBindings.delete('a', 'temp');
  await eventually(async () => (await decision(attrs(u, 'get', 'pods', 'a'))) === 'noOpinion');
});

test('a binding to a missing role: no opinion, and RBAC says which role; the rule resolver reports it too', async () => {
  const u: User = { name: 'ghost', groups: [] };
  await roleBindings.create('a', { metadata: { name: 'ghost', namespace: 'a' }, roleRef: { apiGroup: G, kind: 'Role', name: 'missing' }, subjects: [{ kind: 'User', apiGroup: G, name: 'ghost' }] } as KubeObject);
  await eventually(async () => (await z.authorize(attrs(u, 'get', 'pods', 'a'))).reason !== '');
  assert.deepEqual(await z.authorize(attrs(u, 'get', 'pods', 'a')), { decision: 'noOpinion', reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found' });
  assert.deepEqual(await z.rulesFor(u, 'a'), { resourceRules: [], nonResourceRules: [], incomplete: false, evaluationError: 'role.rbac.authorization.k8s.io "missing" not found' });
  assert.deepEqual(await z.rulesFor(jane, 'a'), {
    resourceRules: [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: undefined },
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: undefined },
    ],
    nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }],
    incomplete: false,
  });
});

test('a binding naming a user and two of its groups counts once; bindings of several groups all count', async () => {
  const u: User = { name: 'multi', groups: ['g1', 'g2', 'g3'] };
  const subjects = [{ kind: 'User', apiGroup: G, name: 'multi' }, { kind: 'Group', apiGroup: G, name: 'g1' }, { kind: 'Group', apiGroup: G, name: 'g2' }];
  await roleBindings.create('c', { metadata: { name: 'all-of-them', namespace: 'c' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'pod-reader' }, subjects } as KubeObject);
  await roleBindings.create('c', { metadata: { name: 'g3-only', namespace: 'c' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'pod-reader' }, subjects: [{ kind: 'Group', apiGroup: G, name: 'g3' }] } as KubeObject);
  await eventually(async () => (await z.rulesFor(u, 'c')).resourceRules.length === 2);
  // pod-reader's one resource rule from each binding: all-of-them once (not three times), g3-only once.
  assert.equal((await z.rulesFor(u, 'c')).resourceRules.length, 2);
  const reason = (await z.authorize(attrs(u, 'list', 'pods', 'c'))).reason;
  assert.equal(reason, 'RBAC: allowed by RoleBinding "all-of-them/c" of ClusterRole "pod-reader" to User "multi"', 'the subject that matched first is named');
});
