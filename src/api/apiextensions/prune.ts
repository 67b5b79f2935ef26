// Pruning of fields a structural schema does not specify (apiextensions-apiserver
// pkg/apiserver/schema/pruning/algorithm.go). The object's root is an embedded resource: its
// apiVersion, kind and metadata are kept (metadata is ObjectMeta's business, not the schema's), as
// are those of every x-kubernetes-embedded-resource. x-kubernetes-preserve-unknown-fields keeps a
// node's unknown fields while still pruning inside the properties it does specify.

import type { JSONSchemaProps } from './types.ts';

export interface PruneOptions {
  /** Record the path of each pruned field (strict field validation reports them as `unknown field "spec.foo"`). */
  strict?: boolean;
  /** Whether `value` is a whole resource (default true). A schema default of a nested field passes false. */
  isResourceRoot?: boolean;
}

const metaFields = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Removes unknown fields from `value` in place. Returns the sorted paths of what was removed when
 * `strict` is set ("spec.foo", "spec.items[0].bar"), else an empty list.
 */
export function prune(schema: JSONSchemaProps | undefined, value: unknown, opts: PruneOptions = {}): string[] {
  let s = schema ?? {};
  if (opts.isResourceRoot !== false && !s['x-kubernetes-embedded-resource']) s = { ...s, 'x-kubernetes-embedded-resource': true };
  const st: PruneState = { track: !!opts.strict, paths: [] };
  pruneNode(value, s, '', st);
  return st.paths.sort();
}

interface PruneState {
  track: boolean;
  paths: string[];
}

function join(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function itemsOf(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  return s?.items && !Array.isArray(s.items) ? s.items : undefined;
}

function apOf(s: JSONSchemaProps): JSONSchemaProps | undefined | null {
  const ap = s.additionalProperties;
  if (ap === undefined) return undefined;
  // additionalProperties: true (or false) specifies values but no schema for them.
  return typeof ap === 'object' ? ap : null;
}

function pruneNode(x: unknown, s: JSONSchemaProps | undefined, path: string, st: PruneState): void {
  if (s && s['x-kubernetes-preserve-unknown-fields']) {
    skipPrune(x, s, path, st);
    return;
  }
  if (Array.isArray(x)) {
    const items = itemsOf(s);
    x.forEach((v, i) => pruneNode(v, items, `${path}[${i}]`, st));
    return;
  }
  if (x === null || typeof x !== 'object') return;
  const obj = x as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!s) {
      if (st.track) st.paths.push(join(path, k));
      delete obj[k];
      continue;
    }
    if (s['x-kubernetes-embedded-resource'] && metaFields.has(k)) continue;
    const prop = s.properties?.[k];
    const ap = apOf(s);
    if (prop) pruneNode(obj[k], prop, join(path, k), st);
    else if (ap !== undefined) pruneNode(obj[k], ap ?? undefined, join(path, k), st);
    else {
      // A stray apiVersion/kind/metadata at the very root is not reported: the decoder owns those.
      if (st.track && (!metaFields.has(k) || path !== '')) st.paths.push(join(path, k));
      delete obj[k];
    }
  }
}

function skipPrune(x: unknown, s: JSONSchemaProps, path: string, st: PruneState): void {
  if (Array.isArray(x)) {
    const items = itemsOf(s);
    if (items) x.forEach((v, i) => skipPrune(v, items, `${path}[${i}]`, st));
    return;
  }
  if (x === null || typeof x !== 'object') return;
  const obj = x as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (s['x-kubernetes-embedded-resource'] && metaFields.has(k)) continue;
    const prop = s.properties?.[k];
    const ap = apOf(s);
    if (prop) pruneNode(obj[k], prop, join(path, k), st);
    else if (ap !== undefined) pruneNode(obj[k], ap ?? undefined, join(path, k), st);
  }
}
