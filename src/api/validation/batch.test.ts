// Job and CronJob validation as tables: each bad field with kube-apiserver's message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../field.ts';
import type { CronJob, Job } from '../types.ts';
import { validateCronJob, validateCronJobUpdate, validateJob, validateJobUpdate } from './batch.ts';

const UID = '11111111-2222-3333-4444-555555555555';
const labels = { 'batch.kubernetes.io/controller-uid': UID, 'controller-uid': UID, 'batch.kubernetes.io/job-name': 'j', 'job-name': 'j' };
const job = (spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): Job => ({
  metadata: { name: 'j', namespace: 'ns', uid: UID },
  spec: {
    selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } },
    template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }], dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, ...podSpec } },
    ...spec,
  } as NonNullable<Job['spec']>,
});
const messages = (errs: ReturnType<typeof validateJob>) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

test('jobs', () => {
  const table: Array<{ what: string; j: Job; want: string[] }> = [
    { what: 'valid', j: job(), want: [] },
    { what: 'restartPolicy Always', j: job({}, { restartPolicy: 'Always' }), want: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    { what: 'negative counts', j: job({ parallelism: -1, backoffLimit: -2 }), want: ['spec.parallelism: Invalid value: -1: must be greater than or equal to 0', 'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0'] },
    { what: 'Indexed without completions', j: job({ completionMode: 'Indexed' }), want: ['spec.completions: Required value: when completion mode is Indexed'] },
    { what: 'bad completion mode', j: job({ completionMode: 'Sometimes' }), want: ['spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"'] },
    { what: 'backoffLimitPerIndex without Indexed', j: job({ backoffLimitPerIndex: 1 }), want: ['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode'] },
    {
      what: 'pod failure policy with OnFailure',
      j: job({ podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [0, 3] } }] } }, { restartPolicy: 'OnFailure' }),
      want: ['spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator', 'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified'],
    },
  ];
  for (const c of table) assert.deepEqual(messages(validateJob(c.j)), c.want, c.what);
});

test('job updates: template and selector are immutable, suspended jobs may change scheduling directives', () => {
  const old = job({ suspend: true });
  const image = job({ suspend: true });
  image.spec!.template.spec!.containers[0].image = 'other';
  assert.deepEqual(messages(validateJobUpdate({ ...image, metadata: { ...image.metadata, resourceVersion: '2' } }, old)).map((m) => m.replace(/: Invalid value: .*: /, ': ')), ['spec.template: field is immutable']);
  const sel = job({ suspend: true, nodeSelector: undefined });
  sel.spec!.template.spec!.nodeSelector = { zone: 'a' };
  assert.deepEqual(messages(validateJobUpdate({ ...sel, metadata: { ...sel.metadata, resourceVersion: '2' } }, old)), []);
  const started = { ...old, status: { startTime: '2026-01-01T00:00:00Z' } };
  assert.equal(messages(validateJobUpdate({ ...sel, metadata: { ...sel.metadata, resourceVersion: '2' } }, started)).length, 1);
});

const cron = (spec: Record<string, unknown>): CronJob => ({
  metadata: { name: 'c', namespace: 'ns' },
  spec: { schedule: '* * * * *', concurrencyPolicy: 'Allow', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }], dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30 } } } }, ...spec } as NonNullable<CronJob['spec']>,
});

test('cronjobs', () => {
  const table: Array<{ what: string; c: CronJob; want: string[] }> = [
    { what: 'valid', c: cron({}), want: [] },
    { what: 'bad schedule', c: cron({ schedule: 'bad' }), want: ['spec.schedule: Invalid value: "bad": expected exactly 5 fields, found 1: [bad]'] },
    { what: 'TZ in schedule', c: cron({ schedule: 'CRON_TZ=UTC * * * * *' }), want: ['spec.schedule: Invalid value: "CRON_TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'] },
    { what: 'unknown time zone', c: cron({ timeZone: 'Mars/Olympus' }), want: ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'] },
    { what: 'Local', c: cron({ timeZone: 'Local' }), want: ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'] },
    { what: 'bad policy', c: cron({ concurrencyPolicy: 'Sometimes' }), want: ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'] },
    { what: 'negative history', c: cron({ failedJobsHistoryLimit: -1 }), want: ['spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0'] },
    { what: 'long name', c: { ...cron({}), metadata: { name: 'x'.repeat(53), namespace: 'ns' } }, want: [`metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`] },
  ];
  for (const c of table) assert.deepEqual(messages(validateCronJob(c.c)), c.want, c.what);
  // A schedule stored with TZ before the timeZone field may keep it on update.
  const old = cron({ schedule: 'TZ=UTC * * * * *' });
  assert.deepEqual(messages(validateCronJobUpdate({ ...old, metadata: { ...old.metadata, resourceVersion: '2' } }, old)), []);
});
