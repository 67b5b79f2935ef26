// The node lifecycle controller on fake time against a real API server: Kubernetes' default timings
// (40 s grace period, the 300 s tolerations admission gives every pod) checked in milliseconds.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../src/api/types.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { SharedInformers } from '../../src/controllers/informers.ts';
import { NodeLifecycleController } from '../../src/controllers/nodelifecycle/controller.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { startHarness, readyNode, renewLease } from './controllers-harness.ts';
import { makePod } from '../../src/testing/objects.ts';
import type { Harness, Watched } from './controllers-harness.ts';

let h: Harness;
let nodes: Watched<Node>;
let pods: Watched<Pod>;
let informers: SharedInformers;
let controller: NodeLifecycleController;
const clock = new FakeClock(Date.now());
const errors: unknown[] = [];

const ready = (items: Node[]): string | undefined => items.find((n) => n.metadata?.name === 'slow')?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const evicted = (items: Pod[]): boolean => !!items.find((p) => p.metadata?.name === 'app')?.metadata?.deletionTimestamp;

/** Lets the controller's workers and the watches catch up with what the last advance triggered. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 100));
}

before(async () => {
  h = await startHarness({ nodeLifecycle: false, garbageCollector: false, podGC: false });
  nodes = await h.watch<Node>(Nodes);
  pods = await h.watch<Pod>(Pods, 'default');
  informers = new SharedInformers(h.client, { clock, onError: (e) => errors.push(e) });
  controller = new NodeLifecycleController({ client: h.client, informers, clock, onError: (e) => errors.push(e), podCIDRAllocationDelayMs: 0 });
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

  clock.advance(299_000);
  await settle();
  assert.equal(evicted(pods.informer.store.list()), false, 'tolerated for 300 s');
  clock.advance(2_000);
  await pods.until(evicted, 'evicted after 300 s', 3000);
  assert.deepEqual(errors, []);
});
