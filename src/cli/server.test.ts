import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiServerOptions, leaderElectionOption } from './server.ts';

test('--leader-elect flags: kube-scheduler\'s names, Go durations, false turns election off', () => {
  const cases: Array<{ values: Record<string, string>; want: false | { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number } }> = [
    { values: {}, want: {} },
    { values: { 'leader-elect': 'true' }, want: {} },
    { values: { 'leader-elect': 'false' }, want: false },
    { values: { 'leader-elect-lease-duration': '30s', 'leader-elect-renew-deadline': '20s', 'leader-elect-retry-period': '500ms' }, want: { leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 500 } },
  ];
  for (const { values, want } of cases) {
    const got = leaderElectionOption(values);
    if (want === false) assert.equal(got, false, JSON.stringify(values));
    else {
      assert.ok(got !== false);
      assert.deepEqual({ leaseDurationMs: got.leaseDurationMs, renewDeadlineMs: got.renewDeadlineMs, retryPeriodMs: got.retryPeriodMs }, { leaseDurationMs: undefined, renewDeadlineMs: undefined, retryPeriodMs: undefined, ...want }, JSON.stringify(values));
    }
  }
  assert.throws(() => leaderElectionOption({ 'leader-elect': 'no' }), /--leader-elect "no": must be true or false/);
  assert.throws(() => leaderElectionOption({ 'leader-elect-retry-period': 'soon' }), /--leader-elect-retry-period/);
});

test('audit format, version and truncate flags reach the audit options as kube-apiserver names them', () => {
  const { audit } = apiServerOptions({
    'audit-policy-file': 'p.yaml', 'audit-log-path': '-', 'audit-log-format': 'legacy', 'audit-log-version': 'audit.k8s.io/v1',
    'audit-log-truncate-enabled': 'true', 'audit-log-truncate-max-event-size': '2048', 'audit-log-truncate-max-batch-size': '4096',
    'audit-webhook-version': 'audit.k8s.io/v1', 'audit-webhook-truncate-enabled': 'false',
  });
  assert.equal(audit?.logFormat, 'legacy');
  assert.equal(audit?.logVersion, 'audit.k8s.io/v1');
  assert.deepEqual(audit?.logTruncate, { enabled: true, maxEventSize: 2048, maxBatchSize: 4096 });
  assert.equal(audit?.webhookVersion, 'audit.k8s.io/v1');
  assert.deepEqual(audit?.webhookTruncate, { enabled: false, maxEventSize: undefined, maxBatchSize: undefined });
  assert.throws(() => apiServerOptions({ 'audit-log-truncate-enabled': 'yes' }), /--audit-log-truncate-enabled "yes": must be true or false/);
});
