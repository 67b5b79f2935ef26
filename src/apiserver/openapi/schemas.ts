// Builds OpenAPI v3 `components.schemas` from the model catalogue, named and shaped like the real
// apiserver's documents (`io.k8s.api.core.v1.Pod`, nested types behind `allOf:[{$ref}]`, patch
// extensions on list fields) because kubectl reads them: explain walks them, apply looks for the
// patch extensions.

import { getModel, shortName, type FieldType } from '../../api/models.ts';
import { fallbackDocs, modelDocs } from './docs.ts';

export type Schema = { [key: string]: unknown };

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

const metaPkg = 'io.k8s.apimachinery.pkg.apis.meta';

// Types that live in apimachinery's meta/v1 package rather than in an API group's package.
const metaTypes = new Set([
  'APIGroup', 'APIGroupList', 'APIResource', 'APIResourceList', 'APIVersions', 'Condition', 'DeleteOptions',
  'FieldSelectorRequirement', 'GroupVersionForDiscovery', 'LabelSelector', 'LabelSelectorRequirement', 'ListMeta',
  'ManagedFieldsEntry', 'ObjectMeta', 'OwnerReference', 'Preconditions', 'ServerAddressByClientCIDR', 'Status',
  'StatusCause', 'StatusDetails', 'WatchEvent',
]);

export const timeSchema = `${metaPkg}.v1.Time`;
export const microTimeSchema = `${metaPkg}.v1.MicroTime`;
export const fieldsV1Schema = `${metaPkg}.v1.FieldsV1`;
export const patchSchema = `${metaPkg}.v1.Patch`;
export const quantitySchema = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const intOrStringSchema = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** `io.k8s.api.core` for '', `io.k8s.api.coordination` for coordination.k8s.io. */
export function groupPackage(group: string): string {
  return `io.k8s.api.${group === '' ? 'core' : group.split('.')[0]}`;
}

const prefixPattern = /^((?:[A-Z][a-z]+)*?)(V\d+(?:alpha\d+|beta\d+)?)(?=[A-Z])/;

/** The upstream schema name of a client-node model, given the package of the type that refers to it. */
export function schemaName(typeName: string, pkg: string): string {
  const m = prefixPattern.exec(typeName);
  if (!m) return `${pkg}.${typeName}`;
  const version = m[2].toLowerCase();
  const short = shortName(typeName);
  if (metaTypes.has(short) && version === 'v1') return `${metaPkg}.v1.${short}`;
  if (m[1]) return `io.k8s.api.${m[1].toLowerCase()}.${version}.${short}`;
  return `${pkg}.${version}.${short}`;
}

/** `io.k8s.api.core.v1.Pod` → kubernetes-types module `core/v1`; meta → `meta/v1`. */
function typesModule(schema: string): { file: string; name: string } | undefined {
  const parts = schema.split('.');
  const name = parts[parts.length - 1];
  if (schema.startsWith(`${metaPkg}.`)) return { file: `meta/${parts[parts.length - 2]}`, name };
  if (schema === quantitySchema) return { file: 'api/resource', name };
  if (schema.startsWith('io.k8s.api.')) return { file: `${parts[3]}/${parts[4]}`, name };
  return undefined;
}

const ref = (name: string): Schema => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });

/**
 * Accumulates the schemas of one document. `addModel` pulls in everything a type refers to, so a
 * document is self-contained, as the real per-group-version documents are.
 */
export class SchemaSet {
  readonly schemas: Record<string, Schema> = {};

  /** Adds a model and its closure; returns its schema name. `gvk` marks a top-level kind. */
  addModel(typeName: string, pkg: string, gvk?: GVK[]): string {
    const name = schemaName(typeName, pkg);
    const existing = this.schemas[name];
    if (existing) {
      if (gvk) existing['x-kubernetes-group-version-kind'] = gvk;
      return name;
    }
    const model = getModel(typeName);
    if (!model) throw new Error(`openapi: no model ${typeName}`);
    const ownPkg = name.split('.').slice(0, -2).join('.');
    const docs = modelDocs(typeName);
    const fallback = typesModule(name);
    const fbDocs = fallback ? fallbackDocs(fallback.file, fallback.name) : undefined;
    const schema: Schema = {};
    const description = docs.description ?? fbDocs?.description;
    if (description) schema.description = description;
    schema.type = 'object';
    // Reserve the slot first: models refer to themselves (JSONSchemaProps) or each other.
    this.schemas[name] = schema;
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    const short = shortName(typeName);
    for (const f of model.fields.values()) {
      const prop = this.#typeSchema(f.type, ownPkg, short, f.name);
      const fd = docs.fields.get(f.name);
      const d = fd?.description ?? fbDocs?.fields.get(f.name)?.description;
      if (d) prop.description = d;
      if (fd?.required) required.push(f.name);
      if (f.patch) {
        if (f.patch.mergeKey) prop['x-kubernetes-patch-merge-key'] = f.patch.mergeKey;
        prop['x-kubernetes-patch-strategy'] = f.patch.strategy;
      }
      properties[f.name] = prop;
    }
    if (Object.keys(properties).length > 0) schema.properties = properties;
    if (required.length > 0) schema.required = required;
    if (gvk) schema['x-kubernetes-group-version-kind'] = gvk;
    return name;
  }

  #typeSchema(t: FieldType, pkg: string, owner: string, field: string): Schema {
    switch (t.kind) {
      case 'array':
        return { type: 'array', items: this.#typeSchema(t.elem ?? { kind: 'scalar', scalar: 'any' }, pkg, owner, field) };
      case 'map':
        return { type: 'object', additionalProperties: this.#typeSchema(t.elem ?? { kind: 'scalar', scalar: 'any' }, pkg, owner, field) };
      case 'object':
        return ref(this.addModel(t.model ?? '', pkg));
      case 'scalar':
        break;
    }
    switch (t.scalar) {
      case 'string':
        return t.format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
      case 'boolean':
        return { type: 'boolean' };
      case 'integer':
        return { type: 'integer', format: t.format ?? 'int64' };
      case 'number':
        return { type: 'number', format: 'double' };
      case 'date-time':
        return ref(this.#primitive(t.format === 'date-time-micro' ? microTimeSchema : timeSchema));
      case 'int-or-string':
        return ref(this.#primitive(intOrStringSchema));
      case 'quantity':
        return ref(this.#primitive(quantitySchema));
      default:
        if (owner === 'ManagedFieldsEntry' && field === 'fieldsV1') return ref(this.#primitive(fieldsV1Schema));
        return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    }
  }

  /** The apimachinery value types that have custom JSON forms. */
  #primitive(name: string): string {
    if (this.schemas[name]) return name;
    const tm = typesModule(name);
    const fromTypes = tm ? fallbackDocs(tm.file, tm.name)?.description : undefined;
    let schema: Schema;
    switch (name) {
      case timeSchema:
      case microTimeSchema:
        schema = { type: 'string', format: 'date-time' };
        break;
      case quantitySchema:
        schema = { oneOf: [{ type: 'string' }, { type: 'number' }] };
        break;
      case intOrStringSchema:
        schema = { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] };
        break;
      default:
        schema = { type: 'object' };
    }
    const description = fromTypes ?? ownDescriptions[name];
    this.schemas[name] = description ? { description, ...schema } : schema;
    return name;
  }

  /**
   * A custom resource's schema under kube-apiserver's name for it (`com.example.stable.v1.CronTab`):
   * its structural schema, with apiVersion, kind and metadata (ObjectMeta) described as for any kind.
   */
  addCustomResource(group: string, version: string, kind: string, structural: Schema): string {
    const name = customResourceSchemaName(group, version, kind);
    if (this.schemas[name]) return name;
    const meta = this.addModel('V1ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta');
    const schema: Schema = structuredClone(structural);
    const props = ((schema.properties as Record<string, Schema> | undefined) ?? {}) as Record<string, Schema>;
    schema.properties = {
      apiVersion: { description: TYPE_META.apiVersion, type: 'string' },
      kind: { description: TYPE_META.kind, type: 'string' },
      ...props,
      metadata: { description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", allOf: [{ $ref: `#/components/schemas/${meta}` }] },
    };
    schema.type ??= 'object';
    schema['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
    this.schemas[name] = schema;
    return name;
  }

  /** The list of a custom resource (`com.example.stable.v1.CronTabList`). */
  addCustomResourceList(group: string, version: string, kind: string): string {
    const name = `${customResourceSchemaName(group, version, kind)}List`;
    if (this.schemas[name]) return name;
    const listMeta = this.addModel('V1ListMeta', 'io.k8s.apimachinery.pkg.apis.meta');
    this.schemas[name] = {
      description: `${kind}List is a list of ${kind}`,
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: { description: TYPE_META.apiVersion, type: 'string' },
        items: { description: `List of ${kind.toLowerCase()}s. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md`, type: 'array', items: { $ref: `#/components/schemas/${customResourceSchemaName(group, version, kind)}` } },
        kind: { description: TYPE_META.kind, type: 'string' },
        metadata: { description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds', allOf: [{ $ref: `#/components/schemas/${listMeta}` }] },
      },
      'x-kubernetes-group-version-kind': [{ group, kind: `${kind}List`, version }],
    };
    return name;
  }

  /** The schema PATCH request bodies refer to. */
  addPatch(): string {
    this.schemas[patchSchema] ??= { description: ownDescriptions[patchSchema], type: 'object' };
    return patchSchema;
  }
}

const TYPE_META = {
  apiVersion: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

/** `stable.example.com`, `v1`, `CronTab` → `com.example.stable.v1.CronTab` (the group reversed). */
export function customResourceSchemaName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

// Used only when kubernetes-types is not installed or has no text for the type.
const ownDescriptions: Record<string, string> = {
  [intOrStringSchema]: 'Holds either a 32-bit integer or a string; JSON and YAML carry whichever of the two was set.',
  [quantitySchema]: 'A fixed-point quantity such as "500m", "128Mi" or 2, written as a string or a number.',
  [timeSchema]: 'A timestamp in RFC 3339 form, second precision.',
  [microTimeSchema]: 'A timestamp in RFC 3339 form, microsecond precision.',
  [fieldsV1Schema]: 'The set of fields a manager owns, in the structured-merge-diff trie format.',
  [patchSchema]: 'The body of a PATCH request: a JSON patch, a merge patch, a strategic merge patch or an apply configuration, as the Content-Type says.',
};
