// The node lifecycle controller on fake time against a real API server: Kubernetes' default timings
// (40 s grace period, the 300 s tolerations admission gives every pod) and taint-based eviction timing
// (the toleration period starts when the controller first sees the pod under the taint, as Kubernetes'
// taint eviction controller) checked in milliseconds.
//
// The tests share one fake clock and run in order; each works on its own node, created Unknown and
// already carrying the unreachable taints (timeAdded an hour back), so no later clock advance changes
// its taints except the test's own writes.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Taint, Toleration } from '../../src/api/types.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import type { EventSink, EventTarget } from '../../src/controllers/events.ts';
import { SharedInformers } from '../../src/controllers/informers.ts';
import { NodeLifecycleController } from '../../src/controllers/nodelifecycle/controller.ts';
import { FakeClock, rfc3339 } from '../../src/util/clock.ts';
import { startHarness, readyNode, renewLease } from './controllers-harness.ts';
import { makeNode, makePod } from '../../src/testing/objects.ts';
import { until } from '../../src/testing/until.ts';
import type { Harness, Watched } from './controllers-harness.ts';

let h: Harness;
let nodes: Watched<Node>;
let pods: Watched<Pod>;
let informers: SharedInformers;
let controller: NodeLifecycleController;
const clock = new FakeClock(Date.now());
const errors: unknown[] = [];
const events: string[] = [];
const sink: EventSink = { event: (t: EventTarget, _type, reason, message) => events.push(`${t.name} ${reason} ${message}`) };

const UNREACHABLE = 'node.kubernetes.io/unreachable';
const hourAgo = rfc3339(clock.now() - 3600_000);
const unreachableTaints: Taint[] = [
  { key: UNREACHABLE, effect: 'NoExecute', timeAdded: hourAgo },
  { key: UNREACHABLE, effect: 'NoSchedule' },
];
const maintenance: Taint = { key: 'maintenance', effect: 'NoExecute' };
const tol = (key: string, seconds?: number): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) });

const ready = (items: Node[]): string | undefined => items.find((n) => n.metadata?.name === 'slow')?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const podNamed = (name: string): Pod | undefined => pods.informer.store.list().find((p) => p.metadata?.name === name);
const isEvicted = (name: string): boolean => !!podNamed(name)?.metadata?.deletionTimestamp;

/** Lets the controller's workers and the watches catch up with what the last advance triggered. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 100));
}

/** An unreachable node (Ready=Unknown, both unreachable taints, timeAdded an hour ago) plus `extra` taints. */
async function unreachableNode(name: string, ...extra: Taint[]): Promise<void> {
  await h.client.create(Nodes, undefined, makeNode(name).ready('Unknown', hourAgo).taint(...unreachableTaints, ...extra).build());
}

async function podOn(name: string, node: string, tolerations: Toleration[]): Promise<string> {
  const p = await h.client.create<Pod>(Pods, 'default', makePod(name).onNode(node).toleration(...tolerations).build());
  return p.metadata?.uid ?? '';
}

/** Waits until `c` has seen the pod and started its toleration period; returns the start. */
function periodStarted(c: NodeLifecycleController, uid: string, what: string): Promise<number> {
  return until(`${what}: toleration period started`, () => c.evictionPeriodStart(uid), { timeoutMs: 5000 });
}

const awaitEvicted = (name: string): Promise<Pod[]> => pods.until(() => isEvicted(name), `${name} evicted`, 3000);

before(async () => {
  h = await startHarness({ nodeLifecycle: false, garbageCollector: false, podGC: false });
  nodes = await h.watch<Node>(Nodes);
  pods = await h.watch<Pod>(Pods, 'default');
  informers = new SharedInformers(h.client, { clock, onError: (e) => errors.push(e) });
  controller = new NodeLifecycleController({ client: h.client, informers, clock, events: sink, onError: (e) => errors.push(e), podCIDRAllocationDelayMs: 0 });
  await h.client.create(Nodes, undefined, readyNode('slow'));
  await renewLease(h.client, 'slow');
  await h.client.create(Pods, 'default', makePod('app').onNode('slow').build());
  controller.start();
  await informers.waitForSync();
  await nodes.until((items) => !!items.find((n) => n.metadata?.name === 'slow')?.spec?.podCIDR, 'podCIDR');
});

after(async () => {
  await controller?.stop();
  await informers?.stop();
  await h?.close();
});

test('default 40 s grace period, then the 300 s default toleration, on fake time', async () => {
  clock.advance(39_000);
  await settle();
  assert.equal(ready(nodes.informer.store.list()), 'True', 'still Ready at 39 s');
  clock.advance(1_000);
  await nodes.until((items) => ready(items) === 'Unknown', 'Unknown at 40 s', 3000);
  const taint = await nodes.until((items) => !!items.find((n) => n.metadata?.name === 'slow')?.spec?.taints?.some((t) => t.effect === 'NoExecute'), 'unreachable taint');
  assert.equal(taint.find((n) => n.metadata?.name === 'slow')?.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded?.slice(0, 16), new Date(clock.now()).toISOString().slice(0, 16));
  // The controller writes the taint and sees it through its own informer a moment later: the period
  // starts then, so wait for it before moving the clock.
  const start = await periodStarted(controller, podNamed('app')?.metadata?.uid ?? '', 'app');
  assert.equal(start, clock.now());

  clock.advance(299_000);
  await settle();
  assert.equal(isEvicted('app'), false, 'tolerated for 300 s');
  clock.advance(2_000);
  await awaitEvicted('app');
  assert.ok(events.includes('app TaintManagerEviction Marking for deletion Pod default/app'), events.join('\n'));
  const cond = podNamed('app')?.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  assert.deepEqual([cond?.status, cond?.reason, cond?.message], ['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);
  assert.deepEqual(errors, []);
});

test('on a node tainted an hour ago: each pod by its tolerations, counted from when it is first seen', async () => {
  // Every pod but `none` tolerates `maintenance` for ever, so the unreachable toleration decides.
  const cases: Array<{ pod: string; tolerations: Toleration[]; evictAfter: number | 'never' }> = [
    { pod: 'tol-300', tolerations: [tol(UNREACHABLE, 300), tol('maintenance')], evictAfter: 300 },
    { pod: 'tol-0', tolerations: [tol(UNREACHABLE, 0), tol('maintenance')], evictAfter: 0 },
    { pod: 'tol-negative', tolerations: [tol(UNREACHABLE, -10), tol('maintenance')], evictAfter: 0 },
    { pod: 'none', tolerations: [], evictAfter: 0 },
    { pod: 'min-of-two', tolerations: [tol(UNREACHABLE, 600), tol('maintenance', 60)], evictAfter: 60 },
    { pod: 'forever', tolerations: [tol(UNREACHABLE), tol('maintenance')], evictAfter: 'never' },
  ];
  await unreachableNode('gone', maintenance);
  await nodes.until((items) => items.some((n) => n.metadata?.name === 'gone'), 'node gone');
  const t0 = clock.now();
  for (const c of cases) {
    const uid = await podOn(c.pod, 'gone', c.tolerations);
    if (typeof c.evictAfter === 'number' && c.evictAfter > 0) assert.equal(await periodStarted(controller, uid, c.pod), t0, c.pod);
  }
  for (const c of cases.filter((x) => x.evictAfter === 0)) await awaitEvicted(c.pod);

  // Walk the clock to just before and just after each deadline.
  for (const deadline of [60, 300]) {
    clock.advance(t0 + (deadline - 1) * 1000 - clock.now());
    await settle();
    for (const c of cases) {
      const due = typeof c.evictAfter === 'number' && c.evictAfter < deadline;
      assert.equal(isEvicted(c.pod), due, `${c.pod} at ${deadline - 1} s`);
    }
    clock.advance(1000);
    for (const c of cases.filter((x) => x.evictAfter === deadline)) await awaitEvicted(c.pod);
  }
  clock.advance(3600_000);
  await settle();
  assert.equal(isEvicted('forever'), false, 'tolerated for ever');
  for (const c of cases.filter((x) => x.evictAfter !== 'never')) {
    assert.equal(events.filter((e) => e === `${c.pod} TaintManagerEviction Marking for deletion Pod default/${c.pod}`).length, 1, `one event for ${c.pod}`);
  }
  assert.deepEqual(errors, []);
});

test('the taint removed before the deadline cancels the eviction', async () => {
  await unreachableNode('flaky', maintenance);
  await nodes.until((items) => items.some((n) => n.metadata?.name === 'flaky'), 'node flaky');
  const uid = await podOn('waits', 'flaky', [tol(UNREACHABLE), tol('maintenance', 100)]);
  await periodStarted(controller, uid, 'waits');
  clock.advance(50_000);
  await settle();
  await h.client.patch(Nodes, undefined, 'flaky', 'merge', { spec: { taints: unreachableTaints } });
  await until('the cancel event', () => events.includes('waits TaintManagerEviction Cancelling deletion of Pod default/waits'), { timeoutMs: 5000 });
  assert.equal(controller.evictionPeriodStart(uid), undefined);
  clock.advance(100_000);
  await settle();
  assert.equal(isEvicted('waits'), false, 'no eviction once the taint is gone');
  assert.deepEqual(errors, []);
});

test('a restarted controller starts the periods afresh', async () => {
  await unreachableNode('restart', maintenance);
  await nodes.until((items) => items.some((n) => n.metadata?.name === 'restart'), 'node restart');
  const uid = await podOn('survivor', 'restart', [tol(UNREACHABLE), tol('maintenance', 100)]);
  const first = await periodStarted(controller, uid, 'survivor');
  clock.advance(80_000);
  await settle();
  await controller.stop();
  controller = new NodeLifecycleController({ client: h.client, informers, clock, events: sink, onError: (e) => errors.push(e), podCIDRAllocationDelayMs: 0 });
  controller.start();
  const second = await periodStarted(controller, uid, 'survivor after restart');
  assert.equal(second - first, 80_000);
  clock.advance(30_000);
  await settle();
  assert.equal(isEvicted('survivor'), false, 'the old deadline (100 s after the first sight) has passed, the new one not');
  clock.advance(70_000);
  await awaitEvicted('survivor');
  assert.deepEqual(errors, []);
});
