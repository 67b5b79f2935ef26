// Event expiry (--event-ttl): an event goes ttl after its last write, whether that write happened
// before the API server started (counted from the event's own timestamps) or while it runs (counted
// from when the write was seen); a later write moves the deadline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../storage/registry.ts';
import { FakeClock, rfc3339 } from '../util/clock.ts';
import type { KubeObject } from '../api/types.ts';
import { Registry } from './registry.ts';
import { EventTTL, lastWritten } from './event-ttl.ts';

const minute = 60_000;

function event(name: string, at: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'p' },
    reason: 'Test',
    message: name,
    type: 'Normal',
    firstTimestamp: rfc3339(at),
    lastTimestamp: rfc3339(at),
    count: 1,
  } as KubeObject;
}

test('lastWritten: the newest of lastTimestamp, eventTime, series.lastObservedTime and creationTimestamp', () => {
  const t = Date.UTC(2026, 0, 1);
  assert.equal(lastWritten({ metadata: { creationTimestamp: rfc3339(t) } }), t);
  assert.equal(lastWritten({ metadata: { creationTimestamp: rfc3339(t) }, lastTimestamp: rfc3339(t + 5000) } as KubeObject), t + 5000);
  assert.equal(lastWritten({ metadata: {}, eventTime: '2026-01-01T00:00:09.000000Z', series: { lastObservedTime: '2026-01-01T00:00:20.500000Z' } } as KubeObject), t + 20_500);
  assert.equal(lastWritten({ metadata: {} }), undefined);
});

test('events expire ttl after their last write, before or after the server started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-event-ttl-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  const clock = new FakeClock();
  const t0 = clock.now();
  const registry = new Registry(backend, { clock });
  await registry.bootstrap();
  const events = registry.store('events');
  const ttl = new EventTTL(events, clock, { ttlMs: 60 * minute, sweepMs: minute });
  const names = async () => (await events.list({ namespace: 'default' })).items.map((e) => e.metadata?.name).sort();
  try {
    // Written before this "server" started.
    await events.create('default', event('old', t0));
    await events.create('default', event('touched', t0));
    clock.advance(50 * minute);
    await ttl.start();
    assert.equal(ttl.pending, 2);
    // Written while it runs: due 60 minutes from now (t0 + 110).
    await events.create('default', event('fresh', clock.now()));
    await events.guaranteedUpdate('default', 'touched', (e) => ({ ...e, count: 2, lastTimestamp: rfc3339(clock.now()) }) as KubeObject);

    clock.advance(11 * minute); // t0 + 61: 'old' is due; 'touched' was due too, but written since.
    await ttl.sweep();
    assert.deepEqual(await names(), ['fresh', 'touched']);

    clock.advance(48 * minute); // t0 + 109
    await ttl.sweep();
    assert.deepEqual(await names(), ['fresh', 'touched']);

    clock.advance(2 * minute); // t0 + 111
    await ttl.sweep();
    assert.deepEqual(await names(), []);
    assert.equal(ttl.pending, 0);
  } finally {
    ttl.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
