import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TopologySpreadConstraint } from '../../../api/types.ts';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { filterAll, harness, scoreAll } from '../../testing/harness.ts';

const zoneNodes = () => [
  makeNode('a').labels({ zone: 'z1', disk: 'ssd' }).build(),
  makeNode('b').labels({ zone: 'z1' }).build(),
  makeNode('c').labels({ zone: 'z2', disk: 'ssd' }).build(),
  makeNode('nolabel').build(),
];
const web = (name: string, node: string, version = 'v1') => makePod(name).labels({ app: 'web', version }).onNode(node).build();
const hard = (key: string, maxSkew = 1, extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew, topologyKey: key, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra,
});
const SKEW = "Unschedulable: node(s) didn't match pod topology spread constraints";
const LABEL = "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";

test('PodTopologySpread filter: DoNotSchedule constraints', () => {
  const existing = [web('w1', 'a'), web('w2', 'a'), makePod('other').labels({ app: 'db' }).onNode('c').build()];
  const cases: Array<{ name: string; pods?: ReturnType<typeof web>[]; pod: PodBuilder; want: Record<string, string> }> = [
    {
      name: 'zone skew: z1 has 2, z2 has 0',
      pod: makePod('p').labels({ app: 'web' }).spread(hard('zone')),
      want: { a: SKEW, b: SKEW, c: 'ok', nolabel: LABEL },
    },
    {
      name: 'zone skew 3 allows z1',
      pod: makePod('p').labels({ app: 'web' }).spread(hard('zone', 3)),
      want: { a: 'ok', b: 'ok', c: 'ok', nolabel: LABEL },
    },
    {
      name: 'hostname skew',
      pod: makePod('p').labels({ app: 'web' }).spread(hard('kubernetes.io/hostname')),
      want: { a: SKEW, b: 'ok', c: 'ok', nolabel: 'ok' },
    },
    {
      name: 'a pod that does not match its own selector adds nothing',
      pod: makePod('p').labels({ app: 'other' }).spread(hard('zone', 2)),
      want: { a: 'ok', b: 'ok', c: 'ok', nolabel: LABEL },
    },
    {
      name: 'minDomains above the domain count makes the global minimum 0',
      pods: [web('w1', 'a'), web('w3', 'c')],
      pod: makePod('p').labels({ app: 'web' }).spread(hard('zone', 1, { minDomains: 3 })),
      want: { a: SKEW, b: SKEW, c: SKEW, nolabel: LABEL },
    },
    {
      name: 'matchLabelKeys narrows to the same version',
      pod: makePod('p').labels({ app: 'web', version: 'v2' }).spread(hard('zone', 1, { matchLabelKeys: ['version'] })),
      want: { a: 'ok', b: 'ok', c: 'ok', nolabel: LABEL },
    },
    {
      // With the node selector honoured, only ssd nodes (a in z1, c in z2) are counted; b is not.
      name: 'nodeAffinityPolicy Honor counts only nodes the pod may use',
      pods: [web('w1', 'b'), web('w2', 'b')],
      pod: makePod('p').labels({ app: 'web' }).nodeSelector({ disk: 'ssd' }).spread(hard('zone')),
      want: { a: 'ok', b: 'ok', c: 'ok', nolabel: LABEL },
    },
  ];
  for (const c of cases) {
    const h = harness(['PodTopologySpread'], zoneNodes(), c.pods ?? existing);
    assert.deepEqual(filterAll(h, c.pod.build()), c.want, c.name);
  }
});

test('PodTopologySpread score: the default spreads pods of one owner, or with the same labels', () => {
  const nodes = [makeNode('a').build(), makeNode('b').build(), makeNode('c').build()];
  const peers = [
    makePod('r1').owner('ReplicaSet', 'web').onNode('a').build(),
    makePod('r2').owner('ReplicaSet', 'web').onNode('a').build(),
    makePod('r3').owner('ReplicaSet', 'web').onNode('b').build(),
    makePod('x').owner('ReplicaSet', 'other').onNode('c').build(),
    makePod('x2').owner('ReplicaSet', 'other').onNode('c').build(),
  ];
  const h = harness(['PodTopologySpread'], nodes, peers);
  // hostname weight ln(3 + 2): a = 2·1.61 + 2 → 5, b → 4, c → 2; normalised 100·(5 + 2 − s)/5.
  assert.deepEqual(scoreAll(h, makePod('new').owner('ReplicaSet', 'web').build()), { a: 40, b: 60, c: 100 });

  const unowned = harness(['PodTopologySpread'], nodes, [
    makePod('l1').labels({ app: 'batch' }).onNode('b').build(),
    makePod('l2').labels({ app: 'batch', extra: 'x' }).onNode('c').build(),
  ]);
  // Only l1 has exactly the same labels: b is the crowded node.
  const s = scoreAll(unowned, makePod('new').labels({ app: 'batch' }).build());
  assert.ok(s.b < s.a && s.a === s.c, JSON.stringify(s));
  // No owner and no labels: nothing to spread from.
  assert.deepEqual(scoreAll(unowned, makePod('bare').build()), { a: 0, b: 0, c: 0 });
});

test('PodTopologySpread score: ScheduleAnyway constraints prefer the emptier zone', () => {
  const h = harness(['PodTopologySpread'], zoneNodes(), [web('w1', 'a'), web('w2', 'b')]);
  const pod = makePod('p').labels({ app: 'web' }).spread({ ...hard('zone'), whenUnsatisfiable: 'ScheduleAnyway' });
  const s = scoreAll(h, pod.build());
  assert.ok(s.c > s.a && s.a === s.b, JSON.stringify(s));
  assert.equal(s.nolabel, 0);
});
