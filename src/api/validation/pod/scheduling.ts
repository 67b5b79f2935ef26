// What steers scheduling: tolerations (and taint effects, shared with nodes), node selector terms,
// pod (anti-)affinity and topology spread constraints.

import { duplicate, FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../../field.ts';
import type { Affinity, LabelSelector, NodeSelector, NodeSelectorTerm, PodAffinityTerm, Toleration, TopologySpreadConstraint } from '../../types.ts';
import { isValidLabelValue, nameIsDNSLabel, nameIsDNSSubdomain } from '../names.ts';
import { validateLabelName, validateLabelSelector } from '../meta.ts';
import { arr, list, str } from './helpers.ts';

const NOT_POSITIVE_MESSAGE = 'must be greater than zero';

/** ValidateTolerations: operator/effect/value rules for pod tolerations. */
export function validateTolerations(tols: Toleration[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  tols.forEach((t, i) => {
    const p = path.index(i);
    const key = t?.key ?? '';
    const op = t?.operator ?? '';
    const value = t?.value ?? '';
    if (key) errs.push(...validateLabelName(key, p.child('key')));
    if (!key && op !== 'Exists') errs.push(invalid(p.child('operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t?.tolerationSeconds !== undefined && t?.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(invalid(p.child('effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const ve = isValidLabelValue(value);
      if (ve.length) errs.push(invalid(p.child('operator'), value, ve.join(';')));
    } else if (op === 'Exists') {
      if (value.length > 0) errs.push(invalid(p.child('operator'), t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(p.child('operator'), op, ['Equal', 'Exists']));
    }
    if (t?.effect) errs.push(...validateTaintEffect(t.effect, true, p.child('effect')));
  });
  return errs;
}

/** Taint effects for tolerations (empty allowed) and node taints (required). */
export function validateTaintEffect(effect: string | undefined, allowEmpty: boolean, path: FieldPath): FieldError[] {
  if (!allowEmpty && !effect) return [required(path)];
  const valid = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
  return valid.includes(effect ?? '') ? [] : [notSupported(path, effect ?? '', valid)];
}

function validateNodeSelectorTerm(term: NodeSelectorTerm, allowInvalidValues: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  arr(term.matchExpressions).forEach((rq, j) => {
    const p = path.child('matchExpressions').index(j);
    const vals = list(rq.values).map(str);
    switch (rq.operator) {
      case 'In':
      case 'NotIn':
        if (vals.length === 0) errs.push(required(p.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (vals.length > 0) errs.push(forbiddenField(p.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      case 'Gt':
      case 'Lt':
        if (vals.length !== 1) errs.push(required(p.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        break;
      default:
        errs.push(invalid(p.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(rq.key ?? '', p.child('key')));
    if (!allowInvalidValues) {
      vals.forEach((v, k) => {
        for (const m of isValidLabelValue(v)) errs.push(invalid(p.child('values').index(k), v, m));
      });
    }
  });
  arr(term.matchFields).forEach((rq, j) => {
    const p = path.child('matchFields').index(j);
    const vals = list(rq.values).map(str);
    if (rq.operator === 'In' || rq.operator === 'NotIn') {
      if (vals.length !== 1) errs.push(required(p.child('values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else {
      errs.push(invalid(p.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
    }
    if (rq.key !== 'metadata.name') errs.push(invalid(p.child('key'), rq.key ?? '', 'not a valid field selector key'));
    else vals.forEach((v, k) => {
      for (const m of nameIsDNSSubdomain(v, false)) errs.push(invalid(p.child('values').index(k), v, m));
    });
  });
  return errs;
}

export function validateNodeSelector(sel: NodeSelector, path: FieldPath): FieldError[] {
  const terms = arr(sel.nodeSelectorTerms);
  if (terms.length === 0) return [required(path.child('nodeSelectorTerms'), 'must have at least one node selector term')];
  const errs: FieldError[] = [];
  terms.forEach((t, i) => errs.push(...validateNodeSelectorTerm(t, false, path.child('nodeSelectorTerms').index(i))));
  return errs;
}

function validatePodAffinityTerm(term: PodAffinityTerm, path: FieldPath): FieldError[] {
  const errs = validateLabelSelector(term.labelSelector as LabelSelector | undefined, {}, path.child('labelSelector'));
  errs.push(...validateLabelSelector(term.namespaceSelector as LabelSelector | undefined, {}, path.child('namespaceSelector')));
  // Kubernetes reports bad namespaces under "namespace" (singular).
  for (const ns of list(term.namespaces).map(str)) for (const m of nameIsDNSLabel(ns, false)) errs.push(invalid(path.child('namespace'), ns, m));
  const tk = term.topologyKey ?? '';
  if (!tk) errs.push(required(path.child('topologyKey'), 'can not be empty'));
  errs.push(...validateLabelName(tk, path.child('topologyKey')));
  return errs;
}

function validatePodAffinityTerms(
  required_: PodAffinityTerm[] | undefined,
  preferred: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  arr(required_).forEach((t, i) => errs.push(...validatePodAffinityTerm(t, path.child('requiredDuringSchedulingIgnoredDuringExecution').index(i))));
  arr(preferred).forEach((w, j) => {
    const p = path.child('preferredDuringSchedulingIgnoredDuringExecution').index(j);
    if (!(w.weight > 0 && w.weight <= 100)) errs.push(invalid(p.child('weight'), w.weight ?? 0, 'must be in the range 1-100'));
    errs.push(...validatePodAffinityTerm(w.podAffinityTerm ?? ({} as PodAffinityTerm), p.child('podAffinityTerm')));
  });
  return errs;
}

export function validateAffinity(a: Affinity | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!a) return errs;
  const na = a.nodeAffinity;
  if (na) {
    const np = path.child('nodeAffinity');
    if (na.requiredDuringSchedulingIgnoredDuringExecution) {
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, np.child('requiredDuringSchedulingIgnoredDuringExecution')));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const p = np.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      if (!(t.weight > 0 && t.weight <= 100)) errs.push(invalid(p.child('weight'), t.weight ?? 0, 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(t.preference ?? {}, true, p.child('preference')));
    });
  }
  if (a.podAffinity) {
    errs.push(
      ...validatePodAffinityTerms(
        a.podAffinity.requiredDuringSchedulingIgnoredDuringExecution,
        a.podAffinity.preferredDuringSchedulingIgnoredDuringExecution,
        path.child('podAffinity'),
      ),
    );
  }
  if (a.podAntiAffinity) {
    errs.push(
      ...validatePodAffinityTerms(
        a.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
        a.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution,
        path.child('podAntiAffinity'),
      ),
    );
  }
  return errs;
}

export function validateTopologySpreadConstraints(constraints: TopologySpreadConstraint[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  constraints.forEach((c, i) => {
    const p = path.index(i);
    if (!(c.maxSkew > 0)) errs.push(invalid(p.child('maxSkew'), c.maxSkew ?? 0, NOT_POSITIVE_MESSAGE));
    if (!c.topologyKey) errs.push(required(p.child('topologyKey'), 'can not be empty'));
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
      errs.push(notSupported(p.child('whenUnsatisfiable'), c.whenUnsatisfiable ?? '', ['DoNotSchedule', 'ScheduleAnyway']));
    }
    if (constraints.slice(i + 1).some((o) => o.topologyKey === c.topologyKey && o.whenUnsatisfiable === c.whenUnsatisfiable)) {
      errs.push(duplicate(p.child('{topologyKey, whenUnsatisfiable}'), `{${c.topologyKey}, ${c.whenUnsatisfiable}}`));
    }
    const md = c.minDomains;
    if (md !== undefined && md !== null) {
      if (md <= 0) errs.push(invalid(p.child('minDomains'), md, NOT_POSITIVE_MESSAGE));
      if (c.whenUnsatisfiable !== 'DoNotSchedule') {
        errs.push(invalid(p.child('minDomains'), md, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${c.whenUnsatisfiable ?? ''}`));
      }
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy'] as const) {
      const v = c[f];
      if (v !== undefined && v !== null && v !== 'Honor' && v !== 'Ignore') errs.push(notSupported(p.child(f), v, ['Honor', 'Ignore']));
    }
    const keys = list(c.matchLabelKeys).map(str);
    if (keys.length && !c.labelSelector) errs.push(forbiddenField(p.child('matchLabelKeys'), 'must not be specified when labelSelector is not set'));
    keys.forEach((k, j) => errs.push(...validateLabelName(k, p.child('matchLabelKeys').index(j))));
    errs.push(...validateLabelSelector(c.labelSelector, {}, p.child('labelSelector')));
  });
  return errs;
}
