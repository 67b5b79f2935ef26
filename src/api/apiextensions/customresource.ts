// What the custom-resource strategy runs for one object, in kube-apiserver's order
// (apiextensions-apiserver pkg/registry/customresource/strategy.go Validate): schema validation,
// embedded resources, list-type invariants, then CEL rules — unless an earlier error is one that
// makes the rules meaningless (wrong type, missing required field, enum, too long/many), in which
// case Kubernetes adds one error saying the rules were not checked.

import type { FieldError } from '../field.ts';
import { schemaHasRules, validateCEL } from './cel.ts';
import { applyDefaults, pruneNonNullableNullsWithoutDefaults } from './defaults.ts';
import { validateListSetsAndMaps } from './listtype.ts';
import { validateEmbeddedResources } from './objectmeta.ts';
import { prune } from './prune.ts';
import type { JSONSchemaProps } from './types.ts';
import { validateValue } from './values.ts';

export interface CustomResourceValidateOptions {
  /** The stored object, on update (enables ratcheting and CEL transition rules). */
  old?: unknown;
}

const blocking = new Set(['FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);

/** Schema, embedded-resource, list-type and CEL validation of a whole custom resource (no ObjectMeta or TypeMeta checks). */
export function validateCustomResource(schema: JSONSchemaProps, obj: unknown, opts: CustomResourceValidateOptions = {}): FieldError[] {
  const errs = validateValue(schema, obj, undefined, 'old' in opts ? { old: opts.old } : {});
  errs.push(...validateEmbeddedResources(undefined, obj, schema, false));
  errs.push(...validateListSetsAndMaps(undefined, schema, obj));
  if (!schemaHasRules(schema)) return errs;
  if (errs.some((e) => blocking.has(e.type))) {
    // Only a schema with rules says some were not checked (kube-apiserver's CEL validator is absent otherwise).
    errs.push({ type: 'FieldValueInvalid', field: '<nil>', badValue: 'null', detail: 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' });
  } else {
    errs.push(...validateCEL(schema, obj, undefined, 'old' in opts ? { old: opts.old } : {}));
  }
  return errs;
}

/**
 * The decode-time treatment of a custom resource: prune unknown fields (returning their paths for
 * strict field validation), apply defaults, then drop nulls the schema neither allows nor defaults.
 * Mutates `obj`. Kubernetes does the same on read from storage, with `strict` off.
 */
export function pruneAndDefault(schema: JSONSchemaProps, obj: unknown, strict = false): string[] {
  const unknown = prune(schema, obj, { strict });
  applyDefaults(schema, obj);
  pruneNonNullableNullsWithoutDefaults(schema, obj);
  return unknown;
}
