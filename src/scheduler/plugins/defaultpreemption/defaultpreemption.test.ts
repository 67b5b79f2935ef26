import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../api/types.ts';
import { SchedulingAlgorithm } from '../../framework/cycle.ts';
import { newPodInfo } from '../../framework/pod-info.ts';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { harness } from '../../testing/harness.ts';
import { defaultPlugins } from '../registry.ts';

function run(nodes: ReturnType<typeof makeNode>[], pods: Pod[], pod: PodBuilder) {
  const evicted: string[] = [];
  const h = harness(defaultPlugins, nodes.map((n) => n.build()), pods, { evictor: { evict: (v, _p, node) => evicted.push(`${v.name}@${node}`) } });
  const r = new SchedulingAlgorithm(h.fw).schedule(newPodInfo(pod.build()));
  assert.equal(r.kind, 'unschedulable');
  return { r: r.kind === 'unschedulable' ? r : undefined, evicted: evicted.sort() };
}

const small = (n: string) => makeNode(n).allocatable({ cpu: '2', memory: '4Gi', pods: '110' });

test('DefaultPreemption evicts the fewest, least important lower-priority pods and nominates the node', () => {
  const cases: Array<{ name: string; pods: Pod[]; pod: PodBuilder; evicted: string[]; nominated?: string; message?: string }> = [
    {
      name: 'one of two low-priority pods makes room',
      pods: [
        makePod('low-a').withRequests({ cpu: '1' }).priority(0).onNode('n1').build(),
        makePod('low-b').withRequests({ cpu: '1' }).priority(1).onNode('n1').build(),
        makePod('boss').withRequests({ cpu: '2' }).priority(200).onNode('n2').build(),
      ],
      pod: makePod('vip').withRequests({ cpu: '1' }).priority(100),
      evicted: ['low-a@n1'],
      nominated: 'n1',
    },
    {
      name: 'the node whose victims matter least is chosen',
      pods: [makePod('mid').withRequests({ cpu: '2' }).priority(50).onNode('n1').build(), makePod('low').withRequests({ cpu: '2' }).priority(10).onNode('n2').build()],
      pod: makePod('vip').withRequests({ cpu: '1' }).priority(100),
      evicted: ['low@n2'],
      nominated: 'n2',
    },
    {
      name: 'equal priority: no victims',
      pods: [makePod('peer').withRequests({ cpu: '2' }).onNode('n1').build(), makePod('peer2').withRequests({ cpu: '2' }).onNode('n2').build()],
      pod: makePod('p').withRequests({ cpu: '1' }),
      evicted: [],
      message: '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    },
    {
      name: 'evicting everything still would not help',
      pods: [makePod('low').withRequests({ cpu: '1' }).priority(0).onNode('n1').build(), makePod('low2').withRequests({ cpu: '1' }).priority(0).onNode('n2').build()],
      pod: makePod('huge').withRequests({ cpu: '3' }).priority(100),
      evicted: [],
      message: '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Insufficient cpu.',
    },
    {
      name: 'preemptionPolicy Never',
      pods: [makePod('low').withRequests({ cpu: '2' }).priority(0).onNode('n1').build(), makePod('low2').withRequests({ cpu: '2' }).priority(0).onNode('n2').build()],
      pod: makePod('polite').withRequests({ cpu: '1' }).priority(100).with((p) => (p.spec!.preemptionPolicy = 'Never')),
      evicted: [],
      message: '0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    },
  ];
  for (const c of cases) {
    const { r, evicted } = run([small('n1'), small('n2')], c.pods, c.pod);
    assert.deepEqual(evicted, c.evicted, c.name);
    assert.equal(r?.nominatedNodeName, c.nominated, c.name);
    if (c.message) assert.equal(r?.message, c.message, c.name);
  }
});

test('DefaultPreemption: unresolvable nodes are "not helpful", and dry runs respect anti-affinity counts', () => {
  const { r } = run([small('n1'), small('n2').taint({ key: 'k', effect: 'NoSchedule' })], [makePod('peer').withRequests({ cpu: '2' }).onNode('n1').build()], makePod('p').withRequests({ cpu: '1' }));
  assert.equal(r?.message, '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: }. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.');
  // The high-priority pod is anti-affine to app=low: removing the low pod in the dry run (PreFilterExtensions) makes n1 fit.
  const anti = makePod('vip').priority(100).podAffinity('anti', [{ labelSelector: { matchLabels: { app: 'low' } }, topologyKey: 'kubernetes.io/hostname' }]);
  const { r: r2, evicted } = run([small('n1')], [makePod('low').labels({ app: 'low' }).priority(0).onNode('n1').build()], anti);
  assert.deepEqual(evicted, ['low@n1']);
  assert.equal(r2?.nominatedNodeName, 'n1');
});
