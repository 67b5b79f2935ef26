// Preemption end to end: a high-priority pod that fits nowhere evicts a lower-priority one, is nominated
// to its node, and is bound there once the victim is gone.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from '../../src/api/types.ts';
import { Events, Pods } from '../../src/client/resources.ts';
import { node, pod, startCluster } from './scheduler-harness.ts';
import type { Cluster } from './scheduler-harness.ts';

describe('scheduler preemption', { timeout: 60_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    await c.addNode(node('only', { cpu: '1', memory: '1Gi', pods: '10' }));
  });
  after(async () => {
    await c?.close();
  });

  it('evicts a lower-priority pod, nominates the node, then binds', async () => {
    await c.client.create(Pods, 'default', pod('low', { cpu: '800m' }, { priority: 0 }));
    await c.waitForPods((ps) => ps.some((p) => p.metadata?.name === 'low' && p.spec?.nodeName === 'only'), 'low bound');
    await c.client.create(Pods, 'default', pod('high', { cpu: '800m' }, { priority: 1000 }));
    // No node agent here: the victim stays terminating until deleted for good, and the preemptor waits nominated.
    await c.waitForPods(
      (ps) => ps.some((p) => p.metadata?.name === 'low' && p.metadata?.deletionTimestamp) && ps.some((p) => p.metadata?.name === 'high' && p.status?.nominatedNodeName === 'only'),
      'low terminating and high nominated',
    );
    const high = c.pods.store.get('default', 'high')!;
    assert.equal(high.spec?.nodeName, undefined);
    const events = await c.client.list<Event>(Events, 'default');
    assert.ok(events.items.some((e) => e.reason === 'Preempted' && e.involvedObject.name === 'low' && e.message === `Preempted by pod ${high.metadata?.uid} on node only`));
    await c.client.delete(Pods, 'default', 'low', { gracePeriodSeconds: 0 });
    await c.waitForPods((ps) => ps.some((p) => p.metadata?.name === 'high' && p.spec?.nodeName === 'only'), 'high bound');
  });
});
