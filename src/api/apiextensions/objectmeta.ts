// Embedded resources (x-kubernetes-embedded-resource) of a custom resource, as apiextensions-apiserver
// checks them (pkg/apiserver/schema/objectmeta/validation.go): apiVersion and kind are required,
// kind must look like a Kind, and metadata is full ObjectMeta validation with names that only need
// to be a path segment.

import { FieldPath, invalid, required, type FieldError } from '../field.ts';
import type { ObjectMeta } from '../types.ts';
import { parseGroupVersion, validateObjectMeta } from '../validation/meta.ts';
import { isDNS1035Label, validatePathSegmentName } from '../validation/names.ts';
import type { JSONSchemaProps } from './types.ts';

/** Validates every embedded resource under `obj`; `isResourceRoot` treats `s` itself as one (schema defaults at the root). */
export function validateEmbeddedResources(fldPath: FieldPath | undefined, obj: unknown, s: JSONSchemaProps | undefined, isResourceRoot = false): FieldError[] {
  if (!s) return [];
  const errs: FieldError[] = [];
  walk(fldPath, obj, isResourceRoot && !s['x-kubernetes-embedded-resource'] ? { ...s, 'x-kubernetes-embedded-resource': true } : s, errs);
  return errs;
}

function at(p: FieldPath | undefined, name: string): FieldPath {
  return p ? p.child(name) : new FieldPath(name);
}

function walk(p: FieldPath | undefined, x: unknown, s: JSONSchemaProps | undefined, errs: FieldError[]): void {
  if (!s || x === null || typeof x !== 'object') return;
  if (Array.isArray(x)) {
    const items = s.items && !Array.isArray(s.items) ? s.items : undefined;
    x.forEach((v, i) => walk(p ? p.index(i) : new FieldPath(`[${i}]`), v, items, errs));
    return;
  }
  const obj = x as Record<string, unknown>;
  if (s['x-kubernetes-embedded-resource']) errs.push(...validateEmbeddedResource(p, obj));
  const ap = s.additionalProperties;
  for (const k in obj) {
    const prop = s.properties?.[k];
    if (prop) walk(at(p, k), obj[k], prop, errs);
    else if (ap && typeof ap === 'object') walk(p ? p.key(k) : new FieldPath(`[${k}]`), obj[k], ap, errs);
  }
}

/** The Go JSON decoder's word for a value it could not put into a field. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

const stringMetaFields = ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'selfLink'];

/** GetObjectMeta's decode errors, worded as encoding/json words them. */
function decodeMetaError(m: unknown): string | undefined {
  if (m === null) return undefined;
  if (typeof m !== 'object' || Array.isArray(m)) return `json: cannot unmarshal ${jsonKind(m)} into Go value of type v1.ObjectMeta`;
  const o = m as Record<string, unknown>;
  for (const f of stringMetaFields) {
    if (o[f] !== undefined && o[f] !== null && typeof o[f] !== 'string') {
      return `json: cannot unmarshal ${jsonKind(o[f])} into Go struct field ObjectMeta.${f} of type string`;
    }
  }
  for (const f of ['labels', 'annotations']) {
    const v = o[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) return `json: cannot unmarshal ${jsonKind(v)} into Go struct field ObjectMeta.${f} of type map[string]string`;
    for (const val of Object.values(v as Record<string, unknown>)) {
      if (val !== null && typeof val !== 'string') return `json: cannot unmarshal ${jsonKind(val)} into Go struct field ObjectMeta.${f} of type string`;
    }
  }
  return undefined;
}

function validateEmbeddedResource(p: FieldPath | undefined, x: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  if (!('apiVersion' in x)) errs.push(required(at(p, 'apiVersion'), ''));
  if (!('kind' in x)) errs.push(required(at(p, 'kind'), ''));
  for (const k in x) {
    const v = x[k];
    if (k === 'apiVersion') {
      if (typeof v !== 'string') errs.push(invalid(at(p, 'apiVersion'), v ?? 'null', 'must be a string'));
      else if (v.length === 0) errs.push(invalid(at(p, 'apiVersion'), v, 'must not be empty'));
      else if (!parseGroupVersion(v)) errs.push(invalid(at(p, 'apiVersion'), v, `unexpected GroupVersion string: ${v}`));
    } else if (k === 'kind') {
      if (typeof v !== 'string') errs.push(invalid(at(p, 'kind'), v ?? 'null', 'must be a string'));
      else if (v.length === 0) errs.push(invalid(at(p, 'kind'), v, 'must not be empty'));
      else {
        const bad = isDNS1035Label(v.toLowerCase());
        if (bad.length) errs.push(invalid(at(p, 'kind'), v, `may have mixed case, but should otherwise match: ${bad.join(',')}`));
      }
    } else if (k === 'metadata') {
      const decodeErr = decodeMetaError(v);
      if (decodeErr) {
        errs.push(invalid(at(p, 'metadata'), v, decodeErr));
        continue;
      }
      const meta: ObjectMeta = { ...((v ?? {}) as ObjectMeta) };
      if (!meta.name) meta.name = 'fakename';
      errs.push(...validateObjectMeta(meta, { namespaced: !!meta.namespace, nameFn: validatePathSegmentName, kubeFinalizers: false }, at(p, 'metadata')));
    }
  }
  return errs;
}
