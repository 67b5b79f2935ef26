import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_MESSAGE_LIMIT, failedSchedulingEventMessage, fitErrorMessage } from './fit-error.ts';
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

test('FailedScheduling event message: Kubernetes\' message, then one line per node within the note limit', () => {
  const statuses = new Map<string, Status>([
    ['b', unschedulable('Insufficient cpu', 'Insufficient memory')],
    ['a', unresolvable('node(s) were unschedulable')],
    ['c', unschedulable('Insufficient cpu')],
  ]);
  const head = '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu, 1 Insufficient memory.';
  const many = new Map<string, Status>(Array.from({ length: 100 }, (_, i) => [`node-${String(i).padStart(3, '0')}`, unschedulable('Insufficient cpu')]));
  const cases: Array<{ name: string; statuses?: Map<string, Status>; limit?: number; want: string }> = [
    { name: 'no statuses (PreFilter or no nodes)', want: head },
    { name: 'empty map', statuses: new Map(), want: head },
    { name: 'all nodes, sorted', statuses, want: `${head}\n    a: node(s) were unschedulable\n    b: Insufficient cpu, Insufficient memory\n    c: Insufficient cpu` },
    // Limits at exactly the length of the wanted message: the boundary is inclusive.
    { name: 'the rest counted', statuses, limit: 150, want: `${head}\n    a: node(s) were unschedulable\n    (2 more nodes)` },
    { name: 'one byte short: the first node is counted too', statuses, limit: 149, want: `${head}\n    (3 more nodes)` },
    { name: 'one byte short of the last node', statuses, limit: 199, want: `${head}\n    a: node(s) were unschedulable\n    b: Insufficient cpu, Insufficient memory\n    (1 more nodes)` },
    { name: 'the last node needs no room for a count', statuses, limit: 200, want: `${head}\n    a: node(s) were unschedulable\n    b: Insufficient cpu, Insufficient memory\n    c: Insufficient cpu` },
  ];
  for (const c of cases) {
    const got = failedSchedulingEventMessage(head, c.statuses, c.limit);
    assert.equal(got, c.want, c.name);
    if (c.limit !== undefined) assert.ok(got.length <= c.limit, c.name);
  }

  const big = failedSchedulingEventMessage(head, many);
  assert.ok(Buffer.byteLength(big) <= EVENT_MESSAGE_LIMIT, `${Buffer.byteLength(big)} bytes`);
  assert.ok(big.startsWith(`${head}\n    node-000: Insufficient cpu\n    node-001: Insufficient cpu\n`));
  const lines = big.split('\n');
  assert.equal(lines.at(-1), `    (${100 - (lines.length - 2)} more nodes)`);
});
