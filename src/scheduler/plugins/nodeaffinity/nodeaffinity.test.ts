import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { filterAll, harness, scoreAll } from '../../testing/harness.ts';

const nodes = () => [
  makeNode('ssd-a').labels({ disk: 'ssd', zone: 'a', gen: '5' }).build(),
  makeNode('hdd-b').labels({ disk: 'hdd', zone: 'b', gen: '3' }).build(),
  makeNode('bare').build(),
];
const NO = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";

test('NodeAffinity filter: nodeSelector and required node affinity', () => {
  const h = harness(['NodeAffinity'], nodes());
  const cases: Array<{ name: string; pod: PodBuilder; want: Record<string, string> }> = [
    { name: 'nothing asked', pod: makePod('p'), want: { 'ssd-a': 'ok', 'hdd-b': 'ok', bare: 'ok' } },
    { name: 'nodeSelector', pod: makePod('p').nodeSelector({ disk: 'ssd' }), want: { 'ssd-a': 'ok', 'hdd-b': NO, bare: NO } },
    { name: 'nodeSelector, two labels', pod: makePod('p').nodeSelector({ disk: 'ssd', zone: 'b' }), want: { 'ssd-a': NO, 'hdd-b': NO, bare: NO } },
    { name: 'In', pod: makePod('p').requiredNodeAffinity([{ key: 'zone', operator: 'In', values: ['a', 'b'] }]), want: { 'ssd-a': 'ok', 'hdd-b': 'ok', bare: NO } },
    { name: 'NotIn matches nodes without the label', pod: makePod('p').requiredNodeAffinity([{ key: 'zone', operator: 'NotIn', values: ['a'] }]), want: { 'ssd-a': NO, 'hdd-b': 'ok', bare: 'ok' } },
    { name: 'Exists', pod: makePod('p').requiredNodeAffinity([{ key: 'disk', operator: 'Exists' }]), want: { 'ssd-a': 'ok', 'hdd-b': 'ok', bare: NO } },
    { name: 'DoesNotExist', pod: makePod('p').requiredNodeAffinity([{ key: 'disk', operator: 'DoesNotExist' }]), want: { 'ssd-a': NO, 'hdd-b': NO, bare: 'ok' } },
    { name: 'Gt', pod: makePod('p').requiredNodeAffinity([{ key: 'gen', operator: 'Gt', values: ['4'] }]), want: { 'ssd-a': 'ok', 'hdd-b': NO, bare: NO } },
    { name: 'Lt', pod: makePod('p').requiredNodeAffinity([{ key: 'gen', operator: 'Lt', values: ['4'] }]), want: { 'ssd-a': NO, 'hdd-b': 'ok', bare: NO } },
    { name: 'terms are ORed', pod: makePod('p').requiredNodeAffinity([{ key: 'zone', operator: 'In', values: ['a'] }], [{ key: 'disk', operator: 'In', values: ['hdd'] }]), want: { 'ssd-a': 'ok', 'hdd-b': 'ok', bare: NO } },
    { name: 'expressions in a term are ANDed', pod: makePod('p').requiredNodeAffinity([{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['hdd'] }]), want: { 'ssd-a': NO, 'hdd-b': NO, bare: NO } },
    { name: 'selector and affinity both apply', pod: makePod('p').nodeSelector({ disk: 'ssd' }).requiredNodeAffinity([{ key: 'zone', operator: 'In', values: ['b'] }]), want: { 'ssd-a': NO, 'hdd-b': NO, bare: NO } },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod.build()), c.want, c.name);
});

test('NodeAffinity score: preferred terms add their weight, normalised to 100', () => {
  const h = harness(['NodeAffinity'], nodes());
  const pod = makePod('p')
    .preferredNodeAffinity(80, [{ key: 'disk', operator: 'In', values: ['ssd'] }])
    .preferredNodeAffinity(20, [{ key: 'zone', operator: 'Exists' }]);
  assert.deepEqual(scoreAll(h, pod.build()), { 'ssd-a': 100, 'hdd-b': 20, bare: 0 });
  assert.deepEqual(scoreAll(h, makePod('q').build()), { 'ssd-a': 0, 'hdd-b': 0, bare: 0 });
});
