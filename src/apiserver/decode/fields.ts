// Field validation of a decoded body against the model catalogue, matching what the apiserver's
// decoder reports:
// - type errors (a string where an int32 belongs) are always fatal: 400 `Pod in version "v1" cannot
//   be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.
//   containers.ports.containerPort of type int32` (Go's json error: the parent struct's name, then
//   the field path without list indexes; only the first error is reported, as Go does);
// - unknown and duplicate fields are handled per `fieldValidation`: Strict fails with 400 `... strict
//   decoding error: unknown field "spec.containers[0].livenessProbe.initialDeleySeconds"` (paths
//   with list indexes, problems joined by ", "), Warn returns them as warnings, Ignore drops them.
//
// Called by the REST handlers on create/update bodies (and by patch on the patched result).
// Pure and synchronous; safe to call concurrently.

import { getModel, modelNameForKind, shortName, type FieldType } from '../../api/models.ts';
import { badRequest } from '../../util/status.ts';

export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface FieldCheck {
  /** Paths of fields the schema does not have, e.g. `spec.containers[0].livenessProbe.initialDeleySeconds`. */
  unknown: string[];
  /** Go-json-style type error messages, in document order (the apiserver reports the first). */
  typeErrors: string[];
}

// The apiserver's quantity parse error (resource.ErrFormatWrong).
const quantityError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const quantityPattern = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Walks `obj` against the schema of the kind. Unknown kinds yield no findings (nothing to check against). */
export function checkFields(group: string, version: string, kind: string, obj: unknown): FieldCheck {
  const out: FieldCheck = { unknown: [], typeErrors: [] };
  const model = modelNameForKind(group, version, kind);
  if (!model) return out;
  if (obj === null) return out;
  if (!isObject(obj)) {
    out.typeErrors.push(`json: cannot unmarshal ${jsonKind(obj)} into Go value of type ${goPackage(model)}.${shortName(model)}`);
    return out;
  }
  walkModel(model, obj, '', '', out);
  return out;
}

/**
 * The check of a custom resource's metadata, which is ObjectMeta whatever the CRD's schema says: a
 * metadata that is not an object, or ObjectMeta fields of the wrong type, are type errors (unknown
 * metadata fields are reported too).
 */
export function checkObjectMeta(meta: unknown): FieldCheck {
  const out: FieldCheck = { unknown: [], typeErrors: [] };
  if (meta === undefined || meta === null) return out;
  if (!isObject(meta)) {
    out.typeErrors.push(`.metadata accessor error: ${String(JSON.stringify(meta))} is of the type ${jsonKind(meta) === 'number' ? 'int64' : jsonKind(meta)}, expected map[string]interface{}`);
    return out;
  }
  walkModel('V1ObjectMeta', meta, 'metadata', 'ObjectMeta', out);
  return out;
}

/** Paths of fields not in the kind's schema, in the apiserver's form. */
export function unknownFields(group: string, version: string, kind: string, obj: unknown): string[] {
  return checkFields(group, version, kind, obj).unknown;
}

/** Go-json-style type errors, in document order. */
export function typeErrors(group: string, version: string, kind: string, obj: unknown): string[] {
  return checkFields(group, version, kind, obj).typeErrors;
}

/** The strict-decoding problem texts for unknown and duplicate field paths. */
export function fieldProblems(unknown: readonly string[], duplicates: readonly string[] = []): string[] {
  return [...duplicates.map((p) => `duplicate field ${JSON.stringify(p)}`), ...unknown.map((p) => `unknown field ${JSON.stringify(p)}`)];
}

/**
 * Applies a fieldValidation mode to strict-decoding problems (`unknown field "x"`, `duplicate field
 * "y"`): Strict throws 400 BadRequest, Warn returns them as warnings (for `Warning: 299 - "..."`
 * headers), Ignore returns nothing.
 */
export function applyFieldValidation(mode: FieldValidationMode, problems: readonly string[], gvk: GroupVersionKind): { warnings: string[] } {
  if (problems.length === 0 || mode === 'Ignore') return { warnings: [] };
  if (mode === 'Warn') return { warnings: [...problems] };
  throw badRequest(`${cannotHandle(gvk)}: strict decoding error: ${problems.join(', ')}`);
}

/** Throws the 400 the apiserver answers for a body whose values do not fit their fields' types. */
export function rejectTypeErrors(errors: readonly string[], gvk: GroupVersionKind): void {
  if (errors.length > 0) throw badRequest(`${cannotHandle(gvk)}: ${errors[0]}`);
}

/**
 * The whole check for a decoded body: type errors always fail; unknown and duplicate fields follow
 * `mode`. Returns the warnings to send. `mode` defaults to Strict only when the caller passes it so;
 * the REST layer decides (kubectl sends Strict; requests without the parameter get Warn upstream).
 */
export function validateFields(gvk: GroupVersionKind, obj: unknown, mode: FieldValidationMode, duplicates: readonly string[] = []): { warnings: string[] } {
  const check = checkFields(gvk.group, gvk.version, gvk.kind, obj);
  rejectTypeErrors(check.typeErrors, gvk);
  return applyFieldValidation(mode, fieldProblems(check.unknown, duplicates), gvk);
}

/** Parses the `fieldValidation` query parameter; absent means Warn (the apiserver's default). */
export function parseFieldValidation(value: string | null | undefined): FieldValidationMode {
  if (value === null || value === undefined || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(value)}`);
}

function cannotHandle(gvk: GroupVersionKind): string {
  return `${gvk.kind} in version ${JSON.stringify(gvk.version)} cannot be handled as a ${gvk.kind}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's json name for the kind of a JSON value. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}

// Go package alias of a model: every package we serve is versioned `v1`-style, so the Go type
// prints as `v1.PodSpec`, `v1.ObjectMeta`.
function goPackage(model: string): string {
  const m = /V\d+(?:alpha\d+|beta\d+)?(?=[A-Z])/.exec(model);
  return m ? m[0].toLowerCase() : 'v1';
}

function goType(t: FieldType): string {
  switch (t.kind) {
    case 'array':
      return `[]${t.elem ? goType(t.elem) : 'interface {}'}`;
    case 'map':
      return `map[string]${t.elem ? goType(t.elem) : 'interface {}'}`;
    case 'object':
      return `${goPackage(t.model ?? '')}.${shortName(t.model ?? '')}`;
    case 'scalar':
      break;
  }
  switch (t.scalar) {
    case 'string':
      return t.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return t.format === 'int32' ? 'int32' : 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'date-time':
      return 'v1.Time';
    case 'int-or-string':
      return 'intstr.IntOrString';
    case 'quantity':
      return 'resource.Quantity';
    default:
      return 'interface {}';
  }
}

interface Where {
  /** Go struct that declares the field (`ContainerPort`). */
  struct: string;
  /** Dotted path without indexes (`spec.containers.ports.containerPort`). */
  goPath: string;
  /** Path with list indexes (`spec.containers[0].ports[0].containerPort`). */
  path: string;
}

function mismatch(v: unknown, t: FieldType, w: Where, out: FieldCheck, asInteger = false): void {
  let what = jsonKind(v);
  if (asInteger && typeof v === 'number') what = `number ${String(v)}`;
  out.typeErrors.push(`json: cannot unmarshal ${what} into Go struct field ${w.struct}.${w.goPath} of type ${goType(t)}`);
}

function walkModel(model: string, obj: Record<string, unknown>, path: string, goPath: string, out: FieldCheck): void {
  const m = getModel(model);
  if (!m) return;
  const struct = shortName(model);
  for (const key of Object.keys(obj)) {
    const p = path ? `${path}.${key}` : key;
    const f = m.fields.get(key);
    if (!f) {
      out.unknown.push(p);
      continue;
    }
    walkValue(obj[key], f.type, { struct, goPath: goPath ? `${goPath}.${key}` : key, path: p }, out);
  }
}

function walkValue(v: unknown, t: FieldType, w: Where, out: FieldCheck): void {
  // Go's decoder leaves null fields at their zero value, whatever their type.
  if (v === null) return;
  switch (t.kind) {
    case 'object':
      if (!isObject(v)) return mismatch(v, t, w, out);
      return walkModel(t.model ?? '', v, w.path, w.goPath, out);
    case 'array':
      if (!Array.isArray(v)) return mismatch(v, t, w, out);
      if (t.elem) v.forEach((item, i) => walkValue(item, t.elem as FieldType, { ...w, path: `${w.path}[${i}]` }, out));
      return;
    case 'map':
      if (!isObject(v)) return mismatch(v, t, w, out);
      if (t.elem) for (const k of Object.keys(v)) walkValue(v[k], t.elem, { ...w, goPath: `${w.goPath}.${k}`, path: `${w.path}.${k}` }, out);
      return;
    case 'scalar':
      return walkScalar(v, t, w, out);
  }
}

function walkScalar(v: unknown, t: FieldType, w: Where, out: FieldCheck): void {
  switch (t.scalar) {
    case 'string':
      if (typeof v !== 'string') return mismatch(v, t, w, out);
      if (t.format === 'byte' && !isBase64(v)) out.typeErrors.push(`illegal base64 data at input byte ${base64ErrorOffset(v)}`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') mismatch(v, t, w, out);
      return;
    case 'number':
      if (typeof v !== 'number') mismatch(v, t, w, out);
      return;
    case 'integer': {
      if (typeof v !== 'number') return mismatch(v, t, w, out);
      const max = t.format === 'int32' ? 2 ** 31 : 2 ** 63;
      if (!Number.isInteger(v) || v >= max || v < -max) mismatch(v, t, w, out, true);
      return;
    }
    case 'int-or-string':
      // IntOrString decodes a non-string as an int32 (its own UnmarshalJSON).
      if (typeof v === 'string') return;
      if (typeof v !== 'number') return mismatch(v, { kind: 'scalar', scalar: 'integer', format: 'int32' }, w, out);
      if (!Number.isInteger(v) || v >= 2 ** 31 || v < -(2 ** 31)) mismatch(v, { kind: 'scalar', scalar: 'integer', format: 'int32' }, w, out, true);
      return;
    case 'quantity': {
      // Quantity parses the raw JSON token (quotes stripped), so numbers are fine and anything
      // that does not look like a quantity fails with the parser's message.
      const s = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : JSON.stringify(v);
      if (!quantityPattern.test(s)) out.typeErrors.push(quantityError);
      return;
    }
    case 'date-time':
      if (typeof v !== 'string') return mismatch(v, { kind: 'scalar', scalar: 'string' }, w, out);
      if (!rfc3339.test(v)) out.typeErrors.push(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as "2006"`);
      return;
    default:
      return;
  }
}

function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}

function base64ErrorOffset(s: string): number {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = s.indexOf('=');
  if (pad >= 0 && pad < s.length - 2) return pad;
  return s.length - (s.length % 4 || 4);
}
