// Pod rules the store applies: defaulting, validation, what status holds at creation, and the
// field-selector fields. The rules themselves live in src/api (pure); this file adapts them.

import type { FieldError } from '../api/field.ts';
import { FieldPath, required } from '../api/field.ts';
import type { Pod } from '../api/types.ts';

export function defaults(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] });
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
}

export function prepareForCreate(pod: Pod): void {
  pod.status = { phase: 'Pending' };
}

export function validate(pod: Pod): FieldError[] {
  const errs: FieldError[] = [];
  if (!pod.metadata?.name) errs.push(required(new FieldPath('metadata').child('name'), 'name or generateName is required'));
  return errs;
}

export function validateUpdate(pod: Pod, _old: Pod): FieldError[] {
  return validate(pod);
}

export function validateStatusUpdate(_pod: Pod, _old: Pod): FieldError[] {
  return [];
}
