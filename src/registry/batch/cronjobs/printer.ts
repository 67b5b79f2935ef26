// CronJob rows (printCronJob): SUSPEND is printBoolPtr's text, ACTIVE the number of active Jobs,
// LAST SCHEDULE `<none>` until the first run.

import type { CronJob, KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';
import { wideTemplateCells, wideTemplateColumns } from '../../printing/workloads.ts';
import { JOB_SELECTOR_DESCRIPTION } from '../jobs/selector.ts';

export function printCronJob(cj: CronJob, now: number): PrintedRow {
  const s = cj.spec;
  const last = cj.status?.lastScheduleTime ? timestampSince(cj.status.lastScheduleTime, now) : '<none>';
  const suspend = s?.suspend == null ? '<unset>' : s.suspend ? 'True' : 'False';
  const tmpl = s?.jobTemplate?.spec;
  return {
    cells: [cj.metadata?.name ?? '', s?.schedule ?? '', s?.timeZone ?? '<none>', suspend, (cj.status?.active ?? []).length, last, timestampSince(cj.metadata?.creationTimestamp, now), ...wideTemplateCells(tmpl?.template, tmpl?.selector)],
  };
}

export const cronJobPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones'),
    column('Suspend', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.', { type: 'boolean' }),
    column('Active', 'A list of pointers to currently running jobs.', { type: 'integer' }),
    column('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
    ageColumn(),
    ...wideTemplateColumns(JOB_SELECTOR_DESCRIPTION),
  ],
  print: (obj: KubeObject, now: number) => printCronJob(obj as CronJob, now),
};
