// Pod rules the store applies: defaulting, validation, what status holds at creation. The rules
// themselves live in src/api (pure); this file adapts them to the strategy hooks.

import type { Pod } from '../../../api/types.ts';
import { applyPodAdmissionDefaults, applyPodSchemeDefaults } from '../../../api/defaults/pod.ts';
import { podQOSClass } from '../../../api/qos.ts';
import { validatePod, validatePodStatusUpdate, validatePodUpdate } from '../../../api/validation/pod/index.ts';

/** Scheme defaults: applied on every write (create, update, patch result). */
export function defaults(pod: Pod): void {
  applyPodSchemeDefaults(pod);
}

/** Admission defaults and the initial status, as the apiserver sets them on create. */
export function prepareForCreate(pod: Pod): void {
  applyPodAdmissionDefaults(pod);
  pod.status = { phase: 'Pending', qosClass: podQOSClass(pod) };
}

/**
 * A PUT of a manifest (kubectl replace) lacks what admission filled in at creation and the binding
 * set later; take those from the stored pod so only what the user changed is judged by the
 * immutability rules. (Kubernetes runs these admission defaults on create only, which makes
 * `kubectl replace -f pod.yaml` fail on a real cluster; we choose to accept it.)
 */
export function prepareForUpdate(pod: Pod, old: Pod): void {
  // `old` is read-only and nothing writes to status below: moved, not copied.
  if (old.status === undefined) delete pod.status;
  else pod.status = old.status;
  const spec = pod.spec;
  const was = old.spec;
  if (!spec || !was) return;
  spec.serviceAccountName ??= was.serviceAccountName;
  spec.serviceAccount ??= was.serviceAccount;
  spec.nodeName ??= was.nodeName;
  spec.priority ??= was.priority;
  if (spec.priorityClassName === undefined && was.priorityClassName !== undefined) spec.priorityClassName = was.priorityClassName;
  spec.preemptionPolicy ??= was.preemptionPolicy;
  applyPodAdmissionDefaults(pod);
}

export const validate = validatePod;
export const validateUpdate = validatePodUpdate;
export const validateStatusUpdate = validatePodStatusUpdate;
