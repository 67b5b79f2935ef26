// Preemption end to end: a pod of a high PriorityClass that fits nowhere evicts a lower-priority one, is
// nominated to its node, and is bound there once the victim is gone; a class with preemptionPolicy
// Never waits instead. Priorities come from PriorityClasses through the API server's Priority admission.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, PriorityClass } from '../../src/api/types.ts';
import { Events, Pods, PriorityClasses } from '../../src/client/resources.ts';
import { node, pod, startCluster } from './scheduler-harness.ts';
import type { Cluster } from './scheduler-harness.ts';

describe('scheduler preemption', { timeout: 60_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    await c.addNode(node('only', { cpu: '1', memory: '1Gi', pods: '10' }));
    const cls = (name: string, value: number, preemptionPolicy?: string): PriorityClass => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy });
    await c.client.create(PriorityClasses, undefined, cls('high', 1000));
    await c.client.create(PriorityClasses, undefined, cls('polite', 2000, 'Never'));
  });
  after(async () => {
    await c?.close();
  });

  it('evicts a lower-priority pod, nominates the node, then binds', async () => {
    await c.client.create(Pods, 'default', pod('low', { cpu: '800m' }));
    await c.waitForPods((ps) => ps.some((p) => p.metadata?.name === 'low' && p.spec?.nodeName === 'only'), 'low bound');
    await c.client.create(Pods, 'default', pod('high', { cpu: '800m' }, { priorityClassName: 'high' }));
    // No node agent here: the victim stays terminating until deleted for good, and the preemptor waits nominated.
    await c.waitForPods(
      (ps) => ps.some((p) => p.metadata?.name === 'low' && p.metadata?.deletionTimestamp) && ps.some((p) => p.metadata?.name === 'high' && p.status?.nominatedNodeName === 'only'),
      'low terminating and high nominated',
    );
    const high = c.pods.store.get('default', 'high')!;
    assert.equal(high.spec?.nodeName, undefined);
    assert.equal(high.spec?.priority, 1000);
    const events = await c.client.list<Event>(Events, 'default');
    assert.ok(events.items.some((e) => e.reason === 'Preempted' && e.involvedObject.name === 'low' && e.message === `Preempted by pod ${high.metadata?.uid} on node only`));
    await c.client.delete(Pods, 'default', 'low', { gracePeriodSeconds: 0 });
    await c.waitForPods((ps) => ps.some((p) => p.metadata?.name === 'high' && p.spec?.nodeName === 'only'), 'high bound');
  });

  it('a pod whose class has preemptionPolicy Never preempts nobody and stays Pending', async () => {
    // 'high' holds the node now; 'polite' outranks it but may not preempt.
    await c.client.create(Pods, 'default', pod('polite', { cpu: '800m' }, { priorityClassName: 'polite' }));
    await c.waitForPods((ps) => ps.some((p) => p.metadata?.name === 'polite' && p.status?.conditions?.some((k) => k.type === 'PodScheduled' && k.status === 'False')), 'polite unschedulable');
    const polite = c.pods.store.get('default', 'polite')!;
    assert.equal(polite.spec?.priority, 2000);
    assert.equal(polite.spec?.preemptionPolicy, 'Never');
    assert.equal(polite.status?.nominatedNodeName, undefined);
    assert.equal(c.pods.store.get('default', 'high')?.metadata?.deletionTimestamp, undefined, 'nothing was preempted');
  });
});
