import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, PodDisruptionBudget, PodDisruptionBudgetSpec } from '../../api/types.ts';
import { makePod } from '../../testing/objects.ts';
import { rfc3339 } from '../../util/clock.ts';
import { buildDisruptedPodMap, countHealthy, DELETION_TIMEOUT_MS, disruptionsAllowed, expectedPods, needsScale, nextStatus } from './budget.ts';

test('expected and desired pods from minAvailable and maxUnavailable (percentages round up over the scale)', () => {
  const cases: { name: string; spec: PodDisruptionBudgetSpec; pods: number; scale: number; want: { expectedCount: number; desiredHealthy: number }; scaled: boolean }[] = [
    { name: 'minAvailable integer counts the pods', spec: { minAvailable: 2 }, pods: 3, scale: 99, want: { expectedCount: 3, desiredHealthy: 2 }, scaled: false },
    { name: 'minAvailable integer above the pods', spec: { minAvailable: 5 }, pods: 3, scale: 0, want: { expectedCount: 3, desiredHealthy: 5 }, scaled: false },
    { name: 'minAvailable 50% of 3 rounds up to 2', spec: { minAvailable: '50%' }, pods: 3, scale: 3, want: { expectedCount: 3, desiredHealthy: 2 }, scaled: true },
    { name: 'minAvailable 100% of 4', spec: { minAvailable: '100%' }, pods: 4, scale: 4, want: { expectedCount: 4, desiredHealthy: 4 }, scaled: true },
    { name: 'minAvailable 0%', spec: { minAvailable: '0%' }, pods: 4, scale: 4, want: { expectedCount: 4, desiredHealthy: 0 }, scaled: true },
    { name: 'minAvailable percentage uses the scale, not the pods', spec: { minAvailable: '50%' }, pods: 2, scale: 10, want: { expectedCount: 10, desiredHealthy: 5 }, scaled: true },
    { name: 'maxUnavailable integer', spec: { maxUnavailable: 1 }, pods: 3, scale: 3, want: { expectedCount: 3, desiredHealthy: 2 }, scaled: true },
    { name: 'maxUnavailable 50% of 3 rounds up to 2 unavailable', spec: { maxUnavailable: '50%' }, pods: 3, scale: 3, want: { expectedCount: 3, desiredHealthy: 1 }, scaled: true },
    { name: 'maxUnavailable 10% of 5 rounds up to 1', spec: { maxUnavailable: '10%' }, pods: 5, scale: 5, want: { expectedCount: 5, desiredHealthy: 4 }, scaled: true },
    { name: 'maxUnavailable above the scale never goes negative', spec: { maxUnavailable: 7 }, pods: 3, scale: 3, want: { expectedCount: 3, desiredHealthy: 0 }, scaled: true },
    { name: 'maxUnavailable 0 needs them all', spec: { maxUnavailable: 0 }, pods: 3, scale: 3, want: { expectedCount: 3, desiredHealthy: 3 }, scaled: true },
    { name: 'neither bound', spec: {}, pods: 3, scale: 3, want: { expectedCount: 0, desiredHealthy: 0 }, scaled: false },
  ];
  for (const c of cases) {
    assert.equal(needsScale(c.spec), c.scaled, c.name);
    assert.deepEqual(expectedPods(c.spec, c.pods, c.scale), c.want, c.name);
  }
});

test('disruptions allowed: healthy above desired, never negative, none while no pods are expected', () => {
  const cases: [current: number, desired: number, expected: number, want: number][] = [
    [3, 2, 3, 1],
    [3, 0, 3, 3],
    [2, 2, 3, 0],
    [1, 2, 3, 0],
    [3, 1, 0, 0],
    [5, 2, -1, 0],
  ];
  for (const [cur, des, exp, want] of cases) assert.equal(disruptionsAllowed(cur, des, exp), want, `${cur} healthy, ${des} desired, ${exp} expected`);
});

const NOW = Date.parse('2026-01-01T00:10:00Z');
const ready = (name: string) => makePod(name).phase('Running').condition('Ready', 'True').build();
const unready = (name: string) => makePod(name).phase('Running').condition('Ready', 'False').build();
const going = (name: string) => makePod(name).phase('Running').condition('Ready', 'True').terminating().build();
const ago = (ms: number) => rfc3339(NOW - ms);

test('recorded evictions: kept while their pods are there and young, dropped when gone, being deleted or too old', () => {
  const pods: Pod[] = [ready('a'), ready('b'), going('c'), ready('d')];
  const recorded = { a: ago(10_000), b: ago(DELETION_TIMEOUT_MS + 5_000), c: ago(1_000), gone: ago(1_000), d: ago(60_000) };
  const out = buildDisruptedPodMap(pods, recorded, NOW);
  assert.deepEqual(out.kept, { a: recorded.a, d: recorded.d });
  assert.deepEqual(out.notDeleted, ['b']);
  // The next look is when the first kept entry expires: d's, recorded before a's.
  assert.equal(out.recheckAt, Date.parse(recorded.d) + DELETION_TIMEOUT_MS);
  assert.deepEqual(buildDisruptedPodMap(pods, undefined, NOW), { kept: {}, notDeleted: [] });
});

test('healthy pods: Ready, not being deleted, not recently evicted', () => {
  const pods: Pod[] = [ready('a'), ready('b'), unready('c'), going('d'), ready('e')];
  const cases: { name: string; disrupted: Record<string, string>; want: number }[] = [
    { name: 'none evicted', disrupted: {}, want: 3 },
    { name: 'one evicted recently', disrupted: { a: ago(1_000) }, want: 2 },
    { name: 'an eviction past the timeout counts again', disrupted: { a: ago(DELETION_TIMEOUT_MS + 1_000) }, want: 3 },
    { name: 'an evicted unready pod changes nothing', disrupted: { c: ago(1_000) }, want: 3 },
  ];
  for (const c of cases) assert.equal(countHealthy(pods, c.disrupted, NOW), c.want, c.name);
});

test('status: written with the DisruptionAllowed condition, and not again when nothing changed', () => {
  const pdb: PodDisruptionBudget = { metadata: { name: 'web', namespace: 'default', generation: 2 }, spec: { minAvailable: 2 }, status: { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 } };
  const st = nextStatus(pdb, { expectedCount: 3, desiredHealthy: 2, currentHealthy: 3, disruptedPods: {} }, NOW);
  assert.ok(st);
  assert.deepEqual(
    { ...st, conditions: undefined },
    { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 2, conditions: undefined },
  );
  assert.deepEqual(st.conditions, [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: rfc3339(NOW) }]);
  assert.equal(nextStatus({ ...pdb, status: st }, { expectedCount: 3, desiredHealthy: 2, currentHealthy: 3, disruptedPods: {} }, NOW + 5_000), undefined);

  // One pod evicted: no disruption left, the condition turns False/InsufficientPods and records when.
  const later = NOW + 5_000;
  const st2 = nextStatus({ ...pdb, status: st }, { expectedCount: 3, desiredHealthy: 2, currentHealthy: 2, disruptedPods: { a: rfc3339(NOW) } }, later);
  assert.ok(st2);
  assert.equal(st2.disruptionsAllowed, 0);
  assert.deepEqual(st2.disruptedPods, { a: rfc3339(NOW) });
  assert.deepEqual(st2.conditions, [{ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: 2, lastTransitionTime: rfc3339(later) }]);

  // A new generation is observed even when the counts are the same.
  assert.ok(nextStatus({ ...pdb, metadata: { ...pdb.metadata, generation: 3 }, status: st }, { expectedCount: 3, desiredHealthy: 2, currentHealthy: 3, disruptedPods: {} }, NOW));
});
