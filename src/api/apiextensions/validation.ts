// CustomResourceDefinition validation on create and update, with kube-apiserver's messages and
// field paths (apiextensions-apiserver pkg/apis/apiextensions/validation/validation.go, 1.32).
//
// Kubernetes validates the internal form of a CRD: converting from v1 hoists a schema,
// subresources, printer columns or selectable fields that are identical in every version to the
// spec's top level (spec.validation, spec.subresources...). So a single-version CRD's schema errors
// read `spec.validation.openAPIV3Schema...`, and only versions with differing schemas read
// `spec.versions[i].schema.openAPIV3Schema...`. We validate the same view so paths match.

import { semanticDeepEqual } from '../equality.ts';
import { FieldPath, duplicate, forbiddenField, invalid, notSupported, required, type FieldError } from '../field.ts';
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from '../validation/meta.ts';
import { isDNS1035Label, isDNS1123Subdomain, nameIsDNSSubdomain } from '../validation/names.ts';
import { compileRules, normalizeRuleFieldPath, validateCEL } from './cel.ts';
import { validateEmbeddedResources } from './objectmeta.ts';
import { prune } from './prune.ts';
import { validateStructural } from './structural.ts';
import { deepEqualJSON, validateValue } from './values.ts';
import {
  KUBE_API_APPROVED_ANNOTATION,
  type CustomResourceColumnDefinition,
  type CustomResourceDefinition,
  type CustomResourceDefinitionNames,
  type CustomResourceDefinitionSpec,
  type CustomResourceSubresources,
  type JSONSchemaProps,
  type SelectableField,
  type ValidationRule,
} from './types.ts';

const printerColumnDatatypes = ['boolean', 'date', 'integer', 'number', 'string'];
const columnFormats = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const openapiV3Types = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const supportedValidationReasons = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const metaFields = new Set(['metadata', 'kind', 'apiVersion']);
const MAX_SELECTABLE_FIELDS = 8;

/** The apiextensions internal view of a v1 spec: per-version fields hoisted when all versions agree. */
interface InternalView {
  validation?: JSONSchemaProps;
  subresources?: CustomResourceSubresources;
  columns?: CustomResourceColumnDefinition[];
  selectableFields?: SelectableField[];
  hoistSchema: boolean;
  hoistSubresources: boolean;
  hoistColumns: boolean;
  hoistSelectable: boolean;
}

function internalView(spec: CustomResourceDefinitionSpec): InternalView {
  const vs = spec.versions ?? [];
  const first = vs[0];
  const same = <T>(get: (v: (typeof vs)[number]) => T): boolean => vs.length > 0 && vs.every((v) => semanticDeepEqual(get(v), get(first)));
  const hoistSchema = same((v) => v.schema);
  const hoistSubresources = same((v) => v.subresources);
  const hoistColumns = same((v) => v.additionalPrinterColumns);
  const hoistSelectable = same((v) => v.selectableFields);
  return {
    validation: hoistSchema ? first?.schema?.openAPIV3Schema : undefined,
    subresources: hoistSubresources ? first?.subresources : undefined,
    columns: hoistColumns ? first?.additionalPrinterColumns : undefined,
    selectableFields: hoistSelectable ? first?.selectableFields : undefined,
    hoistSchema,
    hoistSubresources,
    hoistColumns,
    hoistSelectable,
  };
}

interface Options {
  requireImmutableNames: boolean;
  /** The old CRD's rules, whose compile errors are not raised again on update. */
  preexistingRules?: Set<string>;
}

/** Kubernetes' defaulting of a v1 CRD (SetDefaults_CustomResourceDefinition): singular, listKind, conversion, storedVersions. */
export function setCustomResourceDefinitionDefaults(crd: CustomResourceDefinition): void {
  const n = crd.spec.names;
  if (n && !n.singular && n.kind) n.singular = n.kind.toLowerCase();
  if (n && !n.listKind && n.kind) n.listKind = `${n.kind}List`;
  crd.spec.conversion ??= { strategy: 'None' };
  crd.status ??= {};
  if (!crd.status.storedVersions || crd.status.storedVersions.length === 0) {
    const storage = (crd.spec.versions ?? []).find((v) => v.storage);
    if (storage) crd.status.storedVersions = [storage.name];
  }
}

/** ValidateCustomResourceDefinition. Expects defaults set (status.storedVersions is required). */
export function validateCustomResourceDefinition(crd: CustomResourceDefinition): FieldError[] {
  const spec = crd.spec;
  const nameFn = (name: string, prefix: boolean): string[] => {
    const out = nameIsDNSSubdomain(name, prefix);
    if (name !== `${spec?.names?.plural ?? ''}.${spec?.group ?? ''}`) out.push('must be spec.names.plural+"."+spec.group');
    return out;
  };
  const errs = validateObjectMeta(crd.metadata, { namespaced: false, nameFn, kubeFinalizers: false });
  errs.push(...validateSpec(spec, { requireImmutableNames: false }, new FieldPath('spec')));
  errs.push(...validateStatus(crd));
  errs.push(...validateAPIApproval(crd, undefined));
  errs.push(...validatePreserveUnknownFields(crd, undefined));
  return errs;
}

/** ValidateCustomResourceDefinitionUpdate. */
export function validateCustomResourceDefinitionUpdate(crd: CustomResourceDefinition, old: CustomResourceDefinition): FieldError[] {
  const established = (old.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
  const preexisting = new Set<string>();
  for (const v of old.spec.versions ?? []) collectRules(v.schema?.openAPIV3Schema, preexisting);
  const errs = validateObjectMetaUpdate(crd.metadata, old.metadata, { kubeFinalizers: false });
  const specPath = new FieldPath('spec');
  errs.push(...validateSpec(crd.spec, { requireImmutableNames: established, preexistingRules: preexisting }, specPath));
  if (established) {
    errs.push(...validateImmutableField(crd.spec.scope, old.spec.scope, specPath.child('scope')));
    errs.push(...validateImmutableField(crd.spec.names?.kind, old.spec.names?.kind, specPath.child('names', 'kind')));
  }
  errs.push(...validateImmutableField(crd.spec.group, old.spec.group, specPath.child('group')));
  errs.push(...validateImmutableField(crd.spec.names?.plural, old.spec.names?.plural, specPath.child('names', 'plural')));
  errs.push(...validateStatus(crd));
  errs.push(...validateAPIApproval(crd, old));
  errs.push(...validatePreserveUnknownFields(crd, old));
  return errs;
}

/** ValidateUpdateCustomResourceDefinitionStatus: metadata and accepted names only. */
export function validateCustomResourceDefinitionStatusUpdate(crd: CustomResourceDefinition, old: CustomResourceDefinition): FieldError[] {
  const errs = validateObjectMetaUpdate(crd.metadata, old.metadata, { kubeFinalizers: false });
  if (crd.status?.acceptedNames) errs.push(...validateNames(crd.status.acceptedNames, new FieldPath('status').child('acceptedNames')));
  return errs;
}

function collectRules(s: JSONSchemaProps | undefined, out: Set<string>): void {
  if (!s) return;
  for (const r of s['x-kubernetes-validations'] ?? []) out.add(r.rule);
  for (const k in s.properties ?? {}) collectRules(s.properties?.[k], out);
  if (s.items && !Array.isArray(s.items)) collectRules(s.items, out);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') collectRules(s.additionalProperties, out);
}

function validateStatus(crd: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  const status = new FieldPath('status');
  if (crd.status?.acceptedNames) errs.push(...validateNames(crd.status.acceptedNames, status.child('acceptedNames')));
  errs.push(...validateStoredVersions(crd.status?.storedVersions ?? [], crd.spec.versions ?? [], status.child('storedVersions')));
  return errs;
}

function validateStoredVersions(stored: string[], versions: CustomResourceDefinitionSpec['versions'], p: FieldPath): FieldError[] {
  if (stored.length === 0) return [invalid(p, stored, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map<string, number>();
  stored.forEach((v, i) => remaining.set(v, i));
  for (const v of versions) {
    const has = remaining.has(v.name);
    if (v.storage && !has) errs.push(invalid(p, stored, `must have the storage version ${v.name}`));
    if (has) remaining.delete(v.name);
  }
  for (const [v, i] of remaining) {
    errs.push(
      invalid(
        p.index(i),
        v,
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  }
  return errs;
}

function validateSpec(spec: CustomResourceDefinitionSpec, opts: Options, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const group = spec.group ?? '';
  if (group.length === 0) errs.push(required(p.child('group'), ''));
  else {
    const bad = isDNS1123Subdomain(group);
    if (bad.length > 0) errs.push(invalid(p.child('group'), group, bad.join(',')));
    else if (group.split('.').length < 2) errs.push(invalid(p.child('group'), group, 'should be a domain with at least one dot'));
  }
  const scope = spec.scope ?? '';
  if (scope === '') errs.push(required(p.child('scope'), ''));
  else if (scope !== 'Cluster' && scope !== 'Namespaced') errs.push(notSupported(p.child('scope'), scope, ['Cluster', 'Namespaced']));

  const versions = spec.versions ?? [];
  const view = internalView(spec);
  const preserveUnknown = spec.preserveUnknownFields === true;
  // A schema is required for every version (requireOpenAPISchema on create).
  if (!view.validation) {
    versions.forEach((v, i) => {
      if (!v.schema?.openAPIV3Schema) errs.push(required(p.child('versions').index(i).child('schema').child('openAPIV3Schema'), ''));
    });
  }
  if (versions.some((v) => hasDefaults(v.schema?.openAPIV3Schema)) && preserveUnknown) {
    errs.push(invalid(p.child('preserveUnknownFields'), true, 'must be false in order to use defaults in the schema'));
  }

  let storageCount = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const vp = p.child('versions').index(i);
    if (v.storage) storageCount++;
    if (seen.has(v.name)) unique = false;
    else seen.add(v.name);
    const bad = isDNS1035Label(v.name ?? '');
    if (bad.length > 0) errs.push(invalid(vp.child('name'), v.name ?? '', bad.join(',')));
    errs.push(...validateDeprecationWarning(v.deprecated === true, v.deprecationWarning, vp.child('deprecationWarning')));
    const subresources = view.hoistSubresources ? view.subresources : v.subresources;
    const statusEnabled = !!subresources?.status;
    if (!view.hoistSchema) errs.push(...validateSchemaBlock(v.schema?.openAPIV3Schema, statusEnabled, opts, vp.child('schema')));
    if (!view.hoistSubresources) errs.push(...validateSubresources(v.subresources, vp.child('subresources')));
    if (!view.hoistColumns) (v.additionalPrinterColumns ?? []).forEach((c, j) => errs.push(...validateColumn(c, vp.child('additionalPrinterColumns').index(j))));
    if (!view.hoistSelectable && v.selectableFields && v.selectableFields.length > 0) {
      if (!v.schema?.openAPIV3Schema) errs.push(invalid(vp.child('selectableFields'), '', 'may only be set when `version.schema.openAPIV3Schema` is not included'));
      else errs.push(...validateSelectableFields(v.selectableFields, v.schema.openAPIV3Schema, vp.child('selectableFields')));
    }
  });
  if (!unique) errs.push(invalid(p.child('versions'), versions, 'must contain unique version names'));
  if (storageCount !== 1) errs.push(invalid(p.child('versions'), versions, 'must have exactly one version marked as storage version'));

  const names = spec.names ?? ({} as CustomResourceDefinitionNames);
  const np = p.child('names');
  if (!names.plural) errs.push(required(np.child('plural'), ''));
  if (!names.singular) errs.push(required(np.child('singular'), ''));
  if (!names.kind) errs.push(required(np.child('kind'), ''));
  if (!names.listKind) errs.push(required(np.child('listKind'), ''));
  errs.push(...validateNames(names, np));

  const anyStatus = view.hoistSubresources ? !!view.subresources?.status : versions.some((v) => !!v.subresources?.status);
  if (view.hoistSchema) errs.push(...validateSchemaBlock(view.validation, anyStatus, opts, p.child('validation')));
  if (view.hoistSubresources) errs.push(...validateSubresources(view.subresources, p.child('subresources')));
  if (view.hoistColumns) (view.columns ?? []).forEach((c, j) => errs.push(...validateColumn(c, p.child('additionalPrinterColumns').index(j))));
  if (view.hoistSelectable && view.selectableFields && view.selectableFields.length > 0) {
    if (!view.validation) errs.push(invalid(p.child('selectableFields'), '', 'may only be set when validations.schema is included'));
    else errs.push(...validateSelectableFields(view.selectableFields, view.validation, p.child('selectableFields')));
  }

  const conversion = spec.conversion;
  if (conversion && conversion.strategy !== 'None' && preserveUnknown) {
    errs.push(invalid(p.child('conversion').child('strategy'), conversion.strategy, 'must be None if spec.preserveUnknownFields is true'));
  }
  if (conversion) {
    const cp = p.child('conversion');
    const strategy = conversion.strategy ?? '';
    if (strategy === '') errs.push(required(cp.child('strategy'), ''));
    else if (strategy !== 'None' && strategy !== 'Webhook') errs.push(notSupported(cp.child('strategy'), strategy, ['None', 'Webhook']));
    if (strategy === 'Webhook') {
      const cc = conversion.webhook?.clientConfig;
      if (!cc) errs.push(required(cp.child('webhookClientConfig'), 'required when strategy is set to Webhook'));
      else if ((cc.url === undefined) === (cc.service === undefined)) errs.push(required(cp.child('webhookClientConfig'), 'exactly one of url or service is required'));
      const reviews = conversion.webhook?.conversionReviewVersions ?? [];
      if (reviews.length === 0) errs.push(required(cp.child('conversionReviewVersions'), ''));
      else if (!reviews.some((r) => r === 'v1' || r === 'v1beta1')) {
        errs.push(invalid(cp.child('conversionReviewVersions'), reviews, 'must include at least one of v1, v1beta1'));
      }
    } else if (conversion.webhook?.clientConfig) {
      errs.push(forbiddenField(cp.child('webhookClientConfig'), 'should not be set when strategy is not set to Webhook'));
    } else if ((conversion.webhook?.conversionReviewVersions ?? []).length > 0) {
      errs.push(forbiddenField(cp.child('conversionReviewVersions'), 'should not be set when strategy is not set to Webhook'));
    }
  }
  return errs;
}

function validateDeprecationWarning(deprecated: boolean, warning: string | undefined, p: FieldPath): FieldError[] {
  if (!deprecated && warning !== undefined) return [invalid(p, warning, 'can only be set for deprecated versions')];
  if (warning === undefined) return [];
  const errs: FieldError[] = [];
  if (Buffer.byteLength(warning) > 256) errs.push(invalid(p, warning, 'must be <= 256 characters long'));
  if (warning.length === 0) errs.push(invalid(p, warning, 'must not be an empty string'));
  let i = 0;
  for (const ch of warning) {
    if (/\p{Cc}/u.test(ch)) {
      errs.push(invalid(p, warning, `must only contain printable UTF-8 characters; control character found at index ${i}`));
      break;
    }
    if (!/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) {
      errs.push(invalid(p, warning, `must only contain printable UTF-8 characters; non-printable character found at index ${i}`));
      break;
    }
    i += Buffer.byteLength(ch);
  }
  return errs;
}

function validateNames(names: CustomResourceDefinitionNames, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const label = (v: string | undefined, f: string, mixed: boolean): void => {
    if (!v) return;
    const bad = isDNS1035Label(mixed ? v.toLowerCase() : v);
    if (bad.length > 0) errs.push(invalid(p.child(f), v, mixed ? `may have mixed case, but should otherwise match: ${bad.join(',')}` : bad.join(',')));
  };
  label(names.plural, 'plural', false);
  label(names.singular, 'singular', false);
  label(names.kind, 'kind', true);
  label(names.listKind, 'listKind', true);
  (names.shortNames ?? []).forEach((s, i) => {
    const bad = isDNS1035Label(s);
    if (bad.length > 0) errs.push(invalid(p.child('shortNames').index(i), s, bad.join(',')));
  });
  if (names.kind && names.kind === names.listKind) errs.push(invalid(p.child('listKind'), names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((s, i) => {
    const bad = isDNS1035Label(s);
    if (bad.length > 0) errs.push(invalid(p.child('categories').index(i), s, bad.join(',')));
  });
  return errs;
}

function validateSimpleJSONPath(s: string, p: FieldPath): FieldError[] {
  if (s.length === 0) return [invalid(p, s, 'must not be empty')];
  if (s[0] !== '.') return [invalid(p, s, 'must be a simple json path starting with .')];
  return [];
}

function validateColumn(col: CustomResourceColumnDefinition, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!col.name) errs.push(required(p.child('name'), ''));
  const types = `must be one of ${printerColumnDatatypes.join(',')}`;
  if (!col.type) errs.push(required(p.child('type'), types));
  else if (!printerColumnDatatypes.includes(col.type)) errs.push(invalid(p.child('type'), col.type, types));
  if (col.format && !columnFormats.includes(col.format)) errs.push(invalid(p.child('format'), col.format, `must be one of ${columnFormats.join(',')}`));
  // Kubernetes names the internal field: the path says JSONPath, not jsonPath.
  if (!col.jsonPath) errs.push(required(p.child('JSONPath'), ''));
  else errs.push(...validateSimpleJSONPath(col.jsonPath, p.child('JSONPath')));
  return errs;
}

function validateSubresources(sr: CustomResourceSubresources | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const scale = sr?.scale;
  if (!scale) return errs;
  const spec = p.child('scale.specReplicasPath');
  if (!scale.specReplicasPath) errs.push(required(spec, ''));
  else {
    const e = validateSimpleJSONPath(scale.specReplicasPath, spec);
    if (e.length > 0) errs.push(...e);
    else if (!scale.specReplicasPath.startsWith('.spec.')) errs.push(invalid(spec, scale.specReplicasPath, 'should be a json path under .spec'));
  }
  const status = p.child('scale.statusReplicasPath');
  if (!scale.statusReplicasPath) errs.push(required(status, ''));
  else {
    const e = validateSimpleJSONPath(scale.statusReplicasPath, status);
    if (e.length > 0) errs.push(...e);
    else if (!scale.statusReplicasPath.startsWith('.status.')) errs.push(invalid(status, scale.statusReplicasPath, 'should be a json path under .status'));
  }
  if (scale.labelSelectorPath) {
    const sel = p.child('scale.labelSelectorPath');
    const e = validateSimpleJSONPath(scale.labelSelectorPath, sel);
    if (e.length > 0) errs.push(...e);
    else if (!scale.labelSelectorPath.startsWith('.spec.') && !scale.labelSelectorPath.startsWith('.status.')) {
      errs.push(invalid(sel, scale.labelSelectorPath, 'should be a json path under either .spec or .status'));
    }
  }
  return errs;
}

/** A selectable field's JSONPath resolved against the schema (cel.ValidFieldPath without array notation). */
function resolveFieldPath(path: string, s: JSONSchemaProps): { path: string; schema?: JSONSchemaProps } | string {
  const norm = normalizeRuleFieldPath(path);
  if (norm === undefined || norm === '') return 'does not refer to a valid field';
  if (/\[/.test(norm)) return 'array notation is not allowed';
  let cur: JSONSchemaProps | undefined = s;
  for (const part of norm.split('.')) {
    const next: JSONSchemaProps | undefined = cur?.properties?.[part] ?? (cur?.additionalProperties && typeof cur.additionalProperties === 'object' ? cur.additionalProperties : undefined);
    if (!next && !(cur === s && metaFields.has(part))) return 'does not refer to a valid field';
    cur = next;
  }
  return { path: norm, schema: cur };
}

function validateSelectableFields(fields: SelectableField[], schema: JSONSchemaProps, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Set<string>();
  fields.forEach((f, i) => {
    const jp = p.index(i).child('jsonPath');
    if (!f.jsonPath) {
      errs.push(required(jp, ''));
      return;
    }
    const r = resolveFieldPath(f.jsonPath, schema);
    if (typeof r === 'string') {
      errs.push(invalid(jp, f.jsonPath, `is an invalid path: ${r}`));
      return;
    }
    if (r.path.split('.')[0] === 'metadata') errs.push(invalid(jp, f.jsonPath, 'must not point to fields in metadata'));
    const t = r.schema?.type;
    if (t !== 'string' && t !== 'boolean' && t !== 'integer') {
      errs.push(invalid(jp, f.jsonPath, 'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.'));
    }
    if (unique.has(r.path)) errs.push(duplicate(jp, f.jsonPath));
    else unique.add(r.path);
  });
  if (unique.size > MAX_SELECTABLE_FIELDS) {
    errs.push({ type: 'FieldValueTooMany', field: String(p), badValue: unique.size, detail: `must have at most ${MAX_SELECTABLE_FIELDS} items` });
  }
  return errs;
}

function hasDefaults(s: JSONSchemaProps | undefined): boolean {
  if (!s) return false;
  if (s.default !== undefined && s.default !== null) return true;
  for (const k in s.properties ?? {}) if (hasDefaults(s.properties?.[k])) return true;
  if (s.items && !Array.isArray(s.items) && hasDefaults(s.items)) return true;
  if (s.additionalProperties && typeof s.additionalProperties === 'object' && hasDefaults(s.additionalProperties)) return true;
  for (const sub of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.not ? [s.not] : [])]) if (hasDefaults(sub)) return true;
  return false;
}

// The schema fields allowed at the root when the status subresource is on (Go field names as Kubernetes prints them).
const allowedAtRoot: [string, keyof JSONSchemaProps][] = [
  ['Description', 'description'],
  ['Type', 'type'],
  ['Format', 'format'],
  ['Title', 'title'],
  ['Maximum', 'maximum'],
  ['ExclusiveMaximum', 'exclusiveMaximum'],
  ['Minimum', 'minimum'],
  ['ExclusiveMinimum', 'exclusiveMinimum'],
  ['MaxLength', 'maxLength'],
  ['MinLength', 'minLength'],
  ['Pattern', 'pattern'],
  ['MaxItems', 'maxItems'],
  ['MinItems', 'minItems'],
  ['UniqueItems', 'uniqueItems'],
  ['MultipleOf', 'multipleOf'],
  ['Required', 'required'],
  ['Items', 'items'],
  ['Properties', 'properties'],
  ['ExternalDocs', 'externalDocs'],
  ['Example', 'example'],
  ['XPreserveUnknownFields', 'x-kubernetes-preserve-unknown-fields'],
  ['XValidations', 'x-kubernetes-validations'],
];
const allowedRootKeys = new Set<string>(allowedAtRoot.map(([, k]) => k));

function isZeroValue(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
}

/** validateCustomResourceDefinitionValidation for one schema (spec.validation or spec.versions[i].schema). */
function validateSchemaBlock(schema: JSONSchemaProps | undefined, statusEnabled: boolean, opts: Options, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!schema) return errs;
  const sp = p.child('openAPIV3Schema');
  if (statusEnabled) {
    if (schema.type !== undefined && schema.type !== '' && schema.type !== 'object') {
      errs.push(invalid(p.child('openAPIV3Schema.type'), schema.type, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled'));
    } else {
      for (const [k, v] of Object.entries(schema)) {
        if (isZeroValue(v) || allowedRootKeys.has(k)) continue;
        errs.push(invalid(sp, schema, `only [${allowedAtRoot.map(([g]) => g).join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled`));
        break;
      }
    }
  }
  if (schema.nullable) errs.push(forbiddenField(p.child('openAPIV3Schema.nullable'), 'nullable cannot be true at the root'));
  let celOk = false;
  const structural = validateStructural(schema, sp);
  if (structural.length > 0) errs.push(...structural);
  else {
    const defaultErrs = validateDefaults(schema, sp);
    errs.push(...defaultErrs);
    celOk = defaultErrs.length === 0;
  }
  const res = validateOpenAPISchema(schema, sp, { allowDefaults: true, insideResourceMeta: false }, true, opts, celOk, undefined);
  errs.push(...res.schema, ...res.cel);
  return errs;
}

// ---- defaults -------------------------------------------------------------------------------

/** structuraldefaulting.ValidateDefaults: each default validates against its schema and survives pruning. */
function validateDefaults(root: JSONSchemaProps, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  walkDefaults({ ...root, 'x-kubernetes-embedded-resource': true }, p, false, true, errs);
  return errs;
}

function walkDefaults(s: JSONSchemaProps, p: FieldPath, insideMeta: boolean, isRoot: boolean, errs: FieldError[]): void {
  const embedded = !!s['x-kubernetes-embedded-resource'];
  if (embedded) insideMeta = false;
  if (s.default !== undefined && s.default !== null) {
    const dp = p.child('default');
    const value = s.default;
    const local: FieldError[] = [];
    if (!insideMeta) {
      const pruned = structuredClone(value);
      prune(s, pruned, { isResourceRoot: embedded });
      if (!deepEqualJSON(pruned, value)) local.push(invalid(dp, value, 'must not have unknown fields'));
    }
    const metaErrs = validateEmbeddedResources(dp, value, s, embedded);
    if (metaErrs.length > 0) local.push(...metaErrs);
    else {
      const valueErrs = validateValue(s, value, dp);
      if (valueErrs.length > 0) local.push(...valueErrs);
      else local.push(...validateCEL(s, value, dp, { isResourceRoot: isRoot || embedded }));
    }
    errs.push(...local);
  }
  if (s.items && !Array.isArray(s.items)) walkDefaults(s.items, p.child('items'), insideMeta, false, errs);
  for (const k of Object.keys(s.properties ?? {}).sort()) {
    const sub = s.properties![k];
    walkDefaults(sub, p.child('properties').key(k), insideMeta || (embedded && metaFields.has(k)), false, errs);
  }
}

// ---- ValidateCustomResourceDefinitionOpenAPISchema ----------------------------------------------

interface SSV {
  allowDefaults: boolean;
  disallowDefaultsReason?: string;
  insideResourceMeta: boolean;
  /** The first ancestor whose old and new values cannot be correlated (oldSelf is forbidden below it). */
  uncorrelatable?: FieldPath;
}

interface SchemaErrors {
  schema: FieldError[];
  cel: FieldError[];
}

function ruleBadValue(r: ValidationRule): Record<string, unknown> {
  // The internal Go struct has no JSON tags: Kubernetes prints it with Go field names.
  return {
    Rule: r.rule ?? '',
    Message: r.message ?? '',
    MessageExpression: r.messageExpression ?? '',
    Reason: r.reason ?? null,
    FieldPath: r.fieldPath ?? '',
    OptionalOldSelf: r.optionalOldSelf ?? null,
  };
}

function standardValidate(s: JSONSchemaProps, p: FieldPath, v: SSV): FieldError[] {
  const errs: FieldError[] = [];
  if (s.type && !openapiV3Types.includes(s.type)) errs.push(notSupported(p.child('type'), s.type, openapiV3Types));
  if (s.default !== undefined && s.default !== null && !v.allowDefaults) {
    errs.push(forbiddenField(p.child('default'), `must not be set${v.disallowDefaultsReason ? ` ${v.disallowDefaultsReason}` : ''}`));
  }
  if (s.id) errs.push(forbiddenField(p.child('id'), 'id is not supported'));
  if (s.additionalItems !== undefined) errs.push(forbiddenField(p.child('additionalItems'), 'additionalItems is not supported'));
  if (s.patternProperties && Object.keys(s.patternProperties).length > 0) errs.push(forbiddenField(p.child('patternProperties'), 'patternProperties is not supported'));
  if (s.definitions && Object.keys(s.definitions).length > 0) errs.push(forbiddenField(p.child('definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined) errs.push(forbiddenField(p.child('dependencies'), 'dependencies is not supported'));
  if (s.$ref !== undefined) errs.push(forbiddenField(p.child('$ref'), '$ref is not supported'));
  if (s.type === 'null') errs.push(forbiddenField(p.child('type'), 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items) && s.items.length > 0) errs.push(forbiddenField(p.child('items'), 'items must be a schema object and not an array'));
  if (v.insideResourceMeta && s['x-kubernetes-embedded-resource']) errs.push(forbiddenField(p.child('x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
  return errs;
}

function validateOpenAPISchema(s: JSONSchemaProps | undefined, p: FieldPath, v: SSV, isRoot: boolean, opts: Options, celOk: boolean, celParentOk: boolean | undefined): SchemaErrors {
  const out: SchemaErrors = { schema: [], cel: [] };
  if (!s) return out;
  const add = (r: SchemaErrors): void => {
    out.schema.push(...r.schema);
    out.cel.push(...r.cel);
  };
  out.schema.push(...standardValidate(s, p, v));
  if (s.uniqueItems) out.schema.push(forbiddenField(p.child('uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  const props = s.properties ?? {};
  const hasProps = Object.keys(props).length > 0;
  if (s.additionalProperties !== undefined) {
    if (hasProps && (s.additionalProperties === false || typeof s.additionalProperties === 'object')) {
      out.schema.push(forbiddenField(p.child('additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    }
    const sub: SSV = v.insideResourceMeta ? { ...v, allowDefaults: false, disallowDefaultsReason: 'inside additionalProperties applying to object metadata' } : v;
    if (typeof s.additionalProperties === 'object') add(validateOpenAPISchema(s.additionalProperties, p.child('additionalProperties'), sub, false, opts, celOk, celParentOk));
  }
  for (const k of Object.keys(props).sort()) {
    let sub: SSV = v;
    const mapType = s['x-kubernetes-map-type'];
    if (mapType !== undefined && mapType !== 'granular' && mapType !== 'atomic' && !sub.uncorrelatable) sub = { ...sub, uncorrelatable: p };
    if ((isRoot || s['x-kubernetes-embedded-resource']) && metaFields.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    add(validateOpenAPISchema(props[k], p.child('properties').key(k), sub, false, opts, celOk, celParentOk));
  }
  if (s.not) add(validateOpenAPISchema(s.not, p.child('not'), v, false, opts, false, undefined));
  (s.allOf ?? []).forEach((x, i) => add(validateOpenAPISchema(x, p.child('allOf').index(i), v, false, opts, false, undefined)));
  (s.oneOf ?? []).forEach((x, i) => add(validateOpenAPISchema(x, p.child('oneOf').index(i), v, false, opts, false, undefined)));
  (s.anyOf ?? []).forEach((x, i) => add(validateOpenAPISchema(x, p.child('anyOf').index(i), v, false, opts, false, undefined)));
  if (s.items !== undefined) {
    const sub: SSV = s['x-kubernetes-list-type'] !== 'map' && !v.uncorrelatable ? { ...v, uncorrelatable: p } : v;
    if (Array.isArray(s.items)) s.items.forEach((x, i) => add(validateOpenAPISchema(x, p.child('items').index(i), sub, false, opts, celOk, celParentOk)));
    else add(validateOpenAPISchema(s.items, p.child('items'), sub, false, opts, celOk, celParentOk));
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) out.schema.push(invalid(p.child('x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined && s.type !== 'object') {
    if (!s.type) out.schema.push(required(p.child('type'), 'must be object if x-kubernetes-map-type is specified'));
    else out.schema.push(invalid(p.child('type'), s.type, 'must be object if x-kubernetes-map-type is specified'));
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') out.schema.push(notSupported(p.child('x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  const listType = s['x-kubernetes-list-type'];
  const items = s.items && !Array.isArray(s.items) ? s.items : undefined;
  if (listType !== undefined && s.type !== 'array') {
    if (!s.type) out.schema.push(required(p.child('type'), 'must be array if x-kubernetes-list-type is specified'));
    else out.schema.push(invalid(p.child('type'), s.type, 'must be array if x-kubernetes-list-type is specified'));
  } else if (listType === 'set' && items) {
    if (items.type === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic') {
      out.schema.push(invalid(p.child('items').child('x-kubernetes-list-type'), items['x-kubernetes-list-type'], 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
    if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      out.schema.push(invalid(p.child('items').child('x-kubernetes-map-type'), 'null', 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
  }
  if (listType !== undefined && listType !== 'atomic' && listType !== 'set' && listType !== 'map') out.schema.push(notSupported(p.child('x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  const mapKeys = s['x-kubernetes-list-map-keys'] ?? [];
  if (mapKeys.length > 0) {
    if (listType === undefined) out.schema.push(required(p.child('x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map') out.schema.push(invalid(p.child('x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (mapKeys.length === 0) out.schema.push(required(p.child('x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    if (s.items === undefined) out.schema.push(required(p.child('items'), 'must have a schema if x-kubernetes-list-type is map'));
    if (Array.isArray(s.items)) out.schema.push(invalid(p.child('items'), s.items, 'must only have a single schema if x-kubernetes-list-type is map'));
    if (items && items.type !== 'object') out.schema.push(invalid(p.child('items').child('type'), items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    if (items && items.type === 'object') {
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const ks = items.properties?.[k];
        if (ks) {
          if (ks.type === 'array' || ks.type === 'object') {
            out.schema.push(invalid(p.child('items').child('properties').key(k).child('type'), items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          }
        } else out.schema.push(invalid(p.child('x-kubernetes-list-map-keys'), mapKeys, 'entries must all be names of item properties'));
        if (seen.has(k)) out.schema.push(invalid(p.child('x-kubernetes-list-map-keys'), mapKeys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if (items && (listType === 'set' || listType === 'map')) {
    if (items.nullable) out.schema.push(forbiddenField(p.child('items').child('nullable'), `cannot be nullable when x-kubernetes-list-type is ${listType}`));
    if (listType === 'map') {
      const req = new Set(items.required ?? []);
      for (const k of mapKeys) {
        const ks = items.properties?.[k];
        if (!ks) continue;
        if (!req.has(k) && (ks.default === undefined || ks.default === null)) {
          out.schema.push(required(p.child('items').child('properties').key(k).child('default'), 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
        }
        if (ks.nullable) out.schema.push(forbiddenField(p.child('items').child('properties').key(k).child('nullable'), 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
      }
    }
  }
  const rules = s['x-kubernetes-validations'] ?? [];
  if (rules.length > 0) {
    const rp = (i: number): FieldPath => p.child('x-kubernetes-validations').index(i);
    rules.forEach((r, i) => {
      const rule = (r.rule ?? '').trim();
      const msg = (r.message ?? '').trim();
      if (rule.length === 0) out.schema.push(required(rp(i).child('rule'), 'rule is not specified'));
      else if ((r.message ?? '').length > 0 && msg.length === 0) out.schema.push(invalid(rp(i).child('message'), r.message, 'must be non-empty if specified'));
      else if (/[\n\r]/.test(msg)) out.schema.push(invalid(rp(i).child('message'), r.message, 'must not contain line breaks'));
      else if (/[\n\r]/.test(rule) && msg.length === 0) out.schema.push(required(rp(i).child('message'), 'message must be specified if rule contains line breaks'));
      if ((r.messageExpression ?? '').length > 0 && r.messageExpression!.trim().length === 0) {
        out.schema.push(required(rp(i).child('messageExpression'), 'messageExpression must be non-empty if specified'));
      }
      if (r.reason !== undefined && !supportedValidationReasons.includes(r.reason)) out.schema.push(notSupported(rp(i).child('reason'), r.reason, supportedValidationReasons));
      const fp = r.fieldPath ?? '';
      if (fp.length > 0 && fp.trim().length === 0) out.schema.push(invalid(rp(i).child('fieldPath'), fp, 'must be non-empty if specified'));
      if (/[\n\r]/.test(fp)) out.schema.push(invalid(rp(i).child('fieldPath'), fp, 'must not contain line breaks'));
      if (fp.length > 0 && typeof resolveRulePath(fp, s) === 'string') out.schema.push(invalid(rp(i).child('fieldPath'), fp, 'must be a valid path'));
    });
    if (out.schema.length === 0 && celOk) {
      const compiled = compileRules(s, isRoot);
      compiled.forEach((c, i) => {
        if (c.error && !opts.preexistingRules?.has(c.rule.rule)) {
          out.cel.push(invalid(rp(i).child('rule'), ruleBadValue(c.rule), c.error));
        }
        if (c.messageExpressionError) out.cel.push(invalid(rp(i).child('messageExpression'), ruleBadValue(c.rule), c.messageExpressionError));
        if (c.usesOldSelf) {
          if (v.uncorrelatable) out.cel.push(invalid(rp(i).child('rule'), c.rule.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${v.uncorrelatable}`));
        } else if (c.rule.optionalOldSelf !== undefined) {
          out.cel.push(invalid(rp(i).child('optionalOldSelf'), c.rule.optionalOldSelf, 'may not be set if oldSelf is not used in rule'));
        }
      });
    }
  }
  void celParentOk;
  return out;
}

/** cel.ValidFieldPath for a rule's fieldPath (array-index notation for map keys allowed). */
function resolveRulePath(fp: string, s: JSONSchemaProps): JSONSchemaProps | string | undefined {
  const norm = normalizeRuleFieldPath(fp);
  if (norm === undefined) return 'invalid';
  let cur: JSONSchemaProps | undefined = s;
  const parts = norm.match(/[^.[\]]+|\[[^\]]*\]/g) ?? [];
  for (const part of parts) {
    if (part.startsWith('[')) {
      cur = cur?.additionalProperties && typeof cur.additionalProperties === 'object' ? cur.additionalProperties : cur?.properties?.[part.slice(1, -1)];
    } else cur = cur?.properties?.[part];
    if (!cur) return 'does not refer to a valid field';
  }
  return cur;
}

function validateAPIApproval(crd: CustomResourceDefinition, old: CustomResourceDefinition | undefined): FieldError[] {
  const group = crd.spec.group ?? '';
  const protectedGroup = group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
  if (!protectedGroup) return [];
  const state = (annotations: Record<string, string> | undefined): 'missing' | 'bypassed' | 'approved' | 'invalid' => {
    const a = annotations?.[KUBE_API_APPROVED_ANNOTATION] ?? '';
    if (a.length === 0) return 'missing';
    if (a.startsWith('unapproved')) return 'bypassed';
    try {
      const u = new URL(a);
      if (u.host && u.protocol) return 'approved';
    } catch {
      // not a URL
    }
    return 'invalid';
  };
  const now = state(crd.metadata?.annotations);
  if (old && state(old.metadata?.annotations) === now) return [];
  const p = new FieldPath('metadata').child('annotations').key(KUBE_API_APPROVED_ANNOTATION);
  if (now === 'missing') return [required(p, `protected groups must have approval annotation "${KUBE_API_APPROVED_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`)];
  if (now === 'invalid') {
    return [
      invalid(
        p,
        crd.metadata.annotations?.[KUBE_API_APPROVED_ANNOTATION] ?? '',
        `protected groups must have approval annotation "${KUBE_API_APPROVED_ANNOTATION}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
      ),
    ];
  }
  return [];
}

function validatePreserveUnknownFields(crd: CustomResourceDefinition, old: CustomResourceDefinition | undefined): FieldError[] {
  if (old?.spec.preserveUnknownFields === true) return [];
  if (crd.spec.preserveUnknownFields === true) {
    return [invalid(new FieldPath('spec').child('preserveUnknownFields'), true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead')];
  }
  return [];
}
