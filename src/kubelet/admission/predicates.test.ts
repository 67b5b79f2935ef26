import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../api/types.ts';
import { fitNode, fitPod } from '../../api/scheduling/fit.ts';
import { makeNode, makePod } from '../../testing/objects.ts';
import type { NodeBuilder, PodBuilder } from '../../testing/objects.ts';
import { admitPod, generalFilter, onlyNodeAffinity, rejectedStatus, type AdmitResult } from './predicates.ts';

function verdict(pod: PodBuilder, node: NodeBuilder, admitted: Pod[] = []): AdmitResult {
  return admitPod(fitPod(pod.onNode('n1').build()), fitNode('n1', node.build(), admitted.map(fitPod)));
}

const node = () => makeNode('n1').allocatable({ cpu: '2', memory: '1Gi', pods: '110', 'ephemeral-storage': '10Gi', 'example.com/dongle': '1' });
const ok: AdmitResult = { admit: true };
const no = (reason: string, message: string): AdmitResult => ({ admit: false, reason, message });
const ports = no('NodePorts', "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports");

test('admission predicates: the kubelet verdict, reason and message for each check', () => {
  const small = makePod('small').withRequests({ cpu: '100m', memory: '64Mi' }).onNode('n1').build();
  const web = makePod('web').hostPort(8080).onNode('n1').build();
  const cases: Array<{ name: string; pod: PodBuilder; node?: NodeBuilder; admitted?: Pod[]; want: AdmitResult }> = [
    { name: 'an empty pod on an empty node', pod: makePod('p'), want: ok },
    { name: 'requests that fit beside the admitted', pod: makePod('p').withRequests({ cpu: '1900m' }), admitted: [small], want: ok },
    {
      name: 'cpu: requested, used and capacity in millicores',
      pod: makePod('p').withRequests({ cpu: '4' }), admitted: [small],
      want: no('OutOfcpu', "Node didn't have enough resource: cpu, requested: 4000, used: 100, capacity: 2000"),
    },
    {
      name: 'memory in bytes',
      pod: makePod('p').withRequests({ memory: '1Gi' }), admitted: [small],
      want: no('OutOfmemory', `Node didn't have enough resource: memory, requested: ${2 ** 30}, used: ${64 * 2 ** 20}, capacity: ${2 ** 30}`),
    },
    {
      name: 'ephemeral-storage',
      pod: makePod('p').withRequests({ 'ephemeral-storage': '20Gi' }),
      want: no('OutOfephemeral-storage', `Node didn't have enough resource: ephemeral-storage, requested: ${20 * 2 ** 30}, used: 0, capacity: ${10 * 2 ** 30}`),
    },
    {
      name: 'the pod count comes first, even for a pod that requests nothing',
      pod: makePod('p').withRequests({ cpu: '4' }), node: node().allocatable({ cpu: '2', pods: '1' }), admitted: [small],
      want: no('OutOfpods', "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1"),
    },
    {
      name: 'an extended resource the node has too little of',
      pod: makePod('p').withRequests({ 'example.com/dongle': '2' }),
      want: no('OutOfexample.com/dongle', "Node didn't have enough resource: example.com/dongle, requested: 2, used: 0, capacity: 1"),
    },
    { name: 'an extended resource the node does not advertise is not checked', pod: makePod('p').withRequests({ 'example.com/cloud': '5' }), want: ok },
    { name: 'limits stand for missing requests', pod: makePod('p').withLimits({ cpu: '3' }), want: no('OutOfcpu', "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000") },
    {
      name: 'an init container counts alone while it runs',
      pod: makePod('p').withRequests({ cpu: '1' }).init({ resources: { requests: { cpu: '3' } } }),
      want: no('OutOfcpu', "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000"),
    },
    { name: 'init and app containers do not add up', pod: makePod('p').withRequests({ cpu: '1500m' }).init({ resources: { requests: { cpu: '2' } } }), want: ok },
    {
      name: 'a sidecar adds to the app containers',
      pod: makePod('p').withRequests({ cpu: '1500m' }).sidecar({ resources: { requests: { cpu: '1' } } }),
      want: no('OutOfcpu', "Node didn't have enough resource: cpu, requested: 2500, used: 0, capacity: 2000"),
    },
    {
      name: 'pod overhead counts',
      pod: makePod('p').withRequests({ cpu: '1900m' }).overhead({ cpu: '200m' }),
      want: no('OutOfcpu', "Node didn't have enough resource: cpu, requested: 2100, used: 0, capacity: 2000"),
    },
    { name: 'a host port in use', pod: makePod('p').hostPort(8080), admitted: [web], want: ports },
    { name: 'a host port in use on 0.0.0.0, asked on one address', pod: makePod('p').hostPort(8080, 'TCP', '10.0.0.1'), admitted: [web], want: ports },
    { name: 'the same port over UDP', pod: makePod('p').hostPort(8080, 'UDP'), admitted: [web], want: ok },
    { name: 'a free host port', pod: makePod('p').hostPort(8081), admitted: [web], want: ok },
    {
      name: 'a nodeSelector the node does not match',
      pod: makePod('p').nodeSelector({ disk: 'ssd' }),
      want: no('NodeAffinity', "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"),
    },
    { name: 'a nodeSelector the node matches', pod: makePod('p').nodeSelector({ disk: 'ssd' }), node: node().labels({ disk: 'ssd' }), want: ok },
    {
      name: 'required node affinity',
      pod: makePod('p').requiredNodeAffinity([{ key: 'zone', operator: 'In', values: ['a'] }]), node: node().labels({ zone: 'b' }),
      want: no('NodeAffinity', "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"),
    },
    {
      name: 'an untolerated NoExecute taint',
      pod: makePod('p'), node: node().taint({ key: 'dedicated', value: 'db', effect: 'NoExecute' }),
      want: no('TaintToleration', "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate"),
    },
    { name: 'a tolerated NoExecute taint', pod: makePod('p').toleration({ key: 'dedicated', operator: 'Exists' }), node: node().taint({ key: 'dedicated', value: 'db', effect: 'NoExecute' }), want: ok },
    { name: 'NoSchedule taints are the scheduler\'s', pod: makePod('p'), node: node().taint({ key: 'dedicated', value: 'db', effect: 'NoSchedule' }), want: ok },
    {
      name: 'a kubernetes.io/os label of another OS',
      pod: makePod('p').labels({ 'kubernetes.io/os': 'windows' }),
      want: no('PodOSSelectorNodeLabelDoesNotMatch', "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label"),
    },
    { name: 'a kubernetes.io/os label of this OS', pod: makePod('p').labels({ 'kubernetes.io/os': 'linux' }), want: ok },
    {
      name: 'resources come before host ports and the selector',
      pod: makePod('p').withRequests({ cpu: '3' }).hostPort(8080).nodeSelector({ disk: 'ssd' }), admitted: [web],
      want: no('OutOfcpu', "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000"),
    },
    { name: 'the selector comes before host ports', pod: makePod('p').hostPort(8080).nodeSelector({ disk: 'ssd' }), admitted: [web], want: no('NodeAffinity', "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector") },
  ];
  for (const c of cases) assert.deepEqual(verdict(c.pod, c.node ?? node(), c.admitted), c.want, c.name);
});

test('admission predicates: spec.os and the node name', () => {
  const windows = makePod('p').onNode('n1').build();
  windows.spec!.os = { name: 'windows' };
  assert.deepEqual(admitPod(fitPod(windows), fitNode('n1', node().build(), [])), no('PodOSNotSupported', "Failed to admit pod as the OS field doesn't match node OS"));
  const elsewhere = fitPod(makePod('p').onNode('n2').build());
  assert.deepEqual(admitPod(elsewhere, fitNode('n1', node().build(), [])), no('NodeName', "Predicate NodeName failed: node(s) didn't match the requested node name"));
});

test('admission predicates: only-node-affinity failures are told apart', () => {
  const n: Node = node().build();
  const fails = (p: PodBuilder) => generalFilter(fitPod(p.onNode('n1').build()), fitNode('n1', n, []));
  assert.equal(onlyNodeAffinity(fails(makePod('p').nodeSelector({ disk: 'ssd' }))), true);
  assert.equal(onlyNodeAffinity(fails(makePod('p').nodeSelector({ disk: 'ssd' }).withRequests({ cpu: '3' }))), false);
  assert.equal(onlyNodeAffinity(fails(makePod('p'))), false);
});

test('rejectedStatus is the kubelet rejectPod status', () => {
  const r = { admit: false as const, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 4000, used: 100, capacity: 2000" };
  assert.deepEqual(rejectedStatus(r, 'Burstable', '2026-01-01T00:00:00Z'), {
    phase: 'Failed',
    reason: 'OutOfcpu',
    message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 4000, used: 100, capacity: 2000",
    qosClass: 'Burstable',
    startTime: '2026-01-01T00:00:00Z',
  });
});
