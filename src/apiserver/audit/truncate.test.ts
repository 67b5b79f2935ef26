import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent } from './event.ts';
import { truncateBatches } from './truncate.ts';
import { encodeEvent } from './writer.ts';

const ev = (id: string, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', requestURI: '/api/v1/pods', verb: 'list', user: { username: 'u' }, requestReceivedTimestamp: 't', stageTimestamp: 't', ...extra,
});

describe('audit truncate backend', () => {
  it('cuts a batch where the next event would pass the max batch size, keeping the order', () => {
    const size = Buffer.byteLength(encodeEvent(ev('a')));
    const parts = truncateBatches(['a', 'b', 'c', 'd', 'e'].map((id) => ev(id)), { maxEventSize: size, maxBatchSize: 2 * size }, () => assert.fail('nothing dropped'));
    assert.deepEqual(parts.map((p) => p.map((e) => e.auditID)), [['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('a Metadata event over the limit is not truncated but dropped; the distinct errors are reported once', () => {
    const logs: string[] = [];
    const big = ev('big', { requestURI: '/' + 'x'.repeat(500) });
    const parts = truncateBatches([big, ev('ok'), big], { maxEventSize: 400, maxBatchSize: 4000 }, (m) => logs.push(m));
    assert.deepEqual(parts.map((p) => p.map((e) => e.auditID)), [['ok']]);
    assert.deepEqual(logs, ["Error in audit plugin 'truncate' affecting 2 audit events: event is too large even after truncating"]);
  });

  it('a Request-level event keeps its metadata and annotations, loses its objects, and is marked', () => {
    const e = ev('r', { level: 'Request', requestObject: { spec: 'x'.repeat(800) }, annotations: { 'authorization.k8s.io/decision': 'allow' } });
    const [[out]] = truncateBatches([e], { maxEventSize: 700, maxBatchSize: 700 }, () => assert.fail('kept')) as [[AuditEvent]];
    assert.equal(out.requestObject, undefined);
    assert.deepEqual(out.annotations, { 'authorization.k8s.io/decision': 'allow', 'audit.k8s.io/truncated': 'true' });
    assert.ok(e.requestObject, 'the original event is not changed');
  });
});
