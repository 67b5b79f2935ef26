// Garbage collection against a real API server: owner deletion cascades in the background, in the
// foreground (owner last) and not at all with Orphan; across kinds and scopes (a Node owns its Lease).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, KubeObject, Lease, OwnerReference, Pod, Secret } from '../../src/api/types.ts';
import type { ApiClient } from '../../src/client/client.ts';
import { isNotFound } from '../../src/client/errors.ts';
import { ConfigMaps, Events, Leases, Nodes, Pods, Secrets, ServiceAccounts } from '../../src/client/resources.ts';
import type { ResourceRef } from '../../src/client/resources.ts';
import { startHarness, readyNode } from './controllers-harness.ts';
import { makePod } from '../../src/testing/objects.ts';
import type { Harness, Watched } from './controllers-harness.ts';

let h: Harness;
let cms: Watched<ConfigMap>;
let secrets: Watched<Secret>;
/** Order in which objects disappeared ("configmaps/name"), as the watches saw it. */
const deletions: string[] = [];

before(async () => {
  h = await startHarness({ nodeLifecycle: false, podGC: false, garbageCollector: { discoveryPeriodMs: 60_000 } });
  cms = await h.watch<ConfigMap>(ConfigMaps, 'default');
  secrets = await h.watch<Secret>(Secrets, 'default');
  cms.informer.addEventHandler({ onDelete: (o) => deletions.push(`configmaps/${o.metadata?.name}`) });
  secrets.informer.addEventHandler({ onDelete: (o) => deletions.push(`secrets/${o.metadata?.name}`) });
  for (const [ref, ns] of [[Pods, 'default'], [ServiceAccounts, 'default'], [Leases, 'kube-node-lease']] as const) {
    watched.set(`${ref.resource}/${ns}`, await h.watch<KubeObject>(ref, ns));
  }
  watched.set('configmaps/default', cms as unknown as Watched<KubeObject>);
  watched.set('secrets/default', secrets as unknown as Watched<KubeObject>);
  await h.controllers.garbageCollector!.synced();
});

after(async () => {
  await h?.close();
});

function ownedBy(owner: { apiVersion?: string; kind?: string; metadata?: { name?: string; uid?: string } }, block = false): OwnerReference[] {
  return [{ apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata!.name!, uid: owner.metadata!.uid!, ...(block ? { blockOwnerDeletion: true } : {}) }];
}

const cm = (name: string, ownerReferences?: OwnerReference[]): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ownerReferences }, data: { k: 'v' } });

async function exists(client: ApiClient, ref: ResourceRef, ns: string | undefined, name: string): Promise<boolean> {
  try {
    await client.get(ref, ns, name);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

const watched = new Map<string, Watched<KubeObject>>();

/** Resolves once none of the objects is in its resource's watch cache any more (awaited on events). */
async function untilGone(items: Array<[ResourceRef, string, string]>, what: string): Promise<void> {
  await Promise.all(items.map(async ([ref, ns, name]) => {
    const w = watched.get(`${ref.resource}/${ns}`);
    if (!w) throw new Error(`no watch on ${ref.resource} in ${ns}`);
    await w.until((objs) => !objs.some((o) => o.metadata?.name === name), `${what}: ${ref.resource}/${name} gone`);
  }));
  // The caches are behind the server at most: confirm there.
  for (const [ref, ns, name] of items) assert.equal(await exists(h.client, ref, ns, name), false, `${ref.resource}/${name}`);
}

test('background: deleting an owner deletes its dependents of every kind', async () => {
  const owner = await h.client.create<ConfigMap>(ConfigMaps, 'default', cm('bg-owner'));
  const refs = ownedBy(owner);
  await h.client.create(ConfigMaps, 'default', cm('bg-cm', refs));
  await h.client.create<Secret>(Secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bg-secret', ownerReferences: refs }, stringData: { a: 'b' } });
  await h.client.create<Pod>(Pods, 'default', makePod('bg-pod').with((p) => (p.metadata!.ownerReferences = refs)).build());
  await h.client.create(ServiceAccounts, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bg-sa', ownerReferences: refs } });
  // One dependent with a second owner that stays: it only loses the reference to the gone one.
  const keeper = await h.client.create<ConfigMap>(ConfigMaps, 'default', cm('bg-keeper'));
  await h.client.create(ConfigMaps, 'default', cm('bg-shared', [...refs, ...ownedBy(keeper)]));

  await h.client.delete(ConfigMaps, 'default', 'bg-owner', { propagationPolicy: 'Background' });
  await untilGone([[ConfigMaps, 'default', 'bg-cm'], [Secrets, 'default', 'bg-secret'], [Pods, 'default', 'bg-pod'], [ServiceAccounts, 'default', 'bg-sa']], 'background cascade');
  const shared = await cms.until((items) => items.find((c) => c.metadata?.name === 'bg-shared')?.metadata?.ownerReferences?.length === 1, 'shared dependent keeps one owner');
  assert.equal(shared.find((c) => c.metadata?.name === 'bg-shared')?.metadata?.ownerReferences?.[0]?.uid, keeper.metadata?.uid);
});

test('foreground: the owner waits (deletionTimestamp + foregroundDeletion) until its blocking dependents, and theirs, are gone', async () => {
  const owner = await h.client.create<ConfigMap>(ConfigMaps, 'default', cm('fg-owner'));
  const child = await h.client.create<ConfigMap>(ConfigMaps, 'default', cm('fg-child', ownedBy(owner, true)));
  await h.client.create<Secret>(Secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'fg-grandchild', ownerReferences: ownedBy(child, true) } });
  await h.client.create(ConfigMaps, 'default', cm('fg-loose', ownedBy(owner, false)));

  const answer = (await h.client.delete<ConfigMap>(ConfigMaps, 'default', 'fg-owner', { propagationPolicy: 'Foreground' })) as ConfigMap;
  assert.ok(answer.metadata?.deletionTimestamp, 'the owner is being deleted');
  assert.deepEqual(answer.metadata?.finalizers, ['foregroundDeletion']);
  await untilGone([[ConfigMaps, 'default', 'fg-owner'], [ConfigMaps, 'default', 'fg-child'], [Secrets, 'default', 'fg-grandchild'], [ConfigMaps, 'default', 'fg-loose']], 'foreground cascade');
  const order = deletions.filter((d) => /fg-(owner|child|grandchild)$/.test(d));
  assert.deepEqual(order, ['secrets/fg-grandchild', 'configmaps/fg-child', 'configmaps/fg-owner'], 'dependents first, owner last');
});

test('orphan: the owner goes, its dependents stay without the reference', async () => {
  const owner = await h.client.create<ConfigMap>(ConfigMaps, 'default', cm('or-owner'));
  await h.client.create(ConfigMaps, 'default', cm('or-dep1', ownedBy(owner, true)));
  await h.client.create<Secret>(Secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'or-dep2', ownerReferences: ownedBy(owner) } });
  const answer = (await h.client.delete<ConfigMap>(ConfigMaps, 'default', 'or-owner', { propagationPolicy: 'Orphan' })) as ConfigMap;
  assert.deepEqual(answer.metadata?.finalizers, ['orphan']);
  await untilGone([[ConfigMaps, 'default', 'or-owner']], 'orphaning owner');
  const dep1 = await h.client.get<ConfigMap>(ConfigMaps, 'default', 'or-dep1');
  const dep2 = await h.client.get<Secret>(Secrets, 'default', 'or-dep2');
  assert.equal(dep1.metadata?.ownerReferences, undefined);
  assert.equal(dep2.metadata?.ownerReferences, undefined);
});

test('cluster-scoped owner: deleting a Node deletes its Lease; dangling and unserved owners', async () => {
  const node = await h.client.create(Nodes, undefined, readyNode('gc-node'));
  await h.client.create<Lease>(Leases, 'kube-node-lease', {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name: 'gc-node', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'gc-node', uid: node.metadata!.uid! }] },
    spec: { holderIdentity: 'gc-node' },
  });
  // An owner that never existed (the UID of nothing): collected as soon as seen.
  await h.client.create(ConfigMaps, 'default', cm('dangling', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'nobody', uid: '00000000-0000-0000-0000-000000000001' }]));
  // An owner whose kind the server does not serve: never treated as gone.
  await h.client.create(ConfigMaps, 'default', cm('unserved', [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'ing', uid: '00000000-0000-0000-0000-000000000002' }]));
  // Same name as a gone owner but another UID: the reference is dangling.
  const first = await h.client.create<ConfigMap>(ConfigMaps, 'default', cm('reborn'));
  await h.client.create(ConfigMaps, 'default', cm('of-first', ownedBy(first)));

  await h.client.delete(Nodes, undefined, 'gc-node');
  await untilGone([[Leases, 'kube-node-lease', 'gc-node'], [ConfigMaps, 'default', 'dangling']], 'node lease and dangling dependent');

  await h.client.delete(ConfigMaps, 'default', 'reborn');
  await h.client.create(ConfigMaps, 'default', cm('reborn'));
  await untilGone([[ConfigMaps, 'default', 'of-first']], 'dependent of a re-created owner name');
  assert.equal(await exists(h.client, ConfigMaps, 'default', 'unserved'), true, 'unserved owner kind: kept');
  assert.equal(await exists(h.client, ConfigMaps, 'default', 'reborn'), true, 'the new object of that name is not touched');
  assert.deepEqual(h.errors, []);
});

test('events are not collected (kube-controller-manager ignores them): an owned Event outlives its owner', async () => {
  const owner = await h.client.create<ConfigMap>(ConfigMaps, 'default', cm('ev-owner'));
  const refs = ownedBy(owner);
  await h.client.create(ConfigMaps, 'default', cm('ev-cm', refs));
  await h.client.create<KubeObject>(Events, 'default', {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'ev-owned', ownerReferences: refs },
    involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'ev-owner', uid: owner.metadata!.uid },
    reason: 'Test',
    message: 'owned by a configmap',
    type: 'Normal',
  } as KubeObject);
  await h.client.delete(ConfigMaps, 'default', 'ev-owner', { propagationPolicy: 'Background' });
  // The configmap dependent going shows the cascade ran; the event, owned the same way, stays.
  await untilGone([[ConfigMaps, 'default', 'ev-cm']], 'background cascade');
  assert.equal(await exists(h.client, Events, 'default', 'ev-owned'), true);
});
