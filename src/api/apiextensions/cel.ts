// x-kubernetes-validations: CEL rules of a CRD schema, compiled once per schema node and
// evaluated against custom resources as apiextensions-apiserver does (pkg/apiserver/schema/cel),
// with Kubernetes 1.32's messages: `<path>: Invalid value: "object": <message or "failed rule: <rule>">`.
//
// Engine: @bufbuild/cel (parser + planner + evaluator). It exposes no type checker, so "compile"
// here is parse + plan + a static pass over the AST that reports what cel-go's checker reports most
// often for CRD rules: an undeclared variable or function, a field of `self` the schema does not
// have, a constant that is not a bool. Type errors inside expressions surface at evaluation
// instead ("no such overload"), as they do in Kubernetes for int-or-string and preserved fields.
//
// Kubernetes CEL libraries, what is covered:
// - CEL standard library and macros (has, all, exists, exists_one, map, filter, size, in,
//   matches, startsWith, endsWith, contains, int/uint/double/string/bytes/bool/dyn conversions,
//   timestamp/duration and their accessors): covered by @bufbuild/cel.
// - cel-go ext.Strings (charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split,
//   substring, trim, join): covered by @bufbuild/cel/ext. Not covered: strings.quote, format.
// - Kubernetes list library: isSorted, sum, min, max, indexOf, lastIndexOf (on lists): covered.
// - Kubernetes regex library: find, findAll (with and without a limit): covered.
// - Kubernetes URL, IP/CIDR and quantity libraries: only the boolean predicates isURL(string),
//   isIP(string), isCIDR(string), isQuantity(string) are covered; url(), ip(), cidr(),
//   quantity() and their member functions (getHost, isLoopback, containsIP, compareTo...) are not.
// - Not covered: Kubernetes authz, semver, format library, sets (sets.contains...), optional
//   types beyond optionalOldSelf's presence test, two-variable comprehensions, string formats as
//   CEL timestamps (a `format: date-time` field is a string here, a timestamp in Kubernetes), and
//   CEL cost estimation and runtime cost budgets (no "exceeds budget" errors are produced).

import type * as CelLibrary from '@bufbuild/cel';
import type { CelEnv, CelInput, CelList, CelResult, CelValue } from '@bufbuild/cel';
import type * as CelExtensions from '@bufbuild/cel/ext';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { FieldPath, type FieldError } from '../field.ts';
import { tryParseQuantity } from '../quantity.ts';
import { parseIPSloppy } from '../validation/names.ts';
import type { JSONSchemaProps, ValidationRule } from './types.ts';
import { mapListKey } from './values.ts';

type Expr = ReturnType<typeof CelLibrary.parse>['expr'];

function listOf(v: CelList): CelValue[] {
  const out: CelValue[] = [];
  for (let i = 0; i < v.size; i++) out.push(v.get(i) as CelValue);
  return out;
}

function cmp(a: CelValue, b: CelValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return 0;
}

function sameScalar(a: CelValue, b: CelValue): boolean {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) === Number(b);
  return a === b;
}

function regexOf(pattern: string): RegExp {
  return new RegExp(pattern, 'gu');
}

/**
 * The CEL library (cel-es), loaded at the first rule compiled or checked rather than with the API
 * server: importing it costs ~0.2 s of CPU, on the way of every start, for what only CRDs with
 * x-kubernetes-validations use. Loaded through require (its CommonJS build), so that the sync
 * validation paths can load it where they stand; nothing else loads the library.
 */
let library: { cel: typeof CelLibrary; env: CelEnv } | undefined;

function lib(): { cel: typeof CelLibrary; env: CelEnv } {
  if (!library) {
    const load = createRequire(import.meta.url);
    const cel = load('@bufbuild/cel') as typeof CelLibrary;
    const { strings } = load('@bufbuild/cel/ext') as typeof CelExtensions;
    library = { cel, env: cel.celEnv({ funcs: [...strings, ...kubernetesFuncs(cel)] }) };
  }
  return library;
}

function env(): CelEnv {
  return lib().env;
}

/** Kubernetes' list, regex and validation-predicate functions (k8s.io/apiserver/pkg/cel/library). */
function kubernetesFuncs(cel: typeof CelLibrary) {
  const { celFunc, celMethod, CelScalar, listType } = cel;
  const listDyn = listType(CelScalar.DYN);
  return [
    celMethod('isSorted', listDyn, [], CelScalar.BOOL, function () {
      const xs = listOf(this as CelList);
      for (let i = 1; i < xs.length; i++) if (cmp(xs[i - 1], xs[i]) > 0) return false;
      return true;
    }),
    celMethod('sum', listDyn, [], CelScalar.DYN, function () {
      const xs = listOf(this as CelList);
      if (xs.length === 0) return 0n;
      if (xs.every((x) => typeof x === 'bigint')) return (xs as bigint[]).reduce((a, b) => a + b, 0n);
      return xs.reduce((a: number, b) => a + Number(b), 0);
    }),
    celMethod('min', listDyn, [], CelScalar.DYN, function () {
      const xs = listOf(this as CelList);
      if (xs.length === 0) return new Error('min called on empty list') as unknown as CelInput;
      return xs.reduce((a, b) => (cmp(b, a) < 0 ? b : a)) as CelInput;
    }),
    celMethod('max', listDyn, [], CelScalar.DYN, function () {
      const xs = listOf(this as CelList);
      if (xs.length === 0) return new Error('max called on empty list') as unknown as CelInput;
      return xs.reduce((a, b) => (cmp(b, a) > 0 ? b : a)) as CelInput;
    }),
    celMethod('indexOf', listDyn, [CelScalar.DYN], CelScalar.INT, function (x) {
      return BigInt(listOf(this as CelList).findIndex((v) => sameScalar(v, x)));
    }),
    celMethod('lastIndexOf', listDyn, [CelScalar.DYN], CelScalar.INT, function (x) {
      return BigInt(listOf(this as CelList).findLastIndex((v) => sameScalar(v, x)));
    }),
    celMethod('find', CelScalar.STRING, [CelScalar.STRING], CelScalar.STRING, function (re) {
      const m = regexOf(re).exec(this as string);
      return m ? m[0] : '';
    }),
    celMethod('findAll', CelScalar.STRING, [CelScalar.STRING], listType(CelScalar.STRING), function (re) {
      return [...(this as string).matchAll(regexOf(re))].map((m) => m[0]);
    }),
    celMethod('findAll', CelScalar.STRING, [CelScalar.STRING, CelScalar.INT], listType(CelScalar.STRING), function (re, n) {
      const all = [...(this as string).matchAll(regexOf(re))].map((m) => m[0]);
      return n < 0n ? all : all.slice(0, Number(n));
    }),
    celFunc('isURL', [CelScalar.STRING], CelScalar.BOOL, (s) => {
      if (s.startsWith('/')) return true;
      try {
        return new URL(s).protocol.length > 1;
      } catch {
        return false;
      }
    }),
    celFunc('isIP', [CelScalar.STRING], CelScalar.BOOL, (s) => isIP(s) !== 0),
    celFunc('isCIDR', [CelScalar.STRING], CelScalar.BOOL, (s) => {
      const i = s.indexOf('/');
      if (i < 0) return false;
      const fam = isIP(s.slice(0, i));
      const bits = s.slice(i + 1);
      return fam !== 0 && /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (fam === 4 ? 32 : 128) && parseIPSloppy(s.slice(0, i)) !== 0;
    }),
    celFunc('isQuantity', [CelScalar.STRING], CelScalar.BOOL, (s) => tryParseQuantity(s) !== undefined),
  ];
}

// ---- compilation --------------------------------------------------------------------------

type Program = (bindings: Record<string, CelInput>) => CelResult;

export interface CompiledRule {
  rule: ValidationRule;
  program?: Program;
  messageProgram?: Program;
  usesOldSelf: boolean;
  /** "compilation failed: ..." detail, as kube-apiserver reports it on the CRD. */
  error?: string;
  messageExpressionError?: string;
  /** rule.fieldPath as a relative field path ("spec.foo", "labels[a]"). */
  fieldPath?: string;
}

interface SourceInfo {
  text: string;
}

function caret(src: SourceInfo, offset: number): string {
  const before = src.text.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const col = offset - lineStart;
  const lineText = src.text.split('\n')[line - 1] ?? '';
  return `<input>:${line}:${col + 1}: %s\n | ${lineText}\n | ${'.'.repeat(col)}^`;
}

function issue(src: SourceInfo, offset: number, msg: string): string {
  return `ERROR: ${caret(src, offset).replace('%s', msg)}`;
}

interface ParseFailure {
  message: string;
  location?: { start?: { offset?: number } };
}

/** The schema a field selection on a value of schema `s` lands on; null when any field is fine. */
function fieldSchema(s: JSONSchemaProps | undefined, name: string): JSONSchemaProps | undefined | null {
  if (!s || s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string']) return null;
  if (s.properties && name in s.properties) return s.properties[name];
  if (s.additionalProperties && typeof s.additionalProperties === 'object') return s.additionalProperties;
  if (s.additionalProperties === true) return null;
  if (s['x-kubernetes-embedded-resource'] && (name === 'apiVersion' || name === 'kind' || name === 'metadata')) return null;
  return undefined;
}

/** Static checks: undeclared identifiers and functions, and fields `self` does not have. */
function staticIssues(e: Expr, src: SourceInfo, positions: Record<string, number>, scope: Set<string>, self: JSONSchemaProps | undefined, isRoot: boolean, out: string[]): JSONSchemaProps | undefined | null {
  const pos = (): number => positions[String(e.id)] ?? 0;
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr': {
      const name = k.value.name;
      if (name === 'self' || name === 'oldSelf') return isRoot ? withTypeMeta(self) : self;
      if (!scope.has(name)) out.push(issue(src, pos(), `undeclared reference to '${name}' (in container '')`));
      return null;
    }
    case 'selectExpr': {
      const operand = k.value.operand;
      const inner = operand ? staticIssues(operand, src, positions, scope, self, isRoot, out) : null;
      if (inner === null) return null;
      const t = inner?.type;
      if (inner && (t === 'object' || (!t && inner.properties))) {
        const f = fieldSchema(inner, k.value.field);
        if (f === undefined) {
          out.push(issue(src, pos(), `undefined field '${k.value.field}'`));
          return null;
        }
        return f;
      }
      return null;
    }
    case 'callExpr': {
      const fn = k.value.function;
      if (!fn.startsWith('_') && !fn.startsWith('@') && !env().funcs.find(fn)) {
        out.push(issue(src, pos(), k.value.target ? `undeclared reference to '${fn}' (in container '')` : `undeclared reference to '${fn}' (in container '')`));
      }
      if (k.value.target) staticIssues(k.value.target, src, positions, scope, self, isRoot, out);
      const argSchemas = k.value.args.map((a) => staticIssues(a, src, positions, scope, self, isRoot, out));
      if (fn === '_[_]' && argSchemas.length === 2) {
        const base = argSchemas[0];
        if (base && base.type === 'array') return base.items && !Array.isArray(base.items) ? base.items : null;
        if (base && base.type === 'object' && base.additionalProperties && typeof base.additionalProperties === 'object') return base.additionalProperties;
      }
      return null;
    }
    case 'listExpr':
      for (const el of k.value.elements) staticIssues(el, src, positions, scope, self, isRoot, out);
      return null;
    case 'structExpr':
      for (const en of k.value.entries) {
        if (en.keyKind.case === 'mapKey') staticIssues(en.keyKind.value, src, positions, scope, self, isRoot, out);
        if (en.value) staticIssues(en.value, src, positions, scope, self, isRoot, out);
      }
      return null;
    case 'comprehensionExpr': {
      const c = k.value;
      if (c.iterRange) staticIssues(c.iterRange, src, positions, scope, self, isRoot, out);
      if (c.accuInit) staticIssues(c.accuInit, src, positions, scope, self, isRoot, out);
      const inner = new Set(scope);
      inner.add(c.iterVar);
      if (c.iterVar2) inner.add(c.iterVar2);
      inner.add(c.accuVar);
      for (const part of [c.loopCondition, c.loopStep, c.result]) if (part) staticIssues(part, src, positions, inner, self, isRoot, out);
      return null;
    }
    default:
      return null;
  }
}

/** At the resource root, `self` also has apiVersion, kind and metadata (name, generateName). */
function withTypeMeta(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  if (!s) return s;
  return {
    ...s,
    properties: {
      ...s.properties,
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } },
    },
  };
}

function usesIdent(e: Expr | undefined, name: string): boolean {
  if (!e) return false;
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr':
      return k.value.name === name;
    case 'selectExpr':
      return usesIdent(k.value.operand, name);
    case 'callExpr':
      return usesIdent(k.value.target, name) || k.value.args.some((a) => usesIdent(a, name));
    case 'listExpr':
      return k.value.elements.some((a) => usesIdent(a, name));
    case 'structExpr':
      return k.value.entries.some((en) => usesIdent(en.value, name) || (en.keyKind.case === 'mapKey' && usesIdent(en.keyKind.value, name)));
    case 'comprehensionExpr': {
      const c = k.value;
      return [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].some((p) => usesIdent(p, name));
    }
    default:
      return false;
  }
}

interface CompiledExpr {
  program?: Program;
  usesOldSelf: boolean;
  issues?: string;
}

function compileExpr(text: string, self: JSONSchemaProps | undefined, isRoot: boolean, mustBe: 'bool' | 'string'): CompiledExpr {
  const src = { text };
  let parsed: ReturnType<typeof CelLibrary.parse>;
  try {
    parsed = lib().cel.parse(text);
  } catch (err) {
    const f = err as ParseFailure;
    const offset = f.location?.start?.offset ?? 0;
    const msg = (f.message ?? String(err)).replace(/^<input>:\d+:\d+: /, '');
    return { usesOldSelf: false, issues: issue(src, offset, `Syntax error: ${msg}`) };
  }
  const positions: Record<string, number> = {};
  const rawPositions = parsed.sourceInfo?.positions ?? {};
  for (const [id, p] of Object.entries(rawPositions)) positions[id] = Number(p);
  const problems: string[] = [];
  staticIssues(parsed.expr, src, positions, new Set(), self, isRoot, problems);
  const k = parsed.expr.exprKind;
  if (problems.length === 0 && k.case === 'constExpr') {
    const c = k.value.constantKind.case;
    const ok = mustBe === 'bool' ? c === 'boolValue' : c === 'stringValue';
    if (!ok) return { usesOldSelf: false, issues: mustBe === 'bool' ? 'cel expression must evaluate to a bool' : 'messageExpression must evaluate to a string' };
  }
  if (problems.length > 0) return { usesOldSelf: false, issues: problems.join('\n') };
  const program = lib().cel.plan(env(), parsed) as unknown as Program;
  return { program, usesOldSelf: usesIdent(parsed.expr, 'oldSelf') };
}

/** rule.fieldPath (".spec.foo", ".labels['a.b']") as the relative path apiextensions appends. */
export function normalizeRuleFieldPath(p: string): string | undefined {
  let s = p.trim();
  let out = '';
  while (s.length > 0) {
    let m = /^\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(s);
    if (m) {
      out += out ? `.${m[1]}` : m[1];
      s = s.slice(m[0].length);
      continue;
    }
    m = /^\['((?:[^'\\]|\\.)*)'\]/.exec(s);
    if (m) {
      out += `[${m[1].replace(/\\(.)/g, '$1')}]`;
      s = s.slice(m[0].length);
      continue;
    }
    return undefined;
  }
  return out;
}

const ruleCache = new WeakMap<JSONSchemaProps, CompiledRule[]>();

/**
 * The compiled rules of one schema node (cached per node object: compile once per CRD version).
 * `isRoot` is whether the node is a resource root, where `self` carries apiVersion, kind and metadata.
 */
export function compileRules(s: JSONSchemaProps, isRoot: boolean): CompiledRule[] {
  const hit = ruleCache.get(s);
  if (hit) return hit;
  const out: CompiledRule[] = (s['x-kubernetes-validations'] ?? []).map((rule) => {
    const c: CompiledRule = { rule, usesOldSelf: false };
    if (!rule.rule || rule.rule.trim() === '') return c;
    const r = compileExpr(rule.rule, s, isRoot, 'bool');
    c.usesOldSelf = r.usesOldSelf;
    if (r.issues) c.error = r.issues.startsWith('ERROR') ? `compilation failed: ${r.issues}` : r.issues;
    else c.program = r.program;
    if (rule.messageExpression && rule.messageExpression.trim() !== '') {
      const m = compileExpr(rule.messageExpression, s, isRoot, 'string');
      if (m.issues) c.messageExpressionError = m.issues.startsWith('ERROR') ? `messageExpression compilation failed: ${m.issues}` : m.issues;
      else if (m.usesOldSelf) c.messageExpressionError = 'messageExpression compilation failed: ERROR: <input>:1:1: undeclared reference to \'oldSelf\' (in container \'\')';
      else c.messageProgram = m.program;
    }
    if (rule.fieldPath) c.fieldPath = normalizeRuleFieldPath(rule.fieldPath);
    return c;
  });
  ruleCache.set(s, out);
  return out;
}

// ---- evaluation ---------------------------------------------------------------------------

function itemsOf(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  return s?.items && !Array.isArray(s.items) ? s.items : undefined;
}

function apOf(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  return s && s.additionalProperties && typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** A JSON value as the CEL value Kubernetes gives it under schema `s` (integer → int, number → double). */
export function toCel(v: unknown, s: JSONSchemaProps | undefined): CelInput {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (s?.type === 'number') return v;
      return Number.isInteger(v) ? BigInt(v) : v;
    default:
      break;
  }
  if (Array.isArray(v)) {
    const items = itemsOf(s);
    return v.map((x) => toCel(x, items));
  }
  const obj = v as Record<string, unknown>;
  const m = new Map<string, CelInput>();
  const ap = apOf(s);
  for (const k in obj) m.set(k, toCel(obj[k], s?.properties?.[k] ?? ap));
  return m;
}

/** Root `self`: only metadata.name and metadata.generateName are visible to rules (model.WithTypeAndObjectMeta). */
function rootToCel(v: unknown, s: JSONSchemaProps): CelInput {
  const m = toCel(v, s);
  if (m instanceof Map && v && typeof v === 'object') {
    const meta = (v as Record<string, unknown>).metadata;
    if (meta && typeof meta === 'object') {
      const mm = new Map<string, CelInput>();
      const md = meta as Record<string, unknown>;
      if (typeof md.name === 'string') mm.set('name', md.name);
      if (typeof md.generateName === 'string') mm.set('generateName', md.generateName);
      m.set('metadata', mm);
    }
  }
  return m;
}

function ruleErrorString(rule: ValidationRule): string {
  return rule.message && rule.message.length > 0 ? rule.message.trim() : rule.rule.trim();
}

function hasSchemaRules(s: JSONSchemaProps | undefined, seen = new Set<JSONSchemaProps>()): boolean {
  if (!s || seen.has(s)) return false;
  seen.add(s);
  if (s['x-kubernetes-validations']?.length) return true;
  if (hasSchemaRules(itemsOf(s), seen) || hasSchemaRules(apOf(s), seen)) return true;
  for (const k in s.properties ?? {}) if (hasSchemaRules(s.properties?.[k], seen)) return true;
  for (const sub of s.allOf ?? []) if (hasSchemaRules(sub, seen)) return true;
  return false;
}

const hasRulesCache = new WeakMap<JSONSchemaProps, boolean>();

/** Whether any node of the schema carries x-kubernetes-validations (cached). */
export function schemaHasRules(s: JSONSchemaProps): boolean {
  let v = hasRulesCache.get(s);
  if (v === undefined) {
    v = hasSchemaRules(s);
    hasRulesCache.set(s, v);
  }
  return v;
}

export interface CELValidateOptions {
  /** The stored object on an update: transition rules (those using oldSelf) run only where an old value correlates. */
  old?: unknown;
  /** Whether `obj` is a whole resource (default true). Schema defaults of nested fields pass false. */
  isResourceRoot?: boolean;
}

/** Evaluates every x-kubernetes-validations rule of `schema` over `obj`. */
export function validateCEL(schema: JSONSchemaProps, obj: unknown, fldPath?: FieldPath, opts: CELValidateOptions = {}): FieldError[] {
  if (!schemaHasRules(schema)) return [];
  const errs: FieldError[] = [];
  const ratchet = 'old' in opts;
  walk(schema, obj, ratchet ? { old: opts.old } : undefined, fldPath, opts.isResourceRoot !== false, ratchet, errs);
  return errs;
}

function at(p: FieldPath | undefined, name: string): FieldPath {
  return p ? p.child(name) : new FieldPath(name);
}

function walk(s: JSONSchemaProps, obj: unknown, old: { old: unknown } | undefined, p: FieldPath | undefined, isRoot: boolean, ratchet: boolean, errs: FieldError[]): void {
  if (obj === null || obj === undefined) return;
  if (s['x-kubernetes-validations']?.length) evalRules(s, obj, old, p, isRoot, ratchet, errs);
  for (const sub of s.allOf ?? []) {
    if (sub['x-kubernetes-validations']?.length) evalRules(sub, obj, old, p, isRoot, ratchet, errs);
  }
  if (Array.isArray(obj)) {
    const items = itemsOf(s);
    if (!items || !schemaHasRules(items)) return;
    const find = s['x-kubernetes-list-type'] === 'map' && old && Array.isArray(old.old) ? mapListFinder(s, old.old) : undefined;
    obj.forEach((x, i) => walk(items, x, find ? find(x) : undefined, p ? p.index(i) : new FieldPath(`[${i}]`), false, ratchet, errs));
    return;
  }
  if (typeof obj !== 'object') return;
  const o = obj as Record<string, unknown>;
  const oldObj = old && old.old && typeof old.old === 'object' && !Array.isArray(old.old) ? (old.old as Record<string, unknown>) : undefined;
  const oldFor = (k: string): { old: unknown } | undefined => (oldObj && k in oldObj ? { old: oldObj[k] } : undefined);
  const ap = apOf(s);
  if (ap && schemaHasRules(ap)) {
    for (const k in o) walk(ap, o[k], oldFor(k), p ? p.key(k) : new FieldPath(`[${k}]`), false, ratchet, errs);
  }
  if (s.properties) {
    for (const k in o) {
      const sub = s.properties[k];
      if (sub && schemaHasRules(sub)) walk(sub, o[k], oldFor(k), at(p, k), false, ratchet, errs);
    }
  }
}

function mapListFinder(s: JSONSchemaProps, oldList: unknown[]): (x: unknown) => { old: unknown } | undefined {
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  const idx = new Map<string, unknown>();
  for (const o of oldList) if (o && typeof o === 'object') idx.set(mapListKey(keys, o as Record<string, unknown>), o);
  return (x) => {
    if (!x || typeof x !== 'object') return undefined;
    const k = mapListKey(keys, x as Record<string, unknown>);
    return idx.has(k) ? { old: idx.get(k) } : undefined;
  };
}

function reasonError(path: FieldPath | undefined, value: unknown, detail: string, reason: string | undefined): FieldError {
  const field = path ? String(path) : '<nil>';
  switch (reason) {
    case 'FieldValueForbidden':
      return { type: 'FieldValueForbidden', field, detail };
    case 'FieldValueRequired':
      return { type: 'FieldValueRequired', field, detail };
    case 'FieldValueDuplicate':
      return { type: 'FieldValueDuplicate', field, badValue: value };
    default:
      return { type: 'FieldValueInvalid', field, badValue: value, detail };
  }
}

function evalRules(s: JSONSchemaProps, obj: unknown, old: { old: unknown } | undefined, p: FieldPath | undefined, isRoot: boolean, ratchet: boolean, errs: FieldError[]): void {
  const compiled = compileRules(s, isRoot);
  const type = s.type ?? '';
  const field = p ? String(p) : '<nil>';
  let self: CelInput | undefined;
  let oldSelf: CelInput | undefined;
  const unchanged = ratchet && old !== undefined && JSON.stringify(old.old) === JSON.stringify(obj);
  for (const c of compiled) {
    if (c.error) {
      errs.push({ type: 'FieldValueInvalid', field, badValue: type, detail: `rule compile error: ${c.error}` });
      continue;
    }
    if (!c.program) continue;
    const hasOld = old !== undefined && old.old !== null && old.old !== undefined;
    if (c.usesOldSelf && !hasOld && !c.rule.optionalOldSelf) continue;
    // Ratcheting: a rule that does not look at oldSelf cannot newly fail on an unchanged value.
    if (!c.usesOldSelf && unchanged) continue;
    self ??= isRoot ? rootToCel(obj, s) : toCel(obj, s);
    const bindings: Record<string, CelInput> = { self };
    if (c.usesOldSelf && hasOld) {
      oldSelf ??= isRoot ? rootToCel(old.old, s) : toCel(old.old, s);
      bindings.oldSelf = oldSelf;
    }
    let result: CelResult;
    try {
      result = c.program(bindings);
    } catch (e) {
      result = e instanceof Error ? (e as CelResult) : (String(e) as CelResult);
    }
    if (lib().cel.isCelError(result) || result instanceof Error) {
      const msg = (result as Error).message;
      if (/no matching overload|no such overload/.test(msg)) {
        errs.push({ type: 'FieldValueInvalid', field, badValue: type, detail: `'no such overload': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(c.rule)}` });
      } else {
        errs.push({ type: 'FieldValueInvalid', field, badValue: type, detail: `${msg} evaluating rule: ${ruleErrorString(c.rule)}` });
      }
      continue;
    }
    if (result === true) continue;
    const errPath = c.fieldPath ? (p ? p.child(c.fieldPath) : new FieldPath(c.fieldPath)) : p;
    let detail: string | undefined;
    if (c.messageProgram) {
      const m = c.messageProgram({ self });
      if (typeof m === 'string') {
        const t = m.trim();
        if (t.length > 0 && t.length <= 5120 && !t.includes('\n')) detail = t;
      }
    }
    detail ??= c.rule.message && c.rule.message.length > 0 ? c.rule.message.trim() : `failed rule: ${ruleErrorString(c.rule)}`;
    // Kubernetes 1.32 names the schema type as the bad value (1.35 started omitting it).
    errs.push(reasonError(errPath, type, detail, c.rule.reason));
  }
}

