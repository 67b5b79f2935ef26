// The model catalogue: the field names and types of every Kubernetes API type, read at runtime from
// the generated models of @kubernetes/client-node (each `dist/gen/models/<Name>.js` holds a JSON
// `attributeTypeMap`). Used by the OpenAPI builder, strict field validation and strategic merge patch.
//
// Why read the files instead of importing the classes: the package has no `exports` map narrowing it
// and its index pulls the whole client (HTTP stack, yaml, ws...). Reading one small file per type,
// synchronously and only when a type is first asked for, keeps this module free at start-up (no I/O
// at import) and lets callers stay synchronous.
//
// Callers: openapi (schema generation), decode (field validation), patch (strategic merge). All calls
// are synchronous, may happen from any request, and are idempotent (results are cached forever; the
// catalogue never changes while the process runs).
//
// Type names are client-node class names: a version prefix and the Kubernetes kind (`V1Pod`,
// `V1PodSpec`, `V1ObjectMeta`), with a group prefix where two groups share a kind (`CoreV1Event`,
// `EventsV1Event`, `CoreV1ResourceClaim`). `shortName()` strips the prefix (`PodSpec`), which is how
// `patchmeta.ts` keys its table.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patchMeta, type PatchMeta } from './patchmeta.ts';

/** What a scalar holds on the wire, as Kubernetes decodes it. */
export type Scalar =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  /** metav1.Time / MicroTime: an RFC 3339 string (null allowed, as the apiserver does). */
  | 'date-time'
  /** intstr.IntOrString: a JSON string or integer. */
  | 'int-or-string'
  /** resource.Quantity: a JSON string or number ("500m", 1, "1Gi"). */
  | 'quantity'
  /** Free-form JSON (FieldsV1, RawExtension, JSON): anything is accepted and kept as is. */
  | 'any';

export interface FieldType {
  kind: 'scalar' | 'object' | 'array' | 'map';
  /** kind 'scalar' only. */
  scalar?: Scalar;
  /** The OpenAPI format when there is one: int32, int64, double, byte, date-time, date-time-micro, int-or-string. */
  format?: string;
  /** kind 'object' only: the client-node type name of the nested model. */
  model?: string;
  /** kind 'array' and 'map': the type of the elements (map keys are always strings). */
  elem?: FieldType;
}

export interface FieldInfo {
  /** The JSON field name (client-node's `baseName`). */
  name: string;
  /** The client-node property name (differs from `name` only for `$ref`, `default`...). */
  property: string;
  type: FieldType;
  /** Strategic-merge metadata for list fields, from patchmeta.ts. */
  patch?: PatchMeta;
}

export interface Model {
  /** client-node type name, e.g. `V1PodSpec`. */
  name: string;
  /** Fields keyed by JSON name, in the generator's (alphabetical) order. */
  fields: ReadonlyMap<string, FieldInfo>;
}

// Fields whose Go type is resource.Quantity (directly or as map values). client-node types them as
// plain strings, but the apiserver also accepts JSON numbers there. Keyed like patchmeta.ts.
const quantityFields = new Set([
  'ResourceRequirements.limits',
  'ResourceRequirements.requests',
  'VolumeResourceRequirements.limits',
  'VolumeResourceRequirements.requests',
  'NodeStatus.capacity',
  'NodeStatus.allocatable',
  'PodSpec.overhead',
  'ContainerStatus.allocatedResources',
  'PersistentVolumeSpec.capacity',
  'PersistentVolumeClaimStatus.capacity',
  'PersistentVolumeClaimStatus.allocatedResources',
  'ResourceQuotaSpec.hard',
  'ResourceQuotaStatus.hard',
  'ResourceQuotaStatus.used',
  'LimitRangeItem.max',
  'LimitRangeItem.min',
  'LimitRangeItem.default',
  'LimitRangeItem.defaultRequest',
  'LimitRangeItem.maxLimitRequestRatio',
  'EmptyDirVolumeSource.sizeLimit',
  'ResourceFieldSelector.divisor',
  'CSIStorageCapacity.capacity',
  'CSIStorageCapacity.maximumVolumeSize',
]);

let modelsDir: string | undefined;

/** The directory holding client-node's generated models (resolved, not loaded). */
export function modelsDirectory(): string {
  if (modelsDir === undefined) {
    const index = fileURLToPath(import.meta.resolve('@kubernetes/client-node'));
    modelsDir = join(dirname(index), 'gen', 'models');
  }
  return modelsDir;
}

const cache = new Map<string, Model | null>();

interface RawAttribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

const typeMapPattern = /\.attributeTypeMap = (\[[\s\S]*?\n\]);/;

/** The model for a client-node type name, or undefined if no such model exists. */
export function getModel(typeName: string): Model | undefined {
  const hit = cache.get(typeName);
  if (hit !== undefined) return hit ?? undefined;
  const model = loadModel(typeName);
  cache.set(typeName, model);
  return model ?? undefined;
}

/** The type of one JSON field of a model, or undefined when the model or the field does not exist. */
export function fieldType(typeName: string, jsonField: string): FieldType | undefined {
  return getModel(typeName)?.fields.get(jsonField)?.type;
}

/** One field of a model (type plus patch metadata), or undefined. */
export function fieldInfo(typeName: string, jsonField: string): FieldInfo | undefined {
  return getModel(typeName)?.fields.get(jsonField);
}

/** `V1PodSpec` → `PodSpec`, `CoreV1Event` → `Event`, `V1beta1Lease` → `Lease`. */
export function shortName(typeName: string): string {
  const m = /^(?:[A-Z][a-z]+)*?V\d+(?:alpha\d+|beta\d+)?(?=[A-Z])/.exec(typeName);
  return m ? typeName.slice(m[0].length) : typeName;
}

/**
 * The client-node type name of a kind: ('', 'v1', 'Pod') → `V1Pod`, ('', 'v1', 'Event') → `CoreV1Event`,
 * ('coordination.k8s.io', 'v1', 'Lease') → `V1Lease`. Undefined when client-node has no such model.
 */
export function modelNameForKind(group: string, version: string, kind: string): string | undefined {
  const ver = version.charAt(0).toUpperCase() + version.slice(1);
  // Group-prefixed names exist only where kinds collide across groups; prefer them when present.
  const first = group === '' ? 'core' : group.split('.')[0];
  const prefixed = first.charAt(0).toUpperCase() + first.slice(1) + ver + kind;
  if (getModel(prefixed)) return prefixed;
  const plain = ver + kind;
  return getModel(plain) ? plain : undefined;
}

let allNames: string[] | undefined;

/** Every model name client-node ships (reads the directory listing once). */
export function modelNames(): readonly string[] {
  if (allNames === undefined) {
    allNames = readdirSync(modelsDirectory())
      .filter((f) => f.endsWith('.js') && f !== 'all.js' && f !== 'ObjectSerializer.js')
      .map((f) => f.slice(0, -3))
      .sort();
  }
  return allNames;
}

function loadModel(typeName: string): Model | null {
  // Only plain identifiers: the name becomes a file path.
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(typeName)) return null;
  let text: string;
  try {
    text = readFileSync(join(modelsDirectory(), `${typeName}.js`), 'utf8');
  } catch {
    return null;
  }
  const m = typeMapPattern.exec(text);
  if (!m) return null;
  const raw = JSON.parse(m[1]) as RawAttribute[];
  const short = shortName(typeName);
  const fields = new Map<string, FieldInfo>();
  for (const a of raw) {
    const key = `${short}.${a.baseName}`;
    let type = parseType(a.type, a.format);
    if (quantityFields.has(key)) type = asQuantity(type);
    const info: FieldInfo = { name: a.baseName, property: a.name, type };
    const pm = patchMeta[key];
    if (pm) info.patch = pm;
    fields.set(a.baseName, info);
  }
  return { name: typeName, fields };
}

/** Parses a client-node type expression (`Array<V1Container>`, `{ [key: string]: string; }`...). */
export function parseType(t: string, format = ''): FieldType {
  const s = t.trim();
  const arr = /^Array<(.*)>$/.exec(s);
  if (arr) return { kind: 'array', elem: parseType(arr[1], format) };
  const map = /^\{ \[key: string\]: (.*); \}$/.exec(s);
  if (map) return { kind: 'map', elem: parseType(map[1], format) };
  const withFormat = (ft: FieldType): FieldType => (format ? { ...ft, format } : ft);
  switch (s) {
    case 'string':
      return withFormat({ kind: 'scalar', scalar: 'string' });
    case 'boolean':
      return { kind: 'scalar', scalar: 'boolean' };
    case 'number':
      return withFormat({ kind: 'scalar', scalar: format === 'int32' || format === 'int64' ? 'integer' : 'number' });
    case 'Date':
      return { kind: 'scalar', scalar: 'date-time', format: format || 'date-time' };
    case 'V1MicroTime':
      // The only model name client-node refers to without shipping a class for it.
      return { kind: 'scalar', scalar: 'date-time', format: 'date-time-micro' };
    case 'IntOrString':
      return { kind: 'scalar', scalar: 'int-or-string', format: 'int-or-string' };
    case 'any':
    case 'object':
      return { kind: 'scalar', scalar: 'any' };
    default:
      return { kind: 'object', model: s };
  }
}

function asQuantity(t: FieldType): FieldType {
  if (t.kind === 'map' && t.elem) return { kind: 'map', elem: { kind: 'scalar', scalar: 'quantity' } };
  return { kind: 'scalar', scalar: 'quantity' };
}
