import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../util/clock.ts';
import type { AuditEvent } from './event.ts';
import { AuditError, openAudit, type AuditFlags } from './setup.ts';

const POLICY = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n';

function event(id: string, uri = '/api/v1/pods'): AuditEvent {
  return { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', requestURI: uri, verb: 'list', user: { username: 'u' }, requestReceivedTimestamp: 't', stageTimestamp: 't' };
}

describe('audit backends from flags', () => {
  let dir: string;
  let base: AuditFlags;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tk-audit-setup-'));
    writeFileSync(path.join(dir, 'policy.yaml'), POLICY);
    base = { policyFile: path.join(dir, 'policy.yaml'), logPath: path.join(dir, 'audit.log') };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const refused: Array<[string, Partial<AuditFlags>, string]> = [
    ['an unknown log mode', { logMode: 'async' }, 'invalid audit log mode async, allowed modes are "batch,blocking,blocking-strict"'],
    ['an unknown webhook mode', { webhookConfigFile: '/x', webhookMode: 'fast' }, 'invalid audit webhook mode fast, allowed modes are "batch,blocking,blocking-strict"'],
    ['a batch buffer of 0', { logMode: 'batch', logBatch: { bufferSize: 0 } }, 'invalid audit batch log buffer size 0, must be a positive number'],
    ['a batch max size of 0', { webhookConfigFile: '/x', webhookBatch: { maxSize: 0 } }, 'invalid audit batch webhook max batch size 0, must be a positive number'],
    ['a throttle QPS of 0 when throttling', { logMode: 'batch', logBatch: { throttleEnable: true, throttleQPS: 0 } }, 'invalid audit batch log throttle QPS 0, must be a positive number'],
    ['a blocking webhook', { webhookConfigFile: '/x', webhookMode: 'blocking' }, '--audit-webhook-mode blocking: tinykube sends audit events to a webhook in batch mode only'],
    ['an unknown log format', { logFormat: 'xml' }, 'invalid audit log format xml, allowed formats are "legacy,json"'],
    ['an unknown log version', { logVersion: 'audit.k8s.io/v1beta1' }, 'invalid group version, allowed versions are ["audit.k8s.io/v1"]'],
    ['a malformed webhook version', { webhookConfigFile: '/x', webhookVersion: 'a/b/c' }, 'unexpected GroupVersion string: a/b/c'],
    ['a max event size of 0', { logTruncate: { enabled: true, maxEventSize: 0 } }, 'invalid audit truncate log max event size 0, must be a positive number'],
    ['a batch smaller than an event', { webhookConfigFile: '/x', webhookTruncate: { enabled: true, maxBatchSize: 100, maxEventSize: 200 } }, 'invalid audit truncate webhook max batch size 100, must be greater than max event size (200)'],
  ];
  for (const [name, flags, want] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => openAudit({ ...base, ...flags }, new FakeClock(), { warn: () => {} }), (err: unknown) => err instanceof AuditError && err.message === want);
    });
  }

  it('truncation settings are not checked while truncation is off', () => {
    assert.ok(openAudit({ ...base, logTruncate: { enabled: false, maxEventSize: 0 } }, new FakeClock(), { warn: () => {} }));
  });

  it('--audit-log-format legacy writes kube\'s one-line text', () => {
    const a = openAudit({ ...base, logFormat: 'legacy' }, new FakeClock(), { warn: () => {} })!;
    assert.equal(a.sink.processEvent({ ...event('id-1'), requestReceivedTimestamp: '2026-12-07T01:02:03.450000Z' }), true);
    void a.sink.close();
    assert.equal(readFileSync(base.logPath!, 'utf8'), '2026-12-07T01:02:03.45Z AUDIT: id="id-1" stage="ResponseComplete" ip="<unknown>" method="list" user="u" groups="<none>" as="<self>" asgroups="<lookup>" user-agent="" namespace="<none>" uri="/api/v1/pods" response="<deferred>"\n');
  });

  it('truncation drops the request and response objects of a large event, and an event still too large', () => {
    const logs: string[] = [];
    const a = openAudit({ ...base, logTruncate: { enabled: true, maxEventSize: 2000 } }, new FakeClock(), { warn: () => {}, log: (m) => logs.push(m) })!;
    const big = { ...event('big'), level: 'RequestResponse' as const, requestObject: { data: 'x'.repeat(3000) }, responseObject: { ok: true } };
    const small = { ...event('small'), level: 'Request' as const, requestObject: { data: 'y' } };
    const huge = { ...event('huge', '/' + 'z'.repeat(3000)) };
    for (const ev of [big, small, huge]) assert.equal(a.sink.processEvent(ev), true);
    void a.sink.close();
    const lines = readFileSync(base.logPath!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    assert.deepEqual(lines.map((e) => [e.auditID, e.requestObject, e.responseObject, e.annotations]), [
      ['big', undefined, undefined, { 'audit.k8s.io/truncated': 'true' }],
      ['small', { data: 'y' }, undefined, undefined],
    ]);
    assert.deepEqual(logs, ["Error in audit plugin 'truncate' affecting 1 audit events: event is too large even after truncating"]);
  });

  it('batch settings are not checked in blocking mode (kube validates only what is used)', () => {
    const a = openAudit({ ...base, logBatch: { bufferSize: 0 } }, new FakeClock(), { warn: () => {} });
    assert.ok(a);
  });

  it('blocking ignores a failed write; blocking-strict reports it (the request then fails)', () => {
    const huge = event('big', '/' + 'x'.repeat(1024 * 1024 + 10));
    for (const [mode, want] of [['blocking', true], ['blocking-strict', false]] as const) {
      const logs: string[] = [];
      const a = openAudit({ ...base, logMode: mode, maxSizeMB: 1 }, new FakeClock(), { warn: () => {}, log: (m) => logs.push(m) })!;
      assert.equal(a.sink.processEvent(huge), want, mode);
      assert.match(logs[0]!, /^Error in audit plugin 'log' affecting 1 audit events: write length/);
      void a.sink.close();
    }
  });

  it('batch mode writes the log off the request path, one event per batch by default', async () => {
    const clock = new FakeClock();
    const a = openAudit({ ...base, logMode: 'batch' }, clock, { warn: () => {} })!;
    assert.equal(a.sink.processEvent(event('a')), true);
    assert.equal(readFileSync(base.logPath!, 'utf8'), '', 'not written synchronously');
    await new Promise<void>((r) => setImmediate(r));
    assert.deepEqual(readFileSync(base.logPath!, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as AuditEvent).auditID), ['a']);
    a.sink.processEvent(event('b'));
    await a.sink.close();
    assert.equal(readFileSync(base.logPath!, 'utf8').trim().split('\n').length, 2);
  });

  it('a webhook alone is a backend; an unreadable kubeconfig stops the start naming the file', () => {
    const warnings: string[] = [];
    const readKubeconfig = (file: string) => {
      throw new Error(`open ${file}: no such file or directory`);
    };
    assert.throws(() => openAudit({ policyFile: base.policyFile, webhookConfigFile: '/nope/kubeconfig' }, new FakeClock(), { warn: (m) => warnings.push(m), readKubeconfig }), {
      message: '--audit-webhook-config-file /nope/kubeconfig: open /nope/kubeconfig: no such file or directory',
    });
    const a = openAudit({ policyFile: base.policyFile, webhookConfigFile: '/k' }, new FakeClock(), { warn: (m) => warnings.push(m), readKubeconfig: () => ({ server: 'https://127.0.0.1:1/' }) });
    assert.ok(a);
    assert.deepEqual(warnings, []);
    void a.sink.close();
  });
});
