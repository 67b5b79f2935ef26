import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '../../util/clock.ts';
import type { AuditEvent } from './event.ts';
import { backoffDelays, encodeEventList, WebhookAuditBackend } from './webhook.ts';

function event(id: string): AuditEvent {
  return { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', requestURI: '/api/v1/pods', verb: 'create', user: { username: 'u', groups: ['g'] }, requestReceivedTimestamp: 't0', stageTimestamp: 't1' };
}

describe('audit webhook: backoff', () => {
  const cases: Array<[string, number, number, number[]]> = [
    ['kube default, no jitter', 10_000, 0, [10_000, 15_000, 22_500, 33_750]],
    ['full jitter adds 20%', 1000, 1, [1200, 1800, 2700, 4050]],
  ];
  for (const [name, initial, r, want] of cases) {
    it(name, () => assert.deepEqual(backoffDelays(initial, () => r), want));
  }
});

describe('audit webhook: POST of an EventList', () => {
  let server: Server;
  let url: string;
  const answers: number[] = [];
  const received: Array<{ method: string; auth?: string; type?: string; body: string }> = [];
  const arrivals: Array<() => void> = [];
  const nextArrival = () => new Promise<void>((r) => arrivals.push(r));

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method!, auth: req.headers.authorization, type: req.headers['content-type'], body });
        res.statusCode = answers.shift() ?? 200;
        res.end(res.statusCode === 200 ? '{}' : 'unavailable');
        arrivals.splice(0).forEach((a) => a());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the batch as audit.k8s.io/v1 EventList JSON with the bearer token', async () => {
    received.length = 0;
    const w = new WebhookAuditBackend({ target: { server: url, token: 'sekret' }, clock: new FakeClock(), log: () => {} });
    assert.equal(await w.send([event('a'), event('b')], new AbortController().signal), true);
    assert.equal(received.length, 1);
    const r = received[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.auth, 'Bearer sekret');
    assert.equal(r.type, 'application/json');
    const list = JSON.parse(r.body) as { kind: string; apiVersion: string; items: AuditEvent[] };
    assert.equal(list.kind, 'EventList');
    assert.equal(list.apiVersion, 'audit.k8s.io/v1');
    assert.deepEqual(list.items.map((e) => e.auditID), ['a', 'b']);
    assert.equal(r.body, encodeEventList([event('a'), event('b')]));
  });

  it('retries a failed POST after the initial backoff, then 1.5 times longer', async () => {
    received.length = 0;
    answers.push(500, 503);
    const clock = new FakeClock();
    const w = new WebhookAuditBackend({ target: { server: url }, clock, initialBackoffMs: 10_000, random: () => 0, log: () => {} });
    let arrived = nextArrival();
    const sent = w.send([event('a')], new AbortController().signal);
    await arrived;
    await waitForTimer(clock);
    arrived = nextArrival();
    clock.advance(9_999);
    assert.equal(received.length, 1, 'no retry before the backoff');
    clock.advance(1);
    await arrived;
    await waitForTimer(clock);
    arrived = nextArrival();
    clock.advance(15_000);
    await arrived;
    assert.equal(await sent, true);
    assert.equal(received.length, 3);
  });

  it('gives up after five attempts and says how many events were lost', async () => {
    received.length = 0;
    const clock = new FakeClock();
    const logs: string[] = [];
    const w = new WebhookAuditBackend({ target: { server: url }, clock, initialBackoffMs: 100, random: () => 0, log: (m) => logs.push(m) });
    answers.push(500, 500, 500, 500, 500);
    const sent = w.send([event('a'), event('b')], new AbortController().signal);
    for (let i = 0; i < 4; i++) {
      await waitForTimer(clock);
      clock.advance(1000);
    }
    assert.equal(await sent, false);
    assert.equal(received.length, 5);
    assert.deepEqual(logs, [`Error in audit plugin 'webhook' affecting 2 audit events: the server responded with the status code 500: unavailable`]);
  });

  it('a refused connection is retried too, and shutdown ends the wait', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const clock = new FakeClock();
    const logs: string[] = [];
    const w = new WebhookAuditBackend({ target: { server: `http://127.0.0.1:${port}/` }, clock, log: (m) => logs.push(m) });
    const abort = new AbortController();
    const sent = w.send([event('a')], abort.signal);
    await waitForTimer(clock);
    abort.abort();
    assert.equal(await sent, false);
    assert.match(logs[0]!, /affecting 1 audit events: Post "http:\/\/127\.0\.0\.1:\d+\/": connect ECONNREFUSED/);
  });
});

/** Waits (on real I/O turns) until the backend has armed its backoff timer. */
async function waitForTimer(clock: FakeClock): Promise<void> {
  while (clock.pendingTimers() === 0) await new Promise<void>((r) => setImmediate(r));
}
