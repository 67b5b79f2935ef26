import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../api/types.ts';
import { makeNode, makePod } from '../../testing/objects.ts';
import { PodAdmitter, startupOrder } from './admitter.ts';

const node = (): Node => makeNode('n1').allocatable({ cpu: '2', memory: '1Gi', pods: '3' }).build();
const cpu = (name: string, q: string) => makePod(name).withRequests({ cpu: q }).onNode('n1').build();

function admitter(released = new Set<string>()): PodAdmitter {
  return new PodAdmitter({ nodeName: 'n1', holdsResources: (uid) => !released.has(uid) });
}

test('PodAdmitter: each new pod is judged against those admitted before it; rejected ones never count', () => {
  const a = admitter();
  const steps: Array<{ pod: string; q: string; want: string }> = [
    { pod: 'a', q: '1500m', want: 'admit' },
    { pod: 'b', q: '1', want: "OutOfcpu: Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000" },
    { pod: 'c', q: '500m', want: 'admit' },
    { pod: 'd', q: '1m', want: "OutOfcpu: Node didn't have enough resource: cpu, requested: 1, used: 2000, capacity: 2000" },
  ];
  for (const s of steps) {
    const p = cpu(s.pod, s.q);
    const r = a.admitNow(p, node());
    assert.equal(r.admit ? 'admit' : `${r.reason}: ${r.message}`, s.want, s.pod);
    assert.equal(a.isRejected(p.metadata!.uid!), !r.admit);
    assert.equal(a.isAdmitted(p.metadata!.uid!), r.admit);
  }
  assert.equal(a.admittedCount(), 2);
});

test('PodAdmitter: a pod that holds nothing any more stops counting', () => {
  const released = new Set<string>();
  const a = admitter(released);
  const big = cpu('big', '2');
  assert.equal(a.admitNow(big, node()).admit, true);
  assert.equal(a.admitNow(cpu('next', '1'), node()).admit, false);
  released.add(big.metadata!.uid!);
  assert.equal(a.admitNow(cpu('after', '1'), node()).admit, true);
  assert.equal(a.isAdmitted(big.metadata!.uid!), false);
});

test('PodAdmitter: pods added without judging count (restart), and so does a same-named successor', () => {
  const a = admitter();
  // Over capacity, but an earlier agent ran it: it is not judged again.
  a.add(cpu('old', '3'));
  assert.equal(a.admittedCount(), 1);
  const r = a.admitNow(cpu('new', '1m'), node());
  assert.deepEqual(r, { admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 1, used: 3000, capacity: 2000" });

  const b = admitter();
  b.add(cpu('web', '1'));
  assert.equal(b.admitNow(cpu('web', '1'), node()).admit, true, 'the terminating one and its successor by uid');
  assert.equal(b.admitNow(cpu('web', '1m'), node()).admit, false);
});

test('PodAdmitter: the pod count includes every admitted pod', () => {
  const a = admitter();
  for (const n of ['a', 'b', 'c']) assert.equal(a.admitNow(makePod(n).onNode('n1').build(), node()).admit, true);
  assert.deepEqual(a.admitNow(makePod('d').onNode('n1').build(), node()), { admit: false, reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3" });
});

test('PodAdmitter: a pod failed only by node labels is judged again on a fresh Node', async () => {
  const labelled = makeNode('n1').allocatable({ cpu: '2', pods: '10' }).labels({ disk: 'ssd' }).build();
  const cases: Array<{ name: string; reqs?: Record<string, string>; fresh: () => Promise<Node>; want: string; reads: number }> = [
    { name: 'the label arrived meanwhile', fresh: async () => labelled, want: 'admit', reads: 1 },
    { name: 'still no label', fresh: async () => node(), want: 'NodeAffinity', reads: 1 },
    { name: 'the read fails: the first verdict stands', fresh: () => Promise.reject(new Error('down')), want: 'NodeAffinity', reads: 1 },
    { name: 'other failures too: no second look', reqs: { cpu: '3' }, fresh: async () => labelled, want: 'OutOfcpu', reads: 0 },
  ];
  for (const c of cases) {
    let reads = 0;
    const pod = makePod('p').withRequests(c.reqs ?? {}).nodeSelector({ disk: 'ssd' }).onNode('n1').build();
    const r = await admitter().admit(pod, node(), () => {
      reads++;
      return c.fresh();
    });
    assert.equal(r.admit ? 'admit' : r.reason, c.want, c.name);
    assert.equal(reads, c.reads, c.name);
  }
});

test('PodAdmitter: forget drops a rejection', () => {
  const a = admitter();
  const p = cpu('p', '3');
  assert.equal(a.admitNow(p, node()).admit, false);
  a.forget(p.metadata!.uid!);
  assert.equal(a.isRejected(p.metadata!.uid!), false);
});

test('startupOrder: started pods first, then the rest, each oldest first', () => {
  const at = (name: string, created: string, status: Pod['status']) => {
    const p = makePod(name).onNode('n1').build();
    p.metadata!.creationTimestamp = created;
    p.status = status;
    return p;
  };
  const pods = [
    at('a-new', '2026-01-01T00:00:03Z', { phase: 'Pending' }),
    at('b-running', '2026-01-01T00:00:02Z', { phase: 'Running', startTime: '2026-01-01T00:00:02Z' }),
    at('c-new-older', '2026-01-01T00:00:01Z', { phase: 'Pending' }),
    at('d-pulling', '2026-01-01T00:00:04Z', { phase: 'Pending', startTime: '2026-01-01T00:00:04Z' }),
    at('e-done', '2026-01-01T00:00:00Z', { phase: 'Succeeded', startTime: '2026-01-01T00:00:00Z' }),
    at('f-rejected', '2026-01-01T00:00:05Z', { phase: 'Failed', reason: 'OutOfcpu', startTime: '2026-01-01T00:00:05Z' }),
    at('g-same-second', '2026-01-01T00:00:01Z', { phase: 'Pending' }),
  ];
  const { started, rest } = startupOrder(pods);
  assert.deepEqual(started.map((p) => p.metadata!.name), ['b-running', 'd-pulling']);
  assert.deepEqual(rest.map((p) => p.metadata!.name), ['e-done', 'c-new-older', 'g-same-second', 'a-new', 'f-rejected']);
});
