// StatefulSets (apps/v1), as Kubernetes 1.32 validates them (pkg/apis/apps/validation
// ValidateStatefulSet, ValidateStatefulSetSpec, ValidatePodTemplateSpecForStatefulSet,
// ValidateStatefulSetUpdate, ValidateStatefulSetStatusUpdate). Pure; called by the kind's strategy.
//
// Unlike the other workloads, Kubernetes does not validate a StatefulSet template's pod spec (only its
// labels and annotations; see the TODO in ValidatePodTemplateSpecForStatefulSet): a bad container is
// accepted here too, and the controller then reports the refused pod creation as a FailedCreate event.

import { semanticDeepEqual } from '../equality.ts';
import { FieldPath, forbiddenField, GoValue, goStringMap, invalid, notSupported, required, type FieldError } from '../field.ts';
import type { PodTemplateSpec, RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy } from '../types.ts';
import { nameIsDNSLabel } from './names.ts';
import { validateAnnotations, validateLabels, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { goLabelSelector, selectorOf, validateIntOrPercent, validateNonnegative } from './workloads.ts';

const specPath = new FieldPath('spec');
const statusPath = new FieldPath('status');

type IntOrString = number | string | undefined | null;

/** intstr.IntOrString in a message: printed through its String() method, a percentage unquoted. */
function intstr(v: IntOrString): GoValue | number {
  return typeof v === 'number' ? v : new GoValue(v ?? '0');
}

/** getIntOrPercentValue: a valid percentage's number, else the value as an integer (unparsable = 0). */
function intOrPercentValue(v: IntOrString): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return 0;
  if (/^[0-9]+%$/.test(v)) return Number.parseInt(v, 10);
  return /^[+-]?[0-9]+$/.test(v) ? Number.parseInt(v, 10) : 0;
}

/** Go's `%#v` of a *apps.RollingUpdateStatefulSetStrategy. */
function goRollingUpdate(ru: RollingUpdateStatefulSetStrategy): GoValue {
  const mu = ru.maxUnavailable == null ? '(*intstr.IntOrString)(nil)' : '(*intstr.IntOrString)(0x0)';
  return new GoValue(`&apps.RollingUpdateStatefulSetStrategy{Partition:${ru.partition ?? 0}, MaxUnavailable:${mu}}`);
}

/** Go's `%#v` of an apps.StatefulSetUpdateStrategy (the pointer's address is not reproducible). */
function goUpdateStrategy(st: StatefulSetUpdateStrategy): GoValue {
  const ru = st.rollingUpdate ? '(*apps.RollingUpdateStatefulSetStrategy)(0x0)' : '(*apps.RollingUpdateStatefulSetStrategy)(nil)';
  return new GoValue(`apps.StatefulSetUpdateStrategy{Type:${JSON.stringify(st.type ?? '')}, RollingUpdate:${ru}}`);
}

function validateRollingUpdate(ru: RollingUpdateStatefulSetStrategy, path: FieldPath): FieldError[] {
  const errs = validateNonnegative(ru.partition, path.child('partition'));
  const mu = ru.maxUnavailable;
  if (mu != null) {
    const p = path.child('maxUnavailable');
    // ValidatePositiveIntOrPercent and IsNotMoreThan100Percent (never both with "cannot be 0").
    errs.push(...validateIntOrPercent(mu, p, { maxPercent: true }).map((e) => (typeof e.badValue === 'string' ? { ...e, badValue: intstr(e.badValue) } : e)));
    if (intOrPercentValue(mu) === 0) errs.push(invalid(p, intstr(mu), 'cannot be 0'));
  }
  return errs;
}

function validateUpdateStrategy(st: StatefulSetUpdateStrategy, path: FieldPath): FieldError[] {
  switch (st.type ?? '') {
    case '':
      return [required(path, '')];
    case 'OnDelete':
      return st.rollingUpdate ? [invalid(path.child('rollingUpdate'), goRollingUpdate(st.rollingUpdate), "only allowed for updateStrategy 'RollingUpdate'")] : [];
    case 'RollingUpdate':
      return st.rollingUpdate ? validateRollingUpdate(st.rollingUpdate, path.child('rollingUpdate')) : [];
    default:
      return [invalid(path, goUpdateStrategy(st), "must be 'RollingUpdate' or 'OnDelete'")];
  }
}

function validateRetentionPolicyType(v: string | undefined, path: FieldPath): FieldError[] {
  return v === 'Retain' || v === 'Delete' ? [] : [notSupported(path, v ?? '', ['Retain', 'Delete'])];
}

/**
 * ValidatePodTemplateSpecForStatefulSet: the selector must match; labels and annotations only. The
 * template is a value in Go, so a missing one is an empty one.
 */
function validateTemplate(template: PodTemplateSpec | undefined, s: StatefulSetSpec, path: FieldPath): FieldError[] {
  const t = template ?? {};
  const errs: FieldError[] = [];
  const labels = t.metadata?.labels ?? {};
  // A missing selector is labels.Nothing() in Go: not empty, and matching nothing.
  const sel = s.selector ? selectorOf(s.selector) : undefined;
  const matches = s.selector ? !sel || sel.empty() || sel.matches(labels) : false;
  if (!matches) errs.push(invalid(path.child('metadata', 'labels'), goStringMap(t.metadata?.labels), '`selector` does not match template `labels`'));
  // Kubernetes validates the template's labels at `template.labels` (sic).
  errs.push(...validateLabels(t.metadata?.labels, path.child('labels')));
  errs.push(...validateAnnotations(t.metadata?.annotations, path.child('annotations')));
  return errs;
}

function validateSpec(s: StatefulSetSpec | undefined): FieldError[] {
  const spec = s ?? ({ selector: {}, template: {}, serviceName: '' } as StatefulSetSpec);
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy ?? '';
  if (policy === '') errs.push(required(specPath.child('podManagementPolicy'), ''));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') errs.push(invalid(specPath.child('podManagementPolicy'), policy, "must be 'OrderedReady' or 'Parallel'"));
  errs.push(...validateUpdateStrategy(spec.updateStrategy ?? {}, specPath.child('updateStrategy')));
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention) {
    const p = specPath.child('persistentVolumeClaimRetentionPolicy');
    errs.push(...validateRetentionPolicyType(retention.whenDeleted, p.child('whenDeleted')), ...validateRetentionPolicyType(retention.whenScaled, p.child('whenScaled')));
  }
  errs.push(...validateNonnegative(spec.replicas, specPath.child('replicas')));
  errs.push(...validateNonnegative(spec.minReadySeconds, specPath.child('minReadySeconds')));
  if (spec.ordinals) errs.push(...validateNonnegative(spec.ordinals.start, specPath.child('ordinals.start')));
  let selectorOK = true;
  if (!spec.selector) errs.push(required(specPath.child('selector'), ''));
  else {
    errs.push(...validateLabelSelector(spec.selector, {}, specPath.child('selector')));
    if (Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions ?? []).length === 0) {
      errs.push(invalid(specPath.child('selector'), goLabelSelector(spec.selector), 'empty selector is invalid for statefulset'));
    }
    if (!selectorOf(spec.selector)) {
      selectorOK = false;
      errs.push(invalid(specPath.child('selector'), goLabelSelector(spec.selector), ''));
    }
  }
  if (selectorOK) errs.push(...validateTemplate(spec.template, spec, specPath.child('template')));
  const restart = spec.template?.spec?.restartPolicy ?? '';
  if (restart !== 'Always') errs.push(notSupported(specPath.child('template', 'spec', 'restartPolicy'), restart, ['Always']));
  if (spec.template?.spec?.activeDeadlineSeconds != null) errs.push(forbiddenField(specPath.child('template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'));
  return errs;
}

export function validateStatefulSet(set: StatefulSet): FieldError[] {
  return [...validateObjectMeta(set.metadata, { namespaced: true, nameFn: nameIsDNSLabel }), ...validateSpec(set.spec)];
}

/** The fields an update may change; everything else in spec is fixed at creation. */
const MUTABLE_SPEC_FIELDS = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy'] as const;

/** The name is not re-validated on update (kube once allowed subdomain names; such sets must stay deletable). */
export function validateStatefulSetUpdate(set: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateObjectMetaUpdate(set.metadata, old.metadata);
  errs.push(...validateSpec(set.spec));
  const rest = (s: StatefulSetSpec | undefined) => {
    const copy: Record<string, unknown> = { ...s };
    for (const k of MUTABLE_SPEC_FIELDS) delete copy[k];
    return copy;
  };
  if (!semanticDeepEqual(rest(set.spec), rest(old.spec))) {
    errs.push(forbiddenField(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errs;
}

export function validateStatefulSetStatusUpdate(set: StatefulSet, old: StatefulSet): FieldError[] {
  const st = set.status ?? { replicas: 0 };
  const errs: FieldError[] = [];
  for (const k of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'] as const) errs.push(...validateNonnegative(st[k], statusPath.child(k)));
  const replicas = st.replicas ?? 0;
  const over = 'cannot be greater than status.replicas';
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const) {
    if ((st[k] ?? 0) > replicas) errs.push(invalid(statusPath.child(k), st[k], over));
  }
  if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0)) errs.push(invalid(statusPath.child('availableReplicas'), st.availableReplicas, 'cannot be greater than status.readyReplicas'));
  errs.push(...validateObjectMetaUpdate(set.metadata, old.metadata));
  const was = old.status?.collisionCount;
  if (was != null && (st.collisionCount == null || st.collisionCount < was)) errs.push(invalid(statusPath.child('collisionCount'), st.collisionCount ?? 0, 'cannot be decremented'));
  return errs;
}
