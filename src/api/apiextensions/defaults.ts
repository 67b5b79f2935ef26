// Schema defaults of a custom resource (apiextensions-apiserver pkg/apiserver/schema/defaulting):
// a property with a `default` that is missing, or null where the schema is not nullable, gets a copy
// of the default; nested defaults then apply inside it (top-down, so a defaulted object picks up its
// own fields' defaults too). Kubernetes applies them after pruning, on decode of a request and on
// read from storage, then removes nulls that are neither nullable nor defaulted.

import type { JSONSchemaProps } from './types.ts';

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

function isNonNullableNull(x: unknown, s: JSONSchemaProps | undefined): boolean {
  return x === null && s !== undefined && !s.nullable;
}

function itemsOf(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return s.items && !Array.isArray(s.items) ? s.items : undefined;
}

function apSchema(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return s.additionalProperties && typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** Applies the schema's defaults to `value` in place (defaulting.Default). */
export function applyDefaults(schema: JSONSchemaProps | undefined, value: unknown): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const items = itemsOf(schema);
    if (!items) return;
    for (let i = 0; i < value.length; i++) {
      if (isNonNullableNull(value[i], items) && items.default !== undefined) value[i] = clone(items.default);
      applyDefaults(items, value[i]);
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  const props = schema.properties;
  if (props) {
    for (const k in props) {
      const prop = props[k];
      if (prop.default === undefined || prop.default === null) continue;
      if (!(k in obj) || isNonNullableNull(obj[k], prop)) obj[k] = clone(prop.default);
    }
  }
  const ap = apSchema(schema);
  for (const k of Object.keys(obj)) {
    const prop = props?.[k];
    if (prop) applyDefaults(prop, obj[k]);
    else if (ap) {
      if (isNonNullableNull(obj[k], ap) && ap.default !== undefined) obj[k] = clone(ap.default);
      applyDefaults(ap, obj[k]);
    }
  }
}

/** Drops nulls the schema neither allows nor defaults (defaulting.PruneNonNullableNullsWithoutDefaults). */
export function pruneNonNullableNullsWithoutDefaults(schema: JSONSchemaProps | undefined, value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const items = schema ? itemsOf(schema) : undefined;
    for (const v of value) pruneNonNullableNullsWithoutDefaults(items, v);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const sub = schema ? (schema.properties?.[k] ?? apSchema(schema)) : undefined;
    if (obj[k] === null && sub && !sub.nullable && sub.default === undefined) delete obj[k];
    else pruneNonNullableNullsWithoutDefaults(sub, obj[k]);
  }
}
