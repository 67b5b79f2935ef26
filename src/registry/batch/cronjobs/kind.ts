// CronJobs (batch/v1): make Jobs on a schedule (the CronJob controller); the status subresource is
// the controller's.

import type { CronJob } from '../../../api/types.ts';
import { defaultPodSpec } from '../../../api/defaults/pod.ts';
import { validateCronJob, validateCronJobUpdate } from '../../../api/validation/batch.ts';
import { validateObjectMetaUpdate } from '../../../api/validation/meta.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, statusOnly } from '../../rules.ts';
import { cronJobPrinter } from './printer.ts';

/** SetDefaults_CronJob (batch/v1); the job template's pod spec gets the pod spec defaults. */
export function defaultCronJob(cj: CronJob): void {
  const s = (cj.spec ??= { schedule: '', jobTemplate: {} });
  s.concurrencyPolicy ||= 'Allow';
  s.suspend ??= false;
  s.successfulJobsHistoryLimit ??= 3;
  s.failedJobsHistoryLimit ??= 1;
  const ps = s.jobTemplate?.spec?.template?.spec;
  if (ps && typeof ps === 'object') defaultPodSpec(ps);
}

export const cronJobs = defineKind<CronJob>({
  identity: { group: 'batch', version: 'v1', resource: 'cronjobs', singular: 'cronjob', kind: 'CronJob', namespaced: true, shortNames: ['cj'], categories: ['all'] },
  strategy: {
    defaults: defaultCronJob,
    prepareForCreate: (cj) => {
      cj.status = {};
    },
    validate: validateCronJob,
    prepareForUpdate: keepStatus,
    validateUpdate: validateCronJobUpdate,
  },
  printer: cronJobPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: (cj, old) => validateObjectMetaUpdate(cj.metadata, old.metadata) } },
  },
});
