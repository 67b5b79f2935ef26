import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../api/types.ts';
import type { ClusterRole, ClusterRoleBinding } from '../../../api/rbac/types.ts';
import { validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from '../../../api/validation/rbac.ts';
import { Registry } from '../../../registry/registry.ts';
import { openBackend } from '../../../storage/registry.ts';
import type { Backend } from '../../../storage/backend.ts';
import { FakeClock } from '../../../util/clock.ts';
import { AUTOUPDATE_ANNOTATION, bootstrapClusterRoleBindings, bootstrapClusterRoles, bootstrapNamespaceRoleBindings, bootstrapNamespaceRoles, ensureBootstrapPolicy, reconcileClusterRole, reconcileClusterRoleBinding } from './bootstrap.ts';

test('every default object is valid, labelled rbac-defaults and annotated autoupdate "true"', () => {
  for (const r of bootstrapClusterRoles()) {
    assert.deepEqual(validateClusterRole(r), [], r.metadata!.name);
    assert.equal(r.metadata!.labels!['kubernetes.io/bootstrapping'], 'rbac-defaults');
    assert.equal(r.metadata!.annotations![AUTOUPDATE_ANNOTATION], 'true');
  }
  for (const r of bootstrapNamespaceRoles()) assert.deepEqual(validateRole(r), [], r.metadata!.name);
  for (const b of bootstrapNamespaceRoleBindings()) {
    assert.deepEqual(validateRoleBinding(b), [], b.metadata!.name);
    assert.ok(bootstrapNamespaceRoles().some((r) => r.metadata!.name === b.roleRef.name), `${b.metadata!.name} binds an existing default role`);
  }
  const roles = new Set(bootstrapClusterRoles().map((r) => r.metadata!.name));
  for (const b of bootstrapClusterRoleBindings()) {
    assert.deepEqual(validateClusterRoleBinding(b), [], b.metadata!.name);
    assert.ok(roles.has(b.roleRef.name), `${b.metadata!.name} binds an existing default role`);
  }
});

test('reconciling a role: missing rules, labels and selectors are added; autoupdate "false" is left alone', () => {
  const want = bootstrapClusterRoles().find((r) => r.metadata!.name === 'system:discovery')!;
  const cases: Array<[string, ClusterRole, (r: ClusterRole | null) => void]> = [
    ['as wanted', structuredClone(want), (r) => assert.equal(r, null)],
    ['a rule removed comes back, extra rules stay', { ...structuredClone(want), rules: [{ verbs: ['get'], nonResourceURLs: ['/version', '/extra'] }] }, (r) => {
      assert.ok(r);
      assert.deepEqual(r.rules![0], { verbs: ['get'], nonResourceURLs: ['/version', '/extra'] });
      assert.ok(r.rules!.some((x) => x.nonResourceURLs?.[0] === '/api'));
      assert.ok(!r.rules!.slice(1).some((x) => x.nonResourceURLs?.[0] === '/version'), 'held rules are not added twice');
    }],
    ['a label removed comes back, a changed one stays', { ...structuredClone(want), metadata: { ...want.metadata, labels: { mine: 'x' } } }, (r) => assert.deepEqual(r?.metadata?.labels, { mine: 'x', 'kubernetes.io/bootstrapping': 'rbac-defaults' })],
    ['autoupdate false', { ...structuredClone(want), rules: [], metadata: { ...want.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } } }, (r) => assert.equal(r, null)],
  ];
  for (const [what, existing, check] of cases) {
    try {
      check(reconcileClusterRole(existing, want));
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`);
    }
  }
  const view = bootstrapClusterRoles().find((r) => r.metadata!.name === 'view')!;
  const lost = reconcileClusterRole({ ...structuredClone(view), aggregationRule: undefined, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }, view);
  assert.deepEqual(lost?.aggregationRule, view.aggregationRule, 'selectors come back');
  assert.deepEqual(lost?.rules, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], 'aggregated rules are the controller\'s');
});

test('reconciling a binding: missing subjects added, another roleRef means recreate', () => {
  const want = bootstrapClusterRoleBindings().find((b) => b.metadata!.name === 'system:basic-user')!;
  const other: ClusterRoleBinding = { ...structuredClone(want), subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'x' }] };
  const merged = reconcileClusterRoleBinding(other, want);
  assert.ok(merged && merged !== 'recreate');
  assert.deepEqual(merged.subjects!.map((s) => s.name), ['x', 'system:authenticated']);
  assert.equal(reconcileClusterRoleBinding({ ...structuredClone(want), roleRef: { ...want.roleRef, name: 'view' } }, want), 'recreate');
  assert.equal(reconcileClusterRoleBinding(structuredClone(want), want), null);
});

test('system:node is bound to no one, and the subjects earlier tinykube versions gave it are removed', () => {
  const want = bootstrapClusterRoleBindings().find((b) => b.metadata!.name === 'system:node')!;
  assert.equal(want.subjects, undefined);
  const s = (kind: 'User' | 'Group', name: string) => ({ kind, apiGroup: 'rbac.authorization.k8s.io', name });
  const old: ClusterRoleBinding = { ...structuredClone(want), subjects: [s('Group', 'system:nodes'), s('User', 'system:node-bootstrap')] };
  const tightened = reconcileClusterRoleBinding(old, want);
  assert.ok(tightened && tightened !== 'recreate');
  assert.equal(tightened.subjects, undefined);
  // What an administrator bound stays; an opted-out binding is left alone.
  const mixed = reconcileClusterRoleBinding({ ...structuredClone(want), subjects: [s('User', 'alice'), s('Group', 'system:nodes')] }, want);
  assert.ok(mixed && mixed !== 'recreate');
  assert.deepEqual(mixed.subjects, [s('User', 'alice')]);
  const optedOut = structuredClone(old);
  optedOut.metadata!.annotations = { [AUTOUPDATE_ANNOTATION]: 'false' };
  assert.equal(reconcileClusterRoleBinding(optedOut, want), null);
  assert.equal(reconcileClusterRoleBinding(structuredClone(want), want), null);
});

test("the join token's bindings move from its old user to kube's bootstrappers group", () => {
  const s = (kind: 'User' | 'Group', name: string) => ({ kind, apiGroup: 'rbac.authorization.k8s.io', name });
  for (const name of ['system:node-bootstrapper', 'system:tinykube:node-autoapprove-bootstrap']) {
    const want = bootstrapClusterRoleBindings().find((b) => b.metadata!.name === name)!;
    assert.deepEqual(want.subjects, [s('Group', 'system:bootstrappers')], name);
    const old: ClusterRoleBinding = { ...structuredClone(want), subjects: [s('User', 'system:node-bootstrap')] };
    const moved = reconcileClusterRoleBinding(old, want);
    assert.ok(moved && moved !== 'recreate', name);
    assert.deepEqual(moved.subjects, [s('Group', 'system:bootstrappers')], name);
  }
});

let dir: string;
let backend: Backend;
let registry: Registry;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-rbac-boot-'));
  backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  registry = new Registry(backend, { clock: new FakeClock() });
  await registry.bootstrap();
});
after(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

test('at start: created once, then a changed role is repaired and an opted-out one kept', async () => {
  const store = (resource: string) => registry.store(resource, 'rbac.authorization.k8s.io');
  const roles = store('clusterroles');
  const bindings = store('clusterrolebindings');
  const stores = { clusterRoles: roles, clusterRoleBindings: bindings, roles: store('roles'), roleBindings: store('rolebindings') };
  const first = await ensureBootstrapPolicy(stores);
  assert.equal(first.created.length, bootstrapClusterRoles().length + bootstrapClusterRoleBindings().length + bootstrapNamespaceRoles().length + bootstrapNamespaceRoleBindings().length);
  assert.ok(first.created.includes('kube-system/system::leader-locking-kube-scheduler'));
  assert.deepEqual(first.failed, []);
  assert.deepEqual(await ensureBootstrapPolicy(stores), { created: [], updated: [], failed: [] });
  const edit = (await roles.get(undefined, 'system:basic-user')) as ClusterRole & KubeObject;
  await roles.update(undefined, 'system:basic-user', { ...edit, rules: [] } as KubeObject);
  const kept = (await roles.get(undefined, 'system:discovery')) as ClusterRole & KubeObject;
  await roles.update(undefined, 'system:discovery', { ...kept, metadata: { ...kept.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } }, rules: [] } as KubeObject);
  await bindings.delete(undefined, 'cluster-admin');
  const again = await ensureBootstrapPolicy(stores);
  assert.deepEqual([again.created, again.updated], [['cluster-admin'], ['system:basic-user']]);
  assert.equal(((await roles.get(undefined, 'system:basic-user')) as ClusterRole).rules!.length, 3);
  assert.deepEqual(((await roles.get(undefined, 'system:discovery')) as ClusterRole).rules ?? [], []);
});
