import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../util/clock.ts';
import { DueQueue } from './due-queue.ts';

describe('DueQueue', () => {
  it('runs entries in due order, same times in insertion order, on one clock timer', () => {
    const clock = new FakeClock();
    const q = new DueQueue(clock);
    const ran: string[] = [];
    for (const [ms, name] of [[30, 'c'], [10, 'a'], [20, 'b1'], [20, 'b2'], [0, 'now']] as const) q.after(ms, () => ran.push(name));
    assert.equal(clock.pendingTimers(), 1);
    assert.equal(q.size, 5);
    clock.advance(0);
    assert.deepEqual(ran, ['now']);
    clock.advance(20);
    assert.deepEqual(ran, ['now', 'a', 'b1', 'b2']);
    clock.advance(100);
    assert.deepEqual(ran, ['now', 'a', 'b1', 'b2', 'c']);
    assert.equal(q.size, 0);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('cancels, re-arms for earlier entries, runs entries added by callbacks, survives throws', () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const q = new DueQueue(clock, (e) => errors.push(e));
    const ran: number[] = [];
    const h = q.after(50, () => ran.push(50));
    q.after(100, () => {
      ran.push(100);
      q.after(0, () => ran.push(101));
    });
    q.after(10, () => {
      throw new Error('boom');
    });
    h.cancel();
    h.cancel();
    assert.equal(q.size, 2);
    clock.advance(200);
    assert.deepEqual(ran, [100, 101]);
    assert.equal(errors.length, 1);
  });

  it('does nothing after stop', () => {
    const clock = new FakeClock();
    const q = new DueQueue(clock);
    let n = 0;
    q.after(10, () => n++);
    q.stop();
    q.after(10, () => n++);
    clock.advance(100);
    assert.equal(n, 0);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('keeps order over many random entries', () => {
    const clock = new FakeClock();
    const q = new DueQueue(clock);
    const seen: number[] = [];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const at = Math.floor(rnd() * 10_000);
      q.after(at, () => seen.push(clock.now()));
    }
    clock.advance(10_000);
    assert.equal(seen.length, 2000);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1]);
  });
});
