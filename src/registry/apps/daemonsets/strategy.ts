// DaemonSet rules (apps/v1): SetDefaults_DaemonSet, the daemonset strategy (templateGeneration kept in
// the `deprecated.daemonset.template.generation` annotation, as the v1 conversion stores it) and
// pkg/apis/apps/validation's ValidateDaemonSet / ValidateDaemonSetUpdate / ValidateDaemonSetStatusUpdate,
// with their messages.

import { defaultPodSpec } from '../../../api/defaults/pod.ts';
import { semanticDeepEqual } from '../../../api/equality.ts';
import { FieldPath, forbiddenField, goStringMap, invalid, notSupported, required, type FieldError } from '../../../api/field.ts';
import type { DaemonSet, DaemonSetStatus, LabelSelector } from '../../../api/types.ts';
import { validateLabelSelector, validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from '../../../api/validation/meta.ts';
import { nameIsDNSSubdomain } from '../../../api/validation/names.ts';
import { goLabelSelector, selectorOf, validateIntOrPercent, validateNonnegative, validatePodTemplateSpec, validateSelectorImmutable } from '../../../api/validation/workloads.ts';

/** extensions' DaemonSetTemplateGenerationKey, kept on apps/v1 DaemonSets as an annotation. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

const spec = new FieldPath('spec');

export function defaults(ds: DaemonSet): void {
  const s = (ds.spec ??= {} as NonNullable<DaemonSet['spec']>);
  const strategy = (s.updateStrategy ??= {});
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = 1;
    if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = 0;
  }
  if (s.revisionHistoryLimit === undefined || s.revisionHistoryLimit === null) s.revisionHistoryLimit = 10;
  if (s.template?.spec && typeof s.template.spec === 'object') defaultPodSpec(s.template.spec);
}

/** The template generation an object carries (0 when absent or not a number, as the conversion reads it). */
export function templateGeneration(ds: DaemonSet): number {
  const v = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function setTemplateGeneration(ds: DaemonSet, n: number): void {
  const meta = (ds.metadata ??= {});
  meta.annotations = { ...meta.annotations, [TEMPLATE_GENERATION_ANNOTATION]: String(n) };
}

export function prepareForCreate(ds: DaemonSet): void {
  ds.status = {} as DaemonSetStatus;
  setTemplateGeneration(ds, Math.max(1, templateGeneration(ds)));
}

/** Status is the controller's; the template generation moves when, and only when, the template does. */
export function prepareForUpdate(ds: DaemonSet, old: DaemonSet): void {
  if (old.status === undefined) delete ds.status;
  else ds.status = old.status;
  const changed = !semanticDeepEqual(ds.spec?.template ?? null, old.spec?.template ?? null);
  setTemplateGeneration(ds, templateGeneration(old) + (changed ? 1 : 0));
}

function percentOrInt(v: number | string | undefined | null): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^[0-9]+%$/.test(v)) return Number.parseInt(v, 10);
  return 0;
}

function validateUpdateStrategy(ds: DaemonSet, path: FieldPath): FieldError[] {
  const strategy = ds.spec?.updateStrategy ?? {};
  switch (strategy.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!ru) return [required(path.child('rollingUpdate'), '')];
      const p = path.child('rollingUpdate');
      const errs = [
        ...validateIntOrPercent(ru.maxUnavailable, p.child('maxUnavailable'), { maxPercent: true }),
        ...validateIntOrPercent(ru.maxSurge, p.child('maxSurge'), { maxPercent: true }),
      ];
      const hasUnavailable = percentOrInt(ru.maxUnavailable) !== 0;
      const hasSurge = percentOrInt(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalid(p.child('maxSurge'), ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) errs.push(required(p.child('maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [notSupported(path, strategy.type ?? '', ['OnDelete', 'RollingUpdate'])];
  }
}

/** ValidateDaemonSetSpec. A missing selector selects nothing, so the template's labels do not match it. */
function validateSpec(ds: DaemonSet): FieldError[] {
  const s = ds.spec;
  const ls: LabelSelector | undefined = s?.selector ?? undefined;
  const errs = ls ? validateLabelSelector(ls, {}, spec.child('selector')) : [];
  const template = s?.template ?? {};
  const sel = selectorOf(ls);
  if (sel && !sel.matches(template.metadata?.labels ?? {})) {
    errs.push(invalid(spec.child('template', 'metadata', 'labels'), goStringMap(template.metadata?.labels), '`selector` does not match template `labels`'));
  }
  if (ls && Object.keys(ls.matchLabels ?? {}).length + (ls.matchExpressions ?? []).length === 0) {
    errs.push(invalid(spec.child('selector'), goLabelSelector(ls), 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(template, spec.child('template')));
  const policy = template.spec?.restartPolicy ?? '';
  if (policy !== 'Always') errs.push(notSupported(spec.child('template', 'spec', 'restartPolicy'), policy, ['Always']));
  if (template.spec?.activeDeadlineSeconds != null) {
    errs.push(forbiddenField(spec.child('template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in DaemonSet is not Supported'));
  }
  errs.push(...validateNonnegative(s?.minReadySeconds, spec.child('minReadySeconds')));
  errs.push(...validateUpdateStrategy(ds, spec.child('updateStrategy')));
  errs.push(...validateNonnegative(s?.revisionHistoryLimit, spec.child('revisionHistoryLimit')));
  return errs;
}

export function validate(ds: DaemonSet): FieldError[] {
  return [...validateObjectMeta(ds.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateSpec(ds)];
}

export function validateUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const errs = validateObjectMetaUpdate(ds.metadata, old.metadata);
  errs.push(...validateSpec(ds));
  // apps/v1 never lets the selector change (extensions/v1beta1 did).
  errs.push(...validateSelectorImmutable(ds.spec?.selector, old.spec?.selector, spec.child('selector')));
  return errs;
}

const STATUS_COUNTS = ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'numberAvailable', 'numberUnavailable', 'updatedNumberScheduled', 'collisionCount'] as const;

export function validateStatusUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const errs = validateObjectMetaUpdate(ds.metadata, old.metadata);
  const status = new FieldPath('status');
  const st = (ds.status ?? {}) as Record<string, unknown>;
  for (const k of STATUS_COUNTS) {
    const v = st[k];
    if (typeof v === 'number') errs.push(...validateNonnegativeField(v, status.child(k)));
  }
  const now = ds.status?.collisionCount;
  const was = old.status?.collisionCount;
  if (was != null && (now == null || now < was)) errs.push(invalid(status.child('collisionCount'), now ?? 0, 'cannot be decremented'));
  return errs;
}
