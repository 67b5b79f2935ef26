import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../util/clock.ts';
import { AuditLogWriter, backupName, backupTime, encodeEvent, encodeLegacyEvent, RotatingFile } from './writer.ts';
import type { AuditEvent } from './event.ts';

const MB = 1024 * 1024;

describe('audit log: lumberjack backup names', () => {
  const cases: Array<[string, number, string]> = [
    ['/var/log/audit.log', Date.UTC(2026, 0, 2, 3, 4, 5, 67), '/var/log/audit-2026-01-02T03-04-05.067.log'],
    ['/var/log/audit', Date.UTC(2026, 11, 31, 23, 59, 59, 999), '/var/log/audit-2026-12-31T23-59-59.999'],
    ['/var/log/a.b.json', Date.UTC(2026, 5, 1), '/var/log/a.b-2026-06-01T00-00-00.000.json'],
  ];
  for (const [file, at, want] of cases) {
    it(want, () => {
      assert.equal(backupName(file, at), want);
      assert.equal(backupTime(file, path.basename(want)), at);
    });
  }
  it('other files are not backups', () => {
    assert.equal(backupTime('/x/audit.log', 'audit.log'), undefined);
    assert.equal(backupTime('/x/audit.log', 'other-2026-01-02T03-04-05.067.log'), undefined);
    assert.equal(backupTime('/x/audit.log', 'audit-yesterday.log'), undefined);
  });
});

describe('audit log: rotation by size', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tk-audit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const line = (c: string) => c.repeat(MB / 2 - 1) + '\n';

  it('a line that does not fit starts a new file; the full one becomes a timestamped backup', () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const file = path.join(dir, 'audit.log');
    const f = new RotatingFile({ path: file, maxSizeMB: 1, clock });
    f.open();
    f.write(line('a'));
    f.write(line('b'));
    clock.advance(1000);
    f.write(line('c'));
    f.close();
    assert.deepEqual(readdirSync(dir).sort(), ['audit-2026-01-01T00-00-01.000.log', 'audit.log']);
    assert.equal(readFileSync(path.join(dir, 'audit-2026-01-01T00-00-01.000.log'), 'utf8'), line('a') + line('b'));
    assert.equal(readFileSync(file, 'utf8'), line('c'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('an existing file is appended to, and rotated when the next line does not fit', () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const file = path.join(dir, 'audit.log');
    writeFileSync(file, line('x'));
    const f = new RotatingFile({ path: file, maxSizeMB: 1, clock });
    f.write(line('y'));
    f.write(line('z'));
    f.close();
    assert.equal(readFileSync(path.join(dir, 'audit-2026-01-01T00-00-00.000.log'), 'utf8'), line('x') + line('y'));
    assert.equal(readFileSync(file, 'utf8'), line('z'));
  });

  it('maxBackups keeps the newest backups; maxAge removes older ones by the time in their names', () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const file = path.join(dir, 'audit.log');
    // Unrelated files stay.
    writeFileSync(path.join(dir, 'notes.txt'), 'keep');
    const f = new RotatingFile({ path: file, maxSizeMB: 1, maxBackups: 2, maxAgeDays: 1, clock });
    for (let i = 0; i < 5; i++) {
      f.write(line(String(i)));
      f.write(line(String(i)));
      clock.advance(3600_000);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['audit-2026-01-01T03-00-00.000.log', 'audit-2026-01-01T04-00-00.000.log', 'audit.log', 'notes.txt']);
    // Two days later, the next rotation removes both (older than a day).
    clock.advance(2 * 24 * 3600_000);
    f.write(line('n'));
    f.close();
    assert.deepEqual(readdirSync(dir).sort(), ['audit-2026-01-03T05-00-00.000.log', 'audit.log', 'notes.txt']);
  });

  it('a line longer than the maximum size is refused (lumberjack\'s error), the file untouched', () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const file = path.join(dir, 'audit.log');
    const w = new AuditLogWriter({ path: file, maxSizeMB: 1, clock, onError: (e) => errors.push(e.message) });
    const ev = event({ requestObject: 'x'.repeat(MB) });
    assert.equal(w.processEvent(ev), false);
    w.close();
    assert.match(errors[0]!, /^write length \d+ exceeds maximum file size 1048576$/);
    assert.equal(readFileSync(file, 'utf8'), '');
  });
});

function event(over: Partial<AuditEvent> = {}): AuditEvent {
  return { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'id', stage: 'ResponseComplete', requestURI: '/api', verb: 'get', user: { username: 'u' }, requestReceivedTimestamp: 't0', stageTimestamp: 't1', ...over };
}

describe('audit log: event lines', () => {
  it('fields in kube\'s order, empty ones left out, a failed authentication without a username', () => {
    const ev = event({ annotations: { a: 'b' }, objectRef: { subresource: 'log', name: 'web', resource: 'pods' }, responseStatus: { code: 200, metadata: {} }, sourceIPs: ['127.0.0.1'], user: { username: '' } });
    assert.equal(
      encodeEvent(ev),
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id","stage":"ResponseComplete","requestURI":"/api","verb":"get","user":{},"sourceIPs":["127.0.0.1"],"objectRef":{"resource":"pods","name":"web","subresource":"log"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"t0","stageTimestamp":"t1","annotations":{"a":"b"}}\n',
    );
  });

  it('the legacy format: kube\'s EventString, groups quoted twice, the fraction of the time trimmed', () => {
    const ev = event({
      requestReceivedTimestamp: '2026-12-07T01:02:03.000000Z', verb: 'create', requestURI: '/api/v1/namespaces/apps/pods', userAgent: 'kubectl/v1.31.0',
      user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] }, impersonatedUser: { username: 'bob', groups: ['dev'] },
      sourceIPs: ['127.0.0.1', '10.0.0.1'], objectRef: { resource: 'pods', namespace: 'apps' }, responseStatus: { code: 201, metadata: {} },
    });
    assert.equal(
      encodeLegacyEvent(ev),
      '2026-12-07T01:02:03Z AUDIT: id="id" stage="ResponseComplete" ip="127.0.0.1" method="create" user="admin" groups="\\"system:masters\\",\\"system:authenticated\\"" as="bob" asgroups="\\"dev\\"" user-agent="kubectl/v1.31.0" namespace="apps" uri="/api/v1/namespaces/apps/pods" response="201"\n',
    );
  });
});
