import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteQueue, WriteQueueFullError } from './write-queue.ts';

interface Gate {
  promise: Promise<void>;
  open: () => void;
  fail: (err: Error) => void;
}

function gate(): Gate {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('runs at most `concurrency` writes at once, in FIFO order', async () => {
  const errors: unknown[] = [];
  const q = new WriteQueue({ concurrency: 2, maxQueued: 100, onError: (e) => errors.push(e) });
  const gates = Array.from({ length: 5 }, gate);
  const started: number[] = [];
  const done = gates.map((g, i) => q.push(() => {
    started.push(i);
    return g.promise;
  }));
  assert.deepEqual(started, [0, 1]);
  assert.equal(q.length, 5);
  gates[1].open();
  await done[1];
  assert.deepEqual(started, [0, 1, 2]);
  gates[0].fail(new Error('boom'));
  await done[0];
  assert.deepEqual(started, [0, 1, 2, 3]);
  assert.equal((errors[0] as Error).message, 'boom');
  for (const g of gates) g.open();
  await q.idle();
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(q.length, 0);
});

test('drops and reports writes beyond maxQueued; a throwing write is reported, not thrown', async () => {
  const errors: unknown[] = [];
  const q = new WriteQueue({ concurrency: 1, maxQueued: 1, onError: (e) => errors.push(e) });
  const g = gate();
  let ran = 0;
  void q.push(() => g.promise); // in flight: not counted against maxQueued
  void q.push(async () => void ran++); // waiting
  await q.push(async () => void ran++); // dropped: resolves at once
  await q.push(async () => void ran++); // dropped too, reported with the first
  assert.equal(q.dropped, 2);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof WriteQueueFullError);
  g.open();
  await q.idle();
  assert.equal(ran, 1);
  // Drained: one report with the count.
  assert.equal(errors.length, 2);
  assert.match((errors[1] as Error).message, /2 writes were dropped/);
  await q.push(() => {
    throw new Error('sync');
  });
  await tick();
  assert.equal((errors[2] as Error).message, 'sync');
});

test('idle() resolves at once when nothing is queued', async () => {
  const q = new WriteQueue({ concurrency: 1, maxQueued: 1, onError: () => {} });
  await q.idle();
  assert.equal(q.length, 0);
});
