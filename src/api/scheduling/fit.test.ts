import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerPort, Node, Pod } from '../types.ts';
import { fitNode, fitPod, fitsHostPorts, fitsNodeName, fitsResources, insufficientResources } from './fit.ts';

const pod = (name: string, requests: Record<string, string> = {}, ports: ContainerPort[] = [], nodeName?: string): Pod => ({
  metadata: { name, uid: name },
  spec: { nodeName, containers: [{ name: 'c', image: 'busybox', resources: { requests }, ports }] },
});
const node: Node = {
  metadata: { name: 'n1', labels: { zone: 'a' } },
  status: { allocatable: { cpu: '2', memory: '1Gi', pods: '3', 'example.com/dongle': '1' } },
};

test('fitNode sums the pods it holds: requests, count and host ports', () => {
  const n = fitNode('n1', node, [pod('a', { cpu: '500m' }, [{ containerPort: 80, hostPort: 8080 }]), pod('b', { cpu: '250m', memory: '64Mi' })].map(fitPod));
  assert.equal(n.name, 'n1');
  assert.deepEqual(n.labels, { zone: 'a' });
  assert.equal(n.podCount, 2);
  assert.deepEqual([n.requested.milliCPU, n.requested.memory], [750, 64 * 2 ** 20]);
  assert.deepEqual([n.allocatable.milliCPU, n.allocatable.allowedPodNumber, n.allocatable.scalar.get('example.com/dongle')], [2000, 3, 1]);
  assert.equal(n.usedPorts.conflicts({ ip: '10.0.0.1', protocol: 'TCP', port: 8080 }), true);
});

test('fitsResources agrees with insufficientResources', () => {
  const held = [pod('a', { cpu: '1500m' }), pod('b')].map(fitPod);
  const cases: Array<{ name: string; pod: Pod; held?: Pod[]; want: string[] }> = [
    { name: 'fits beside the others', pod: pod('p', { cpu: '500m' }), want: [] },
    { name: 'too much cpu', pod: pod('p', { cpu: '501m' }), want: ['Insufficient cpu'] },
    { name: 'too much memory and an extended resource', pod: pod('p', { memory: '2Gi', 'example.com/dongle': '2' }), want: ['Insufficient memory', 'Insufficient example.com/dongle'] },
    { name: 'the pod count, even for a pod that requests nothing', pod: pod('p'), held: [pod('c')], want: ['Too many pods'] },
  ];
  for (const c of cases) {
    const n = fitNode('n1', node, [...held, ...(c.held ?? []).map(fitPod)]);
    const p = fitPod(c.pod);
    assert.deepEqual(insufficientResources(p, n).map((r) => r.reason), c.want, c.name);
    assert.equal(fitsResources(p, n), c.want.length === 0, c.name);
  }
});

test('node name and host ports', () => {
  const n = fitNode('n1', node, [fitPod(pod('web', {}, [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }]))]);
  assert.equal(fitsNodeName(pod('p'), n), true);
  assert.equal(fitsNodeName(pod('p', {}, [], 'n1'), n), true);
  assert.equal(fitsNodeName(pod('p', {}, [], 'n2'), n), false);
  assert.equal(fitsHostPorts(fitPod(pod('p', {}, [{ containerPort: 80, hostPort: 8080 }])), n), false);
  assert.equal(fitsHostPorts(fitPod(pod('p', {}, [{ containerPort: 80, hostPort: 8080, protocol: 'UDP' }])), n), true);
  assert.equal(fitsHostPorts(fitPod(pod('p', {}, [{ containerPort: 80, hostPort: 8081 }])), n), true);
});
