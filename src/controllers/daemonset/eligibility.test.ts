import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet, PodSpec } from '../../api/types.ts';
import { makeNode } from '../../testing/objects.ts';
import type { NodeBuilder } from '../../testing/objects.ts';
import { daemonPodTolerations, nodeNameAffinity, nodeShouldRunDaemonPod, targetNodeName } from './eligibility.ts';

function ds(spec: Partial<PodSpec> = {}): DaemonSet {
  return { metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } } } };
}

describe('nodeShouldRunDaemonPod', () => {
  const cases: Array<{ name: string; node: NodeBuilder; spec?: Partial<PodSpec>; run: boolean; stay: boolean }> = [
    { name: 'a plain node', node: makeNode('n1'), run: true, stay: true },
    { name: 'nodeSelector matches', node: makeNode('n1').labels({ disk: 'ssd' }), spec: { nodeSelector: { disk: 'ssd' } }, run: true, stay: true },
    { name: 'nodeSelector does not match', node: makeNode('n1').labels({ disk: 'hdd' }), spec: { nodeSelector: { disk: 'ssd' } }, run: false, stay: false },
    {
      name: 'required node affinity does not match',
      node: makeNode('n1').labels({ zone: 'a' }),
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }] } } } },
      run: false,
      stay: false,
    },
    { name: 'template names another node', node: makeNode('n1'), spec: { nodeName: 'n2' }, run: false, stay: false },
    { name: 'untolerated NoSchedule taint: no new pod, a running one stays', node: makeNode('n1').taint({ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }), run: false, stay: true },
    { name: 'untolerated NoExecute taint: no pod at all', node: makeNode('n1').taint({ key: 'dedicated', value: 'infra', effect: 'NoExecute' }), run: false, stay: false },
    {
      name: 'tolerated taint',
      node: makeNode('n1').taint({ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }),
      spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] },
      run: true,
      stay: true,
    },
    { name: 'PreferNoSchedule is ignored', node: makeNode('n1').taint({ key: 'dedicated', effect: 'PreferNoSchedule' }), run: true, stay: true },
    { name: 'cordoned node (default toleration)', node: makeNode('n1').taint({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }), run: true, stay: true },
    { name: 'not-ready node (default toleration)', node: makeNode('n1').taint({ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }), run: true, stay: true },
    { name: 'unreachable node (default toleration)', node: makeNode('n1').taint({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }), run: true, stay: true },
    { name: 'memory pressure (default toleration)', node: makeNode('n1').taint({ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }), run: true, stay: true },
    { name: 'network unavailable', node: makeNode('n1').taint({ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }), run: false, stay: true },
    { name: 'network unavailable, host network', node: makeNode('n1').taint({ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }), spec: { hostNetwork: true }, run: true, stay: true },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(nodeShouldRunDaemonPod(c.node.build(), ds(c.spec)), { shouldRun: c.run, shouldContinueRunning: c.stay }));
  }
});

describe('daemon pod placement', () => {
  it('default tolerations replace equal ones and keep the template own', () => {
    const got = daemonPodTolerations({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }, { key: 'x', operator: 'Exists' }] });
    assert.deepEqual(got[0], { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' });
    assert.deepEqual(got[1], { key: 'x', operator: 'Exists' });
    assert.equal(got.length, 7);
  });
  it('the node affinity is replaced by metadata.name In [node], other affinity kept', () => {
    const a = nodeNameAffinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] }, preferredDuringSchedulingIgnoredDuringExecution: [] }, podAntiAffinity: {} }, 'n3');
    assert.deepEqual(a, {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }] }, preferredDuringSchedulingIgnoredDuringExecution: [] },
      podAntiAffinity: {},
    });
  });
  const targets: Array<{ name: string; spec: PodSpec; want: string | undefined }> = [
    { name: 'bound pod', spec: { containers: [], nodeName: 'n1', affinity: nodeNameAffinity(undefined, 'n2') }, want: 'n1' },
    { name: 'unbound pod with the affinity', spec: { containers: [], affinity: nodeNameAffinity(undefined, 'n2') }, want: 'n2' },
    { name: 'unbound pod without it', spec: { containers: [] }, want: undefined },
  ];
  for (const t of targets) it(`targetNodeName: ${t.name}`, () => assert.equal(targetNodeName({ spec: t.spec }), t.want));
});
