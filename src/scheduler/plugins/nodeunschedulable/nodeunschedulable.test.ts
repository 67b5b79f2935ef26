import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { filterAll, harness } from '../../testing/harness.ts';

test('NodeUnschedulable filter', () => {
  const h = harness(['NodeUnschedulable'], [makeNode('open').build(), makeNode('cordoned').unschedulable().build()]);
  const rejected = 'UnschedulableAndUnresolvable: node(s) were unschedulable';
  const cases: Array<{ name: string; pod: PodBuilder; want: Record<string, string> }> = [
    { name: 'plain pod', pod: makePod('p'), want: { open: 'ok', cordoned: rejected } },
    { name: 'tolerates the unschedulable taint', pod: makePod('p').toleration({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }), want: { open: 'ok', cordoned: 'ok' } },
    { name: 'tolerates everything', pod: makePod('p').toleration({ operator: 'Exists' }), want: { open: 'ok', cordoned: 'ok' } },
    { name: 'wrong effect', pod: makePod('p').toleration({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }), want: { open: 'ok', cordoned: rejected } },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod.build()), c.want, c.name);
});
