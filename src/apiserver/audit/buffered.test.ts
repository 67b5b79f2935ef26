import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../util/clock.ts';
import { BufferedAuditBackend, TokenBucket, type BatchConfig, type BatchDelegate } from './buffered.ts';
import type { AuditEvent } from './event.ts';

function event(id: string): AuditEvent {
  return { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'RequestReceived', requestURI: '/api/v1/pods', verb: 'list', user: { username: 'u' }, requestReceivedTimestamp: '', stageTimestamp: '' };
}

/** A delegate that records batches by their events' audit IDs; `hold` keeps each send open until released. */
function recorder(hold = false) {
  const batches: string[][] = [];
  const pending: Array<() => void> = [];
  const waiters: Array<() => void> = [];
  const delegate: BatchDelegate = {
    name: 'test',
    async send(events) {
      batches.push(events.map((e) => `${e.auditID}/${e.stage}`));
      waiters.splice(0).forEach((w) => w());
      if (hold) await new Promise<void>((r) => pending.push(r));
      return true;
    },
  };
  const nextBatch = () => new Promise<void>((r) => waiters.push(r));
  return { delegate, batches, pending, nextBatch };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('audit batch mode', () => {
  const config: BatchConfig = { bufferSize: 5, maxBatchSize: 3, maxBatchWaitMs: 30_000 };

  it('a full batch goes out at once, the rest when its first event has waited max-wait', async () => {
    const clock = new FakeClock();
    const r = recorder();
    const b = new BufferedAuditBackend(r.delegate, config, clock, () => {});
    for (const id of ['a', 'b', 'c', 'd']) assert.equal(b.processEvent(event(id)), true);
    await tick();
    assert.deepEqual(r.batches, [['a/RequestReceived', 'b/RequestReceived', 'c/RequestReceived']]);
    clock.advance(29_999);
    await tick();
    assert.equal(r.batches.length, 1);
    const next = r.nextBatch();
    clock.advance(1);
    await next;
    assert.deepEqual(r.batches[1], ['d/RequestReceived']);
    assert.equal(clock.pendingTimers(), 0, 'an empty buffer keeps no timer');
  });

  it('buffers a copy: the caller reuses its event for the next stage', async () => {
    const clock = new FakeClock();
    const r = recorder();
    const b = new BufferedAuditBackend(r.delegate, { ...config, maxBatchSize: 2 }, clock, () => {});
    const ev = event('x');
    b.processEvent(ev);
    ev.stage = 'ResponseComplete';
    b.processEvent(ev);
    await tick();
    assert.deepEqual(r.batches, [['x/RequestReceived', 'x/ResponseComplete']]);
  });

  it('a full buffer drops events without failing the request, and says so once', async () => {
    const clock = new FakeClock();
    const r = recorder(true);
    const logs: string[] = [];
    const b = new BufferedAuditBackend(r.delegate, { bufferSize: 2, maxBatchSize: 10, maxBatchWaitMs: 1000 }, clock, (m) => logs.push(m));
    for (let i = 0; i < 6; i++) assert.equal(b.processEvent(event(`e${i}`)), true);
    assert.equal(b.buffered, 2);
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /^Error in audit plugin 'buffered' affecting 1 audit events: audit buffer queue blocked/);
    clock.advance(1000);
    await tick();
    assert.deepEqual(r.batches, [['e0/RequestReceived', 'e1/RequestReceived']]);
    assert.equal(logs.length, 2);
    assert.match(logs[1]!, /4 audit events were dropped/);
    r.pending.splice(0).forEach((p) => p());
  });

  it('throttles the start of batches (token bucket: burst, then qps)', async () => {
    const clock = new FakeClock();
    const r = recorder();
    const b = new BufferedAuditBackend(r.delegate, { bufferSize: 100, maxBatchSize: 1, maxBatchWaitMs: 1000, throttle: { qps: 1, burst: 1 } }, clock, () => {});
    b.processEvent(event('a'));
    b.processEvent(event('b'));
    await tick();
    assert.deepEqual(r.batches, [['a/RequestReceived']]);
    const next = r.nextBatch();
    clock.advance(1000);
    await next;
    assert.deepEqual(r.batches[1], ['b/RequestReceived']);
  });

  it('a throttled delegate keeps the next batches in the buffer, which fills and drops', async () => {
    const clock = new FakeClock();
    const r = recorder();
    const logs: string[] = [];
    const b = new BufferedAuditBackend(r.delegate, { bufferSize: 3, maxBatchSize: 1, maxBatchWaitMs: 1000, throttle: { qps: 1, burst: 1 } }, clock, (m) => logs.push(m));
    b.processEvent(event('a'));
    await tick();
    for (const id of ['b', 'c', 'd', 'e']) b.processEvent(event(id));
    await tick();
    assert.deepEqual(r.batches, [['a/RequestReceived']]);
    assert.equal(b.buffered, 3);
    assert.equal(logs.length, 1, 'the dropped event is reported');
    for (let i = 0; i < 3; i++) {
      const next = r.nextBatch();
      clock.advance(1000);
      await next;
    }
    assert.deepEqual(r.batches.map((x) => x[0]), ['a/RequestReceived', 'b/RequestReceived', 'c/RequestReceived', 'd/RequestReceived']);
  });

  it('close sends what is buffered and waits for batches in flight', async () => {
    const clock = new FakeClock();
    const r = recorder(true);
    const b = new BufferedAuditBackend(r.delegate, config, clock, () => {});
    b.processEvent(event('a'));
    let closed = false;
    const done = b.close().then(() => (closed = true));
    await tick();
    assert.deepEqual(r.batches, [['a/RequestReceived']]);
    assert.equal(closed, false);
    r.pending.splice(0).forEach((p) => p());
    await done;
    assert.equal(b.processEvent(event('late')), true);
    assert.equal(r.batches.length, 1);
  });
});

describe('token bucket', () => {
  it('waits 1/qps per token once the burst is spent, and refills with time', async () => {
    const clock = new FakeClock();
    const tb = new TokenBucket(2, 2, clock);
    await tb.take();
    await tb.take();
    let third = false;
    const p = tb.take().then(() => (third = true));
    await tick();
    assert.equal(third, false);
    clock.advance(500);
    await p;
    clock.advance(10_000);
    await tb.take();
    await tb.take();
    assert.equal(clock.pendingTimers(), 0);
  });
});
