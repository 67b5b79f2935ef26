// ControllerRevision validation (pkg/apis/apps/validation ValidateControllerRevision and
// ValidateControllerRevisionUpdate): a DNS-subdomain name, data present, revision >= 0, and data
// that never changes once written (a revision is a snapshot; only its revision number moves).

import { FieldPath, required, type FieldError } from '../../../api/field.ts';
import type { ControllerRevision } from '../../../api/types.ts';
import { validateImmutableField, validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from '../../../api/validation/meta.ts';
import { nameIsDNSSubdomain } from '../../../api/validation/names.ts';

export function validateControllerRevision(cr: ControllerRevision): FieldError[] {
  const errs = validateObjectMeta(cr.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  if (cr.data === undefined || cr.data === null) errs.push(required(new FieldPath('data'), 'data is mandatory'));
  if (typeof cr.revision === 'number') errs.push(...validateNonnegativeField(cr.revision, new FieldPath('revision')));
  return errs;
}

export function validateControllerRevisionUpdate(cr: ControllerRevision, old: ControllerRevision): FieldError[] {
  const errs = validateObjectMetaUpdate(cr.metadata, old.metadata);
  errs.push(...validateControllerRevision(cr));
  errs.push(...validateImmutableField(cr.data ?? null, old.data ?? null, new FieldPath('data')));
  return errs;
}
