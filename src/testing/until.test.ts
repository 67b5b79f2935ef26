import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { until } from './until.ts';

test('until: resolves with the first value a polled probe yields', async () => {
  let n = 0;
  const cases: Array<[string, () => unknown, unknown]> = [
    ['a boolean', () => ++n >= 3, true],
    ['a value after undefined', () => (n++ > 5 ? 'ok' : undefined), 'ok'],
    ['zero is a value', () => 0, 0],
  ];
  for (const [name, probe, want] of cases) assert.equal(await until(name, probe, { intervalMs: 1 }), want, name);
});

test('until: async probes, and errors count as not yet', async () => {
  let n = 0;
  const got = await until('third try', async () => {
    if (++n < 3) throw new Error('404');
    return n;
  }, { intervalMs: 0 });
  assert.equal(got, 3);
});

test('until: the timeout names what was awaited and the last error', async () => {
  await assert.rejects(until('pod web bound', () => false, { timeoutMs: 30, intervalMs: 5 }), /timed out after 30 ms waiting for pod web bound$/);
  await assert.rejects(until('a pod', () => { throw new Error('boom'); }, { timeoutMs: 30, detail: () => 'log tail' }), /waiting for a pod; last error: boom\nlog tail$/);
});

test('until: event-driven, checked on each event and unsubscribed at the end', async () => {
  const e = new EventEmitter();
  let value = 0;
  let checks = 0;
  const p = until('value 2', () => (checks++, value === 2), { on: (check) => (e.on('change', check), () => e.off('change', check)) });
  value = 1;
  e.emit('change');
  value = 2;
  e.emit('change');
  assert.equal(await p, true);
  assert.equal(e.listenerCount('change'), 0);
  assert.ok(checks <= 3, `no polling besides events (${checks} checks)`);
});
