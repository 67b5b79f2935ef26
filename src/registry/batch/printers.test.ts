// Job and CronJob rows as kube-apiserver prints them (printJob, printCronJob), -o wide cells included.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Job } from '../../api/types.ts';
import { printJob } from './jobs/printer.ts';
import { printCronJob } from './cronjobs/printer.ts';

const NOW = Date.parse('2026-01-01T01:00:00Z');
const template = { spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'nginx:1' }] } };

test('job rows', () => {
  const cond = (type: string) => ({ type, status: 'True' });
  const table: Array<{ what: string; spec: Partial<NonNullable<Job['spec']>>; status: Job['status']; deleting?: boolean; want: [string, string, string] }> = [
    { what: 'running', spec: { completions: 5 }, status: { succeeded: 2, startTime: '2026-01-01T00:59:30Z' }, want: ['Running', '2/5', '30s'] },
    { what: 'complete', spec: { completions: 1 }, status: { succeeded: 1, startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:00:42Z', conditions: [cond('SuccessCriteriaMet'), cond('Complete')] }, want: ['Complete', '1/1', '42s'] },
    { what: 'failed', spec: { completions: 1 }, status: { startTime: '2026-01-01T00:55:00Z', conditions: [cond('FailureTarget'), cond('Failed')] }, want: ['Failed', '0/1', '5m'] },
    { what: 'failing', spec: { completions: 1 }, status: { conditions: [cond('FailureTarget')] }, want: ['FailureTarget', '0/1', ''] },
    { what: 'suspended', spec: { completions: 1 }, status: { conditions: [cond('Suspended')] }, want: ['Suspended', '0/1', ''] },
    { what: 'terminating', spec: { completions: 1 }, status: {}, deleting: true, want: ['Terminating', '0/1', ''] },
    { what: 'work queue', spec: { parallelism: 3 }, status: {}, want: ['Running', '0/1 of 3', ''] },
    { what: 'work queue of one', spec: { parallelism: 1 }, status: { succeeded: 1 }, want: ['Running', '1/1', ''] },
  ];
  for (const c of table) {
    const job: Job = { metadata: { name: 'j', creationTimestamp: '2026-01-01T00:00:00Z', ...(c.deleting ? { deletionTimestamp: '2026-01-01T00:59:00Z' } : {}) }, spec: { template, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } }, ...c.spec }, status: c.status };
    const row = printJob(job, NOW);
    assert.deepEqual(row.cells, ['j', ...c.want, '60m', 'a,b', 'busybox,nginx:1', 'batch.kubernetes.io/controller-uid=u'], c.what);
  }
});

test('cronjob rows', () => {
  const cj: CronJob = {
    metadata: { name: 'c', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } },
    status: {},
  };
  assert.deepEqual(printCronJob(cj, NOW).cells, ['c', '*/5 * * * *', '<none>', 'False', 0, '<none>', '60m', 'a,b', 'busybox,nginx:1', '<none>']);
  const later: CronJob = { ...cj, spec: { ...cj.spec!, suspend: true, timeZone: 'Europe/Paris' }, status: { active: [{ name: 'x' }], lastScheduleTime: '2026-01-01T00:55:00Z' } };
  assert.deepEqual(printCronJob(later, NOW).cells.slice(0, 7), ['c', '*/5 * * * *', 'Europe/Paris', 'True', 1, '5m', '60m']);
});
