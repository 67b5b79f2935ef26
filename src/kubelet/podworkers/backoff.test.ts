import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../util/clock.ts';
import { goDuration, RestartBackoff } from './backoff.ts';

describe('RestartBackoff', () => {
  it('restarts at once, then waits 10 s doubling up to 300 s', () => {
    const clock = new FakeClock();
    const b = new RestartBackoff(clock);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const finished = clock.now();
      const w = b.remaining('p/c', finished - 1000, finished);
      waits.push(w);
      clock.advance(w);
      b.next('p/c');
    }
    assert.deepEqual(waits, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('starts over after a run of 10 minutes, and for keys idle for twice the maximum', () => {
    const clock = new FakeClock();
    const b = new RestartBackoff(clock);
    b.next('k');
    b.next('k');
    assert.equal(b.current('k'), 20_000);
    const now = clock.now();
    assert.equal(b.remaining('k', now - 600_000, now), 0, 'ran 10 minutes');
    b.next('k');
    assert.equal(b.current('k'), 10_000);
    b.next('k');
    clock.advance(600_001);
    assert.equal(b.remaining('k', 0, clock.now()), 0, 'idle 2 × 300 s');
    assert.equal(b.current('k'), 0);
  });

  it('forgets every key of a pod', () => {
    const b = new RestartBackoff(new FakeClock());
    b.next('uid1/a');
    b.next('uid1/b');
    b.next('uid2/a');
    b.forgetPod('uid1');
    assert.deepEqual([b.current('uid1/a'), b.current('uid1/b'), b.current('uid2/a')], [0, 0, 10_000]);
  });

  it('formats delays as Go durations', () => {
    assert.deepEqual([10_000, 80_000, 300_000, 3_700_000].map(goDuration), ['10s', '1m20s', '5m0s', '1h1m40s']);
  });
});
