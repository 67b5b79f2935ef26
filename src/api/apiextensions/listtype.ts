// x-kubernetes-list-type set/map invariants of a custom resource (apiextensions-apiserver
// pkg/apiserver/schema/listtype): a duplicate set element, or a map-list item whose keys repeat
// another's, is a Duplicate value on the later item (each repeated value reported once).

import { FieldPath, duplicate, invalid, type FieldError } from '../field.ts';
import type { JSONSchemaProps } from './types.ts';

export function validateListSetsAndMaps(fldPath: FieldPath | undefined, s: JSONSchemaProps | undefined, obj: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (s && obj && typeof obj === 'object' && !Array.isArray(obj)) walkObject(fldPath, s, obj as Record<string, unknown>, errs);
  return errs;
}

function child(p: FieldPath | undefined, name: string): FieldPath {
  return p ? p.child(name) : new FieldPath(name);
}

function keyed(p: FieldPath | undefined, k: string): FieldPath {
  return p ? p.key(k) : new FieldPath(`[${k}]`);
}

function indexed(p: FieldPath | undefined, i: number): FieldPath {
  return p ? p.index(i) : new FieldPath(`[${i}]`);
}

function walkObject(p: FieldPath | undefined, s: JSONSchemaProps, obj: Record<string, unknown>, errs: FieldError[]): void {
  const ap = s.additionalProperties;
  if (ap && typeof ap === 'object') {
    for (const k in obj) walk(keyed(p, k), ap, obj[k], errs);
  }
  if (s.properties) {
    for (const k in obj) {
      const sub = s.properties[k];
      if (sub) walk(child(p, k), sub, obj[k], errs);
    }
  }
}

function walk(p: FieldPath, s: JSONSchemaProps, v: unknown, errs: FieldError[]): void {
  if (Array.isArray(v)) walkArray(p, s, v, errs);
  else if (v && typeof v === 'object') walkObject(p, s, v as Record<string, unknown>, errs);
}

function walkArray(p: FieldPath, s: JSONSchemaProps, arr: unknown[], errs: FieldError[]): void {
  const lt = s['x-kubernetes-list-type'];
  if (lt === 'set') {
    for (const i of nonUnique(arr)) errs.push(duplicate(p.index(i), arr[i]));
  } else if (lt === 'map') {
    errs.push(...validateListMap(p, s, arr));
  }
  const items = s.items && !Array.isArray(s.items) ? s.items : undefined;
  if (items) arr.forEach((x, i) => walk(indexed(p, i), items, x, errs));
}

/** Go's json.Marshal of a decoded value: object keys sorted, so that key order does not matter. */
function canonical(v: unknown): string {
  if (v === undefined) return '\u0000unspecified';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/** Indices of the first repetition of each repeated value. */
function nonUnique(arr: unknown[]): number[] {
  if (arr.length <= 1) return [];
  const seen = new Map<string, number>();
  const out: number[] = [];
  arr.forEach((x, i) => {
    const k = canonical(x);
    const times = seen.get(k);
    if (times === undefined) seen.set(k, 1);
    else {
      seen.set(k, times + 1);
      if (times === 1) out.push(i);
    }
  });
  return out;
}

function validateListMap(p: FieldPath, s: JSONSchemaProps, arr: unknown[]): FieldError[] {
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (x !== null && (typeof x !== 'object' || Array.isArray(x))) return [invalid(p.index(i), x, 'must be an object for an array of list-type map')];
  }
  if (arr.length <= 1) return [];
  const keyFields = s['x-kubernetes-list-map-keys'] ?? [];
  const keys = arr.map((x) => {
    const key: Record<string, unknown> = {};
    if (x) for (const f of keyFields) if (f in (x as Record<string, unknown>)) key[f] = (x as Record<string, unknown>)[f];
    return key;
  });
  return nonUnique(keys).map((i) => duplicate(p.index(i), keys[i]));
}
