import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitErrorMessage, formatNodeReasons } from './fit-error.ts';
import { unresolvable, unschedulable } from './status.ts';
import type { Status } from './status.ts';

test('FailedScheduling messages match Kubernetes 1.32 byte for byte', () => {
  const taint = unresolvable('node(s) had untolerated taint {k: v}');
  const cpu = unschedulable('Insufficient cpu');
  const cases: Array<{ name: string; statuses: Array<[string, Status]>; pre?: string; post?: string; want: string }> = [
    {
      name: 'histogram sorted as strings, with preemption',
      statuses: [['n1', cpu], ['n2', taint], ['n3', taint]],
      post: 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
      want: '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    },
    {
      name: 'a node with two reasons counts both',
      statuses: [['n1', unschedulable('Insufficient cpu', 'Insufficient memory')], ['n2', unschedulable('Insufficient memory')]],
      want: '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.',
    },
    {
      name: 'counts sort as text (10 before 2)',
      statuses: [...Array.from({ length: 10 }, (_, i): [string, Status] => [`a${i}`, cpu]), ['b1', taint], ['b2', taint]],
      want: '0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint {k: v}.',
    },
    {
      name: 'a PreFilter rejection replaces the histogram',
      statuses: [['n1', cpu]],
      pre: "node(s) didn't match pod topology spread constraints",
      want: "0/1 nodes are available: node(s) didn't match pod topology spread constraints.",
    },
  ];
  for (const c of cases) {
    const msg = fitErrorMessage({ numAllNodes: c.statuses.length, nodeStatuses: new Map(c.statuses), preFilterMsg: c.pre, postFilterMsg: c.post });
    assert.equal(msg, c.want, c.name);
  }
});

test('per-node reasons: one line per node, sorted, summarised beyond the limit', () => {
  const statuses = new Map<string, Status>([
    ['b', unschedulable('Insufficient cpu', 'Insufficient memory')],
    ['a', unresolvable('node(s) were unschedulable')],
    ['c', unschedulable('Insufficient cpu')],
  ]);
  assert.equal(formatNodeReasons(statuses), 'a: node(s) were unschedulable\nb: Insufficient cpu, Insufficient memory\nc: Insufficient cpu');
  assert.equal(formatNodeReasons(statuses, 1), 'a: node(s) were unschedulable\n(2 more nodes: 1 Insufficient memory, 2 Insufficient cpu)');
});
