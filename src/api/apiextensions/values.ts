// Validation of a custom resource (or a schema default) against its OpenAPI v3 schema, as
// kube-apiserver does it: kube-openapi's validate.SchemaValidator (pkg/validation/validate) run
// with strfmt.Default, its errors turned into field errors by apiextensions-apiserver's
// kubeOpenAPIResultToFieldErrors (pkg/apiserver/validation/validation.go). Messages keep
// kube-openapi's wording ("spec.replicas in body must be of type integer: \"string\""), including
// its quirks: a schema-level error with no property name renders the field as "<nil>", and the
// number checks compare an integral value against a truncated integral bound.
//
// `name` below is kube-openapi's own path string (root "", "spec.replicas", "spec.items[0]"); the
// field error's path is the caller's prefix plus that name, as Kubernetes builds it.

import { FieldPath, notSupported, required, type FieldError } from '../field.ts';
import { isSupportedFormat, stringFormatChecker } from './formats.ts';
import type { JSONSchemaProps } from './types.ts';

export interface ValidateValueOptions {
  /**
   * The stored object on an update. Kubernetes' validation ratcheting (CRDValidationRatcheting, on
   * by default since 1.30) drops schema errors of values left unchanged since that object.
   */
  old?: unknown;
}

/**
 * Validates `value` against `schema` as kube-apiserver validates a custom resource. `fldPath` is
 * the prefix of every error's field (none for a custom resource; the `default` path for a schema
 * default), as ValidateCustomResource's fldPath.
 */
export function validateValue(schema: JSONSchemaProps | undefined, value: unknown, fldPath?: FieldPath, opts: ValidateValueOptions = {}): FieldError[] {
  if (!schema) return [];
  const ctx: Ctx = { fld: fldPath, ratchet: 'old' in opts };
  const out: FieldError[] = [];
  validateNode(schema, value, '', ctx, out, ctx.ratchet ? { old: opts.old } : undefined);
  return out;
}

interface Ctx {
  fld: FieldPath | undefined;
  ratchet: boolean;
}

/** The old value correlated with the node being validated, when there is one. */
type Old = { old: unknown } | undefined;

const IN = 'body';

function fieldOf(ctx: Ctx, name: string): string {
  const n = name.startsWith('.') ? name.slice(1) : name;
  if (n === '') return ctx.fld ? String(ctx.fld) : '<nil>';
  return ctx.fld ? String(ctx.fld.child(n)) : n;
}

/** Errors kube-openapi returns as plain errors (not *errors.Validation) land on the validator's root path. */
function rootField(ctx: Ctx): string {
  return ctx.fld ? String(ctx.fld) : '<nil>';
}

function typeInvalid(ctx: Ctx, name: string, badValue: unknown, detail: string): FieldError {
  return { type: 'FieldValueTypeInvalid', field: fieldOf(ctx, name), badValue, detail };
}

function invalidAt(ctx: Ctx, name: string, badValue: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: fieldOf(ctx, name), badValue, detail };
}

function plainError(ctx: Ctx, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: rootField(ctx), badValue: '', detail };
}

/** Go's %v of a float64: shortest form, exponent from 1e21 up and below 1e-4, two-digit exponent. */
export function goFloat(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v);
  const s = String(v);
  const m = /^(-?[0-9.]+)e([+-])(\d+)$/.exec(s);
  if (m) return `${m[1]}e${m[2]}${m[3].padStart(2, '0')}`;
  if (Math.abs(v) < 1e-4 && v !== 0) {
    const e = v.toExponential();
    const em = /^(-?[0-9.]+)e([+-])(\d+)$/.exec(e);
    if (em) return `${em[1]}e${em[2]}${em[3].padStart(2, '0')}`;
  }
  return s;
}

function schemaTypes(s: JSONSchemaProps): string[] {
  if (s['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return s.type ? [s.type] : [];
}

/** The format kube-apiserver keeps after StripUnsupportedFormatsPostProcess. */
function effectiveFormat(s: JSONSchemaProps, types: string[]): string {
  if (!s.format) return '';
  const t = types.length === 1 ? types[0] : '';
  return isSupportedFormat(t, s.format) ? s.format : '';
}

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'null';

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || typeof v === 'bigint') return Number.isInteger(Number(v)) ? 'integer' : 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

export function deepEqualJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqualJSON(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) if (!(k in bo) || !deepEqualJSON(ao[k], bo[k])) return false;
  return true;
}

function validateNode(s: JSONSchemaProps, data: unknown, name: string, ctx: Ctx, out: FieldError[], old: Old): void {
  // Ratcheting: an unchanged value keeps whatever it was accepted with.
  if (old && deepEqualJSON(data, old.old)) return;
  const types = schemaTypes(s);
  const format = effectiveFormat(s, types);
  const kind = kindOf(data);
  if (kind === 'null') {
    if (types.length > 0 && !s.nullable) out.push(typeInvalid(ctx, name, 'null', `${name} in ${IN} must be of type ${types.join(',')}: "null"`));
    if (s.enum && s.enum.length > 0) out.push(enumError(ctx, name, null, s.enum));
    return;
  }
  if (types.length > 0 || format) validateType(types, format, data, kind, name, ctx, out);
  if (s.allOf || s.anyOf || s.oneOf || s.not) validateComposition(s, data, name, ctx, out);
  if (kind === 'string') validateString(s, data as string, name, ctx, out, format);
  if (kind === 'integer' || kind === 'number') validateNumber(s, types, Number(data), kind, name, ctx, out);
  if (kind === 'array') validateArray(s, data as unknown[], name, ctx, out, old);
  if (s.enum && s.enum.length > 0 && !s.enum.some((e) => deepEqualJSON(e, data))) out.push(enumError(ctx, name, data, s.enum));
  if (kind === 'object') validateObject(s, data as Record<string, unknown>, name, ctx, out, old);
}

function enumError(ctx: Ctx, name: string, data: unknown, values: unknown[]): FieldError {
  const shown = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return { ...notSupported(new FieldPath(fieldOf(ctx, name)), data === null ? 'null' : data, shown) };
}

function validateType(types: string[], format: string, data: unknown, kind: Kind, name: string, ctx: Ctx, out: FieldError[]): void {
  const schType = kind;
  // kube-openapi's schemaInfoForType: JSON integers decode as int64, others as float64.
  // (so the int32/float32 "lower format" allowances of kube-openapi never arise here).
  const dataFormat = kind === 'integer' ? 'int64' : kind === 'number' ? 'float64' : '';
  const isIntFloat = schType === 'integer' && types.includes('number');
  if (kind !== 'string' && kind !== 'array' && format !== '' && !(types.includes(schType) || dataFormat === format || isIntFloat)) {
    out.push(typeInvalid(ctx, name, dataFormat, `${name} in ${IN} must be of type ${format}: ${JSON.stringify(dataFormat)}`));
    return;
  }
  if (!(types.includes('number') || types.includes('integer')) && format !== '' && (kind === 'string' || kind === 'array')) return;
  if (!(types.includes(schType) || isIntFloat)) {
    out.push(typeInvalid(ctx, name, schType, `${name} in ${IN} must be of type ${types.join(',')}: ${JSON.stringify(schType)}`));
  }
  void data;
}

/** allOf, anyOf, oneOf and not, as kube-openapi's schemaPropsValidator reports them. */
function validateComposition(s: JSONSchemaProps, data: unknown, name: string, ctx: Ctx, out: FieldError[]): void {
  const run = (sub: JSONSchemaProps): FieldError[] => {
    const r: FieldError[] = [];
    validateNode(sub, data, name, ctx, r, undefined);
    return r;
  };
  if (s.anyOf && s.anyOf.length > 0) {
    let best: FieldError[] | undefined;
    let ok = false;
    for (const sub of s.anyOf) {
      const r = run(sub);
      if (r.length === 0) {
        ok = true;
        best = undefined;
        break;
      }
      if (!best) best = r;
    }
    if (!ok) out.push(plainError(ctx, `${JSON.stringify(name)} must validate at least one schema (anyOf)`));
    if (best) out.push(...best);
  }
  if (s.oneOf && s.oneOf.length > 0) {
    let best: FieldError[] | undefined;
    let validated = 0;
    for (const sub of s.oneOf) {
      const r = run(sub);
      if (r.length === 0) {
        validated++;
        best = undefined;
        continue;
      }
      if (validated === 0 && !best) best = r;
    }
    if (validated !== 1) {
      const more = validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`;
      out.push(plainError(ctx, `${JSON.stringify(name)} must validate one and only one schema (oneOf). ${more}`));
      if (best) out.push(...best);
    }
  }
  if (s.allOf && s.allOf.length > 0) {
    let validated = 0;
    for (const sub of s.allOf) {
      const r = run(sub);
      if (r.length === 0) validated++;
      out.push(...r);
    }
    if (validated !== s.allOf.length) {
      out.push(plainError(ctx, `${JSON.stringify(name)} must validate all the schemas (allOf)${validated === 0 ? '. None validated' : ''}`));
    }
  }
  if (s.not && run(s.not).length === 0) out.push(plainError(ctx, `${JSON.stringify(name)} must not validate the schema (not)`));
}

const regexCache = new Map<string, RegExp | Error>();

/**
 * A schema pattern as a JS RegExp. Go's RE2 syntax is close to JS's with the 'u' flag; RE2's
 * leading inline flags ("(?i)", "(?s)", "(?m)") become RegExp flags.
 */
export function compilePattern(pattern: string): RegExp | Error {
  const hit = regexCache.get(pattern);
  if (hit) return hit;
  let src = pattern;
  let flags = 'u';
  const inline = /^\(\?([ims]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]) if (!flags.includes(f)) flags += f;
  }
  let re: RegExp | Error;
  try {
    re = new RegExp(src, flags);
  } catch (e) {
    re = e instanceof Error ? e : new Error(String(e));
  }
  if (regexCache.size > 10_000) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

function validateString(s: JSONSchemaProps, data: string, name: string, ctx: Ctx, out: FieldError[], format: string): void {
  // The string checks stop at the first failure, as kube-openapi's stringValidator does.
  const len = s.maxLength !== undefined || s.minLength !== undefined ? [...data].length : 0;
  if (s.maxLength !== undefined && len > s.maxLength) {
    out.push({ type: 'FieldValueTooLong', field: fieldOf(ctx, name), badValue: '<value omitted>', detail: `may not be more than ${s.maxLength} bytes` });
  } else if (s.minLength !== undefined && len < s.minLength) {
    out.push(invalidAt(ctx, name, data, `${name} in ${IN} should be at least ${s.minLength} chars long`));
  } else if (s.pattern) {
    const re = compilePattern(s.pattern);
    if (re instanceof Error) out.push(invalidAt(ctx, name, data, `${name} in ${IN} should match '${s.pattern}, but pattern is invalid: ${re.message}'`));
    else if (!re.test(data)) out.push(invalidAt(ctx, name, data, `${name} in ${IN} should match '${s.pattern}'`));
  }
  if (format) {
    const check = stringFormatChecker(s.type, format);
    if (check && !check(data)) out.push(typeInvalid(ctx, name, data, `${name} in ${IN} must be of type ${format}: ${JSON.stringify(data)}`));
  }
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const FLOAT32_MAX = 3.4028234663852886e38;

/** kube-openapi's IsValueValidAgainstRange: the value (or bound) must fit the schema's type and format. */
function rangeError(v: number, isInt: boolean, typeName: string, format: string, prefix: string, name: string): string | undefined {
  if (typeName === '') return undefined;
  let ok = true;
  if (typeName === 'integer') {
    if (!isInt && !Number.isInteger(v)) ok = false;
    else if (format === 'int32') ok = v >= INT32_MIN && v <= INT32_MAX;
    else ok = Number.isSafeInteger(v) || Math.abs(v) < 9.223372036854776e18;
  } else if (format === 'float') {
    ok = Math.abs(v) <= FLOAT32_MAX;
  }
  if (ok) return undefined;
  return format ? `${prefix} value must be of type ${typeName} with format ${format} in ${name}` : `${prefix} value must be of type ${typeName} (default format) in ${name}`;
}

function validateNumber(s: JSONSchemaProps, types: string[], v: number, kind: Kind, name: string, ctx: Ctx, out: FieldError[]): void {
  let typeName = '';
  let format = '';
  if (types.length === 1 && types[0] === 'integer') {
    typeName = 'integer';
    if (s.format === 'int32' || s.format === 'int64') format = s.format;
  } else if (types.length === 1 && types[0] === 'number') {
    typeName = 'number';
    if (s.format === 'float' || s.format === 'double') format = s.format;
  }
  const isInt = kind === 'integer';
  const checked = rangeError(v, isInt, typeName, format, 'Checked', name);
  if (checked) out.push(plainError(ctx, checked));
  const res: FieldError[] = [];
  if (s.multipleOf !== undefined) {
    const bad = rangeError(s.multipleOf, Number.isInteger(s.multipleOf), typeName, format, 'MultipleOf', name);
    if (bad) res.push(plainError(ctx, bad));
    if (!bad && isInt) {
      const factor = Math.trunc(s.multipleOf);
      if (factor <= 0) res.push(invalidAt(ctx, name, factor, `factor MultipleOf declared for ${name} must be positive: ${factor}`));
      else if (v % factor !== 0) res.push(invalidAt(ctx, name, v, `${name} in ${IN} should be a multiple of ${factor}`));
    } else {
      const factor = s.multipleOf;
      if (factor <= 0) res.push(invalidAt(ctx, name, factor, `factor MultipleOf declared for ${name} must be positive: ${goFloat(factor)}`));
      else {
        const mult = factor < 1 ? (1 / factor) * v : v / factor;
        if (!Number.isInteger(mult)) res.push(invalidAt(ctx, name, v, `${name} in ${IN} should be a multiple of ${goFloat(factor)}`));
      }
    }
  }
  if (s.minimum !== undefined) {
    const bad = rangeError(s.minimum, Number.isInteger(s.minimum), typeName, format, 'Minimum boundary', name);
    if (bad) res.push(plainError(ctx, bad));
    const excl = !!s.exclusiveMinimum;
    const min = !bad && isInt ? Math.trunc(s.minimum) : s.minimum;
    if ((!excl && v < min) || (excl && v <= min)) {
      res.push(invalidAt(ctx, name, v, `${name} in ${IN} should be greater than ${excl ? '' : 'or equal to '}${goFloat(min)}`));
    }
  }
  if (s.maximum !== undefined) {
    const bad = rangeError(s.maximum, Number.isInteger(s.maximum), typeName, format, 'Maximum boundary', name);
    if (bad) res.push(plainError(ctx, bad));
    const excl = !!s.exclusiveMaximum;
    const max = !bad && isInt ? Math.trunc(s.maximum) : s.maximum;
    if ((!excl && v > max) || (excl && v >= max)) {
      res.push(invalidAt(ctx, name, v, `${name} in ${IN} should be less than ${excl ? '' : 'or equal to '}${goFloat(max)}`));
    }
  }
  out.push(...res);
}

function itemSchema(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return s.items && !Array.isArray(s.items) ? s.items : undefined;
}

function validateArray(s: JSONSchemaProps, data: unknown[], name: string, ctx: Ctx, out: FieldError[], old: Old): void {
  const items = itemSchema(s);
  if (items) {
    const correlate = old ? oldItemFinder(s, old.old) : undefined;
    for (let i = 0; i < data.length; i++) {
      validateNode(items, data[i], `${name}[${i}]`, ctx, out, correlate ? correlate(data[i]) : undefined);
    }
  } else if (Array.isArray(s.items)) {
    s.items.forEach((sub, i) => {
      if (i < data.length) validateNode(sub, data[i], `${name}[${i}]`, ctx, out, undefined);
    });
  }
  if (s.minItems !== undefined && data.length < s.minItems) {
    out.push(invalidAt(ctx, name, data.length, `${name} in ${IN} should have at least ${s.minItems} items`));
  }
  if (s.maxItems !== undefined && data.length > s.maxItems) {
    out.push({ type: 'FieldValueTooMany', field: fieldOf(ctx, name), badValue: data.length, detail: `must have at most ${s.maxItems} items` });
  }
  if (s.uniqueItems) {
    outer: for (let i = 1; i < data.length; i++) {
      for (let j = 0; j < i; j++) {
        if (deepEqualJSON(data[i], data[j])) {
          out.push(invalidAt(ctx, name, '', `${name} in ${IN} shouldn't contain duplicates`));
          break outer;
        }
      }
    }
  }
}

/**
 * For ratcheting: how an item of a new list finds its old counterpart. Map lists correlate by
 * their keys, sets by value; other lists are atomic and never correlate.
 */
export function oldItemFinder(s: JSONSchemaProps, oldList: unknown): ((item: unknown) => Old) | undefined {
  if (!Array.isArray(oldList)) return undefined;
  const lt = s['x-kubernetes-list-type'];
  if (lt === 'set') return (item) => (oldList.some((o) => deepEqualJSON(o, item)) ? { old: item } : undefined);
  if (lt !== 'map') return undefined;
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  const index = new Map<string, unknown>();
  for (const o of oldList) {
    if (o && typeof o === 'object' && !Array.isArray(o)) index.set(mapListKey(keys, o as Record<string, unknown>), o);
  }
  return (item) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return undefined;
    const k = mapListKey(keys, item as Record<string, unknown>);
    return index.has(k) ? { old: index.get(k) } : undefined;
  };
}

export function mapListKey(keys: string[], item: Record<string, unknown>): string {
  return JSON.stringify(keys.map((k) => (k in item ? item[k] : undefined)));
}

function validateObject(s: JSONSchemaProps, data: Record<string, unknown>, name: string, ctx: Ctx, out: FieldError[], old: Old): void {
  const keys = Object.keys(data);
  if (s.minProperties !== undefined && keys.length < s.minProperties) {
    out.push(invalidAt(ctx, name, keys.length, `${name} in ${IN} should have at least ${s.minProperties} properties`));
  }
  if (s.maxProperties !== undefined && keys.length > s.maxProperties) {
    out.push({ type: 'FieldValueTooMany', field: fieldOf(ctx, name), badValue: keys.length, detail: `must have at most ${s.maxProperties} items` });
  }
  const props = s.properties;
  const oldObj = old && old.old && typeof old.old === 'object' && !Array.isArray(old.old) ? (old.old as Record<string, unknown>) : undefined;
  const oldFor = (k: string): Old => (oldObj && k in oldObj ? { old: oldObj[k] } : undefined);
  const ap = s.additionalProperties;
  if (ap === false) {
    for (const k of keys) {
      if (!props || !(k in props)) out.push(invalidAt(ctx, name, k, `${name}.${k} in ${IN} is a forbidden property`));
    }
  } else if (ap && typeof ap === 'object') {
    for (const k of keys) {
      if (!props || !(k in props)) validateNode(ap, data[k], `${name}.${k}`, ctx, out, oldFor(k));
    }
  }
  if (props) {
    for (const p in props) {
      if (p in data) validateNode(props[p], data[p], name ? `${name}.${p}` : p, ctx, out, oldFor(p));
    }
  }
  if (s.required) {
    for (const k of s.required) {
      if (!(k in data)) out.push({ ...required(new FieldPath(fieldOf(ctx, `${name}.${k}`)), ''), badValue: '' });
    }
  }
}
