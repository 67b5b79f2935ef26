import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Toleration } from '../../../api/types.ts';
import { makeNode, makePod } from '../../../testing/objects.ts';
import { filterAll, harness, scoreAll } from '../../testing/harness.ts';

test('TaintToleration filter: NoSchedule and NoExecute taints need a toleration', () => {
  const h = harness(['TaintToleration'], [
    makeNode('clean').build(),
    makeNode('gpu').taint({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }).build(),
    makeNode('evict').taint({ key: 'bad', effect: 'NoExecute' }).build(),
    makeNode('soft').taint({ key: 'meh', value: 'x', effect: 'PreferNoSchedule' }).build(),
  ]);
  const gpu = 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}';
  const evict = 'UnschedulableAndUnresolvable: node(s) had untolerated taint {bad: }';
  const cases: Array<{ name: string; tolerations: Toleration[]; want: Record<string, string> }> = [
    { name: 'none', tolerations: [], want: { clean: 'ok', gpu, evict, soft: 'ok' } },
    { name: 'Equal with the value', tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }], want: { clean: 'ok', gpu: 'ok', evict, soft: 'ok' } },
    { name: 'Equal with another value', tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }], want: { clean: 'ok', gpu, evict, soft: 'ok' } },
    { name: 'default operator is Equal', tolerations: [{ key: 'dedicated', value: 'gpu' }], want: { clean: 'ok', gpu: 'ok', evict, soft: 'ok' } },
    { name: 'Exists on the key, any effect', tolerations: [{ key: 'bad', operator: 'Exists' }], want: { clean: 'ok', gpu, evict: 'ok', soft: 'ok' } },
    { name: 'wrong effect', tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }], want: { clean: 'ok', gpu, evict, soft: 'ok' } },
    { name: 'empty key with Exists tolerates all', tolerations: [{ operator: 'Exists' }], want: { clean: 'ok', gpu: 'ok', evict: 'ok', soft: 'ok' } },
  ];
  for (const c of cases) {
    const p = makePod('p');
    for (const t of c.tolerations) p.toleration(t);
    assert.deepEqual(filterAll(h, p.build()), c.want, c.name);
  }
});

test('TaintToleration score: fewer untolerated PreferNoSchedule taints is better', () => {
  const h = harness(['TaintToleration'], [
    makeNode('none').build(),
    makeNode('one').taint({ key: 'a', effect: 'PreferNoSchedule' }).build(),
    makeNode('two').taint({ key: 'a', effect: 'PreferNoSchedule' }).taint({ key: 'b', effect: 'PreferNoSchedule' }).build(),
  ]);
  const cases: Array<{ name: string; tolerations: Toleration[]; want: Record<string, number> }> = [
    { name: 'no toleration', tolerations: [], want: { none: 100, one: 50, two: 0 } },
    { name: 'tolerates a', tolerations: [{ key: 'a', operator: 'Exists', effect: 'PreferNoSchedule' }], want: { none: 100, one: 100, two: 0 } },
    { name: 'tolerates all', tolerations: [{ operator: 'Exists' }], want: { none: 100, one: 100, two: 100 } },
  ];
  for (const c of cases) {
    const p = makePod('p');
    for (const t of c.tolerations) p.toleration(t);
    assert.deepEqual(scoreAll(h, p.build()), c.want, c.name);
  }
});
