// Node lifecycle against a real API server: nodes are plain Node objects whose Lease the test renews
// (no agent), with a 1 s grace period and toleration seconds of 0 and 2.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Taint } from '../../src/api/types.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { startHarness, markRunning, postReady, readyNode, renewLease } from './controllers-harness.ts';
import { makePod } from '../../src/testing/objects.ts';
import type { Harness, Watched } from './controllers-harness.ts';

const GRACE_MS = 1000;
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const NOT_READY = 'node.kubernetes.io/not-ready';

let h: Harness;
let nodes: Watched<Node>;
let pods: Watched<Pod>;
const renewing = new Set<string>();
let renewTimer: NodeJS.Timeout | undefined;

const nodeNamed = (items: Node[], name: string): Node | undefined => items.find((n) => n.metadata?.name === name);
const podNamed = (items: Pod[], name: string): Pod | undefined => items.find((p) => p.metadata?.name === name);
const ready = (n: Node | undefined): string | undefined => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const hasTaint = (n: Node | undefined, key: string, effect: string): Taint | undefined => n?.spec?.taints?.find((t) => t.key === key && t.effect === effect);

before(async () => {
  h = await startHarness({
    nodeLifecycle: { nodeMonitorGracePeriodMs: GRACE_MS, podCIDRAllocationDelayMs: 0 },
    garbageCollector: false,
    podGC: false,
  });
  nodes = await h.watch<Node>(Nodes);
  pods = await h.watch<Pod>(Pods, 'default');
  for (const n of ['n1', 'n2']) {
    await h.client.create(Nodes, undefined, readyNode(n));
    await renewLease(h.client, n);
    renewing.add(n);
  }
  // The agents' heartbeat, every 200 ms (a fifth of the grace period, as 10 s is of 40 s).
  renewTimer = setInterval(() => {
    for (const n of renewing) void renewLease(h.client, n).catch(() => {});
  }, 200);
});

after(async () => {
  clearInterval(renewTimer);
  await h?.close();
});

test('nodes without spec.podCIDR get distinct /24s of the cluster CIDR', async () => {
  const all = await nodes.until((items) => ['n1', 'n2'].every((n) => nodeNamed(items, n)?.spec?.podCIDR), 'pod CIDRs');
  const cidrs = ['n1', 'n2'].map((n) => nodeNamed(all, n)!.spec!);
  for (const spec of cidrs) {
    assert.match(spec.podCIDR!, /^10\.244\.\d+\.0\/24$/);
    assert.deepEqual(spec.podCIDRs, [spec.podCIDR]);
  }
  assert.notEqual(cidrs[0].podCIDR, cidrs[1].podCIDR);
});

test('a node whose Lease stops goes Unknown within the grace period, is tainted, its pods evicted by their tolerations; back, it is untainted', async () => {
  const unreachableFor = (seconds?: number) => [{ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }];
  const specs: Array<[string, Pod]> = [
    ['forever', makePod('forever').onNode('n1').toleration(...unreachableFor()).build()],
    ['zero', makePod('zero').onNode('n1').toleration(...unreachableFor(0)).build()],
    ['two', makePod('two').onNode('n1').toleration(...unreachableFor(2)).build()],
    ['default', makePod('default').onNode('n1').build()], // admission adds the 300 s tolerations
    ['elsewhere', makePod('elsewhere').onNode('n2').build()],
  ];
  for (const [, p] of specs) {
    const created = await h.client.create<Pod>(Pods, 'default', p);
    await markRunning(h.client, created);
  }
  await pods.until((items) => items.filter((p) => p.status?.phase === 'Running').length === specs.length, 'pods running');

  const stoppedAt = Date.now();
  renewing.delete('n1');
  const afterUnknown = await nodes.until((items) => ready(nodeNamed(items, 'n1')) === 'Unknown', 'n1 Unknown', GRACE_MS + 5000);
  const elapsed = Date.now() - stoppedAt;
  assert.ok(elapsed <= GRACE_MS + 1500, `Unknown after ${elapsed} ms, grace ${GRACE_MS} ms`);
  assert.ok(elapsed >= GRACE_MS - 300, `not before the grace period (${elapsed} ms)`);
  for (const c of nodeNamed(afterUnknown, 'n1')!.status!.conditions!) {
    assert.equal(c.status, 'Unknown', c.type);
    assert.equal(c.message, c.type === 'Ready' ? 'Kubelet stopped posting node status.' : c.message);
  }
  const readyCond = nodeNamed(afterUnknown, 'n1')!.status!.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(readyCond.reason, 'NodeStatusUnknown');
  assert.equal(ready(nodeNamed(afterUnknown, 'n2')), 'True', 'the renewed node stays Ready');

  const tainted = await nodes.until((items) => !!hasTaint(nodeNamed(items, 'n1'), UNREACHABLE, 'NoExecute') && !!hasTaint(nodeNamed(items, 'n1'), UNREACHABLE, 'NoSchedule'), 'unreachable taints');
  const taint = hasTaint(nodeNamed(tainted, 'n1'), UNREACHABLE, 'NoExecute')!;
  assert.ok(taint.timeAdded, 'NoExecute taint carries timeAdded');
  assert.equal(nodeNamed(tainted, 'n2')?.spec?.taints, undefined);

  // No matching toleration window: evicted at once (graceful: Terminating, as no agent confirms).
  const zeroGone = await pods.until((items) => !!podNamed(items, 'zero')?.metadata?.deletionTimestamp, 'zero evicted', 3000);
  assert.equal(podNamed(zeroGone, 'two')?.metadata?.deletionTimestamp, undefined, 'two waits for its 2 s');
  const twoGone = await pods.until((items) => !!podNamed(items, 'two')?.metadata?.deletionTimestamp, 'two evicted', 5000);
  const sinceTaint = Date.now() - Date.parse(taint.timeAdded!);
  assert.ok(sinceTaint >= 2000 && sinceTaint < 4500, `two evicted ${sinceTaint} ms after the taint`);
  const reasons = podNamed(twoGone, 'two')?.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  assert.equal(reasons?.reason, 'DeletionByTaintManager');
  for (const name of ['forever', 'default', 'elsewhere']) assert.equal(podNamed(twoGone, name)?.metadata?.deletionTimestamp, undefined, `${name} stays`);

  // Pods on an Unknown node are not Ready any more; elsewhere they are.
  const notReady = await pods.until((items) => podNamed(items, 'forever')?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', 'forever not ready');
  assert.equal(podNamed(notReady, 'elsewhere')?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

  // The node comes back: heartbeat and Ready=True.
  renewing.add('n1');
  await renewLease(h.client, 'n1');
  await postReady(h.client, 'n1', 'True');
  const back = await nodes.until((items) => (nodeNamed(items, 'n1')?.spec?.taints ?? []).length === 0 && ready(nodeNamed(items, 'n1')) === 'True', 'n1 untainted');
  assert.equal(nodeNamed(back, 'n1')?.spec?.taints, undefined);
  const still = pods.informer.store.list();
  for (const name of ['forever', 'default']) assert.equal(podNamed(still, name)?.metadata?.deletionTimestamp, undefined, `${name} never evicted`);
});

test('a node reporting Ready=False gets not-ready taints; a user NoExecute taint evicts untolerating pods at once', async () => {
  await postReady(h.client, 'n2', 'False');
  const tainted = await nodes.until((items) => !!hasTaint(nodeNamed(items, 'n2'), NOT_READY, 'NoExecute'), 'not-ready taint');
  assert.ok(hasTaint(nodeNamed(tainted, 'n2'), NOT_READY, 'NoSchedule'));
  assert.equal(ready(nodeNamed(tainted, 'n2')), 'False', 'the agent\'s own report is kept');
  await postReady(h.client, 'n2', 'True');
  await nodes.until((items) => !hasTaint(nodeNamed(items, 'n2'), NOT_READY, 'NoExecute'), 'not-ready taint removed');

  const p = await h.client.create<Pod>(Pods, 'default', makePod('victim').onNode('n2').build());
  const tolerant = await h.client.create<Pod>(Pods, 'default', makePod('tolerant').onNode('n2').toleration({ key: 'maintenance', operator: 'Exists', effect: 'NoExecute' }).build());
  await h.client.patch(Nodes, undefined, 'n2', 'merge', { spec: { taints: [{ key: 'maintenance', value: 'now', effect: 'NoExecute' }] } });
  const evicted = await pods.until((items) => !!podNamed(items, 'victim')?.metadata?.deletionTimestamp, 'victim evicted', 3000);
  assert.equal(podNamed(evicted, 'victim')?.metadata?.uid, p.metadata?.uid);
  assert.equal(podNamed(evicted, 'tolerant')?.metadata?.deletionTimestamp, undefined);
  assert.ok(tolerant.metadata?.uid);
  const n2 = nodeNamed(nodes.informer.store.list(), 'n2');
  assert.deepEqual(n2?.spec?.taints, [{ key: 'maintenance', value: 'now', effect: 'NoExecute' }], 'user taints are left alone');
  assert.deepEqual(h.errors, [], 'conflicts are retried quietly; nothing else failed');
});
