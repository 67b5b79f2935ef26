// Validation of rbac.authorization.k8s.io objects (pkg/apis/rbac/validation), with kube's messages.

import { FieldPath, GoValue, invalid, notSupported, required, type FieldError } from '../field.ts';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from '../rbac/types.ts';
import { RBAC_GROUP } from '../rbac/types.ts';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { nameIsDNSSubdomain, validatePathSegmentName } from './names.ts';

const fp = (...parts: string[]): FieldPath => new FieldPath().child(parts[0]!, ...parts.slice(1));

/** ValidatePolicyRule. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!(rule.verbs ?? []).length) errs.push(required(path.child('verbs'), 'verbs must contain at least one value'));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length) {
    const bad = new GoValue(`[]string{${urls.map((u) => JSON.stringify(u)).join(', ')}}`);
    if (namespaced) errs.push(invalid(path.child('nonResourceURLs'), bad, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length || (rule.resources ?? []).length || (rule.resourceNames ?? []).length) {
      errs.push(invalid(path.child('nonResourceURLs'), bad, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!(rule.apiGroups ?? []).length) errs.push(required(path.child('apiGroups'), 'resource rules must supply at least one api group'));
  if (!(rule.resources ?? []).length) errs.push(required(path.child('resources'), 'resource rules must supply at least one resource'));
  if ((rule.resourceNames ?? []).length && (rule.resources ?? []).length > 1) {
    errs.push(required(path.child('resourceNames'), 'resource names cannot apply to multiple resources'));
  }
  return errs;
}

function rulesErrors(rules: PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validatePolicyRule(r ?? {}, namespaced, fp('rules').index(i)));
}

export function validateRole(role: Role): FieldError[] {
  return [...validateObjectMeta(role.metadata, { namespaced: true, nameFn: validatePathSegmentName }), ...rulesErrors(role.rules, true)];
}

export function validateRoleUpdate(role: Role, old: Role): FieldError[] {
  return [...validateRole(role), ...validateObjectMetaUpdate(role.metadata, old.metadata)];
}

export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errs = [...validateObjectMeta(role.metadata, { namespaced: false, nameFn: validatePathSegmentName }), ...rulesErrors(role.rules, false)];
  const agg = role.aggregationRule;
  if (agg) {
    const selectors = agg.clusterRoleSelectors ?? [];
    if (!selectors.length) errs.push(required(fp('aggregationRule', 'clusterRoleSelectors'), 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, {}, fp('aggregationRule', 'clusterRoleSelectors').index(i))));
  }
  return errs;
}

export function validateClusterRoleUpdate(role: ClusterRole, old: ClusterRole): FieldError[] {
  return [...validateClusterRole(role), ...validateObjectMetaUpdate(role.metadata, old.metadata)];
}

function roleRefErrors(ref: RoleRef | undefined, kinds: string[]): FieldError[] {
  const errs: FieldError[] = [];
  const r = ref ?? ({} as RoleRef);
  if (r.apiGroup !== RBAC_GROUP) errs.push(notSupported(fp('roleRef', 'apiGroup'), r.apiGroup ?? '', [RBAC_GROUP]));
  if (!kinds.includes(r.kind ?? '')) errs.push(notSupported(fp('roleRef', 'kind'), r.kind ?? '', kinds));
  if (!r.name) errs.push(required(fp('roleRef', 'name')));
  else for (const msg of validatePathSegmentName(r.name, false)) errs.push(invalid(fp('roleRef', 'name'), r.name, msg));
  return errs;
}

function subjectErrors(s: Subject, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = s.name ?? '';
  if (!name) errs.push(required(path.child('name')));
  switch (s.kind) {
    case 'ServiceAccount':
      if (name) for (const msg of nameIsDNSSubdomain(name, false)) errs.push(invalid(path.child('name'), name, msg));
      if (s.apiGroup) errs.push(notSupported(path.child('apiGroup'), s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(path.child('namespace')));
      break;
    case 'User':
    case 'Group':
      if (!name) errs.push(invalid(path.child('name'), name, `${s.kind === 'User' ? 'user' : 'group'} name cannot be empty`));
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(path.child('apiGroup'), s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(path.child('kind'), s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function bindingErrors(b: RoleBinding | ClusterRoleBinding, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(b.metadata, { namespaced, nameFn: validatePathSegmentName });
  errs.push(...roleRefErrors(b.roleRef, namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole']));
  (b.subjects ?? []).forEach((s, i) => errs.push(...subjectErrors(s ?? ({} as Subject), namespaced, fp('subjects').index(i))));
  return errs;
}

/** The roleRef as Go's %#v prints the internal rbac.RoleRef. */
function goRoleRef(r: RoleRef | undefined): GoValue {
  return new GoValue(`rbac.RoleRef{APIGroup:${JSON.stringify(r?.apiGroup ?? '')}, Kind:${JSON.stringify(r?.kind ?? '')}, Name:${JSON.stringify(r?.name ?? '')}}`);
}

function roleRefChanged(b: RoleBinding | ClusterRoleBinding, old: RoleBinding | ClusterRoleBinding): FieldError[] {
  const a = b.roleRef;
  const o = old.roleRef;
  if (a?.apiGroup === o?.apiGroup && a?.kind === o?.kind && a?.name === o?.name) return [];
  return [invalid(fp('roleRef'), goRoleRef(a), 'cannot change roleRef')];
}

export const validateRoleBinding = (b: RoleBinding): FieldError[] => bindingErrors(b, true);
export const validateClusterRoleBinding = (b: ClusterRoleBinding): FieldError[] => bindingErrors(b, false);

export function validateRoleBindingUpdate(b: RoleBinding, old: RoleBinding): FieldError[] {
  return [...bindingErrors(b, true), ...validateObjectMetaUpdate(b.metadata, old.metadata), ...roleRefChanged(b, old)];
}

export function validateClusterRoleBindingUpdate(b: ClusterRoleBinding, old: ClusterRoleBinding): FieldError[] {
  return [...bindingErrors(b, false), ...validateObjectMetaUpdate(b.metadata, old.metadata), ...roleRefChanged(b, old)];
}
