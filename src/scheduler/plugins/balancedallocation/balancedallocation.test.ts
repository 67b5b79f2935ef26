import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../../testing/objects.ts';
import { harness, scoreAll } from '../../testing/harness.ts';
import { balancedScore } from './balancedallocation.ts';

test('balancedScore: 1 - the standard deviation of the used fractions', () => {
  const cases: Array<[req: number[], alloc: number[], want: number]> = [
    [[1, 1], [2, 2], 100],
    [[1, 0], [2, 2], 75],
    [[2, 0], [2, 2], 50],
    [[4, 0], [2, 2], 50], // fractions capped at 1
    [[1, 5], [2, 0], 100], // a resource with no allocatable is ignored
    [[1, 2, 3], [4, 4, 4], 79], // three resources: population std
  ];
  for (const [r, a, want] of cases) assert.equal(balancedScore(r, a), want, `${r} / ${a}`);
});

test('NodeResourcesBalancedAllocation prefers the node whose cpu and memory stay in balance', () => {
  const h = harness(['NodeResourcesBalancedAllocation'], [
    makeNode('cpu-heavy').allocatable({ cpu: '4', memory: '4Gi', pods: '110' }).build(),
    makeNode('even').allocatable({ cpu: '4', memory: '4Gi', pods: '110' }).build(),
  ], [makePod('e').withRequests({ cpu: '3' }).onNode('cpu-heavy').build()]);
  const s = scoreAll(h, makePod('p').withRequests({ cpu: '1', memory: '1Gi' }).build());
  // cpu-heavy: cpu 1.0, memory 0.25 → 62; even: 0.25, 0.25 → 100.
  assert.deepEqual(s, { 'cpu-heavy': 62, even: 100 });
  // Best-effort pods are not scored by this plugin.
  assert.deepEqual(scoreAll(h, makePod('q').build()), { 'cpu-heavy': 0, even: 0 });
});
