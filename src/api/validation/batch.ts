// Jobs and CronJobs (batch/v1), as Kubernetes 1.32 validates them (pkg/apis/batch/validation):
// counts, completion modes, pod failure policies, the generated selector, the restart policy of the
// template, what an update may change, and a CronJob's schedule and time zone. Pure; called by the
// kinds' strategies.

import { semanticDeepEqual } from '../equality.ts';
import { duplicate, FieldPath, GoValue, goStringMap, invalid, notSupported, required, type FieldError } from '../field.ts';
import type { CronJob, Job, JobSpec, JobTemplateSpec, LabelSelector } from '../types.ts';
import { isKnownTimeZone, scheduleError } from '../cron/schedule.ts';
import { isDNS1123Label, nameIsDNSSubdomain } from './names.ts';
import { validateImmutableField, validateLabelSelector, validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { goLabelSelector, selectorOf, validateWorkloadTemplate } from './workloads.ts';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';

const MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000;
const spec = new FieldPath('spec');
const nonneg = (v: number | undefined | null, p: FieldPath) => (v == null ? [] : validateNonnegativeField(v, p));
const omit = new GoValue('');

function validatePodFailurePolicy(s: JobSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rules = s.podFailurePolicy?.rules ?? [];
  const names = new Set([...(s.template?.spec?.containers ?? []), ...(s.template?.spec?.initContainers ?? [])].map((c) => c.name));
  const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
  rules.forEach((rule, i) => {
    const rp = path.child('rules').index(i);
    const ap = rp.child('action');
    if (!rule.action) errs.push(required(ap, `valid values: ["${actions.join('" "')}"]`));
    else if (rule.action === 'FailIndex') {
      if (s.backoffLimitPerIndex == null) errs.push(invalid(ap, rule.action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!actions.includes(rule.action)) errs.push(notSupported(ap, rule.action, actions));
    const ec = rule.onExitCodes;
    if (ec) {
      const ep = rp.child('onExitCodes');
      if (!ec.operator) errs.push(required(ep.child('operator'), 'valid values: ["In" "NotIn"]'));
      else if (ec.operator !== 'In' && ec.operator !== 'NotIn') errs.push(notSupported(ep.child('operator'), ec.operator, ['In', 'NotIn']));
      if (ec.containerName != null && !names.has(ec.containerName)) errs.push(invalid(ep.child('containerName'), ec.containerName, 'must be one of the container or initContainer names in the pod template'));
      const values = ec.values ?? [];
      const vp = ep.child('values');
      if (values.length === 0) errs.push(invalid(vp, new GoValue('[]int32(nil)'), 'at least one value is required'));
      const seen = new Set<number>();
      let ordered = true;
      values.forEach((v, j) => {
        if (ec.operator === 'In' && v === 0) errs.push(invalid(vp.index(j), v, 'must not be 0 for the In operator'));
        if (seen.has(v)) errs.push(duplicate(vp.index(j), v));
        seen.add(v);
        if (j > 0 && values[j - 1] > v) ordered = false;
      });
      if (!ordered) errs.push(invalid(vp, new GoValue(`[]int32{${values.join(', ')}}`), 'must be ordered'));
    }
    const conds = rule.onPodConditions ?? [];
    conds.forEach((c, j) => {
      const sp = rp.child('onPodConditions').index(j).child('status');
      if (!c.status) errs.push(required(sp, 'valid values: ["False" "True" "Unknown"]'));
      else if (!['False', 'True', 'Unknown'].includes(c.status)) errs.push(notSupported(sp, c.status, ['False', 'True', 'Unknown']));
    });
    if (ec && conds.length > 0) errs.push(invalid(rp, omit, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!ec && conds.length === 0) errs.push(invalid(rp, omit, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

/** validateJobSpec: what a Job and a CronJob's job template share. */
function validateJobSpecCommon(s: JobSpec, path: FieldPath, selector: LabelSelector | undefined): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonneg(s.parallelism, path.child('parallelism')));
  errs.push(...nonneg(s.completions, path.child('completions')));
  errs.push(...nonneg(s.activeDeadlineSeconds, path.child('activeDeadlineSeconds')));
  errs.push(...nonneg(s.backoffLimit, path.child('backoffLimit')));
  errs.push(...nonneg(s.ttlSecondsAfterFinished, path.child('ttlSecondsAfterFinished')));
  errs.push(...nonneg(s.backoffLimitPerIndex, path.child('backoffLimitPerIndex')));
  errs.push(...nonneg(s.maxFailedIndexes, path.child('maxFailedIndexes')));
  if (s.maxFailedIndexes != null && s.backoffLimitPerIndex == null) errs.push(required(path.child('backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  const mode = s.completionMode;
  if (mode != null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(path.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (s.completions == null) errs.push(required(path.child('completions'), 'when completion mode is Indexed'));
      if (s.parallelism != null && s.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
        errs.push(invalid(path.child('parallelism'), s.parallelism, `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`));
      }
      if (s.completions != null && s.maxFailedIndexes != null && s.maxFailedIndexes > s.completions) errs.push(invalid(path.child('maxFailedIndexes'), s.maxFailedIndexes, 'must be less than or equal to completions'));
    }
  }
  if (mode == null || mode === 'NonIndexed') {
    if (s.backoffLimitPerIndex != null) errs.push(invalid(path.child('backoffLimitPerIndex'), s.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (s.maxFailedIndexes != null) errs.push(invalid(path.child('maxFailedIndexes'), s.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (s.podFailurePolicy) errs.push(...validatePodFailurePolicy(s, path.child('podFailurePolicy')));
  if (s.podReplacementPolicy != null) {
    if (s.podFailurePolicy) {
      if (s.podReplacementPolicy !== 'Failed') errs.push(notSupported(path.child('podReplacementPolicy'), s.podReplacementPolicy, ['Failed']));
    } else if (s.podReplacementPolicy !== 'Failed' && s.podReplacementPolicy !== 'TerminatingOrFailed') {
      errs.push(notSupported(path.child('podReplacementPolicy'), s.podReplacementPolicy, ['Failed', 'TerminatingOrFailed']));
    }
  }
  const sel = selector ? selectorOf(selector) : undefined;
  errs.push(...validateWorkloadTemplate(s.template, sel, path.child('template'), { restartPolicies: ['OnFailure', 'Never'] }));
  const policy = s.template?.spec?.restartPolicy;
  if (s.podFailurePolicy && policy === 'OnFailure') errs.push(invalid(path.child('template', 'spec', 'restartPolicy'), policy, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** validateGeneratedSelector: a generated selector must select the labels generation put on the template. */
function validateGeneratedSelector(job: Job): FieldError[] {
  const s = job.spec;
  if (!s || s.manualSelector === true || !s.selector) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata?.uid ?? '';
  if (!uid) errs.push(required(new FieldPath('metadata').child('uid'), ''));
  const meta = spec.child('template', 'metadata');
  const labels = s.template?.metadata?.labels ?? {};
  const hasLabel = (key: string, want: string) => {
    if (labels[key] === undefined) errs.push(required(meta.child('labels').key(key), want));
    else if (labels[key] !== want) errs.push(invalid(meta.child('labels').key(key), goStringMap(labels), `must be '${want}'`));
  };
  hasLabel(LEGACY_CONTROLLER_UID_LABEL, uid);
  hasLabel(LEGACY_JOB_NAME_LABEL, job.metadata?.name ?? '');
  hasLabel(CONTROLLER_UID_LABEL, uid);
  hasLabel(JOB_NAME_LABEL, job.metadata?.name ?? '');
  const sel = selectorOf(s.selector);
  if (sel && !sel.matches({ [CONTROLLER_UID_LABEL]: uid, [LEGACY_CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: job.metadata?.name ?? '', [LEGACY_JOB_NAME_LABEL]: job.metadata?.name ?? '' })) {
    errs.push(invalid(spec.child('selector'), goLabelSelector(s.selector), '`selector` not auto-generated'));
  }
  return errs;
}

function validateJobSpecWithSelector(s: JobSpec): FieldError[] {
  const errs = validateJobSpecCommon(s, spec, s.selector);
  if (!s.selector) errs.push(required(spec.child('selector'), ''));
  else errs.push(...validateLabelSelector(s.selector, {}, spec.child('selector')));
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  const errs = validateObjectMeta(job.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  errs.push(...validateGeneratedSelector(job));
  const s = job.spec ?? ({ template: {} } as JobSpec);
  errs.push(...validateJobSpecWithSelector(s));
  if (s.completionMode === 'Indexed' && s.completions != null && s.completions > 0) {
    // The controller names each pod's host `<job>-<index>`: the largest must be a DNS label.
    const host = `${job.metadata?.name ?? ''}-${s.completions - 1}`;
    if (isDNS1123Label(host).length) errs.push(invalid(new FieldPath('metadata').child('name'), job.metadata?.name ?? '', `will not able to create pod with invalid DNS label: ${host}`));
  }
  return errs;
}

/**
 * Scheduling directives of a template may change while the Job is suspended and has never started
 * (AllowMutableSchedulingDirectives); everything else in it is immutable.
 */
function templateForImmutability(job: Job, old: Job): unknown {
  const t = old.spec?.template;
  if (!t || !job.spec?.suspend || old.status?.startTime) return t;
  const nt = job.spec.template;
  const copy = structuredClone(t);
  copy.metadata = { ...copy.metadata, labels: nt?.metadata?.labels, annotations: nt?.metadata?.annotations };
  if (copy.spec) {
    copy.spec.nodeSelector = nt?.spec?.nodeSelector;
    copy.spec.tolerations = nt?.spec?.tolerations;
    copy.spec.schedulingGates = nt?.spec?.schedulingGates;
    if (nt?.spec?.affinity?.nodeAffinity || copy.spec.affinity?.nodeAffinity) {
      const rest = { ...copy.spec.affinity, nodeAffinity: nt?.spec?.affinity?.nodeAffinity };
      copy.spec.affinity = Object.values(rest).some((v) => v !== undefined) ? rest : undefined;
    }
  }
  return copy;
}

export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const errs = validateObjectMetaUpdate(job.metadata, old.metadata);
  const s = job.spec ?? ({ template: {} } as JobSpec);
  const o = old.spec ?? ({ template: {} } as JobSpec);
  errs.push(...validateJobSpecWithSelector(s));
  // Elastic Indexed Jobs: completions may change only together with parallelism (kept equal).
  if (s.completionMode === 'Indexed' && s.completions != null && s.completions !== o.completions) {
    if (s.completions !== s.parallelism) errs.push(invalid(spec.child('completions'), s.completions, 'can only be modified in tandem with spec.parallelism'));
  } else errs.push(...validateImmutableField(s.completions ?? null, o.completions ?? null, spec.child('completions')));
  errs.push(...validateImmutableField(s.selector ?? null, o.selector ?? null, spec.child('selector')).map((e) => ({ ...e, badValue: goLabelSelector(s.selector) })));
  if (!semanticDeepEqual(s.template, templateForImmutability(job, old))) errs.push(...validateImmutableField(1, 2, spec.child('template')).map((e) => ({ ...e, badValue: omit })));
  errs.push(...validateImmutableField(s.completionMode ?? null, o.completionMode ?? null, spec.child('completionMode')));
  errs.push(...validateImmutableField(s.podFailurePolicy ?? null, o.podFailurePolicy ?? null, spec.child('podFailurePolicy')));
  errs.push(...validateImmutableField(s.backoffLimitPerIndex ?? null, o.backoffLimitPerIndex ?? null, spec.child('backoffLimitPerIndex')));
  errs.push(...validateImmutableField(s.successPolicy ?? null, o.successPolicy ?? null, spec.child('successPolicy')));
  return errs;
}

const conditionTrue = (job: Job, type: string) => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** Status updates: counts never negative nor decreasing, terminal conditions never withdrawn. */
export function validateJobStatusUpdate(job: Job, old: Job): FieldError[] {
  const errs = validateObjectMetaUpdate(job.metadata, old.metadata);
  const st = job.status ?? {};
  const sp = new FieldPath('status');
  for (const k of ['active', 'succeeded', 'failed'] as const) errs.push(...nonneg(st[k], sp.child(k)));
  if ((st.failed ?? 0) < (old.status?.failed ?? 0)) errs.push(invalid(sp.child('failed'), st.failed ?? 0, 'cannot decrease the failed counter'));
  if ((st.succeeded ?? 0) < (old.status?.succeeded ?? 0)) errs.push(invalid(sp.child('succeeded'), st.succeeded ?? 0, 'cannot decrease the succeeded counter'));
  for (const t of ['Failed', 'Complete', 'FailureTarget']) {
    if (conditionTrue(old, t) && !conditionTrue(job, t)) errs.push(invalid(sp.child('conditions'), omit, `cannot disable the terminal ${t}=True condition`));
  }
  if (conditionTrue(job, 'Complete') && conditionTrue(job, 'Failed')) errs.push(invalid(sp.child('conditions'), omit, 'cannot set Complete=True and Failed=true conditions'));
  const finished = conditionTrue(job, 'Complete') || conditionTrue(job, 'Failed');
  if (finished && (st.active ?? 0) > 0) errs.push(invalid(sp.child('active'), st.active, 'active>0 is invalid for finished job'));
  const unc = st.uncountedTerminatedPods;
  if (finished && unc && (unc.failed ?? []).length + (unc.succeeded ?? []).length > 0) {
    errs.push(invalid(sp.child('uncountedTerminatedPods'), omit, 'uncountedTerminatedPods needs to be empty for finished job'));
  }
  if (st.ready != null && st.ready > (st.active ?? 0)) errs.push(invalid(sp.child('ready'), st.ready, 'cannot set more ready pods than active'));
  return errs;
}

// ---------------------------------------------------------------- CronJobs

/** validateTimeZone, with Go's time.LoadLocation error for names the zone database lacks. */
function validateTimeZone(tz: string | undefined | null, path: FieldPath): FieldError[] {
  if (tz == null) return [];
  if (tz === '') return [invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  }
  if (tz.toLowerCase() === 'local') return [invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  if (!isKnownTimeZone(tz)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  return [];
}

function validateJobTemplateSpec(t: JobTemplateSpec | undefined, path: FieldPath): FieldError[] {
  const s = t?.spec ?? ({ template: {} } as JobSpec);
  const errs = validateJobSpecCommon(s, path.child('spec'), undefined);
  if (s.selector) errs.push(invalid(path.child('spec', 'selector'), goLabelSelector(s.selector), '`selector` will be auto-generated'));
  if (s.manualSelector === true) errs.push(notSupported(path.child('spec', 'manualSelector'), true, ['nil', 'false']));
  return errs;
}

function validateCronJobSpec(cj: CronJob, old: CronJob | undefined): FieldError[] {
  const s = cj.spec ?? ({ schedule: '', jobTemplate: {} } as NonNullable<CronJob['spec']>);
  const errs: FieldError[] = [];
  const sched = spec.child('schedule');
  if (!s.schedule) errs.push(required(sched, ''));
  else {
    const err = scheduleError(s.schedule);
    if (err) errs.push(invalid(sched, s.schedule, err));
    // A schedule stored with TZ before the timeZone field existed may keep it, never together with the field.
    const allowTZ = !!old?.spec?.schedule.includes('TZ');
    if (allowTZ && s.schedule.includes('TZ') && s.timeZone != null) errs.push(invalid(sched, s.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTZ && s.schedule.includes('TZ')) errs.push(invalid(sched, s.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  errs.push(...nonneg(s.startingDeadlineSeconds, spec.child('startingDeadlineSeconds')));
  if (!old || old.spec?.timeZone !== s.timeZone) errs.push(...validateTimeZone(s.timeZone, spec.child('timeZone')));
  const cp = spec.child('concurrencyPolicy');
  if (!s.concurrencyPolicy) errs.push(required(cp, ''));
  else if (!['Allow', 'Forbid', 'Replace'].includes(s.concurrencyPolicy)) errs.push(notSupported(cp, s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  errs.push(...validateJobTemplateSpec(s.jobTemplate, spec.child('jobTemplate')));
  errs.push(...nonneg(s.successfulJobsHistoryLimit, spec.child('successfulJobsHistoryLimit')));
  errs.push(...nonneg(s.failedJobsHistoryLimit, spec.child('failedJobsHistoryLimit')));
  return errs;
}

export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = validateObjectMeta(cj.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  errs.push(...validateCronJobSpec(cj, undefined));
  // Job names are `<cronjob>-<11 digits>` and must stay within 63 characters.
  const name = cj.metadata?.name ?? '';
  if (name.length > 52) errs.push(invalid(new FieldPath('metadata').child('name'), name, 'must be no more than 52 characters'));
  return errs;
}

export function validateCronJobUpdate(cj: CronJob, old: CronJob): FieldError[] {
  const errs = validateObjectMetaUpdate(cj.metadata, old.metadata);
  errs.push(...validateCronJobSpec(cj, old));
  return errs;
}

/** Labels a generated selector puts on a Job's template (generateSelector in kube's job strategy). */
export function generatedJobLabels(name: string, uid: string): Record<string, string> {
  return { [LEGACY_JOB_NAME_LABEL]: name, [JOB_NAME_LABEL]: name, [LEGACY_CONTROLLER_UID_LABEL]: uid, [CONTROLLER_UID_LABEL]: uid };
}
