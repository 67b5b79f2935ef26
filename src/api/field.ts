// Field errors, as apimachinery's field.ErrorList: one entry per bad field, rendered into a 422
// Invalid Status whose causes kubectl prints one per line.

import { StatusError, type StatusCause } from '../util/status.ts';

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueForbidden'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'InternalError';

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with [i] indexes and [key] map keys: "spec.containers[0].image". */
  field: string;
  badValue?: unknown;
  detail?: string;
}

/** A path builder so validators write `path.child('spec').child('containers').index(0)`. */
export class FieldPath {
  readonly #s: string;
  constructor(s = '') {
    this.#s = s;
  }
  child(name: string, ...more: string[]): FieldPath {
    let s = this.#s ? `${this.#s}.${name}` : name;
    for (const m of more) s += `.${m}`;
    return new FieldPath(s);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.#s}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.#s}[${k}]`);
  }
  toString(): string {
    return this.#s;
  }
}

export const required = (p: FieldPath, detail?: string): FieldError => ({ type: 'FieldValueRequired', field: String(p), detail });
export const invalid = (p: FieldPath, badValue: unknown, detail?: string): FieldError => ({ type: 'FieldValueInvalid', field: String(p), badValue, detail });
export const forbiddenField = (p: FieldPath, detail: string): FieldError => ({ type: 'FieldValueForbidden', field: String(p), detail });
export const notSupported = (p: FieldPath, badValue: unknown, valid: string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field: String(p),
  badValue,
  detail: valid.length ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : undefined,
});
export const duplicate = (p: FieldPath, badValue: unknown, detail?: string): FieldError => ({ type: 'FieldValueDuplicate', field: String(p), badValue, detail });
export const tooLong = (p: FieldPath, badValue: unknown, max: number): FieldError => ({ type: 'FieldValueTooLong', field: String(p), badValue, detail: `may not be more than ${max} bytes` });
export const fieldNotFound = (p: FieldPath, badValue: unknown): FieldError => ({ type: 'FieldValueNotFound', field: String(p), badValue });

/** The cause message as apimachinery renders it ("Required value", "Invalid value: \"x\": detail"...). */
export function fieldErrorMessage(e: FieldError): string {
  const detail = e.detail ? `: ${e.detail}` : '';
  switch (e.type) {
    case 'FieldValueRequired':
      return `Required value${detail}`;
    case 'FieldValueForbidden':
      return `Forbidden${detail}`;
    case 'FieldValueInvalid':
    case 'FieldValueTypeInvalid':
      return `Invalid value: ${renderValue(e.badValue)}${detail}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${renderValue(e.badValue)}${detail}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${renderValue(e.badValue)}${detail}`;
    case 'FieldValueTooLong':
      return `Too long${detail}`;
    case 'FieldValueTooMany':
      // apimachinery prints the actual count when it is known: "Too many: 4: must have at most 3 items".
      return e.badValue === undefined ? `Too many${detail}` : `Too many: ${renderValue(e.badValue)}${detail}`;
    case 'FieldValueNotFound':
      return `Not found: ${renderValue(e.badValue)}${detail}`;
    case 'InternalError':
      return `Internal error${detail}`;
  }
}

/**
 * A bad value as Go prints it (`%#v` of a map or struct), for the messages kube-apiserver renders
 * from typed values: `map[string]string{"app":"web"}`, `v1.LabelSelector{...}`.
 */
export class GoValue {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** Go's `%#v` of a map[string]string: keys sorted, `nil` maps as `map[string]string(nil)`. */
export function goStringMap(m: Record<string, string> | undefined | null): GoValue {
  if (!m) return new GoValue('map[string]string(nil)');
  const keys = Object.keys(m).sort();
  return new GoValue(`map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`).join(', ')}}`);
}

function renderValue(v: unknown): string {
  if (v instanceof GoValue) return v.text;
  if (v === undefined) return '""';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** 422 Invalid, as the apiserver builds it: `Pod "bad" is invalid: [a, b]` with one cause per error. */
export function invalidError(kind: string, name: string, errs: FieldError[], group?: string): StatusError {
  const causes: StatusCause[] = errs.map((e) => ({ reason: e.type, message: fieldErrorMessage(e), field: e.field }));
  const parts = errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
  const agg = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const qualified = group ? `${kind}.${group}` : kind;
  const details: { name: string; kind: string; group?: string; causes: StatusCause[] } = { name, kind, causes };
  if (group) details.group = group;
  return new StatusError(422, 'Invalid', `${qualified} "${name}" is invalid: ${agg}`, details);
}
