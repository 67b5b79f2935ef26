// RBAC escalation prevention through the admission chain, on a registry on SQLite, with the RBAC
// authorizer deciding escalate and bind: the rules a user holds bound what they may grant.

import { discardRecorder } from './recorder.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../api/types.ts';
import { Registry } from '../../registry/registry.ts';
import type { Store } from '../../registry/store.ts';
import { openBackend } from '../../storage/registry.ts';
import type { Backend } from '../../storage/backend.ts';
import { FakeClock } from '../../util/clock.ts';
import { StatusError } from '../../util/status.ts';
import { RBACAuthorizer } from '../auth/rbac/authorizer.ts';
import type { User } from '../auth/user.ts';
import type { AdmissionChain } from './chain.ts';
import { defaultAdmission } from './plugins.ts';

const G = 'rbac.authorization.k8s.io';
let dir: string;
let backend: Backend;
let registry: Registry;
let chain: AdmissionChain;
let authz: RBACAuthorizer;

const alice: User = { name: 'alice', groups: ['system:authenticated'] };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-rbac-esc-'));
  backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  registry = new Registry(backend, { clock: new FakeClock() });
  await registry.bootstrap();
  await registry.store('namespaces').create(undefined, { metadata: { name: 'ns' } });
  const crs = registry.store('clusterroles', G);
  await crs.create(undefined, { metadata: { name: 'pods' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] } as KubeObject);
  await crs.create(undefined, { metadata: { name: 'secrets' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] } as KubeObject);
  await crs.create(undefined, { metadata: { name: 'rbac-writer' }, rules: [{ apiGroups: [G], resources: ['*'], verbs: ['create', 'update'] }] } as KubeObject);
  for (const role of ['pods', 'rbac-writer']) {
    await registry.store('clusterrolebindings', G).create(undefined, { metadata: { name: `alice-${role}` }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }] } as KubeObject);
  }
  authz = new RBACAuthorizer(registry);
  await authz.start();
  chain = defaultAdmission(registry, authz);
  await chain.start();
});

after(async () => {
  chain.stop();
  authz.stop();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

async function create(resource: string, namespace: string | undefined, obj: Record<string, unknown>, user = alice): Promise<string> {
  const store: Store = registry.store(resource, G);
  try {
    await store.create(namespace, obj as KubeObject, { admission: chain.forWrite({ operation: 'CREATE', resource: store.info, subresource: '', namespace, name: '', user, dryRun: true, ...discardRecorder }) });
    return 'created';
  } catch (err) {
    if (err instanceof StatusError) return `${err.code} ${err.message}`;
    throw err;
  }
}

const held = [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }];
const notHeld = [{ apiGroups: [''], resources: ['pods', 'secrets'], verbs: ['get', 'delete'] }];
const prefix = (what: string) => `403 ${what} is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n`;

test('roles and cluster roles: only rules the author holds', async () => {
  const cases: Array<[string, string, string | undefined, Record<string, unknown>, string]> = [
    ['role with held rules', 'roles', 'ns', { metadata: { name: 'ok', namespace: 'ns' }, rules: held }, 'created'],
    ['role with more', 'roles', 'ns', { metadata: { name: 'more', namespace: 'ns' }, rules: notHeld }, `${prefix('roles.rbac.authorization.k8s.io "more"')}{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}`],
    ['cluster role with more', 'clusterroles', undefined, { metadata: { name: 'more' }, rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] }, `${prefix('clusterroles.rbac.authorization.k8s.io "more"')}{NonResourceURLs:["/metrics"], Verbs:["get"]}`],
    ['aggregationRule takes cluster-admin', 'clusterroles', undefined, { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } }, '403 clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule'],
    ['system:masters may', 'roles', 'ns', { metadata: { name: 'm', namespace: 'ns' }, rules: notHeld }, 'created'],
  ];
  for (const [what, resource, ns, obj, want] of cases) {
    const user = what.startsWith('system:masters') ? { name: 'root', groups: ['system:masters'] } : alice;
    assert.equal(await create(resource, ns, obj, user), want, what);
  }
});

test('bindings: only roles whose rules the author holds; a missing role is a 404', async () => {
  const binding = (name: string, kind: string, role: string) => ({ metadata: { name, namespace: 'ns' }, roleRef: { apiGroup: G, kind, name: role }, subjects: [{ kind: 'User', apiGroup: G, name: 'bob' }] });
  assert.equal(await create('rolebindings', 'ns', binding('ok', 'ClusterRole', 'pods')), 'created');
  assert.equal(await create('rolebindings', 'ns', binding('no', 'ClusterRole', 'secrets')), `${prefix('rolebindings.rbac.authorization.k8s.io "no"')}{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`);
  assert.equal(await create('rolebindings', 'ns', binding('gone', 'Role', 'nothing')), '404 roles.rbac.authorization.k8s.io "nothing" not found');
});
