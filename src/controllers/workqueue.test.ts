import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../util/clock.ts';
import { WorkQueue, runWorkers } from './workqueue.ts';

test('workqueue: a key is queued once however often it is added', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.length, 0);
});

test('workqueue: a key added while processed comes back after done, not to a second worker', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const k = await q.get();
  q.add('a');
  assert.equal(q.length, 0, 'not handed out while processing');
  q.done(k!);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'a');
});

test('workqueue: a waiting get is woken by add; shutDown resolves waiters with undefined', async () => {
  const q = new WorkQueue<string>();
  const p = q.get();
  q.add('x');
  assert.equal(await p, 'x');
  const p2 = q.get();
  q.shutDown();
  assert.equal(await p2, undefined);
  q.add('y');
  assert.equal(q.length, 0);
});

test('workqueue: addAfter keeps the earliest delay per key', () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock });
  q.addAfter('a', 1000);
  q.addAfter('a', 5000);
  q.addAfter('a', 500);
  clock.advance(499);
  assert.equal(q.length, 0);
  clock.advance(1);
  assert.equal(q.length, 1);
  assert.equal(q.delayedLength, 0);
  clock.advance(10_000);
  assert.equal(q.length, 1, 'the dropped later delays do not add again');
});

test('workqueue: addAt fires at the absolute time however far the clock moved since it was computed', () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock });
  const computedAt = clock.now();
  clock.advance(400); // the sync awaited the API meanwhile
  q.addAt('a', computedAt + 1000);
  clock.advance(599);
  assert.equal(q.length, 0);
  clock.advance(1);
  assert.equal(q.length, 1, 'due at computedAt + 1000, not 1000 ms after the call');
  assert.equal(q.delayedLength, 0);
});

test('workqueue: addAt keeps the earliest time per key, shared with addAfter', () => {
  const cases: Array<{ name: string; adds: Array<(q: WorkQueue<string>, t0: number) => void>; dueAfter: number }> = [
    { name: 'later addAt dropped', adds: [(q, t0) => q.addAt('a', t0 + 500), (q, t0) => q.addAt('a', t0 + 900)], dueAfter: 500 },
    { name: 'earlier addAt replaces', adds: [(q, t0) => q.addAt('a', t0 + 900), (q, t0) => q.addAt('a', t0 + 300)], dueAfter: 300 },
    { name: 'addAfter earlier than addAt', adds: [(q, t0) => q.addAt('a', t0 + 900), (q) => q.addAfter('a', 200)], dueAfter: 200 },
    { name: 'addAfter later than addAt dropped', adds: [(q, t0) => q.addAt('a', t0 + 200), (q) => q.addAfter('a', 900)], dueAfter: 200 },
  ];
  for (const c of cases) {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    const t0 = clock.now();
    for (const add of c.adds) add(q, t0);
    clock.advance(c.dueAfter - 1);
    assert.equal(q.length, 0, `${c.name}: not before ${c.dueAfter} ms`);
    clock.advance(1);
    assert.equal(q.length, 1, `${c.name}: at ${c.dueAfter} ms`);
    assert.equal(q.delayedLength, 0, `${c.name}: the dropped times leave no timer`);
    clock.advance(10_000);
    assert.equal(q.length, 1, `${c.name}: added once`);
  }
});

test('workqueue: addAt of a past or present time adds at once; after shutDown it does nothing', () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock });
  q.addAt('past', clock.now() - 5000);
  q.addAt('now', clock.now());
  assert.equal(q.length, 2);
  assert.equal(q.delayedLength, 0);
  q.shutDown();
  q.addAt('late', clock.now() + 10);
  clock.advance(100);
  assert.equal(q.delayedLength, 0);
  assert.equal(clock.pendingTimers(), 0);
});

test('workqueue: rate-limited requeue backs off exponentially up to the cap, forget resets', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock, baseDelayMs: 10, maxDelayMs: 50 });
  const cases = [10, 20, 40, 50, 50];
  for (const delay of cases) {
    q.addRateLimited('k');
    clock.advance(delay - 1);
    assert.equal(q.length, 0, `not before ${delay} ms`);
    clock.advance(1);
    assert.equal(q.length, 1, `after ${delay} ms`);
    q.done((await q.get())!);
  }
  q.forget('k');
  q.addRateLimited('k');
  clock.advance(10);
  assert.equal(q.length, 1);
});

test('runWorkers: failures are reported and retried with backoff; success forgets', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock, baseDelayMs: 100 });
  let calls = 0;
  const errors: unknown[] = [];
  let resolveSecond: () => void = () => {};
  const second = new Promise<void>((r) => (resolveSecond = r));
  const done = runWorkers(q, 2, async () => {
    calls++;
    if (calls === 1) throw new Error('boom');
    resolveSecond();
  }, (e) => errors.push(e));
  q.add('k');
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, 1);
  assert.equal(errors.length, 1);
  assert.equal(q.failures('k'), 1);
  clock.advance(100);
  await second;
  await new Promise((r) => setImmediate(r));
  assert.equal(q.failures('k'), 0);
  q.shutDown();
  await done;
});
