import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../testing/objects.ts';
import { harness } from '../testing/harness.ts';
import { defaultPlugins } from '../plugins/registry.ts';
import { numFeasibleNodesToFind, SchedulingAlgorithm } from './cycle.ts';
import { newPodInfo } from './pod-info.ts';

test('numFeasibleNodesToFind follows percentageOfNodesToScore as Kubernetes defines it', () => {
  const cases: Array<[percentage: number, nodes: number, want: number]> = [
    [0, 10, 10],
    [0, 99, 99],
    [0, 100, 100], // 50% = 50, raised to the 100 minimum
    [0, 500, 230], // 50 - 500/125 = 46%
    [0, 1000, 420], // 42%
    [0, 5000, 500], // 50 - 40 = 10%
    [0, 6000, 300], // 50 - 48 = 2% → floor 5%
    [0, 1500, 570], // 38%
    [30, 1000, 300],
    [1, 1000, 100], // never fewer than 100
    [100, 5000, 5000],
  ];
  for (const [p, n, want] of cases) assert.equal(numFeasibleNodesToFind(p, n), want, `${p}% of ${n}`);
});

test('a cycle stops after enough feasible nodes and rotates where the next starts', () => {
  const nodes = Array.from({ length: 200 }, (_, i) => makeNode(`n${String(i).padStart(3, '0')}`).build());
  const h = harness(defaultPlugins.filter((p) => p.name !== 'DefaultBinder'), nodes);
  const algo = new SchedulingAlgorithm(h.fw, { percentageOfNodesToScore: 0, random: () => 0 });
  const r = algo.schedule(newPodInfo(makePod('p').withRequests({ cpu: '1' }).build()));
  assert.equal(r.kind, 'scheduled');
  if (r.kind !== 'scheduled') return;
  // 200 nodes: 50 - 1 = 49% → 98 → at least 100 feasible nodes.
  assert.equal(r.feasibleNodes, 100);
  assert.equal(r.evaluatedNodes, 100);
  assert.equal(algo.nextStartNodeIndex, 100);
});

test('the outcome of a cycle: scheduled, unschedulable with the message, or no nodes', () => {
  const none = harness(['NodeResourcesFit'], []);
  const r0 = new SchedulingAlgorithm(none.fw).schedule(newPodInfo(makePod('p').build()));
  assert.deepEqual(r0.kind === 'unschedulable' && r0.message, 'no nodes available to schedule pods');

  const h = harness(defaultPlugins, [
    makeNode('a').allocatable({ cpu: '1', memory: '1Gi', pods: '10' }).build(),
    makeNode('b').allocatable({ cpu: '8', memory: '1Gi', pods: '10' }).taint({ key: 'k', value: 'v', effect: 'NoSchedule' }).build(),
    makeNode('c').allocatable({ cpu: '8', memory: '1Gi', pods: '10' }).unschedulable().build(),
  ]);
  const algo = new SchedulingAlgorithm(h.fw);
  const r1 = algo.schedule(newPodInfo(makePod('big').withRequests({ cpu: '2' }).build()));
  assert.equal(r1.kind, 'unschedulable');
  if (r1.kind !== 'unschedulable') return;
  assert.equal(
    r1.message,
    '0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}, 1 node(s) were unschedulable. ' +
      'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
  );
  assert.equal(r1.unresolvable, false);
  const r2 = algo.schedule(newPodInfo(makePod('tolerant').withRequests({ cpu: '2' }).toleration({ key: 'k', operator: 'Exists' }).build()));
  assert.deepEqual(r2.kind === 'scheduled' && r2.nodeName, 'b');
});

test('ties are broken at random among the best nodes', () => {
  const nodes = ['a', 'b', 'c'].map((n) => makeNode(n).build());
  const picks = new Set<string>();
  for (const rnd of [0, 0.5, 0.99]) {
    const h = harness(defaultPlugins, nodes);
    let calls = 0;
    // random() decides replacement at each tie; a constant sequence picks a deterministic node.
    const algo = new SchedulingAlgorithm(h.fw, { random: () => (calls++, rnd) });
    const r = algo.schedule(newPodInfo(makePod('p').withRequests({ cpu: '1' }).build()));
    if (r.kind === 'scheduled') picks.add(r.nodeName);
  }
  assert.ok(picks.size >= 2, `picked ${[...picks].join(',')}`);
});
