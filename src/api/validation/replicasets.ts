// ReplicaSets (apps/v1), ReplicationControllers and PodTemplates (core/v1), as Kubernetes 1.32
// validates them (pkg/apis/apps/validation ValidateReplicaSet, pkg/apis/core/validation
// ValidateReplicationController, ValidatePodTemplate). Pure; called by the kinds' strategies.

import { FieldPath, invalid, required, type FieldError } from '../field.ts';
import { selectorFromSet } from '../labels.ts';
import type { PodTemplate, ReplicaSet, ReplicationController } from '../types.ts';
import { nameIsDNSSubdomain } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { selectorOf, goLabelSelector, validateNonnegative, validatePodTemplateSpec, validateSelectorImmutable, validateWorkloadSelector, validateWorkloadTemplate } from './workloads.ts';

const spec = new FieldPath('spec');
const status = new FieldPath('status');

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const errs = validateObjectMeta(rs.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const s = rs.spec ?? { selector: {} };
  errs.push(...validateNonnegative(s.replicas, spec.child('replicas')));
  errs.push(...validateNonnegative(s.minReadySeconds, spec.child('minReadySeconds')));
  errs.push(...validateWorkloadSelector(s.selector, spec.child('selector')));
  const sel = s.selector ? selectorOf(s.selector) : undefined;
  if (s.selector && !sel) errs.push(invalid(spec.child('selector'), goLabelSelector(s.selector), 'invalid label selector'));
  else errs.push(...validateWorkloadTemplate(s.template, sel, spec.child('template'), { restartPolicies: ['Always'], noActiveDeadlineFor: 'ReplicaSet' }));
  return errs;
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  const errs = validateObjectMetaUpdate(rs.metadata, old.metadata);
  errs.push(...validateReplicaSet(rs).filter((e) => !e.field.startsWith('metadata')));
  errs.push(...validateSelectorImmutable(rs.spec?.selector, old.spec?.selector, spec.child('selector')));
  return errs;
}

/** Status counts: never negative, and never more of a narrower kind than of a wider one. */
export function validateReplicaSetStatus(rs: ReplicaSet | ReplicationController, old: ReplicaSet | ReplicationController): FieldError[] {
  const errs = validateObjectMetaUpdate(rs.metadata, old.metadata);
  const st = rs.status ?? { replicas: 0 };
  for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const) errs.push(...validateNonnegative(st[k], status.child(k)));
  const replicas = st.replicas ?? 0;
  if ((st.fullyLabeledReplicas ?? 0) > replicas) errs.push(invalid(status.child('fullyLabeledReplicas'), st.fullyLabeledReplicas, 'cannot be greater than status.replicas'));
  if ((st.readyReplicas ?? 0) > replicas) errs.push(invalid(status.child('readyReplicas'), st.readyReplicas, 'cannot be greater than status.replicas'));
  if ((st.availableReplicas ?? 0) > replicas) errs.push(invalid(status.child('availableReplicas'), st.availableReplicas, 'cannot be greater than status.replicas'));
  if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0)) errs.push(invalid(status.child('availableReplicas'), st.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}

/**
 * ReplicationControllers: a map selector that defaults to the template's labels, so it is required
 * only when the template has none (ValidateReplicationControllerSpec).
 */
export function validateReplicationController(rc: ReplicationController): FieldError[] {
  const errs = validateObjectMeta(rc.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const s = rc.spec ?? {};
  errs.push(...validateNonnegative(s.replicas, spec.child('replicas')));
  errs.push(...validateNonnegative(s.minReadySeconds, spec.child('minReadySeconds')));
  const selector = s.selector ?? {};
  if (Object.keys(selector).length === 0) errs.push(required(spec.child('selector'), ''));
  if (!s.template) errs.push(required(spec.child('template'), ''));
  else errs.push(...validateWorkloadTemplate(s.template, selectorFromSet(selector), spec.child('template'), { restartPolicies: ['Always'], noActiveDeadlineFor: 'ReplicationController' }));
  return errs;
}

export function validateReplicationControllerUpdate(rc: ReplicationController, old: ReplicationController): FieldError[] {
  const errs = validateObjectMetaUpdate(rc.metadata, old.metadata);
  errs.push(...validateReplicationController(rc).filter((e) => !e.field.startsWith('metadata')));
  return errs;
}

export function validatePodTemplate(pt: PodTemplate): FieldError[] {
  const errs = validateObjectMeta(pt.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  if (!pt.template) return [...errs, required(new FieldPath('template'), '')];
  errs.push(...validatePodTemplateSpec(pt.template, new FieldPath('template')));
  return errs;
}

export function validatePodTemplateUpdate(pt: PodTemplate, old: PodTemplate): FieldError[] {
  const errs = validateObjectMetaUpdate(pt.metadata, old.metadata);
  errs.push(...validatePodTemplate(pt).filter((e) => !e.field.startsWith('metadata')));
  return errs;
}
