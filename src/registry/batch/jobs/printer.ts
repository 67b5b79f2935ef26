// Job rows (printJob): STATUS from the conditions in kubectl's order of precedence, COMPLETIONS as
// succeeded/completions ("0/1 of 3" for a work queue Job), DURATION from start to completion (or to now).

import type { Job, KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { humanDuration, parseTime, timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';
import { wideTemplateCells, wideTemplateColumns } from '../../printing/workloads.ts';
import { JOB_SELECTOR_DESCRIPTION } from './selector.ts';

function hasCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

export function jobStatusCell(job: Job): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

export function printJob(job: Job, now: number): PrintedRow {
  const succeeded = job.status?.succeeded ?? 0;
  let completions: string;
  if (job.spec?.completions != null) completions = `${succeeded}/${job.spec.completions}`;
  else {
    const parallelism = job.spec?.parallelism ?? 0;
    completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  }
  const start = parseTime(job.status?.startTime);
  const end = parseTime(job.status?.completionTime);
  const duration = start === undefined ? '' : humanDuration((end ?? now) - start);
  return {
    cells: [job.metadata?.name ?? '', jobStatusCell(job), completions, duration, timestampSince(job.metadata?.creationTimestamp, now), ...wideTemplateCells(job.spec?.template, job.spec?.selector)],
  };
}

export const jobPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Status', 'Status of the job.'),
    column('Completions', 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.'),
    column('Duration', 'Time required to complete the job.'),
    ageColumn(),
    ...wideTemplateColumns(JOB_SELECTOR_DESCRIPTION),
  ],
  print: (obj: KubeObject, now: number) => printJob(obj as Job, now),
};
