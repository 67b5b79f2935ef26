import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OwnerReference } from '../../api/types.ts';
import { decideDeletingOwner, decideDependent } from './decide.ts';
import type { ClassifiedOwner, DependentView } from './decide.ts';
import { KindMap, collectable } from './discovery.ts';
import { ObjectGraph, deletingDependents, ownersChanged } from './graph.ts';
import type { ObjectMetaView } from './graph.ts';
import { metadataView } from './metadata.ts';

const owner = (uid: string, state: ClassifiedOwner['state']): ClassifiedOwner => ({ uid, state });

test('decideDependent: what happens to an object given its owners', () => {
  const cases: Array<{ name: string; finalizers?: string[]; owners: ClassifiedOwner[]; hasDependents?: boolean; want: unknown }> = [
    { name: 'no owners', owners: [], want: { type: 'none' } },
    { name: 'owner alive', owners: [owner('a', 'solid')], want: { type: 'none' } },
    { name: 'owner gone: background delete', owners: [owner('a', 'dangling')], want: { type: 'delete', policy: 'Background' } },
    { name: 'all owners gone', owners: [owner('a', 'dangling'), owner('b', 'dangling')], want: { type: 'delete', policy: 'Background' } },
    { name: 'one of two owners gone: drop its reference', owners: [owner('a', 'solid'), owner('b', 'dangling')], want: { type: 'removeOwnerRefs', uids: ['b'] } },
    { name: 'one owner deleting in foreground, another alive', owners: [owner('a', 'waiting'), owner('b', 'solid')], want: { type: 'removeOwnerRefs', uids: ['a'] } },
    { name: 'owner in foreground, leaf dependent', owners: [owner('a', 'waiting')], want: { type: 'delete', policy: 'Background' } },
    { name: 'owner in foreground, dependent with dependents: foreground on', owners: [owner('a', 'waiting')], hasDependents: true, want: { type: 'delete', policy: 'Foreground' } },
    { name: 'owner gone, dependents of its own: background', owners: [owner('a', 'dangling')], hasDependents: true, want: { type: 'delete', policy: 'Background' } },
    { name: 'own orphan finalizer is honoured', finalizers: ['orphan'], owners: [owner('a', 'dangling')], want: { type: 'delete', policy: 'Orphan' } },
    { name: 'own foreground finalizer is honoured', finalizers: ['foregroundDeletion'], owners: [owner('a', 'dangling')], want: { type: 'delete', policy: 'Foreground' } },
  ];
  for (const c of cases) assert.deepEqual(decideDependent(c.finalizers ?? [], c.owners, c.hasDependents ?? false), c.want, c.name);
});

test('decideDeletingOwner: orphan and foreground owners', () => {
  const dep = (uid: string, blocking: boolean, deleting = false): DependentView => ({ uid, blocking, deleting });
  const cases: Array<{ name: string; finalizers: string[]; deps: DependentView[]; want: unknown }> = [
    { name: 'orphan with dependents', finalizers: ['orphan'], deps: [dep('a', true), dep('b', false)], want: { type: 'orphan', dependents: ['a', 'b'] } },
    { name: 'orphan without dependents', finalizers: ['orphan'], deps: [], want: { type: 'removeFinalizer', finalizer: 'orphan' } },
    { name: 'foreground, blocking dependents left', finalizers: ['foregroundDeletion'], deps: [dep('a', true), dep('b', false)], want: { type: 'deleteDependents', dependents: ['a'] } },
    { name: 'foreground, blocking dependents already terminating', finalizers: ['foregroundDeletion'], deps: [dep('a', true, true)], want: { type: 'none' } },
    { name: 'foreground, only non-blocking dependents', finalizers: ['foregroundDeletion'], deps: [dep('b', false)], want: { type: 'removeFinalizer', finalizer: 'foregroundDeletion' } },
    { name: 'foreground, none left', finalizers: ['foregroundDeletion', 'example.com/x'], deps: [], want: { type: 'removeFinalizer', finalizer: 'foregroundDeletion' } },
    { name: 'someone else\'s finalizer only', finalizers: ['example.com/x'], deps: [dep('a', true)], want: { type: 'none' } },
  ];
  for (const c of cases) assert.deepEqual(decideDeletingOwner(c.finalizers, c.deps), c.want, c.name);
});

const ref = (uid: string, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: `cm-${uid}`, uid, ...extra });
const cm = (uid: string, owners: OwnerReference[] = [], extra: Partial<NonNullable<ObjectMetaView['metadata']>> = {}): ObjectMetaView => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${uid}`, namespace: 'default', uid, ownerReferences: owners, ...extra },
});
const ConfigMaps = { apiVersion: 'v1', resource: 'configmaps' };

test('ObjectGraph: dependents index follows owner reference changes and removals', () => {
  const g = new ObjectGraph();
  g.upsert(ConfigMaps, cm('owner'));
  g.upsert(ConfigMaps, cm('d1', [ref('owner')]));
  g.upsert(ConfigMaps, cm('d2', [ref('owner'), ref('other')]));
  assert.deepEqual(g.dependents('owner').sort(), ['d1', 'd2']);
  assert.deepEqual(g.dependents('other'), ['d2'], 'owners never seen still index their dependents');
  const change = g.upsert(ConfigMaps, cm('d2', [ref('other')]));
  assert.equal(change?.previous?.owners.length, 2);
  assert.deepEqual(g.dependents('owner'), ['d1']);
  g.remove('d1');
  assert.equal(g.hasDependents('owner'), false);
  g.remove('owner');
  assert.equal(g.get('owner'), undefined);
  assert.deepEqual(g.dependents('other'), ['d2']);
  assert.equal(g.upsert(ConfigMaps, { metadata: { name: 'x' } }), undefined, 'no uid: ignored');
});

test('ObjectGraph: deleting state and finalizers', () => {
  const g = new ObjectGraph();
  const fg = g.upsert(ConfigMaps, cm('o', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }))!.node;
  assert.equal(deletingDependents(fg), true);
  const orphaning = g.upsert(ConfigMaps, cm('p', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] }))!.node;
  assert.equal(deletingDependents(orphaning), false);
  const notYet = g.upsert(ConfigMaps, cm('q', [], { finalizers: ['foregroundDeletion'] }))!.node;
  assert.equal(deletingDependents(notYet), false);
});

test('ownersChanged: uid and blockOwnerDeletion matter, names do not', () => {
  const cases: Array<[OwnerReference[], OwnerReference[], boolean]> = [
    [[ref('a')], [ref('a')], false],
    [[ref('a')], [ref('a', { name: 'renamed' })], false],
    [[ref('a')], [ref('a', { blockOwnerDeletion: true })], true],
    [[ref('a')], [ref('b')], true],
    [[ref('a')], [], true],
  ];
  for (const [a, b, want] of cases) assert.equal(ownersChanged(a, b), want, JSON.stringify([a, b]));
});

test('discovery: collectable resources and kind resolution across versions', () => {
  const rs = collectable('v1', [
    { name: 'pods', kind: 'Pod', namespaced: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
    { name: 'pods/status', kind: 'Pod', namespaced: true, verbs: ['get', 'patch', 'update'] },
    { name: 'bindings', kind: 'Binding', namespaced: true, verbs: ['create'] },
    { name: 'nodes', kind: 'Node', namespaced: false, verbs: ['delete', 'get', 'list', 'patch', 'watch'] },
  ]);
  assert.deepEqual(rs.map((r) => r.ref.resource), ['pods', 'nodes']);
  const apps = collectable('apps/v1', [{ name: 'replicasets', kind: 'ReplicaSet', namespaced: true, verbs: ['delete', 'get', 'list', 'patch', 'watch'] }]);
  const kinds = new KindMap([...rs, ...apps]);
  assert.equal(kinds.resolve('v1', 'Node')?.namespaced, false);
  assert.equal(kinds.resolve('apps/v1beta2', 'ReplicaSet')?.ref.apiVersion, 'apps/v1', 'any version of a served group/kind');
  assert.equal(kinds.resolve('v1', 'ReplicaSet'), undefined, 'group matters');
  assert.equal(kinds.resolve('example.com/v1', 'Widget'), undefined);
});

test('metadataView keeps only what the collector reads', () => {
  const v = metadataView({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'n', uid: 'u', resourceVersion: '5', labels: { a: 'b' }, ownerReferences: [ref('o')], deletionTimestamp: 'T' },
    spec: { containers: [] }, status: { phase: 'Running' },
  });
  assert.deepEqual(v, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n', uid: 'u', resourceVersion: '5', ownerReferences: [ref('o')], deletionTimestamp: 'T' } });
});
