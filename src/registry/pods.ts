// Pod rules the store applies: defaulting, validation, what status holds at creation. The rules
// themselves live in src/api (pure); this file adapts them to the strategy hooks.

import type { FieldError } from '../api/field.ts';
import type { Pod } from '../api/types.ts';
import { applyPodAdmissionDefaults, applyPodSchemeDefaults } from '../api/defaults/pod.ts';
import { podQOSClass } from '../api/qos.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/meta.ts';
import { isDNS1123Subdomain } from '../api/validation/names.ts';

const nameFn = (name: string) => isDNS1123Subdomain(name);

/** Scheme defaults: applied on every write (create, update, patch result). */
export function defaults(pod: Pod): void {
  applyPodSchemeDefaults(pod);
}

/** Admission defaults and the initial status, as the apiserver sets them on create. */
export function prepareForCreate(pod: Pod): void {
  applyPodAdmissionDefaults(pod);
  pod.status = { phase: 'Pending', qosClass: podQOSClass(pod) };
}

export function validate(pod: Pod): FieldError[] {
  return validateObjectMeta(pod.metadata, { namespaced: true, nameFn });
}

export function validateUpdate(pod: Pod, old: Pod): FieldError[] {
  return validateObjectMetaUpdate(pod.metadata, old.metadata);
}

export function validateStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  return validateObjectMetaUpdate(pod.metadata, old.metadata);
}
