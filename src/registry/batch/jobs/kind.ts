// Jobs (batch/v1): run pods to completion (the Job controller); the status subresource is the
// controller's. Defaults and the generated selector are kube's job strategy.

import type { Job } from '../../../api/types.ts';
import { defaultPodSpec } from '../../../api/defaults/pod.ts';
import { CONTROLLER_UID_LABEL, generatedJobLabels, validateJob, validateJobStatusUpdate, validateJobUpdate } from '../../../api/validation/batch.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, statusOnly } from '../../rules.ts';
import { jobPrinter } from './printer.ts';

const MAX_INT32 = 2147483647;

/** SetDefaults_Job (batch/v1). */
export function defaultJob(job: Job): void {
  const s = (job.spec ??= { template: {} });
  if (s.completions == null && s.parallelism == null) {
    s.completions = 1;
    s.parallelism = 1;
  }
  s.parallelism ??= 1;
  s.backoffLimit ??= s.backoffLimitPerIndex != null ? MAX_INT32 : 6;
  const tl = s.template?.metadata?.labels;
  if (tl && Object.keys(job.metadata?.labels ?? {}).length === 0) (job.metadata ??= {}).labels = { ...tl };
  s.completionMode ??= 'NonIndexed';
  s.suspend ??= false;
  for (const rule of s.podFailurePolicy?.rules ?? []) for (const c of rule.onPodConditions ?? []) c.status ||= 'True';
  s.podReplacementPolicy ??= s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  s.manualSelector ??= false;
  if (s.template?.spec && typeof s.template.spec === 'object') defaultPodSpec(s.template.spec);
}

/** generateSelector: the template is labelled with the Job's name and uid, and the selector selects the uid. */
function generateSelector(job: Job): void {
  const s = job.spec!;
  const t = (s.template ??= {});
  const labels = ((t.metadata ??= {}).labels ??= {});
  // Labels the user set are kept (validation refuses them if they conflict).
  for (const [k, v] of Object.entries(generatedJobLabels(job.metadata?.name ?? '', job.metadata?.uid ?? ''))) if (!(k in labels)) labels[k] = v;
  const sel = (s.selector ??= {});
  const ml = (sel.matchLabels ??= {});
  if (!(CONTROLLER_UID_LABEL in ml)) ml[CONTROLLER_UID_LABEL] = job.metadata?.uid ?? '';
}

export const jobs = defineKind<Job>({
  identity: { group: 'batch', version: 'v1', resource: 'jobs', singular: 'job', kind: 'Job', namespaced: true, categories: ['all'] },
  strategy: {
    defaults: defaultJob,
    prepareForCreate: (job) => {
      job.status = {};
      if (job.spec?.manualSelector !== true) generateSelector(job);
    },
    validate: validateJob,
    prepareForUpdate: keepStatus,
    validateUpdate: validateJobUpdate,
  },
  printer: jobPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validateJobStatusUpdate } },
  },
});
