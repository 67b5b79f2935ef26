import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { filterAll, harness, scoreAll } from '../../testing/harness.ts';
import { leastRequestedScore } from './noderesourcesfit.ts';

test('NodeResourcesFit filter: every resource, extended ones and the pod count', () => {
  const nodes = [
    makeNode('n').allocatable({ cpu: '2', memory: '4Gi', pods: '3', 'ephemeral-storage': '10Gi', 'nvidia.com/gpu': '1' }).build(),
  ];
  const existing = [makePod('e1').withRequests({ cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' }).onNode('n').build(), makePod('e2').onNode('n').build()];
  const h = harness(['NodeResourcesFit'], nodes, existing);
  const cases: Array<{ name: string; pod: PodBuilder; want: string }> = [
    { name: 'fits exactly', pod: makePod('p').withRequests({ cpu: '1', memory: '3Gi' }), want: 'ok' },
    { name: 'cpu', pod: makePod('p').withRequests({ cpu: '1001m' }), want: 'Unschedulable: Insufficient cpu' },
    { name: 'cpu and memory both reported', pod: makePod('p').withRequests({ cpu: '2', memory: '4Gi' }), want: 'Unschedulable: Insufficient cpu, Insufficient memory' },
    { name: 'ephemeral storage', pod: makePod('p').withRequests({ 'ephemeral-storage': '11Gi' }), want: 'Unschedulable: Insufficient ephemeral-storage' },
    { name: 'extended resource used up', pod: makePod('p').withRequests({ 'nvidia.com/gpu': '1' }), want: 'Unschedulable: Insufficient nvidia.com/gpu' },
    { name: 'extended resource the node lacks', pod: makePod('p').withRequests({ 'example.com/fpga': '1' }), want: 'Unschedulable: Insufficient example.com/fpga' },
    { name: 'init container counted as Kubernetes does', pod: makePod('p').withRequests({ cpu: '100m' }).init({ resources: { requests: { cpu: '1500m' } } }), want: 'Unschedulable: Insufficient cpu' },
    { name: 'overhead counted', pod: makePod('p').withRequests({ cpu: '1' }).overhead({ cpu: '1m' }), want: 'Unschedulable: Insufficient cpu' },
    { name: 'best effort pod fits', pod: makePod('p'), want: 'ok' },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod.build()), { n: c.want }, c.name);
  const full = harness(['NodeResourcesFit'], nodes, [...existing, makePod('e3').onNode('n').build()]);
  assert.deepEqual(filterAll(full, makePod('p').build()), { n: 'Unschedulable: Too many pods' });
});

test('NodeResourcesFit score: LeastAllocated over cpu and memory', () => {
  const cases: Array<[requested: number, capacity: number, want: number]> = [
    [0, 4000, 100],
    [1000, 4000, 75],
    [3333, 4000, 16],
    [4000, 4000, 0],
    [5000, 4000, 0],
    [10, 0, 0],
  ];
  for (const [r, c, want] of cases) assert.equal(leastRequestedScore(r, c), want, `${r}/${c}`);
  const h = harness(['NodeResourcesFit'], [
    makeNode('empty').allocatable({ cpu: '4', memory: '4Gi', pods: '110' }).build(),
    makeNode('busy').allocatable({ cpu: '4', memory: '4Gi', pods: '110' }).build(),
  ], [makePod('e').withRequests({ cpu: '2', memory: '2Gi' }).onNode('busy').build()]);
  // pod 1 cpu / 1Gi: empty (75 + 75) / 2 = 75; busy (25 + 25) / 2 = 25.
  assert.deepEqual(scoreAll(h, makePod('p').withRequests({ cpu: '1', memory: '1Gi' }).build()), { empty: 75, busy: 25 });
  // A best-effort pod counts as 100m / 200Mi: (97 + 95) / 2 = 96.
  assert.deepEqual(scoreAll(h, makePod('q').build()).empty, 96);
});
