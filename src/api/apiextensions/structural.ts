// Structural schema rules (apiextensions-apiserver pkg/apiserver/schema/validation.go and
// complete.go): every specified field has a type, value validations (allOf/anyOf/oneOf/not) only
// restrict what properties/items already declare, metadata at the root says no more than name and
// generateName. Kubernetes sorts these errors by their rendered text; so do we.

import { FieldPath, forbiddenField, invalid, required, fieldErrorMessage, type FieldError } from '../field.ts';
import { compilePattern } from './values.ts';
import type { JSONSchemaProps } from './types.ts';

type Level = 'root' | 'item' | 'field';

function itemsOf(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return s.items && !Array.isArray(s.items) ? s.items : undefined;
}

function sortedKeys(o: Record<string, unknown> | undefined): string[] {
  return o ? Object.keys(o).sort() : [];
}

function nonEmpty(a: unknown[] | undefined): boolean {
  return !!a && a.length > 0;
}

export function validateStructural(s: JSONSchemaProps, path: FieldPath): FieldError[] {
  const errs = [...invariants(s, 'root', path), ...completeness(s, path)];
  const text = (e: FieldError): string => `${e.field}: ${fieldErrorMessage(e)}`;
  return errs.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

const intOrStringAnyOf = (v: JSONSchemaProps[] | undefined): boolean =>
  !!v && v.length === 2 && isOnlyType(v[0], 'integer') && isOnlyType(v[1], 'string');

function isOnlyType(s: JSONSchemaProps, t: string): boolean {
  return s.type === t && Object.keys(s).length === 1;
}

function invariants(s: JSONSchemaProps, lvl: Level, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const items = itemsOf(s);
  if (s.type === 'array' && !s.items) errs.push(required(p.child('items'), 'must be specified'));
  if (items) errs.push(...invariants(items, 'item', p.child('items')));
  for (const k of sortedKeys(s.properties)) errs.push(...invariants(s.properties![k], 'field', p.child('properties').key(k)));
  if (s.additionalProperties !== undefined) {
    if (lvl === 'root') errs.push(forbiddenField(p.child('additionalProperties'), 'must not be used at the root'));
    if (typeof s.additionalProperties === 'object') errs.push(...invariants(s.additionalProperties, 'field', p.child('additionalProperties')));
  }
  const ios = !!s['x-kubernetes-int-or-string'];
  const preserve = !!s['x-kubernetes-preserve-unknown-fields'];
  const embedded = !!s['x-kubernetes-embedded-resource'];
  if (ios && preserve) errs.push(invalid(p.child('x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (ios && embedded) errs.push(invalid(p.child('x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
  const skipAnyOf = intOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf = !!s.allOf && s.allOf.length >= 1 && intOrStringAnyOf(s.allOf[0].anyOf);
  errs.push(...valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, p));
  const checkMetadata = lvl === 'root' || embedded;
  if (embedded && s.type !== 'object') {
    if (!s.type) errs.push(required(p.child('type'), 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(invalid(p.child('type'), s.type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!s.type && !ios && !preserve) {
    const where = lvl === 'root' ? 'at the root' : lvl === 'item' ? 'for specified array items' : 'for specified object fields';
    errs.push(required(p.child('type'), `must not be empty ${where}`));
  }
  if (embedded && s.additionalProperties !== undefined) errs.push(forbiddenField(p.child('additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && s.type && s.type !== 'object') errs.push(invalid(p.child('type'), s.type, 'must be object at the root'));
  for (const f of ['kind', 'apiVersion']) {
    const sub = s.properties?.[f];
    if (sub && checkMetadata && sub.type !== 'string') errs.push(invalid(p.child('properties').key(f).child('type'), sub.type ?? '', 'must be string'));
  }
  const meta = s.properties?.metadata;
  if (meta) errs.push(...metadataInvariants(meta, checkMetadata, lvl, p.child('properties').key('metadata')));
  if (embedded && !preserve && Object.keys(s.properties ?? {}).length === 0) {
    errs.push(required(p.child('properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
  return errs;
}

function metadataInvariants(s: JSONSchemaProps, checkMetadata: boolean, lvl: Level, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (checkMetadata && s.type !== 'object') errs.push(invalid(p.child('type'), s.type ?? '', 'must be object'));
  if (lvl === 'root') {
    const props = Object.keys(s.properties ?? {});
    const onlyNames = props.length > 0 && props.every((k) => k === 'name' || k === 'generateName');
    const rest = Object.entries(s).filter(([k, v]) => {
      if (k === 'type' || k === 'default') return false;
      if (k === 'properties') return props.length > 0 && !onlyNames;
      return !(v === undefined || (Array.isArray(v) && v.length === 0) || v === false);
    });
    if (rest.length > 0) errs.push(forbiddenField(p, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  return errs;
}

function valueValidation(v: JSONSchemaProps, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!skipAnyOf) (v.anyOf ?? []).forEach((sub, i) => errs.push(...nested(sub, false, p.child('anyOf').index(i))));
  (v.allOf ?? []).forEach((sub, i) => errs.push(...nested(sub, skipFirstAllOfAnyOf && i === 0, p.child('allOf').index(i))));
  (v.oneOf ?? []).forEach((sub, i) => errs.push(...nested(sub, false, p.child('oneOf').index(i))));
  if (v.not) errs.push(...nested(v.not, false, p.child('not')));
  if (v.pattern) {
    const re = compilePattern(v.pattern);
    if (re instanceof Error) errs.push(invalid(p.child('pattern'), v.pattern, `must be a valid regular expression, but isn't: ${re.message}`));
  }
  return errs;
}

/** A schema inside allOf/anyOf/oneOf/not: value validations only. */
function nested(v: JSONSchemaProps, skipAnyOf: boolean, p: FieldPath): FieldError[] {
  const errs = valueValidation(v, skipAnyOf, false, p);
  const items = itemsOf(v);
  if (items) errs.push(...nested(items, false, p.child('items')));
  for (const k of sortedKeys(v.properties)) errs.push(...nested(v.properties![k], false, p.child('properties').key(k)));
  if (v.type) errs.push(forbiddenField(p.child('type'), 'must be empty to be structural'));
  if (v.additionalProperties !== undefined) errs.push(forbiddenField(p.child('additionalProperties'), 'must be undefined to be structural'));
  if (v.default !== undefined && v.default !== null) errs.push(forbiddenField(p.child('default'), 'must be undefined to be structural'));
  if (v.title) errs.push(forbiddenField(p.child('title'), 'must be empty to be structural'));
  if (v.description) errs.push(forbiddenField(p.child('description'), 'must be empty to be structural'));
  if (v.nullable) errs.push(forbiddenField(p.child('nullable'), 'must be false to be structural'));
  if (v['x-kubernetes-preserve-unknown-fields']) errs.push(forbiddenField(p.child('x-kubernetes-preserve-unknown-fields'), 'must be false to be structural'));
  if (v['x-kubernetes-embedded-resource']) errs.push(forbiddenField(p.child('x-kubernetes-embedded-resource'), 'must be false to be structural'));
  if (v['x-kubernetes-int-or-string']) errs.push(forbiddenField(p.child('x-kubernetes-int-or-string'), 'must be false to be structural'));
  if (nonEmpty(v['x-kubernetes-list-map-keys'])) errs.push(forbiddenField(p.child('x-kubernetes-list-map-keys'), 'must be empty to be structural'));
  if (v['x-kubernetes-list-type'] !== undefined) errs.push(forbiddenField(p.child('x-kubernetes-list-type'), 'must be undefined to be structural'));
  if (v['x-kubernetes-map-type'] !== undefined) errs.push(forbiddenField(p.child('x-kubernetes-map-type'), 'must be undefined to be structural'));
  if (nonEmpty(v['x-kubernetes-validations'])) errs.push(forbiddenField(p.child('x-kubernetes-validations'), 'must be empty to be structural'));
  if (v.properties && 'metadata' in v.properties) errs.push(forbiddenField(p.child('properties').key('metadata'), 'must not be specified in a nested context'));
  return errs;
}

/** Properties and items named in value validations must exist in the structural part. */
function completeness(s: JSONSchemaProps, p: FieldPath): FieldError[] {
  return valueCompleteness(s, s, p, p);
}

function valueCompleteness(v: JSONSchemaProps, s: JSONSchemaProps | undefined, sp: FieldPath, vp: FieldPath): FieldError[] {
  if (!s) return [required(sp, `because it is defined in ${vp}`)];
  const errs: FieldError[] = [];
  if (v.not) errs.push(...nestedCompleteness(v.not, s, sp, vp.child('not')));
  (v.allOf ?? []).forEach((sub, i) => errs.push(...nestedCompleteness(sub, s, sp, vp.child('allOf').index(i))));
  (v.anyOf ?? []).forEach((sub, i) => errs.push(...nestedCompleteness(sub, s, sp, vp.child('anyOf').index(i))));
  (v.oneOf ?? []).forEach((sub, i) => errs.push(...nestedCompleteness(sub, s, sp, vp.child('oneOf').index(i))));
  return errs;
}

function nestedCompleteness(v: JSONSchemaProps, s: JSONSchemaProps, sp: FieldPath, vp: FieldPath): FieldError[] {
  const errs = valueCompleteness(v, s, sp, vp);
  const vItems = itemsOf(v);
  if (vItems) {
    const sItems = itemsOf(s);
    if (!sItems) errs.push(required(sp.child('items'), `because it is defined in ${vp.child('items')}`));
    else errs.push(...nestedCompleteness(vItems, sItems, sp.child('items'), vp.child('items')));
  }
  for (const k of sortedKeys(v.properties)) {
    const sFld = s.properties?.[k];
    if (!sFld) errs.push(required(sp.child('properties').key(k), `because it is defined in ${vp.child('properties').key(k)}`));
    else errs.push(...nestedCompleteness(v.properties![k], sFld, sp.child('properties').key(k), vp.child('properties').key(k)));
  }
  return errs;
}
