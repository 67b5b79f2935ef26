// Deployments (apps/v1), as Kubernetes 1.32 validates them (pkg/apis/apps/validation
// ValidateDeployment, ValidateDeploymentSpec, ValidateDeploymentStrategy, ValidateRollingUpdateDeployment,
// ValidateDeploymentStatusUpdate). Pure; called by the kind's strategy.

import { FieldPath, forbiddenField, GoValue, invalid, notSupported, required, type FieldError } from '../field.ts';
import type { Deployment, DeploymentStrategy, RollingUpdateDeployment } from '../types.ts';
import { nameIsDNSSubdomain } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { goLabelSelector, selectorOf, validateIntOrPercent, validateNonnegative, validateSelectorImmutable, validateWorkloadSelector, validateWorkloadTemplate } from './workloads.ts';

const spec = new FieldPath('spec');
const status = new FieldPath('status');

type IntOrString = number | string | undefined | null;

/**
 * An intstr.IntOrString in a message: kube prints it through its String() method, so a percentage
 * shows unquoted (`Invalid value: 101%`), unlike a plain string field.
 */
function intstrErrors(errs: FieldError[]): FieldError[] {
  return errs.map((e) => (typeof e.badValue === 'string' ? { ...e, badValue: new GoValue(e.badValue) } : e));
}

function intstrValue(v: IntOrString): GoValue | number {
  return typeof v === 'number' ? v : new GoValue(v ?? '0');
}

/** getIntOrPercentValue: a valid percentage's number, else the value as an integer (an unparsable string is 0). */
function intOrPercentValue(v: IntOrString): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return 0;
  if (/^[0-9]+%$/.test(v)) return Number.parseInt(v, 10);
  return /^-?[0-9]+$/.test(v) ? Number.parseInt(v, 10) : 0;
}

function validateRollingUpdate(ru: RollingUpdateDeployment, path: FieldPath): FieldError[] {
  const errs = intstrErrors([...validateIntOrPercent(ru.maxUnavailable, path.child('maxUnavailable')), ...validateIntOrPercent(ru.maxSurge, path.child('maxSurge'))]);
  if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
    errs.push(invalid(path.child('maxUnavailable'), intstrValue(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
  }
  const mu = ru.maxUnavailable;
  if (typeof mu === 'string' && /^[0-9]+%$/.test(mu) && Number.parseInt(mu, 10) > 100) errs.push(invalid(path.child('maxUnavailable'), new GoValue(mu), 'must not be greater than 100%'));
  return errs;
}

function validateStrategy(st: DeploymentStrategy, path: FieldPath): FieldError[] {
  switch (st.type) {
    case 'Recreate':
      return st.rollingUpdate ? [forbiddenField(path.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate':
      return st.rollingUpdate ? validateRollingUpdate(st.rollingUpdate, path.child('rollingUpdate')) : [required(path.child('rollingUpdate'), 'this should be defaulted and never be nil')];
    default:
      return [notSupported(path, goStrategy(st), ['Recreate', 'RollingUpdate'])];
  }
}

/** Go's `%#v` of an apps.DeploymentStrategy (the bad value of an unsupported type). */
function goStrategy(st: DeploymentStrategy): GoValue {
  return new GoValue(`apps.DeploymentStrategy{Type:${JSON.stringify(st.type ?? '')}, RollingUpdate:${st.rollingUpdate ? '(*apps.RollingUpdateDeployment)(0x0)' : '(*apps.RollingUpdateDeployment)(nil)'}}`);
}

function validateDeploymentSpec(d: Deployment): FieldError[] {
  const s = d.spec ?? { selector: {}, template: {} };
  const errs = validateNonnegative(s.replicas, spec.child('replicas'));
  errs.push(...validateWorkloadSelector(s.selector, spec.child('selector')));
  const sel = s.selector ? selectorOf(s.selector) : undefined;
  if (s.selector && !sel) errs.push(invalid(spec.child('selector'), goLabelSelector(s.selector), 'invalid label selector'));
  else errs.push(...validateWorkloadTemplate(s.template, sel, spec.child('template'), { restartPolicies: ['Always'], noActiveDeadlineFor: 'ReplicaSet' }));
  errs.push(...validateStrategy(s.strategy ?? {}, spec.child('strategy')));
  errs.push(...validateNonnegative(s.minReadySeconds, spec.child('minReadySeconds')));
  errs.push(...validateNonnegative(s.revisionHistoryLimit, spec.child('revisionHistoryLimit')));
  if (s.progressDeadlineSeconds != null) {
    errs.push(...validateNonnegative(s.progressDeadlineSeconds, spec.child('progressDeadlineSeconds')));
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)) errs.push(invalid(spec.child('progressDeadlineSeconds'), s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  return [...validateObjectMeta(d.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateDeploymentSpec(d)];
}

/** The spec as on create, and the selector may not change (apps/v1). */
export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  const errs = validateObjectMetaUpdate(d.metadata, old.metadata);
  errs.push(...validateDeploymentSpec(d));
  errs.push(...validateSelectorImmutable(d.spec?.selector, old.spec?.selector, spec.child('selector')));
  return errs;
}

export function validateDeploymentStatusUpdate(d: Deployment, old: Deployment): FieldError[] {
  const errs = validateObjectMetaUpdate(d.metadata, old.metadata);
  const st = d.status ?? {};
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'] as const) errs.push(...validateNonnegative(st[k], status.child(k)));
  const replicas = st.replicas ?? 0;
  const over = 'cannot be greater than status.replicas';
  if ((st.updatedReplicas ?? 0) > replicas) errs.push(invalid(status.child('updatedReplicas'), st.updatedReplicas, over));
  if ((st.readyReplicas ?? 0) > replicas) errs.push(invalid(status.child('readyReplicas'), st.readyReplicas, over));
  if ((st.availableReplicas ?? 0) > replicas) errs.push(invalid(status.child('availableReplicas'), st.availableReplicas, over));
  if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0)) errs.push(invalid(status.child('availableReplicas'), st.availableReplicas, 'cannot be greater than readyReplicas'));
  const was = old.status?.collisionCount;
  if (was != null && (st.collisionCount == null || st.collisionCount < was)) errs.push(invalid(status.child('collisionCount'), st.collisionCount ?? 0, 'cannot be decremented'));
  return errs;
}
