import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Node, Pod, Service } from '../../api/types.ts';
import { makeNode, makePod } from '../../testing/objects.ts';
import { reconcileSlices, type ReconcilePlan } from './reconcile.ts';
import { EndpointSliceTracker } from './tracker.ts';
import { findPort, TriggerTimeTracker } from './util.ts';

const svc = (over: Partial<NonNullable<Service['spec']>> = {}, labels?: Record<string, string>): Service => ({
  metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', creationTimestamp: '2026-01-01T00:00:00Z', ...(labels ? { labels } : {}) },
  spec: { selector: { app: 'web' }, clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...over },
});

let ipSeq = 0;
function pod(name: string, o: { ready?: boolean; port?: number; node?: string; ip?: string | null; terminating?: boolean; hostname?: string } = {}): Pod {
  const b = makePod(name).labels({ app: 'web' }).container({ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080, protocol: 'TCP' }] }).onNode(o.node ?? 'n1').phase('Running')
    .condition('Ready', o.ready === false ? 'False' : 'True');
  if (o.ip !== null) b.ip(o.ip ?? `10.244.${(++ipSeq >> 8) & 255}.${(ipSeq & 255) || 1}`);
  if (o.terminating) b.terminating();
  if (o.hostname) b.with((p) => Object.assign(p.spec!, { hostname: o.hostname, subdomain: 'web' }));
  return b.build();
}

const nodes = new Map<string, Node>([['n1', makeNode('n1').labels({ 'topology.kubernetes.io/zone': 'z1' }).build()]]);
const node = (n: string) => nodes.get(n);

/** Applies a plan as the API server would (names for generateName, a uid, generation 1), returning the slices after it. */
let nameSeq = 0;
function apply(existing: EndpointSlice[], plan: ReconcilePlan): EndpointSlice[] {
  const gone = new Set(plan.delete.map((s) => s.metadata?.name));
  const updated = new Map(plan.update.map((s) => [s.metadata?.name, s]));
  const out = existing.filter((s) => !gone.has(s.metadata?.name)).map((s) => updated.get(s.metadata?.name) ?? s);
  for (const s of plan.create) out.push({ ...s, metadata: { ...s.metadata, name: `${s.metadata?.generateName}${++nameSeq}`, uid: `slice-${nameSeq}`, resourceVersion: '1' } });
  return out;
}

test('pods become endpoints with kube conditions, nodeName, zone, targetRef and hostname; unready and terminating as kube computes', () => {
  const pods = [pod('a'), pod('b', { ready: false }), pod('c', { terminating: true }), pod('d', { ip: null }), pod('e', { hostname: 'e' })];
  const plan = reconcileSlices({ service: svc(), pods, node, existing: [] });
  assert.equal(plan.create.length, 1);
  const s = plan.create[0]!;
  assert.equal(s.metadata?.generateName, 'web-');
  assert.deepEqual(s.metadata?.labels, { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
  assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(s.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
  assert.deepEqual(s.endpoints?.map((e) => [e.targetRef?.name, e.conditions]), [
    ['a', { ready: true, serving: true, terminating: false }],
    ['b', { ready: false, serving: false, terminating: false }],
    ['c', { ready: false, serving: true, terminating: true }],
    ['e', { ready: true, serving: true, terminating: false }],
  ]);
  assert.deepEqual(s.endpoints?.[0], { addresses: [pods[0]!.status!.podIP], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: pods[0]!.metadata!.uid }, nodeName: 'n1', zone: 'z1' });
  assert.equal(s.endpoints?.[3]?.hostname, 'e');

  const published = reconcileSlices({ service: svc({ publishNotReadyAddresses: true }), pods, node, existing: [] });
  assert.ok(published.create[0]!.endpoints!.every((e) => e.conditions?.ready === true), 'publishNotReadyAddresses: ready always');
});

test('a missing node leaves the pod out and reports it (unless publishNotReadyAddresses); headless gets its label', () => {
  const plan = reconcileSlices({ service: svc({ clusterIP: 'None' }), pods: [pod('a', { node: 'gone' })], node, existing: [] });
  assert.deepEqual(plan.errors, ['skipping Pod a for Service default/web: Node gone Not Found']);
  assert.equal(plan.create.length, 1, 'the placeholder');
  assert.deepEqual(plan.create[0]!.endpoints, []);
  assert.deepEqual(plan.create[0]!.ports, []);
  assert.equal(plan.create[0]!.metadata?.labels?.['service.kubernetes.io/headless'], '');
  assert.equal(reconcileSlices({ service: svc({ publishNotReadyAddresses: true }), pods: [pod('a', { node: 'gone' })], node, existing: [] }).create[0]!.endpoints!.length, 1);
});

test('at most 100 a slice; 250 pods make 3 slices; an unchanged state writes nothing; scaling down deletes and reuses', () => {
  const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i}`));
  let slices = apply([], reconcileSlices({ service: svc(), pods, node, existing: [] }));
  assert.deepEqual(slices.map((s) => s.endpoints!.length).sort(), [100, 100, 50]);
  const again = reconcileSlices({ service: svc(), pods, node, existing: slices });
  assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0], 'nothing changed, nothing written');

  // One pod turns unready: only its slice is written.
  const changed = pods.map((p, i) => (i === 7 ? { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } } : p));
  const one = reconcileSlices({ service: svc(), pods: changed, node, existing: slices });
  assert.deepEqual([one.create.length, one.update.length, one.delete.length], [0, 1, 0]);
  assert.equal(one.update[0]!.endpoints!.find((e) => e.targetRef?.name === 'p7')?.conditions?.ready, false);

  // Down to 30: the slices keep what they hold, emptied ones go.
  const few = pods.slice(0, 30);
  const down = reconcileSlices({ service: svc(), pods: few, node, existing: slices });
  slices = apply(slices, down);
  assert.equal(down.create.length, 0);
  assert.deepEqual(slices.map((s) => s.endpoints!.length), [30]);

  // Gone entirely: the last slice becomes the placeholder by an update (finalize), not delete + create.
  const none = reconcileSlices({ service: svc(), pods: [], node, existing: slices });
  assert.deepEqual([none.create.length, none.update.length, none.delete.length], [0, 1, 0]);
  assert.deepEqual(none.update[0]!.endpoints, []);
  slices = apply(slices, none);
  const still = reconcileSlices({ service: svc(), pods: [], node, existing: slices });
  assert.deepEqual([still.create.length, still.update.length, still.delete.length], [0, 0, 0], 'the placeholder stays');
});

test('a named targetPort with different numbers splits pods into slices by port; Service labels propagate', () => {
  const pods = [pod('a', { port: 8080 }), pod('b', { port: 9090 }), pod('c', { port: 8080 })];
  const plan = reconcileSlices({ service: svc({}, { tier: 'front', 'kubernetes.io/service-name': 'x' }), pods, node, existing: [] });
  assert.deepEqual(plan.create.map((s) => [s.ports?.[0]?.port, s.endpoints?.map((e) => e.targetRef?.name)]).sort(), [[8080, ['a', 'c']], [9090, ['b']]]);
  assert.equal(plan.create[0]!.metadata?.labels?.tier, 'front');
  assert.equal(plan.create[0]!.metadata?.labels?.['kubernetes.io/service-name'], 'web');
  // A pod without the named port gets a slice without that port, as kube does.
  assert.deepEqual(findPort(makePod('x').container({ name: 'c' }).build(), { port: 80, targetPort: 'http' }), undefined);
  assert.equal(findPort(makePod('x').build(), { port: 80 }), 80);
});

test('slices of another owner (an earlier Service of that name) are deleted; the trigger time annotation is set', () => {
  const foreign: EndpointSlice = { metadata: { name: 'web-old', namespace: 'default', uid: 's1', resourceVersion: '5', labels: {}, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'old' }] }, addressType: 'IPv4', endpoints: [], ports: [] };
  const plan = reconcileSlices({ service: svc(), pods: [pod('a')], node, existing: [foreign], triggerTime: Date.parse('2026-01-01T00:00:01.5Z') });
  assert.deepEqual(plan.delete.map((s) => s.metadata?.name), ['web-old']);
  assert.equal(plan.create.length, 1, 'not reused: another owner');
  assert.equal(plan.create[0]!.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2026-01-01T00:00:01.5Z');
});

test('tracker: stale caches and own echoes', () => {
  const t = new EndpointSliceTracker();
  const s = (gen: number): EndpointSlice => ({ metadata: { name: 'web-1', namespace: 'default', uid: 'u1', generation: gen, labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [] });
  assert.equal(t.shouldSync(s(1)), true);
  t.update(s(2));
  assert.equal(t.staleSlices('default/web', []), true, 'our slice is not in the cache yet');
  assert.equal(t.staleSlices('default/web', [s(1)]), true, 'the cache has an older generation');
  assert.equal(t.staleSlices('default/web', [s(2)]), false);
  assert.equal(t.shouldSync(s(2)), false, 'our own write coming back');
  assert.equal(t.shouldSync(s(3)), true, 'someone else wrote it');
  t.expectDeletion(s(2));
  assert.equal(t.staleSlices('default/web', [s(2)]), true, 'deleted but still cached');
  assert.equal(t.handleDeletion(s(2)), false, 'our own deletion');
  assert.equal(t.staleSlices('default/web', []), false);
});

test('trigger time: the earliest change since the previous sync', () => {
  const tt = new TriggerTimeTracker();
  const at = (name: string, t: string) => makePod(name).condition('Ready', 'True', undefined, t).build();
  const s = svc();
  assert.equal(tt.compute('k', s, [at('a', '2026-01-01T00:00:05Z')]), Date.parse('2026-01-01T00:00:00Z'), 'first sync: the Service creation');
  assert.equal(tt.compute('k', s, [at('a', '2026-01-01T00:00:05Z')]), undefined, 'nothing changed');
  assert.equal(tt.compute('k', s, [at('a', '2026-01-01T00:00:05Z'), at('b', '2026-01-01T00:00:09Z')]), Date.parse('2026-01-01T00:00:09Z'));
});
