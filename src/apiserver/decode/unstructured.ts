// What kube-apiserver says when a patched document does not fit the kind's Go types, and the Go
// formatting its messages embed:
// - a strategic merge patch is applied to maps and the result is converted with
//   runtime.DefaultUnstructuredConverter, whose first error is the message ("cannot restore map from
//   string", "cannot restore slice from map", "cannot restore struct from: string", "unrecognized type:
//   int32", "cannot convert int64 to string"); the patch itself is quoted as Go prints a map (%+v);
// - a JSON or merge patch yields JSON that is decoded as a body (encoding/json's "cannot unmarshal"
//   message, from decode/fields.ts); the patched JSON is quoted as encoding/json marshals it.
// Both end in a 422 Invalid on the field "patch" of an unnamed, kindless object (patch.go's
// errors.NewInvalid(schema.GroupKind{}, "", ...)).
//
// Pure and synchronous; safe to call concurrently.

import { getModel, modelNameForKind, type FieldType } from '../../api/models.ts';
import { StatusError } from '../../util/status.ts';
import { goQuote } from '../../api/goquote.ts';

export { goQuote };

const quantityError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const quantityPattern = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The 422 kube-apiserver answers when the patched object cannot be decoded: `value` is the Go-quoted patch or patched JSON. */
export function patchInvalid(value: string, detail: string): StatusError {
  const body = `Invalid value: ${goQuote(value)}: ${detail}`;
  return new StatusError(422, 'Invalid', ` "" is invalid: patch: ${body}`, { causes: [{ reason: 'FieldValueInvalid', message: body, field: 'patch' }] });
}

/**
 * The first error DefaultUnstructuredConverter.FromUnstructured reports converting `obj` into the
 * kind's Go type, in its field order; undefined when it converts (or the kind has no model).
 */
export function conversionError(group: string, version: string, kind: string, obj: Record<string, unknown>): string | undefined {
  const model = modelNameForKind(group, version, kind);
  return model ? structError(model, obj) : undefined;
}

/** Go's reflect.Kind of a decoded JSON value (integers decode as int64, other numbers as float64). */
function goKind(v: unknown): string {
  if (Array.isArray(v)) return 'slice';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int64' : 'float64';
    default:
      return 'map';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function structError(model: string, obj: Record<string, unknown>): string | undefined {
  const m = getModel(model);
  if (!m) return undefined;
  for (const [name, f] of m.fields) {
    const v = obj[name];
    if (v === undefined || v === null) continue;
    const err = valueError(v, f.type);
    if (err) return err;
  }
  return undefined;
}

function valueError(v: unknown, t: FieldType): string | undefined {
  switch (t.kind) {
    case 'object':
      if (!isObject(v)) return `cannot restore struct from: ${goKind(v)}`;
      return structError(t.model ?? '', v);
    case 'array':
      if (!Array.isArray(v)) return `cannot restore slice from ${goKind(v)}`;
      for (const item of v) {
        const err = item === null || !t.elem ? undefined : valueError(item, t.elem);
        if (err) return err;
      }
      return undefined;
    case 'map':
      if (!isObject(v)) return `cannot restore map from ${goKind(v)}`;
      for (const item of Object.values(v)) {
        const err = item === null || !t.elem ? undefined : valueError(item, t.elem);
        if (err) return err;
      }
      return undefined;
    case 'scalar':
      return scalarError(v, t);
  }
}

// Simple kinds: assignable, or convertible within one of JSON's groups (integers and floats mix,
// strings and bools do not); types with their own UnmarshalJSON (Quantity, IntOrString, Time) parse
// the value's JSON and fail in their own words.
function scalarError(v: unknown, t: FieldType): string | undefined {
  const k = goKind(v);
  switch (t.scalar) {
    case 'string':
      if (t.format === 'byte') {
        if (typeof v !== 'string') return `cannot restore slice from ${k}`;
        return undefined;
      }
      if (k === 'string') return undefined;
      // int64 converts to string in Go (as a rune), which the converter refuses by name.
      return k === 'int64' ? 'cannot convert int64 to string' : 'unrecognized type: string';
    case 'boolean':
      return k === 'bool' ? undefined : 'unrecognized type: bool';
    case 'integer': {
      const goType = t.format === 'int32' ? 'int32' : 'int64';
      if (k === 'int64') return undefined;
      return k === 'float64' ? `cannot convert float64 to ${goType}` : `unrecognized type: ${goType}`;
    }
    case 'number':
      return k === 'int64' || k === 'float64' ? undefined : 'unrecognized type: float64';
    case 'int-or-string':
      if (k === 'string') return undefined;
      if (k === 'int64' && Math.abs(v as number) < 2 ** 31) return undefined;
      return `json: cannot unmarshal ${k === 'int64' || k === 'float64' ? `number ${String(v)}` : jsonType(v)} into Go value of type int32`;
    case 'quantity': {
      const s = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : JSON.stringify(v);
      return quantityPattern.test(s) ? undefined : quantityError;
    }
    case 'date-time':
      if (typeof v !== 'string') return `json: cannot unmarshal ${jsonType(v)} into Go value of type string`;
      return rfc3339.test(v) ? undefined : `parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as "2006"`;
    default:
      return undefined;
  }
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'object';
}

/** Go's fmt %+v of a decoded JSON value: `map[a:1 b:[x y]]`, keys sorted, strings unquoted, null as <nil>. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goFormat(o[k])}`).join(' ')}]`;
  }
  if (typeof v === 'number') return goFloat(v);
  return String(v);
}

// %v of an int64 is its digits; of a float64, strconv's 'g' with the shortest representation
// (exponent when it is < -4 or >= 21, as Go prints e.g. 1e+21).
function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const exp = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [mant, e] = n.toExponential().split('e');
    const ev = Number(e);
    return `${mant}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  return String(n);
}

/** encoding/json's Marshal of a decoded JSON value: keys sorted, <, >, &, U+2028 and U+2029 escaped. */
export function goJSON(v: unknown): string {
  return JSON.stringify(sortKeys(v)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

