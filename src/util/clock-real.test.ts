// realClock's timers beyond Node's 2^31-1 ms limit (a certificate renewed months ahead): Node would
// fire them at once; realClock waits the whole time. Node's mocked timers stand in for the months.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { realClock } from './clock.ts';

test('a timer months away fires after months, not at once', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    const DAY = 24 * 3600_000;
    let fired = 0;
    realClock.setTimeout(() => fired++, 255 * DAY);
    mock.timers.tick(1);
    assert.equal(fired, 0);
    for (let d = 0; d < 254; d++) mock.timers.tick(DAY);
    assert.equal(fired, 0);
    mock.timers.tick(DAY);
    assert.equal(fired, 1);
    // Cancelled between two steps, it never fires.
    const t = realClock.setTimeout(() => fired++, 60 * DAY);
    mock.timers.tick(30 * DAY);
    t.cancel();
    mock.timers.tick(40 * DAY);
    assert.equal(fired, 1);
  } finally {
    mock.timers.reset();
  }
});
