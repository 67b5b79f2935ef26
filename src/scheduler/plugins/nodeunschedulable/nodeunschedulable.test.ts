import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../testing/builders.ts';
import type { PodBuilder } from '../../testing/builders.ts';
import { filterAll, harness } from '../../testing/harness.ts';

test('NodeUnschedulable filter', () => {
  const h = harness(['NodeUnschedulable'], [makeNode('open').obj(), makeNode('cordoned').unschedulable().obj()]);
  const rejected = 'UnschedulableAndUnresolvable: node(s) were unschedulable';
  const cases: Array<{ name: string; pod: PodBuilder; want: Record<string, string> }> = [
    { name: 'plain pod', pod: makePod('p'), want: { open: 'ok', cordoned: rejected } },
    { name: 'tolerates the unschedulable taint', pod: makePod('p').toleration({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }), want: { open: 'ok', cordoned: 'ok' } },
    { name: 'tolerates everything', pod: makePod('p').toleration({ operator: 'Exists' }), want: { open: 'ok', cordoned: 'ok' } },
    { name: 'wrong effect', pod: makePod('p').toleration({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }), want: { open: 'ok', cordoned: rejected } },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod.obj()), c.want, c.name);
});
