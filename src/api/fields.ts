// Field selectors (`?fieldSelector=`, `kubectl --field-selector`): apimachinery's fields.ParseSelector
// with its backslash escapes and error texts, the per-resource sets of supported field labels
// (the apiserver's field label conversion functions), and the values each resource exposes.

export interface FieldRequirement {
  readonly field: string;
  /** "==" is parsed as "=". */
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** Returns the object's value for a field label; undefined counts as "". */
export type FieldGetter = (field: string) => string | undefined;

export interface FieldSelectorValue {
  readonly requirements: readonly FieldRequirement[];
  matches(get: FieldGetter | Readonly<Record<string, string>>): boolean;
  empty(): boolean;
  toString(): string;
  /** The value an `=` requirement pins for this field (used to narrow lists to one name). */
  requiresExactMatch(field: string): string | undefined;
}

export type FieldSelectorErrorCode = 'ERR_FIELD_SELECTOR_PARSE' | 'ERR_FIELD_LABEL_NOT_SUPPORTED';

/** Bad field selector; the HTTP layer answers 400 BadRequest with `message`. */
export class FieldSelectorError extends Error {
  readonly code: FieldSelectorErrorCode;
  constructor(code: FieldSelectorErrorCode, message: string) {
    super(message);
    this.name = 'FieldSelectorError';
    this.code = code;
  }
}

/** Escapes \ , = in a value (fields.EscapeValue). */
export function escapeFieldValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/=/g, '\\=');
}

/** fields.UnescapeValue, with its error messages. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new FieldSelectorError('ERR_FIELD_SELECTOR_PARSE', `invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      // Go prints the rune as its code point number.
      throw new FieldSelectorError('ERR_FIELD_SELECTOR_PARSE', `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  if (inSlash) throw new FieldSelectorError('ERR_FIELD_SELECTOR_PARSE', 'invalid field selector: invalid escape sequence: \\');
  return out;
}

function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const termOperators = ['!=', '==', '='] as const;

function splitTerm(term: string): { lhs: string; op: (typeof termOperators)[number]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    const rest = term.slice(i);
    for (const op of termOperators) if (rest.startsWith(op)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
  }
  return undefined;
}

function makeFieldSelector(reqs: FieldRequirement[]): FieldSelectorValue {
  const frozen = Object.freeze(reqs);
  const lookup = (get: FieldGetter | Readonly<Record<string, string>>, f: string): string =>
    (typeof get === 'function' ? get(f) : Object.hasOwn(get, f) ? get[f] : undefined) ?? '';
  return Object.freeze({
    requirements: frozen,
    matches: (get: FieldGetter | Readonly<Record<string, string>>) =>
      frozen.every((r) => (lookup(get, r.field) === r.value) === (r.operator === '=')),
    empty: () => frozen.length === 0,
    toString: () => frozen.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(','),
    requiresExactMatch: (f: string) => frozen.find((r) => r.field === f && r.operator === '=')?.value,
  });
}

/** Parses like fields.ParseSelector; throws FieldSelectorError with its messages. */
export function parseFieldSelector(selector: string): FieldSelectorValue {
  // apimachinery sorts the raw terms before parsing, so errors name the first term in that order.
  const parts = splitTerms(selector).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw new FieldSelectorError('ERR_FIELD_SELECTOR_PARSE', `invalid selector: '${selector}'; can't understand '${part}'`);
    const value = unescapeFieldValue(t.rhs);
    reqs.push({ field: t.lhs, operator: t.op === '!=' ? '!=' : '=', value });
  }
  return makeFieldSelector(reqs);
}

/** Selector matching everything. */
export const everythingFields: FieldSelectorValue = makeFieldSelector([]);

/** The field labels a resource accepts in selectors (its field label conversion function). */
export interface FieldLabelSet {
  readonly supported: ReadonlySet<string>;
  /** Legacy labels accepted under another name (pods: spec.host → spec.nodeName). */
  readonly renames?: Readonly<Record<string, string>>;
  /** The error for an unsupported label. */
  readonly unsupported: (label: string) => string;
}

/** The error of a resource with its own field label conversion function. */
export const notSupported = (label: string): string => `field label not supported: ${label}`;

/** Resources with no conversion function of their own (configmaps, serviceaccounts, leases). */
export const defaultFieldLabels: FieldLabelSet = {
  supported: new Set(['metadata.name', 'metadata.namespace']),
  unsupported: (label) => `"${label}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
};

/**
 * Checks every requirement against a resource's supported labels and applies legacy renames.
 * Throws FieldSelectorError (code ERR_FIELD_LABEL_NOT_SUPPORTED) with the apiserver's message.
 */
export function convertFieldSelector(sel: FieldSelectorValue, labels: FieldLabelSet): FieldSelectorValue {
  const reqs = sel.requirements.map((r) => {
    const renamed = labels.renames && Object.hasOwn(labels.renames, r.field) ? labels.renames[r.field] : undefined;
    if (renamed) return { ...r, field: renamed };
    if (!labels.supported.has(r.field)) throw new FieldSelectorError('ERR_FIELD_LABEL_NOT_SUPPORTED', labels.unsupported(r.field));
    return r;
  });
  return makeFieldSelector(reqs);
}

// ---- the values each resource exposes to field selectors ----

/** metadata.name and metadata.namespace (the latter only for namespaced resources). */
export function objectMetaFields(meta: { name?: string; namespace?: string } | undefined, namespaced: boolean): Record<string, string> {
  const f: Record<string, string> = { 'metadata.name': meta?.name ?? '' };
  if (namespaced) f['metadata.namespace'] = meta?.namespace ?? '';
  return f;
}

