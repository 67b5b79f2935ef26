import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../api/types.ts';
import { makePod } from '../../testing/objects.ts';
import { TAINT_OUT_OF_SERVICE, missingNodes, outOfServiceTerminating, terminatedOverThreshold, unscheduledTerminating } from './plan.ts';

/** Created `minute` minutes into 2026. */
const minute = (m: number): string => `2026-01-01T00:${String(m).padStart(2, '0')}:00Z`;

test('terminatedOverThreshold: oldest terminated pods above the threshold', () => {
  const pods = [
    makePod('run').phase('Running').created(minute(0)).build(),
    makePod('ok3').phase('Succeeded').created(minute(3)).build(),
    makePod('bad1').phase('Failed').created(minute(1)).build(),
    makePod('ok2').phase('Succeeded').created(minute(2)).build(),
    makePod('pending').phase('Pending').created(minute(0)).build(),
  ];
  const cases: Array<[number, string[]]> = [
    [0, []], // disabled
    [3, []],
    [5, []],
    [2, ['bad1']],
    [1, ['bad1', 'ok2']],
  ];
  for (const [threshold, want] of cases) {
    assert.deepEqual(terminatedOverThreshold(pods, threshold).map((r) => r.name), want, `threshold ${threshold}`);
  }
  assert.equal(terminatedOverThreshold(pods, 2)[0]?.setFailed, false, 'already terminal');
});

test('missingNodes: nodes that bound pods point at and that do not exist', () => {
  const pods = [makePod('a').onNode('n1').build(), makePod('b').onNode('gone').build(), makePod('c').build(), makePod('d').onNode('gone').terminating().build()];
  assert.deepEqual([...missingNodes(pods, (n) => n === 'n1')], ['gone']);
});

test('unscheduledTerminating and outOfServiceTerminating', () => {
  const pods = [makePod('a').terminating().build(), makePod('b').build(), makePod('c').onNode('n1').terminating().build()];
  assert.deepEqual(unscheduledTerminating(pods).map((r) => r.name), ['a']);
  const node = (ready: string, taint: boolean): Node => ({
    metadata: { name: 'n1' },
    spec: taint ? { taints: [{ key: TAINT_OUT_OF_SERVICE, effect: 'NoExecute' }] } : {},
    status: { conditions: [{ type: 'Ready', status: ready }] },
  });
  const onNode = pods.filter((p) => p.spec?.nodeName === 'n1');
  const cases: Array<[string, Node, string[]]> = [
    ['not ready and out of service', node('False', true), ['c']],
    ['unknown and out of service', node('Unknown', true), ['c']],
    ['ready: no', node('True', true), []],
    ['no taint: no', node('False', false), []],
  ];
  for (const [name, n, want] of cases) {
    const got = outOfServiceTerminating(onNode, n);
    assert.deepEqual(got.map((r) => r.name), want, name);
    for (const r of got) assert.equal(r.setFailed, true);
  }
});
