// The patch schema of a custom resource, read from its structural schema: JSON merge patch and
// server-side apply descend by `properties` (and `additionalProperties` for maps), and lists merge as
// their x-kubernetes-list-type says: `map` lists by their first x-kubernetes-list-map-keys key, `set`
// lists as sets of values, `atomic` (the default) lists are replaced. Multi-key map lists merge by their
// first key only.

import type { JSONSchemaProps } from '../../api/apiextensions/index.ts';
import type { PatchField, PatchSchema } from './schema.ts';

export interface CustomResourcePatchSchema {
  schema: PatchSchema;
  /** The type name of the resource's root. */
  root: string;
}

const cache = new WeakMap<JSONSchemaProps, CustomResourcePatchSchema>();

export function customResourcePatchSchema(root: JSONSchemaProps): CustomResourcePatchSchema {
  let out = cache.get(root);
  if (out) return out;
  const nodes: JSONSchemaProps[] = [];
  const ids = new Map<JSONSchemaProps, string>();
  const idOf = (s: JSONSchemaProps): string => {
    let id = ids.get(s);
    if (id === undefined) {
      id = `crd#${nodes.length}`;
      nodes.push(s);
      ids.set(s, id);
    }
    return id;
  };
  const schema: PatchSchema = {
    field(typeName: string, jsonField: string): PatchField | undefined {
      const m = /^crd#(\d+)$/.exec(typeName);
      const node = m ? nodes[Number(m[1])] : undefined;
      if (!node) return undefined;
      const props = node.properties;
      const extra = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
      const prop = props && Object.hasOwn(props, jsonField) ? props[jsonField] : extra;
      if (!prop) return undefined;
      if (prop.type === 'array') {
        const items = prop.items && !Array.isArray(prop.items) ? prop.items : undefined;
        const listType = prop['x-kubernetes-list-type'];
        const mergeKey = listType === 'map' ? (prop['x-kubernetes-list-map-keys']?.[0] ?? undefined) : listType === 'set' ? '' : undefined;
        return { list: true, typeName: items ? idOf(items) : undefined, mergeKey, strategy: mergeKey !== undefined ? 'merge' : undefined };
      }
      const map = !prop.properties && (prop.additionalProperties === true || typeof prop.additionalProperties === 'object');
      return { list: false, typeName: prop.type === 'object' || prop.properties || prop.additionalProperties ? idOf(prop) : undefined, mergeKey: undefined, strategy: undefined, ...(map ? { map } : {}) };
    },
  };
  out = { schema, root: idOf(root) };
  cache.set(root, out);
  return out;
}
