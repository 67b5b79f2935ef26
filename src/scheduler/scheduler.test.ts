import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../client/client.ts';
import { FakeClock } from '../util/clock.ts';
import { startScheduler } from './scheduler.ts';

test('stop() before the caches ever synced returns (an unreachable API server)', async () => {
  const client = new ApiClient({ server: 'http://127.0.0.1:1' });
  let firstError!: () => void;
  const errored = new Promise<void>((r) => (firstError = r));
  const s = startScheduler({ client, clock: new FakeClock(), onError: () => firstError() });
  await errored;
  await s.stop();
  client.close();
  assert.deepEqual(s.stats().queue, { active: 0, backoff: 0, unschedulable: 0 });
});
