import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { filterAll, harness } from '../../testing/harness.ts';

test('NodeName filter', () => {
  const h = harness(['NodeName'], [makeNode('a').build(), makeNode('b').build()]);
  const cases: Array<{ name: string; pod: PodBuilder; want: Record<string, string> }> = [
    { name: 'no nodeName fits anywhere', pod: makePod('p'), want: { a: 'ok', b: 'ok' } },
    { name: 'nodeName fits only there', pod: makePod('p').onNode('b'), want: { a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name", b: 'ok' } },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod.build()), c.want, c.name);
});
