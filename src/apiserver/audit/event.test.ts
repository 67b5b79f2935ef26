import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { FakeClock } from '../../util/clock.ts';
import { microTime, RequestAudit, sourceIPs, type AuditEvent } from './event.ts';
import type { AuditLevel } from './policy.ts';

const fakeReq = (headers: Record<string, string>, remote = '::ffff:127.0.0.1', url = '/api/v1/namespaces/default/pods'): IncomingMessage =>
  ({ headers, socket: { remoteAddress: remote }, url }) as unknown as IncomingMessage;

describe('audit event: request metadata', () => {
  it('MicroTime has six fractional digits', () => assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), '2026-01-02T03:04:05.006000Z'));

  const cases: Array<[string, Record<string, string>, string, string[]]> = [
    ['the peer, IPv4-mapped as Go prints it', {}, '::ffff:10.0.0.1', ['10.0.0.1']],
    ['forwarded first, without repeats', { 'x-forwarded-for': '1.2.3.4, 5.6.7.8', 'x-real-ip': '5.6.7.8' }, '127.0.0.1', ['1.2.3.4', '5.6.7.8', '127.0.0.1']],
    ['what is not an address is skipped', { 'x-forwarded-for': 'nonsense' }, '::1', ['::1']],
  ];
  for (const [name, headers, remote, want] of cases) it(`sourceIPs: ${name}`, () => assert.deepEqual(sourceIPs(fakeReq(headers, remote)), want));
});

describe('audit event: what each level records', () => {
  const levels: Array<[AuditLevel, boolean, boolean, number]> = [
    ['None', false, false, 0],
    ['Metadata', false, false, 2],
    ['Request', true, false, 2],
    ['RequestResponse', true, true, 2],
  ];
  for (const [level, hasRequest, hasResponse, lines] of levels) {
    it(level, () => {
      const out: AuditEvent[] = [];
      const clock = new FakeClock(Date.UTC(2026, 0, 1));
      const a = new RequestAudit('id-1', { level, omitStages: [], omitManagedFields: true }, { processEvent: (ev) => (out.push(structuredClone(ev)), true) }, clock, clock.now());
      a.logRequestMetadata(fakeReq({ 'user-agent': 'kubectl' }), { user: { name: 'jane', groups: ['dev'] }, verb: 'create', isResourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', namespace: 'default', name: '', path: '' });
      a.processStage('RequestReceived');
      a.logRequestObject({ metadata: { name: 'web', managedFields: [{}] } });
      a.addAnnotation('authorization.k8s.io/decision', 'allow');
      a.addAnnotation('authorization.k8s.io/decision', 'forbid');
      clock.advance(5);
      a.logResponseObject({ kind: 'Pod', metadata: { name: 'web', uid: 'u1' } });
      a.setResponseCode(201);
      a.processStage('ResponseComplete');
      assert.equal(out.length, lines);
      if (!lines) return;
      const [received, done] = out as [AuditEvent, AuditEvent];
      assert.equal(received.stage, 'RequestReceived');
      assert.equal(received.stageTimestamp, received.requestReceivedTimestamp);
      assert.equal(done.stageTimestamp, '2026-01-01T00:00:00.005000Z');
      assert.deepEqual(done.objectRef, { resource: 'pods', namespace: 'default', apiVersion: 'v1', name: 'web' });
      assert.deepEqual(done.user, { username: 'jane', groups: ['dev'] });
      assert.deepEqual(done.responseStatus, { metadata: {}, code: 201 });
      assert.deepEqual(done.annotations, { 'authorization.k8s.io/decision': 'allow' });
      assert.deepEqual(done.requestObject, hasRequest ? { metadata: { name: 'web' } } : undefined);
      assert.deepEqual(done.responseObject, hasResponse ? { kind: 'Pod', metadata: { name: 'web', uid: 'u1' } } : undefined);
    });
  }

  it('a Status answer is the responseStatus; omitted stages are not written', () => {
    const out: AuditEvent[] = [];
    const clock = new FakeClock();
    const a = new RequestAudit('id', { level: 'Metadata', omitStages: ['RequestReceived'], omitManagedFields: false }, { processEvent: (ev) => (out.push(structuredClone(ev)), true) }, clock, clock.now());
    a.processStage('RequestReceived');
    a.logResponseObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'no', reason: 'Forbidden', details: { kind: 'pods' }, code: 403 });
    a.setResponseCode(403);
    a.processStage('ResponseComplete');
    assert.deepEqual(out.map((e) => e.stage), ['ResponseComplete']);
    assert.deepEqual(out[0]!.responseStatus, { metadata: {}, status: 'Failure', message: 'no', reason: 'Forbidden', details: { kind: 'pods' }, code: 403 });
  });
});
