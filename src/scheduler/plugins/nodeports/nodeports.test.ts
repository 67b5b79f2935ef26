import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { filterAll, harness } from '../../testing/harness.ts';

test('NodePorts filter: host port conflicts', () => {
  const existing = [
    makePod('web').hostPort(80).onNode('a').build(),
    makePod('dns').hostPort(53, 'UDP', '10.0.0.1').onNode('b').build(),
  ];
  const h = harness(['NodePorts'], [makeNode('a').build(), makeNode('b').build()], existing);
  const busy = "Unschedulable: node(s) didn't have free ports for the requested pod ports";
  const cases: Array<{ name: string; pod: PodBuilder; want: Record<string, string> }> = [
    { name: 'no host ports', pod: makePod('p'), want: { a: 'ok', b: 'ok' } },
    { name: 'same port on any address', pod: makePod('p').hostPort(80), want: { a: busy, b: 'ok' } },
    { name: 'same port, other protocol', pod: makePod('p').hostPort(80, 'UDP'), want: { a: 'ok', b: 'ok' } },
    { name: 'specific address vs 0.0.0.0 in use', pod: makePod('p').hostPort(80, 'TCP', '10.0.0.9'), want: { a: busy, b: 'ok' } },
    { name: '0.0.0.0 vs a specific address in use', pod: makePod('p').hostPort(53, 'UDP'), want: { a: 'ok', b: busy } },
    { name: 'another specific address', pod: makePod('p').hostPort(53, 'UDP', '10.0.0.2'), want: { a: 'ok', b: 'ok' } },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod.build()), c.want, c.name);
});
