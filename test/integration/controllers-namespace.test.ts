// The namespace, serviceaccount and root-CA publisher controllers against a real control plane: every
// namespace gets its `default` ServiceAccount and `kube-root-ca.crt`, and gets them back when they are
// removed or changed; a deleted namespace is emptied of every namespaced kind, says what holds it in
// its conditions while a finalizer does, and is gone once nothing is left; nothing new is created in
// it meanwhile; the namespaces every cluster needs may not be deleted.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Namespace, ServiceAccount } from '../../src/api/types.ts';
import { ApiError } from '../../src/client/errors.ts';
import { ConfigMaps, Leases, Namespaces, Pods, Secrets, ServiceAccounts } from '../../src/client/resources.ts';
import { startHarness, type Harness } from './controllers-harness.ts';
import { makePod } from '../../src/testing/objects.ts';

let h: Harness;

before(async () => {
  h = await startHarness({ nodeLifecycle: false, garbageCollector: false, podGC: false });
});

after(async () => {
  await h?.close();
});

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return err;
  }
  throw new Error('expected a refusal');
}

test('every namespace gets its default ServiceAccount and kube-root-ca.crt, and keeps them', async () => {
  const sas = await h.watch<ServiceAccount>(ServiceAccounts);
  const cms = await h.watch<ConfigMap>(ConfigMaps);
  const has = (items: { metadata?: { namespace?: string; name?: string } }[], ns: string, name: string) => items.some((o) => o.metadata?.namespace === ns && o.metadata?.name === name);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await sas.until((all) => has(all, ns, 'default'), `default service account in ${ns}`);
    await cms.until((all) => has(all, ns, 'kube-root-ca.crt'), `kube-root-ca.crt in ${ns}`);
  }
  await h.client.create<Namespace>(Namespaces, undefined, { metadata: { name: 'team-a' } });
  await sas.until((all) => has(all, 'team-a', 'default'), 'default service account in team-a');
  const [cm] = (await cms.until((all) => has(all, 'team-a', 'kube-root-ca.crt'), 'kube-root-ca.crt in team-a')).filter((c) => c.metadata?.namespace === 'team-a');
  assert.equal(cm!.data?.['ca.crt'], h.cp.pki.caCertPem);
  assert.match(cm!.metadata?.annotations?.['kubernetes.io/description'] ?? '', /^Contains a CA bundle that can be used to verify the kube-apiserver/);

  // Removed or changed, they come back as they were.
  const before = (await h.client.get<ServiceAccount>(ServiceAccounts, 'team-a', 'default')).metadata!.uid;
  await h.client.delete(ServiceAccounts, 'team-a', 'default');
  await sas.until((all) => all.some((o) => o.metadata?.namespace === 'team-a' && o.metadata?.name === 'default' && o.metadata.uid !== before), 'a new default service account');
  await h.client.patch(ConfigMaps, 'team-a', 'kube-root-ca.crt', 'merge', { data: { 'ca.crt': 'forged', extra: 'x' } });
  await cms.until((all) => all.some((c) => c.metadata?.namespace === 'team-a' && c.metadata?.name === 'kube-root-ca.crt' && c.data?.['ca.crt'] === h.cp.pki.caCertPem && !c.data.extra), 'kube-root-ca.crt restored');
  await h.client.delete(ConfigMaps, 'team-a', 'kube-root-ca.crt');
  await cms.until((all) => has(all, 'team-a', 'kube-root-ca.crt'), 'kube-root-ca.crt made again');
});

test('a deleted namespace is emptied, held by a finalizer with conditions saying so, then gone', async () => {
  const c = h.client;
  const nss = await h.watch<Namespace>(Namespaces);
  await c.create<Namespace>(Namespaces, undefined, { metadata: { name: 'doomed' } });
  await c.create(ConfigMaps, 'doomed', { metadata: { name: 'plain' }, data: { a: '1' } });
  await c.create(ConfigMaps, 'doomed', { metadata: { name: 'held', finalizers: ['example.com/hold'] }, data: { a: '1' } });
  await c.create(Secrets, 'doomed', { metadata: { name: 's' }, stringData: { k: 'v' } });
  await c.create(Leases, 'doomed', { metadata: { name: 'l' }, spec: {} });
  await c.create(Pods, 'doomed', makePod('unbound', 'doomed').build());
  await c.delete(Namespaces, undefined, 'doomed');

  const holding = (n: Namespace) => n.metadata?.name === 'doomed' && (n.status?.conditions ?? []).some((k) => k.type === 'NamespaceFinalizersRemaining' && k.status === 'True');
  const [ns] = (await nss.until((all) => all.some(holding), 'doomed held by a finalizer').catch((e) => { console.log(JSON.stringify(nss.informer.store.list().find((n) => n.metadata?.name === 'doomed'), null, 1), h.errors); throw e; })).filter(holding);
  assert.equal(ns!.status?.phase, 'Terminating');
  const cond = (t: string) => ns!.status?.conditions?.find((k) => k.type === t);
  assert.equal(cond('NamespaceFinalizersRemaining')?.message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
  assert.equal(cond('NamespaceContentRemaining')?.message, 'Some resources are remaining: configmaps has 1 resource instances');
  assert.equal(cond('NamespaceDeletionContentFailure')?.status, 'False');
  assert.equal(cond('NamespaceDeletionDiscoveryFailure')?.status, 'False');
  assert.deepEqual((await c.list(ConfigMaps, 'doomed')).items.map((o) => (o as ConfigMap).metadata?.name), ['held']);
  for (const ref of [Secrets, Leases, Pods, ServiceAccounts]) assert.equal((await c.list(ref, 'doomed')).items.length, 0, ref.resource);

  // Nothing new is created in it meanwhile.
  const err = await refusal(c.create(ConfigMaps, 'doomed', { metadata: { name: 'late' } }));
  assert.equal(err.code, 403);
  assert.equal(err.message, 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');

  await c.patch(ConfigMaps, 'doomed', 'held', 'merge', { metadata: { finalizers: null } });
  await nss.until((all) => !all.some((n) => n.metadata?.name === 'doomed'), 'doomed gone');
});

test('the namespaces every cluster needs may not be deleted; content needs an existing namespace', async () => {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const err = await refusal(h.client.delete(Namespaces, undefined, name));
    assert.equal(err.code, 403);
    assert.equal(err.message, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
  }
  const err = await refusal(h.client.create(ConfigMaps, 'nowhere', { metadata: { name: 'x' } }));
  assert.equal(err.code, 404);
  assert.equal(err.message, 'namespaces "nowhere" not found');
});
