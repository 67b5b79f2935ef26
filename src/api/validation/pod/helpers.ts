// Small readers shared by the pod validation files: null-safe views of decoded objects, field paths,
// the enum rule and the relative-path rules several sources use.

import { FieldPath, invalid, notSupported, required, type FieldError } from '../../field.ts';

export const MAX_INT32 = 2147483647;

export const specPath = new FieldPath('spec');
export const metaPath = new FieldPath('metadata');

export type AnyRecord = Record<string, unknown>;
/** Loose view of a typed object, for fields newer than our kubernetes-types version. */
export const rec = (v: object): AnyRecord => v as unknown as AnyRecord;
export const isRecord = (v: unknown): v is AnyRecord => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * A list of objects, null-safe: Go decodes a null (or otherwise empty) list element into the zero
 * struct, so non-object elements are seen as {} here rather than crashing validation.
 */
export const arr = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v.map((x) => (isRecord(x) ? x : ({} as T))) : []);
/** A list of scalars as given (strings, numbers). */
export const list = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v : []);
/** A string field; anything else reads as "" (the decoder rejects wrong types before validation). */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** A required enum with Kubernetes' Required / Unsupported value errors. */
export function validateEnum(v: string | undefined, path: FieldPath, valid: string[]): FieldError[] {
  if (v === undefined || v === null || v === '') return [required(path)];
  return valid.includes(v) ? [] : [notSupported(path, v, valid)];
}

export function validatePathNoBacksteps(target: string, path: FieldPath): FieldError[] {
  return target.split('/').includes('..') ? [invalid(path, target, "must not contain '..'")] : [];
}

export function validateLocalDescendingPath(target: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalid(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

export function validateLocalNonReservedPath(target: string, path: FieldPath): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

