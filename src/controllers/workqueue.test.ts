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
