import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNodeStatus, type NodeStatusInput } from './node-status.ts';

const machine = { cpus: 2, memoryBytes: 4 << 30, storageBytes: 20 << 30, machineID: 'm', systemUUID: 'u', bootID: 'b', kernelVersion: '6.1.0', osImage: 'Debian', architecture: 'amd64' };

function input(now: number, extra: NodeStatusInput['extra'], previous: NodeStatusInput['previous'] = []): NodeStatusInput {
  return { nodeName: 'n1', nodeIP: '10.0.0.1', machine, capacity: { cpu: '2' }, ready: { ok: true, message: 'kubelet is posting ready status' }, pressure: { memory: false, disk: false, pid: false }, previous, runtimeVersion: 'containerd://1.6', images: [], kubeletPort: 10250, now, extra };
}

test('conditions another component owns come first, and keep their transition time while unchanged', () => {
  const up = { type: 'NetworkUnavailable', status: false, reason: 'PodNetworkIsUp', message: 'the vxlan pod network is up on this node (2 other nodes)' };
  const first = buildNodeStatus(input(Date.parse('2026-01-01T00:00:00Z'), [up])).conditions!;
  assert.deepEqual(first.map((c) => `${c.type}=${c.status}`), ['NetworkUnavailable=False', 'MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
  assert.deepEqual(first[0], { type: 'NetworkUnavailable', status: 'False', reason: 'PodNetworkIsUp', message: up.message, lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' });

  const same = buildNodeStatus(input(Date.parse('2026-01-01T00:00:10Z'), [up], first)).conditions!;
  assert.equal(same[0].lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(same[0].lastHeartbeatTime, '2026-01-01T00:00:10Z');

  const down = buildNodeStatus(input(Date.parse('2026-01-01T00:00:20Z'), [{ ...up, status: true, reason: 'PodNetworkFailed', message: 'route replace: Operation not permitted' }], same)).conditions!;
  assert.deepEqual([down[0].status, down[0].reason, down[0].lastTransitionTime], ['True', 'PodNetworkFailed', '2026-01-01T00:00:20Z']);

  assert.deepEqual(buildNodeStatus(input(0, undefined)).conditions!.map((c) => c.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'], 'a node without an overlay has the kubelet\'s four');
});
