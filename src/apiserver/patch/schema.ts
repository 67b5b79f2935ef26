// What strategic merge patch and server-side apply need to know about a type to descend into it:
// for each JSON field, whether it is a list, the type of its value (of each element for a list),
// and the list's merge key and patch strategy.
//
// Callers: strategic.ts and apply.ts, once per field they merge, synchronously, from any request at
// any time (implementations must be safe to call concurrently and idempotent; they are pure lookups).
//
// Type names are opaque to the patch code: it passes back whatever `typeName` a previous lookup
// returned. `modelSchema` uses client-node model names (`V1Pod`, `V1PodSpec`; see
// `modelNameForKind` in src/api/models.ts) and encodes string-keyed maps as `map[<value type>]`.

import { fieldInfo, type FieldType } from '../../api/models.ts';

export interface PatchField {
  /** The field holds a JSON array. */
  list: boolean;
  /** Type of the value (of each element when `list`), to pass to `field()` when descending; undefined for scalars and free-form values. */
  typeName: string | undefined;
  /** Merge key of a list merged by key; '' for a primitive list merged as a set (finalizers); undefined when not a merge list. */
  mergeKey: string | undefined;
  /** Patch strategy as in x-kubernetes-patch-strategy: 'merge', 'merge,retainKeys', 'replace'; undefined when none. */
  strategy: string | undefined;
  /** The field is a map (string keys chosen by the user), not a struct: its own existence is owned (`.`) by whoever made it. */
  map?: boolean;
}

/** Whether a field holds a map rather than a struct. */
export function isMapField(f: PatchField | undefined): boolean {
  return f !== undefined && !f.list && (f.map === true || (f.typeName?.startsWith('map[') ?? false));
}

export interface PatchSchema {
  /** Describes field `jsonField` of type `typeName`, or undefined when the type or the field is unknown (then maps merge and lists are replaced). */
  field(typeName: string, jsonField: string): PatchField | undefined;
}

/** A schema that knows nothing: JSON merge semantics everywhere (lists replaced, maps merged). */
export const emptySchema: PatchSchema = { field: () => undefined };

/** The schema of the built-in API types, from src/api/models.ts (client-node models + patchmeta.ts). */
export const modelSchema: PatchSchema = {
  field(typeName: string, jsonField: string): PatchField | undefined {
    if (typeName.startsWith('map[') && typeName.endsWith(']')) return describe(typeName.slice(4, -1));
    const info = fieldInfo(typeName, jsonField);
    if (!info) return undefined;
    const f = describe(encode(info.type));
    if (info.patch && f.list) {
      f.mergeKey = info.patch.mergeKey;
      f.strategy = info.patch.strategy;
    }
    return f;
  },
};

// Encodes a field type as an opaque type name: a model name, '' for scalars, `[]X` for arrays and
// `map[X]` for maps, so map values and list elements can be described from the name alone.
function encode(t: FieldType): string {
  switch (t.kind) {
    case 'object':
      return t.model ?? '';
    case 'array':
      return `[]${t.elem ? encode(t.elem) : ''}`;
    case 'map':
      return `map[${t.elem ? encode(t.elem) : ''}]`;
    default:
      return '';
  }
}

function describe(encoded: string): PatchField {
  if (encoded.startsWith('[]')) {
    const elem = encoded.slice(2);
    return { list: true, typeName: elem === '' || elem.startsWith('[]') ? undefined : elem, mergeKey: undefined, strategy: undefined };
  }
  return { list: false, typeName: encoded === '' ? undefined : encoded, mergeKey: undefined, strategy: undefined };
}
