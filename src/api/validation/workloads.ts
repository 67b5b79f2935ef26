// Validation shared by the workload kinds (apps/v1, batch/v1, policy/v1, core/v1 ReplicationController
// and PodTemplate), as Kubernetes 1.32's pkg/apis/apps/validation and batch/validation do it: pod
// templates, selectors, int-or-percent fields. Pure; called by the kinds' strategies.

import { FieldPath, forbiddenField, GoValue, goStringMap, invalid, notSupported, required, type FieldError } from '../field.ts';
import { fromLabelSelector, LabelSelectorError, type LabelSelectorValue } from '../labels.ts';
import type { LabelSelector, LabelSelectorRequirement, ObjectMeta, PodTemplateSpec } from '../types.ts';
import { validateAnnotations, validateImmutableField, validateLabels, validateLabelSelector, validateNonnegativeField } from './meta.ts';
import { validatePodSpec } from './pod/spec.ts';

/** Go's `%#v` of a metav1.LabelSelector, as the apiserver prints it in Invalid messages. */
export function goLabelSelector(ls: LabelSelector | undefined | null): GoValue {
  if (!ls) return new GoValue('null');
  const req = (r: LabelSelectorRequirement) =>
    `v1.LabelSelectorRequirement{Key:${JSON.stringify(r.key ?? '')}, Operator:${JSON.stringify(r.operator ?? '')}, Values:${r.values ? `[]string{${r.values.map((v) => JSON.stringify(v)).join(', ')}}` : '[]string(nil)'}}`;
  const exprs = ls.matchExpressions ? `[]v1.LabelSelectorRequirement{${ls.matchExpressions.map(req).join(', ')}}` : '[]v1.LabelSelectorRequirement(nil)';
  return new GoValue(`v1.LabelSelector{MatchLabels:${goStringMap(ls.matchLabels).text}, MatchExpressions:${exprs}}`);
}

/** A selector as a matcher, or undefined when it cannot be one (validation reports why). */
export function selectorOf(ls: LabelSelector | undefined | null): LabelSelectorValue | undefined {
  try {
    return fromLabelSelector(ls);
  } catch (err) {
    if (err instanceof LabelSelectorError) return undefined;
    throw err;
  }
}

/**
 * The `spec.selector` of apps/v1 kinds and Jobs with a manual selector: required, valid, not empty.
 * (Kubernetes says "for deployment" for every kind; the message is kept.)
 */
export function validateWorkloadSelector(ls: LabelSelector | undefined | null, path: FieldPath): FieldError[] {
  if (!ls) return [required(path, '')];
  const errs = validateLabelSelector(ls, {}, path);
  if (Object.keys(ls.matchLabels ?? {}).length + (ls.matchExpressions ?? []).length === 0) errs.push(invalid(path, goLabelSelector(ls), 'empty selector is invalid for deployment'));
  return errs;
}

/** ValidatePodTemplateSpec: metadata labels and annotations, the pod spec, no ephemeral containers. */
export function validatePodTemplateSpec(t: PodTemplateSpec, path: FieldPath): FieldError[] {
  const meta: ObjectMeta = t.metadata ?? {};
  const errs = validateLabels(meta.labels, path.child('metadata', 'labels'));
  errs.push(...validateAnnotations(meta.annotations, path.child('metadata', 'annotations')));
  const spec = t.spec ?? { containers: [] };
  errs.push(...validatePodSpec(spec, meta, path.child('spec')));
  if ((spec.ephemeralContainers ?? []).length > 0) errs.push(forbiddenField(path.child('spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  return errs;
}

export interface TemplateRules {
  /** The restart policies the kind allows (apps: Always; Job: OnFailure, Never). */
  restartPolicies: readonly string[];
  /** The kind's name in the activeDeadlineSeconds message ("ReplicaSet", "DaemonSet"...); absent = allowed. */
  noActiveDeadlineFor?: string;
}

/**
 * ValidatePodTemplateSpecForReplicaSet and its siblings: the template is required, the selector
 * must match its labels, and the restart policy is the kind's.
 */
export function validateWorkloadTemplate(t: PodTemplateSpec | undefined | null, selector: LabelSelectorValue | undefined, path: FieldPath, rules: TemplateRules): FieldError[] {
  if (!t) return [required(path, '')];
  const errs: FieldError[] = [];
  const labels = t.metadata?.labels ?? {};
  if (selector && !selector.empty() && !selector.matches(labels)) {
    errs.push(invalid(path.child('metadata', 'labels'), goStringMap(t.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(t, path));
  const policy = t.spec?.restartPolicy ?? '';
  if (!rules.restartPolicies.includes(policy)) {
    if (rules.restartPolicies.length === 1) errs.push(notSupported(path.child('spec', 'restartPolicy'), policy, [...rules.restartPolicies]));
    else errs.push(required(path.child('spec', 'restartPolicy'), `valid values: ${rules.restartPolicies.map((p) => JSON.stringify(p)).join(', ')}`));
  }
  if (rules.noActiveDeadlineFor && t.spec?.activeDeadlineSeconds != null) {
    errs.push(forbiddenField(path.child('spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${rules.noActiveDeadlineFor} is not Supported`));
  }
  return errs;
}

/** The selector of an apps/v1 object may not change (it did in extensions/v1beta1, never in apps/v1). */
export function validateSelectorImmutable(ls: LabelSelector | undefined | null, old: LabelSelector | undefined | null, path: FieldPath): FieldError[] {
  return validateImmutableField(ls ?? null, old ?? null, path).map((e) => ({ ...e, badValue: goLabelSelector(ls) }));
}

/** A replicas-like count: present fields must be >= 0 (0 allowed). */
export function validateNonnegative(v: number | undefined | null, path: FieldPath): FieldError[] {
  return v == null ? [] : validateNonnegativeField(v, path);
}

/**
 * An intstr.IntOrString that is a count or a percentage (maxSurge, maxUnavailable, minAvailable):
 * a non-negative integer, or a string "N%" (IsValidPercent), and a percentage at most 100% where
 * `maxPercent` says so.
 */
export function validateIntOrPercent(v: number | string | undefined | null, path: FieldPath, opts: { maxPercent?: boolean } = {}): FieldError[] {
  if (v == null) return [];
  if (typeof v === 'number') return v < 0 ? [invalid(path, v, 'must be greater than or equal to 0')] : [];
  if (!/^[0-9]+%$/.test(v)) return [invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
  const n = Number.parseInt(v, 10);
  if (opts.maxPercent && n > 100) return [invalid(path, v, 'must not be greater than 100%')];
  return [];
}

/**
 * intstr.GetScaledValueFromIntOrPercent: a count, or a percentage of `total` rounded up or down.
 * Callers pass validated values.
 */
export function scaledValue(v: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  const pct = Number.parseInt(v, 10);
  const x = (pct * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}
