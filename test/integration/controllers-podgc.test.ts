// Pod GC against a real API server: pods bound to a node that does not exist (also stuck terminating)
// are force-deleted after the quarantine; a deleted node's pods follow; terminated pods above the
// threshold go oldest first.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/api/types.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { startHarness, readyNode } from './controllers-harness.ts';
import { makePod } from '../../src/testing/objects.ts';
import type { Harness, Watched } from './controllers-harness.ts';

const QUARANTINE_MS = 300;

let h: Harness;
let pods: Watched<Pod>;
const names = (items: Pod[]): string[] => items.map((p) => p.metadata!.name!).sort();

before(async () => {
  h = await startHarness({
    nodeLifecycle: false,
    garbageCollector: false,
    podGC: { periodMs: 100, quarantineMs: QUARANTINE_MS, terminatedPodThreshold: 2 },
  });
  pods = await h.watch<Pod>(Pods, 'default');
});

after(async () => {
  await h?.close();
});

test('pods on a node that does not exist are removed after the quarantine, terminating or not; a deleted node\'s pods follow', async () => {
  await h.client.create(Nodes, undefined, readyNode('real'));
  await h.client.create(Pods, 'default', makePod('on-real').onNode('real').build());
  await h.client.create(Pods, 'default', makePod('on-ghost').onNode('ghost').build());
  await h.client.create(Pods, 'default', makePod('stuck').onNode('ghost').build());
  // Bound to a node, so deletion is graceful and waits for an agent that will never answer.
  await h.client.delete(Pods, 'default', 'stuck');
  const created = Date.now();
  const terminating = await pods.until((items) => !!items.find((p) => p.metadata?.name === 'stuck')?.metadata?.deletionTimestamp, 'stuck terminating');
  assert.equal(terminating.length, 3);

  const left = await pods.until((items) => names(items).join() === 'on-real', 'ghost pods removed', 5000);
  assert.deepEqual(names(left), ['on-real']);
  assert.ok(Date.now() - created >= QUARANTINE_MS - 50, 'not before the quarantine');

  await h.client.delete(Nodes, undefined, 'real');
  await pods.until((items) => items.length === 0, 'pods of the deleted node removed', 5000);
});

test('terminated pods above the threshold are removed oldest first', async () => {
  // Created in this order; creationTimestamp has second precision and ties go by name, so t1 and t2
  // are the oldest either way (the ordering itself is unit-tested in src/controllers/podgc).
  const order = ['t1', 't2', 't3', 't4'];
  for (const [i, name] of order.entries()) {
    const p = makePod(name).restartPolicy('Never').build();
    await h.client.create(Pods, 'default', p);
    await h.client.patch(Pods, 'default', name, 'merge', { status: { phase: i % 2 ? 'Failed' : 'Succeeded' } }, { subresource: 'status' });
  }
  await h.client.create(Pods, 'default', makePod('pending').build());
  const left = await pods.until((items) => names(items).join() === 'pending,t3,t4', 'two oldest terminated removed', 5000);
  assert.deepEqual(names(left), ['pending', 't3', 't4']);
  assert.deepEqual(h.errors, []);
});
