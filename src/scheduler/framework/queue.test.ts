import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../util/clock.ts';
import { makePod } from '../../testing/objects.ts';
import { SchedulingQueue } from './queue.ts';
import type { QueuedPodInfo } from './queue.ts';

function newQueue(clock = new FakeClock()): { q: SchedulingQueue; clock: FakeClock } {
  return { q: new SchedulingQueue({ clock }), clock };
}

function popAll(q: SchedulingQueue): string[] {
  const out: string[] = [];
  for (let p = q.tryPop(); p; p = q.tryPop()) out.push(p.podInfo.name);
  return out;
}

test('activeQ orders by priority, then by time of entry', () => {
  const cases: Array<{ name: string; pods: Array<[string, number]>; want: string[] }> = [
    { name: 'fifo at equal priority', pods: [['a', 0], ['b', 0], ['c', 0]], want: ['a', 'b', 'c'] },
    { name: 'higher priority first', pods: [['low', 0], ['high', 100], ['mid', 50]], want: ['high', 'mid', 'low'] },
    { name: 'negative priorities last', pods: [['neg', -5], ['zero', 0], ['neg2', -5]], want: ['zero', 'neg', 'neg2'] },
  ];
  for (const c of cases) {
    const { q, clock } = newQueue();
    for (const [n, p] of c.pods) {
      q.add(makePod(n).priority(p).build());
      clock.advance(1);
    }
    assert.deepEqual(popAll(q), c.want, c.name);
    q.close();
  }
});

test('backoff is 1 s doubling per attempt up to 10 s', () => {
  const { q } = newQueue();
  const want = [1000, 2000, 4000, 8000, 10_000, 10_000];
  const got = want.map((_, i) => q.backoffDuration({ attempts: i + 1 } as QueuedPodInfo));
  assert.deepEqual(got, want);
  q.close();
});

test('an unschedulable pod waits for a cluster event, then for the rest of its backoff', () => {
  const { q, clock } = newQueue();
  q.add(makePod('p').build());
  const first = q.tryPop()!;
  const cycle = q.schedulingCycle;
  q.addUnschedulable(first, cycle);
  assert.equal(q.where('default/p'), 'unschedulable');
  clock.advance(400);
  q.moveAllToActiveOrBackoff('NodeAdd');
  // 1 s backoff after the first attempt, 400 ms of it gone.
  assert.equal(q.where('default/p'), 'backoff');
  clock.advance(599);
  assert.equal(q.where('default/p'), 'backoff');
  clock.advance(1);
  assert.equal(q.where('default/p'), 'active');
  const second = q.tryPop()!;
  assert.equal(second.attempts, 2);
  q.addUnschedulable(second, q.schedulingCycle);
  clock.advance(5000);
  // Backoff (2 s) is over: a cluster event sends it straight to activeQ.
  q.moveAllToActiveOrBackoff('NodeUpdate');
  assert.equal(q.where('default/p'), 'active');
  q.close();
});

test('a move request during the attempt sends the failed pod to backoffQ, not unschedulable', () => {
  const { q, clock } = newQueue();
  q.add(makePod('p').build());
  const p = q.tryPop()!;
  const cycle = q.schedulingCycle;
  q.moveAllToActiveOrBackoff('NodeAdd'); // a node arrives while p is being scheduled
  q.addUnschedulable(p, cycle);
  assert.equal(q.where('default/p'), 'backoff');
  clock.advance(1000);
  assert.equal(q.where('default/p'), 'active');
  q.close();
});

test('errors go to backoffQ; pods left unschedulable for 5 minutes are retried', () => {
  const { q, clock } = newQueue();
  q.add(makePod('err').build());
  q.add(makePod('stuck').build());
  const e = q.tryPop()!;
  const s = q.tryPop()!;
  q.addUnschedulable(e, q.schedulingCycle, { error: true });
  q.addUnschedulable(s, q.schedulingCycle);
  assert.deepEqual([q.where('default/err'), q.where('default/stuck')], ['backoff', 'unschedulable']);
  clock.advance(60_000);
  assert.deepEqual([q.where('default/err'), q.where('default/stuck')], ['active', 'unschedulable']);
  clock.advance(4 * 60_000 + 30_000);
  assert.equal(q.where('default/stuck'), 'active');
  q.close();
});

test('updates: meaningful ones move an unschedulable pod, status-only ones do not', () => {
  const cases: Array<{ name: string; change: (p: ReturnType<typeof makePod>) => void; want: string }> = [
    { name: 'new annotation', change: (b) => b.annotations({ 'example.com/note': 'x' }), want: 'backoff' },
    { name: 'status only', change: (b) => b.status({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] }), want: 'unschedulable' },
    { name: 'new toleration', change: (b) => b.toleration({ key: 'k', operator: 'Exists' }), want: 'backoff' },
    { name: 'new label', change: (b) => b.labels({ x: 'y' }), want: 'backoff' },
  ];
  for (const c of cases) {
    const { q } = newQueue();
    const old = makePod('p').uid('u1');
    q.add(old.build());
    q.addUnschedulable(q.tryPop()!, q.schedulingCycle);
    const next = makePod('p').uid('u1');
    c.change(next);
    q.update(old.build(), next.build());
    assert.equal(q.where('default/p'), c.want, c.name);
    q.close();
  }
});

test('pop waits for a pod and ends with undefined on close', async () => {
  const { q } = newQueue();
  const waiting = q.pop();
  q.add(makePod('late').build());
  assert.equal((await waiting)?.podInfo.name, 'late');
  const never = q.pop();
  q.close();
  assert.equal(await never, undefined);
});

test('delete removes the pod from whichever part holds it', () => {
  const { q } = newQueue();
  q.add(makePod('a').build());
  q.add(makePod('b').build());
  q.addUnschedulable(q.tryPop()!, q.schedulingCycle);
  q.delete(makePod('a').build());
  q.delete(makePod('b').build());
  assert.deepEqual(q.lengths, { active: 0, backoff: 0, unschedulable: 0 });
  q.close();
});
