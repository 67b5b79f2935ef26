import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../client/client.ts';
import { FakeClock } from '../util/clock.ts';
import { ApiEventSink, coreTarget, MemoryEventSink, OnceEvents } from './events.ts';

test('events per source and object: a burst of 25, then one per 5 minutes (client-go spam filter)', async () => {
  const posted: Array<{ name: string; reason: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const ev = JSON.parse(body) as { involvedObject: { name: string }; reason: string };
      posted.push({ name: ev.involvedObject.name, reason: ev.reason });
      res.writeHead(201, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new ApiClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const sink = new ApiEventSink(client, clock, 'replicaset-controller');
  try {
    const web = { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'default', name: 'web', uid: 'u1' };
    for (let i = 0; i < 100; i++) sink.event(web, 'Normal', 'SuccessfulCreate', `Created pod: web-${i}`);
    // Another object, and another type for the same object, have buckets of their own.
    sink.event({ ...web, name: 'db', uid: 'u2' }, 'Normal', 'SuccessfulCreate', 'Created pod: db-0');
    sink.event(web, 'Warning', 'FailedCreate', 'Error creating: quota');
    await sink.flush();
    assert.equal(posted.filter((e) => e.name === 'web' && e.reason === 'SuccessfulCreate').length, 25);
    assert.equal(posted.filter((e) => e.name === 'db').length, 1);
    assert.equal(posted.filter((e) => e.reason === 'FailedCreate').length, 1);
    clock.advance(299_000);
    sink.event(web, 'Normal', 'SuccessfulCreate', 'Created pod: late-1');
    clock.advance(1_000);
    sink.event(web, 'Normal', 'SuccessfulCreate', 'Created pod: late-2');
    sink.event(web, 'Normal', 'SuccessfulCreate', 'Created pod: late-3');
    await sink.flush();
    assert.equal(posted.filter((e) => e.name === 'web' && e.reason === 'SuccessfulCreate').length, 26, 'one more after 5 minutes');
  } finally {
    client.close();
    server.close();
  }
});

test('OnceEvents says an event once per object until what it says changes, and again after forget', () => {
  const sink = new MemoryEventSink();
  const once = new OnceEvents(sink);
  const claim = coreTarget('PersistentVolumeClaim', { metadata: { namespace: 'default', name: 'data', uid: 'u1' } });
  once.say(claim, 'Normal', 'WaitForFirstConsumer', 'waiting');
  once.say(claim, 'Normal', 'WaitForFirstConsumer', 'waiting'); // a resync: not said again
  once.say({ ...claim, name: 'other' }, 'Normal', 'WaitForFirstConsumer', 'waiting');
  once.say(claim, 'Warning', 'ProvisioningFailed', 'no room');
  once.say({ ...claim, uid: 'u2' }, 'Warning', 'ProvisioningFailed', 'no room'); // a new claim of the same name
  once.forget(claim);
  once.say({ ...claim, uid: 'u2' }, 'Warning', 'ProvisioningFailed', 'no room');
  assert.deepEqual(sink.events.map((e) => `${e.target.name}/${e.target.uid}:${e.reason}`), [
    'data/u1:WaitForFirstConsumer',
    'other/u1:WaitForFirstConsumer',
    'data/u1:ProvisioningFailed',
    'data/u2:ProvisioningFailed',
    'data/u2:ProvisioningFailed',
  ]);
});
