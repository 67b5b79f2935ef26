import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../util/clock.ts';
import { startCompactor } from './compactor.ts';
import { openSqliteBackend } from './sqlite/sqlite-backend.ts';

const MIN = 60_000;

async function writes(b: ReturnType<typeof openSqliteBackend>, n: number, tag: string): Promise<number> {
  let rev = 0;
  for (let i = 0; i < n; i++) rev = await b.create(`/registry/events/${tag}-${i}`, '{}');
  return rev;
}

test('compacts every interval to the revision seen one interval earlier', async () => {
  const clock = new FakeClock();
  const b = openSqliteBackend(':memory:');
  const c = startCompactor(b, { intervalMs: 5 * MIN, clock });
  try {
    const r1 = await writes(b, 10, 'a');
    clock.advance(5 * MIN); // first pass only records the head
    await c.idle();
    assert.equal(await b.compactedRevision(), 0);
    const r2 = await writes(b, 10, 'b');
    clock.advance(5 * MIN - 1);
    await c.idle();
    assert.equal(await b.compactedRevision(), 0, 'not before the interval is over');
    clock.advance(1);
    await c.idle();
    assert.equal(await b.compactedRevision(), r1);
    clock.advance(5 * MIN);
    await c.idle();
    assert.equal(await b.compactedRevision(), r2);
    assert.equal(await b.count('/registry/events/'), 20, 'live keys survive');
  } finally {
    c.stop();
    await b.close();
  }
});

test('keepRevisions keeps that many revisions below the head', async () => {
  const clock = new FakeClock();
  const b = openSqliteBackend(':memory:');
  const c = startCompactor(b, { intervalMs: MIN, keepRevisions: 15, clock });
  try {
    await writes(b, 10, 'a');
    await c.runOnce();
    const head = await writes(b, 10, 'b');
    assert.equal(await c.runOnce(), head - 15);
    assert.equal(await c.runOnce(), head - 15, 'nothing new: no change');
  } finally {
    c.stop();
    await b.close();
  }
});

test('stops by itself when the backend is closed, and stop() cancels the timer', async () => {
  const clock = new FakeClock();
  const b = openSqliteBackend(':memory:');
  const errors: unknown[] = [];
  const c = startCompactor(b, { intervalMs: MIN, clock, onError: (e) => errors.push(e) });
  await b.close();
  clock.advance(MIN);
  await c.idle();
  assert.equal(clock.pendingTimers(), 0);
  assert.deepEqual(errors, []);

  const b2 = openSqliteBackend(':memory:');
  const c2 = startCompactor(b2, { intervalMs: MIN, clock });
  assert.equal(clock.pendingTimers(), 1);
  c2.stop();
  c2.stop();
  assert.equal(clock.pendingTimers(), 0);
  await b2.close();
});
