import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, NodeCondition } from '../../../api/types.ts';
import { printNode } from './printer.ts';
import { DAY, NOW, ago } from '../../printing/testing.ts';

function node(opts: { ready?: string; conditions?: NodeCondition[]; labels?: Record<string, string>; unschedulable?: boolean; info?: boolean } = {}): Node {
  const n: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', creationTimestamp: ago(5 * DAY + 2 * 3600_000), labels: opts.labels ?? {} },
    spec: {},
    status: {
      conditions: opts.conditions ?? (opts.ready === undefined ? [] : [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: opts.ready },
      ]),
      addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '10.0.0.11' }, { type: 'InternalIP', address: '10.0.0.99' }],
    },
  };
  if (opts.unschedulable) n.spec!.unschedulable = true;
  if (opts.info !== false) {
    n.status!.nodeInfo = {
      kubeletVersion: 'v1.32.4', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64',
      containerRuntimeVersion: 'containerd://1.6.20', architecture: 'amd64', bootID: '', machineID: '', systemUUID: '',
      kubeProxyVersion: '', operatingSystem: 'linux',
    };
  }
  return n;
}

describe('node rows', () => {
  it('prints a ready control-plane node with wide columns', () => {
    assert.deepEqual(printNode(node({ ready: 'True', labels: { 'node-role.kubernetes.io/control-plane': '' } }), NOW).cells, [
      'node-1', 'Ready', 'control-plane', '5d2h', 'v1.32.4', '10.0.0.11', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'containerd://1.6.20',
    ]);
  });

  const statusCases: Array<[string, Parameters<typeof node>[0], string]> = [
    ['Ready', { ready: 'True' }, 'Ready'],
    ['Ready=False', { ready: 'False' }, 'NotReady'],
    ['Ready=Unknown (lost heartbeat)', { ready: 'Unknown' }, 'NotReady'],
    ['no Ready condition', {}, 'Unknown'],
    ['cordoned', { ready: 'True', unschedulable: true }, 'Ready,SchedulingDisabled'],
    ['cordoned and lost', { unschedulable: true }, 'Unknown,SchedulingDisabled'],
    ['the last Ready condition wins', { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Ready', status: 'True' }] }, 'Ready'],
  ];
  for (const [name, opts, want] of statusCases) {
    it(`STATUS: ${name} → ${want}`, () => assert.equal(printNode(node(opts), NOW).cells[1], want));
  }

  const roleCases: Array<[Record<string, string>, string]> = [
    [{}, '<none>'],
    [{ 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': 'true' }, 'control-plane,worker'],
    [{ 'kubernetes.io/role': 'master', 'node-role.kubernetes.io/master': '' }, 'master'],
    [{ 'kubernetes.io/role': 'infra', 'node-role.kubernetes.io/': '' }, 'infra'],
    [{ 'kubernetes.io/role': '', 'kubernetes.io/hostname': 'node-1' }, '<none>'],
  ];
  for (const [labels, want] of roleCases) {
    it(`ROLES ${JSON.stringify(labels)} → ${want}`, () => assert.equal(printNode(node({ ready: 'True', labels }), NOW).cells[2], want));
  }

  it('prints an empty version and <unknown> system info before the agent reported', () => {
    const n = node({ info: false });
    n.status!.addresses = [{ type: 'ExternalIP', address: '203.0.113.5' }];
    assert.deepEqual(printNode(n, NOW).cells.slice(4), ['', '<none>', '203.0.113.5', '<unknown>', '<unknown>', '<unknown>']);
  });
});
