// PodDisruptionBudgets (policy/v1), as Kubernetes 1.32 validates them (pkg/apis/policy/validation
// ValidatePodDisruptionBudgetSpec, ValidatePodDisruptionBudgetStatusUpdate) and metav1 Conditions as
// apimachinery's ValidateConditions does. Pure; called by the kind's strategy.

import { duplicate, FieldPath, GoValue, invalid, notSupported, required, tooLong, type FieldError } from '../field.ts';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { LabelSelector, PodDisruptionBudget, PodDisruptionBudgetSpec } from '../types.ts';
import { validateLabelName, validateLabelSelector, validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { nameIsDNSSubdomain, regexError } from './names.ts';
import { validateIntOrPercent } from './workloads.ts';

const specPath = new FieldPath('spec');
const statusPath = new FieldPath('status');

export const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'] as const;

/**
 * Go's `%#v` of the internal PodDisruptionBudgetSpec, the bad value of the "cannot be both set"
 * error. Go prints its pointer fields as addresses; a fixed stand-in keeps the shape.
 */
function goSpec(s: PodDisruptionBudgetSpec): GoValue {
  const ptr = (type: string, set: unknown) => `(*${type})(${set == null ? 'nil' : '0xc000100000'})`;
  return new GoValue(
    `policy.PodDisruptionBudgetSpec{MinAvailable:${ptr('intstr.IntOrString', s.minAvailable)}, MaxUnavailable:${ptr('intstr.IntOrString', s.maxUnavailable)}, ` +
      `Selector:${ptr('v1.LabelSelector', s.selector)}, UnhealthyPodEvictionPolicy:${ptr('policy.UnhealthyPodEvictionPolicyType', s.unhealthyPodEvictionPolicy)}}`,
  );
}

export function validatePodDisruptionBudgetSpec(s: PodDisruptionBudgetSpec, path: FieldPath = specPath): FieldError[] {
  const errs: FieldError[] = [];
  if (s.minAvailable != null && s.maxUnavailable != null) errs.push(invalid(path, goSpec(s), 'minAvailable and maxUnavailable cannot be both set'));
  errs.push(...validateIntOrPercent(s.minAvailable, path.child('minAvailable'), { maxPercent: true }));
  errs.push(...validateIntOrPercent(s.maxUnavailable, path.child('maxUnavailable'), { maxPercent: true }));
  errs.push(...validateLabelSelector(s.selector as LabelSelector | undefined, {}, path.child('selector')));
  const policy = s.unhealthyPodEvictionPolicy;
  if (policy != null && !(UNHEALTHY_POD_EVICTION_POLICIES as readonly string[]).includes(policy)) {
    errs.push(notSupported(path.child('unhealthyPodEvictionPolicy'), policy, [...UNHEALTHY_POD_EVICTION_POLICIES]));
  }
  return errs;
}

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMeta(pdb.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  errs.push(...validatePodDisruptionBudgetSpec(pdb.spec ?? {}));
  return errs;
}

/** The spec may change (policy/v1 budgets are mutable); it is validated as on create. */
export function validatePodDisruptionBudgetUpdate(pdb: PodDisruptionBudget, old: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMetaUpdate(pdb.metadata, old.metadata);
  errs.push(...validatePodDisruptionBudgetSpec(pdb.spec ?? {}));
  return errs;
}

/** ValidatePodDisruptionBudgetStatusUpdate (policy/v1): valid conditions, no negative counts. */
export function validatePodDisruptionBudgetStatus(pdb: PodDisruptionBudget, old: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMetaUpdate(pdb.metadata, old.metadata);
  const st = pdb.status;
  if (!st) return errs;
  errs.push(...validateConditions(st.conditions, statusPath.child('conditions')));
  for (const k of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const) {
    errs.push(...validateNonnegativeField(st[k] ?? 0, statusPath.child(k)));
  }
  return errs;
}

const conditionReasonFmt = '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?';
const conditionReasonRe = new RegExp(`^${conditionReasonFmt}$`);
const conditionReasonErrMsg =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'";
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];
const MAX_REASON_LEN = 1024;
const MAX_MESSAGE_LEN = 32 * 1024;

/** metav1validation.ValidateConditions: each condition valid, no type twice. */
export function validateConditions(conds: Condition[] | undefined | null, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (conds ?? []).forEach((c, i) => {
    const p = path.index(i);
    const type = c?.type ?? '';
    errs.push(...validateCondition(c ?? ({} as Condition), p));
    if (seen.has(type)) errs.push(duplicate(p.child('type'), type));
    seen.add(type);
  });
  return errs;
}

function validateCondition(c: Condition, path: FieldPath): FieldError[] {
  const errs = validateLabelName(c.type ?? '', path.child('type'));
  if (!CONDITION_STATUSES.includes(c.status ?? '')) errs.push(notSupported(path.child('status'), c.status ?? '', CONDITION_STATUSES));
  if ((c.observedGeneration ?? 0) < 0) errs.push(invalid(path.child('observedGeneration'), c.observedGeneration, 'must be greater than or equal to zero'));
  if (!c.lastTransitionTime) errs.push(required(path.child('lastTransitionTime'), 'must be set'));
  const reason = c.reason ?? '';
  if (reason === '') errs.push(required(path.child('reason'), 'must be set'));
  else {
    if (!conditionReasonRe.test(reason)) errs.push(invalid(path.child('reason'), reason, regexError(conditionReasonErrMsg, conditionReasonFmt, 'my_name', 'MY_NAME', 'MyName', 'ReasonA,ReasonB', 'ReasonA:ReasonB')));
    if (reason.length > MAX_REASON_LEN) errs.push(tooLong(path.child('reason'), reason, MAX_REASON_LEN));
  }
  if ((c.message ?? '').length > MAX_MESSAGE_LEN) errs.push(tooLong(path.child('message'), c.message, MAX_MESSAGE_LEN));
  return errs;
}
