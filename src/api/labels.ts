// Label selectors: the string grammar of `?labelSelector=` / `kubectl -l` (apimachinery's
// labels.Parse, with its lexer, its error texts and its quirks) and metav1.LabelSelector
// (matchLabels / matchExpressions) as used by affinity and topology spread constraints.
// Selectors are plain data plus pure functions; `matches` is a convenience bound to that data.

import type { LabelSelector } from './types.ts';
import { isQualifiedName, isValidLabelValue } from './validation/names.ts';

/** selection.Operator values, as apimachinery spells them. */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Set-based values are sorted and de-duplicated, as the parser's string set leaves them. */
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | undefined | null;

export interface LabelSelectorValue {
  /** Sorted by key. Empty = matches everything (unless `nothing`). */
  readonly requirements: readonly LabelRequirement[];
  /** A nil metav1.LabelSelector selects nothing. */
  readonly nothing: boolean;
  matches(labels: Labels): boolean;
  /** True when the selector does not restrict anything. */
  empty(): boolean;
  toString(): string;
}

export type LabelSelectorErrorCode = 'ERR_LABEL_SELECTOR_PARSE' | 'ERR_LABEL_SELECTOR_INVALID';

/** A selector that does not parse or names invalid keys/values; `message` is apimachinery's. */
export class LabelSelectorError extends Error {
  readonly code: LabelSelectorErrorCode;
  constructor(code: LabelSelectorErrorCode, message: string) {
    super(message);
    this.name = 'LabelSelectorError';
    this.code = code;
  }
}

export function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  const has = labels != null && Object.hasOwn(labels, r.key);
  const val = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(val as string);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(val as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const lv = parseInt64(val as string);
      const rv = parseInt64(r.values[0]);
      if (lv === undefined || rv === undefined) return false;
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > (1n << 63n) - 1n || n < -(1n << 63n) ? undefined : n;
}

export function requirementString(r: LabelRequirement): string {
  let s = r.operator === '!' ? `!${r.key}` : r.key;
  switch (r.operator) {
    case 'exists':
    case '!':
      return s;
    case 'in':
      s += ' in ';
      break;
    case 'notin':
      s += ' notin ';
      break;
    case 'gt':
      s += '>';
      break;
    case 'lt':
      s += '<';
      break;
    default:
      s += r.operator;
  }
  const vals = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  return r.operator === 'in' || r.operator === 'notin' ? `${s}(${vals})` : s + vals;
}

function makeSelector(requirements: LabelRequirement[], nothing = false): LabelSelectorValue {
  // Stable sort by key keeps the output deterministic (apimachinery sorts by key too).
  const reqs = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return Object.freeze({
    requirements: Object.freeze(reqs),
    nothing,
    matches: (labels: Labels) => !nothing && reqs.every((r) => requirementMatches(r, labels)),
    empty: () => !nothing && reqs.length === 0,
    toString: () => reqs.map(requirementString).join(','),
  });
}

/** Matches every object. */
export const everything: LabelSelectorValue = makeSelector([]);
/** Matches no object (a nil metav1.LabelSelector). */
export const nothing: LabelSelectorValue = makeSelector([], true);

/** Exact-match selector for a label set (matchLabels, nodeSelector). Not validated. */
export function selectorFromSet(set: Labels): LabelSelectorValue {
  if (!set) return everything;
  return makeSelector(Object.entries(set).map(([key, v]) => ({ key, operator: '=' as const, values: [v] })));
}

export function selectorMatches(sel: LabelSelectorValue, labels: Labels): boolean {
  return sel.matches(labels);
}

// ---- the string grammar ----

// A Go field.Error rendered the way it reaches the user in a parse error message.
const goQuote = (s: string): string => JSON.stringify(s);
const invalidMsg = (path: string, value: string, detail: string): string => `${path}: Invalid value: ${goQuote(value)}: ${detail}`;
const stringsValue = (vals: readonly string[]): string => `[]string{${vals.map(goQuote).join(', ')}}`;

function keyError(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? invalidMsg(path, key, errs.join('; ')) : undefined;
}

/** Like apimachinery's NewRequirement: validates and returns the requirement or the aggregated error text. */
export function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const errs = requirementErrors(key, operator, values, 'key', 'values');
  if (errs.length) throw new LabelSelectorError('ERR_LABEL_SELECTOR_INVALID', aggregate(errs));
  return { key, operator, values };
}

function requirementErrors(key: string, op: LabelOperator, vals: string[], keyPath: string, valuesPath: string): string[] {
  const errs: string[] = [];
  const ke = keyError(key, keyPath);
  if (ke) errs.push(ke);
  switch (op) {
    case 'in':
    case 'notin':
      if (vals.length === 0) errs.push(`${valuesPath}: Invalid value: ${stringsValue(vals)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (vals.length !== 1) errs.push(`${valuesPath}: Invalid value: ${stringsValue(vals)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (vals.length !== 0) errs.push(`${valuesPath}: Invalid value: ${stringsValue(vals)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (vals.length !== 1) errs.push(`${valuesPath}: Invalid value: ${stringsValue(vals)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalidMsg(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  vals.forEach((v, i) => {
    const ve = isValidLabelValue(v);
    if (ve.length) errs.push(invalidMsg(`${valuesPath}[${i}][${key}]`, v, ve.join('; ')));
  });
  return errs;
}

/** utilerrors.NewAggregate(...).Error(): one message, or "[a, b]" with duplicates dropped. */
function aggregate(msgs: string[]): string {
  const uniq = [...new Set(msgs)];
  return uniq.length === 1 ? uniq[0] : `[${uniq.join(', ')}]`;
}

type Tok =
  | 'error'
  | 'eos'
  | 'closedPar'
  | 'comma'
  | 'doesNotExist'
  | 'doubleEquals'
  | 'equals'
  | 'greaterThan'
  | 'identifier'
  | 'in'
  | 'lessThan'
  | 'notEquals'
  | 'notIn'
  | 'openPar';

const string2token: Record<string, Tok> = {
  ')': 'closedPar',
  ',': 'comma',
  '!': 'doesNotExist',
  '==': 'doubleEquals',
  '=': 'equals',
  '>': 'greaterThan',
  in: 'in',
  '<': 'lessThan',
  '!=': 'notEquals',
  notin: 'notIn',
  '(': 'openPar',
};

const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string): boolean => c === '=' || c === '!' || c === '(' || c === ')' || c === ',' || c === '>' || c === '<';

interface Item {
  tok: Tok;
  lit: string;
}

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos])) pos++;
    if (pos >= s.length) {
      items.push({ tok: 'eos', lit: '' });
      return items;
    }
    if (isSpecial(s[pos])) {
      // Longest run of special symbols that still forms a known token ("!=" but not "!=(").
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos])) {
        buf += s[pos];
        const t = Object.hasOwn(string2token, buf) ? string2token[buf] : undefined;
        if (t) {
          last = { tok: t, lit: buf };
          pos++;
        } else if (last) {
          break;
        } else {
          pos++;
        }
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    let buf = '';
    while (pos < s.length && !isSpecial(s[pos]) && !isWhitespace(s[pos])) buf += s[pos++];
    const t = Object.hasOwn(string2token, buf) ? string2token[buf] : undefined;
    items.push({ tok: t ?? 'identifier', lit: buf });
  }
}

class ParseFailure extends Error {}

/** Parses like apimachinery's labels.Parse; throws LabelSelectorError with its message on bad input. */
export function parseLabelSelector(selector: string): LabelSelectorValue {
  const items = lex(selector);
  let position = 0;
  // In value context the keywords "in" and "notin" are plain identifiers.
  const asValue = (it: Item): Item => (it.tok === 'in' || it.tok === 'notIn' ? { tok: 'identifier', lit: it.lit } : it);
  const lookahead = (values: boolean): Item => (values ? asValue(items[position]) : items[position]);
  const consume = (values: boolean): Item => {
    const it = items[position++];
    return values ? asValue(it) : it;
  };
  const fail = (msg: string): never => {
    throw new ParseFailure(msg);
  };

  const parseKeyAndInferOperator = (): { key: string; op: LabelOperator | undefined } => {
    let op: LabelOperator | undefined;
    let it = consume(true);
    if (it.tok === 'doesNotExist') {
      op = '!';
      it = consume(true);
    }
    if (it.tok !== 'identifier') fail(`found '${it.lit}', expected: identifier`);
    const ke = keyError(it.lit, '<nil>');
    if (ke) fail(ke);
    const next = lookahead(true).tok;
    if ((next === 'eos' || next === 'comma') && op !== '!') op = 'exists';
    return { key: it.lit, op };
  };

  const parseOperator = (): LabelOperator => {
    const it = consume(false);
    switch (it.tok) {
      case 'in':
        return 'in';
      case 'equals':
        return '=';
      case 'doubleEquals':
        return '==';
      case 'greaterThan':
        return 'gt';
      case 'lessThan':
        return 'lt';
      case 'notIn':
        return 'notin';
      case 'notEquals':
        return '!=';
      default:
        return fail(`found '${it.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  };

  const parseIdentifiersList = (): Set<string> => {
    const set = new Set<string>();
    for (;;) {
      const it = consume(true);
      if (it.tok === 'identifier') {
        set.add(it.lit);
        const next = lookahead(true);
        if (next.tok === 'comma') continue;
        if (next.tok === 'closedPar') return set;
        fail(`found '${next.lit}', expected: ',' or ')'`);
      } else if (it.tok === 'comma') {
        if (set.size === 0) set.add('');
        const next = lookahead(true).tok;
        if (next === 'closedPar') {
          set.add('');
          return set;
        }
        if (next === 'comma') set.add('');
      } else {
        fail(`found '${it.lit}', expected: ',', or identifier`);
      }
    }
  };

  const parseValues = (): Set<string> => {
    const open = consume(true);
    if (open.tok !== 'openPar') fail(`found '${open.lit}' expected: '('`);
    const first = lookahead(true);
    if (first.tok === 'identifier' || first.tok === 'comma') {
      const set = parseIdentifiersList();
      if (consume(true).tok !== 'closedPar') fail(`found '${first.lit}', expected: ')'`);
      return set;
    }
    if (first.tok === 'closedPar') {
      consume(true);
      return new Set(['']);
    }
    return fail(`found '${first.lit}', expected: ',', ')' or identifier`);
  };

  const parseExactValue = (): Set<string> => {
    const next = lookahead(true).tok;
    if (next === 'eos' || next === 'comma') return new Set(['']);
    const it = consume(true);
    if (it.tok === 'identifier') return new Set([it.lit]);
    return fail(`found '${it.lit}', expected: identifier`);
  };

  const parseRequirement = (): LabelRequirement => {
    const { key, op: inferred } = parseKeyAndInferOperator();
    let op: LabelOperator;
    let values: string[];
    if (inferred === 'exists' || inferred === '!') {
      op = inferred;
      values = [];
    } else {
      op = parseOperator();
      const set = op === 'in' || op === 'notin' ? parseValues() : parseExactValue();
      values = [...set].sort();
    }
    const errs = requirementErrors(key, op, values, 'key', 'values');
    if (errs.length) fail(aggregate(errs));
    return { key, operator: op, values };
  };

  const reqs: LabelRequirement[] = [];
  try {
    for (;;) {
      const it = lookahead(true);
      if (it.tok === 'identifier' || it.tok === 'doesNotExist') {
        try {
          reqs.push(parseRequirement());
        } catch (err) {
          if (err instanceof ParseFailure) throw new ParseFailure(`unable to parse requirement: ${err.message}`);
          throw err;
        }
        const sep = consume(true);
        if (sep.tok === 'eos') break;
        if (sep.tok === 'comma') {
          const next = lookahead(true);
          if (next.tok !== 'identifier' && next.tok !== 'doesNotExist') fail(`found '${next.lit}', expected: identifier after ','`);
          continue;
        }
        fail(`found '${sep.lit}', expected: ',' or 'end of string'`);
      } else if (it.tok === 'eos') {
        break;
      } else {
        fail(`found '${it.lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  } catch (err) {
    if (err instanceof ParseFailure) throw new LabelSelectorError('ERR_LABEL_SELECTOR_PARSE', err.message);
    throw err;
  }
  return makeSelector(reqs);
}

/**
 * metav1.LabelSelectorAsSelector: undefined/null selects nothing, an empty selector everything.
 * Throws LabelSelectorError for bad operators, keys or values.
 */
export function fromLabelSelector(ls: LabelSelector | undefined | null): LabelSelectorValue {
  if (!ls) return nothing;
  const matchLabels = ls.matchLabels ?? {};
  const exprs = ls.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + exprs.length === 0) return everything;
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(matchLabels)) reqs.push(newRequirement(k, '=', [v]));
  for (const expr of exprs) {
    const e = expr ?? { key: '', operator: '' };
    let op: LabelOperator;
    switch (e.operator) {
      case 'In':
        op = 'in';
        break;
      case 'NotIn':
        op = 'notin';
        break;
      case 'Exists':
        op = 'exists';
        break;
      case 'DoesNotExist':
        op = '!';
        break;
      default:
        throw new LabelSelectorError('ERR_LABEL_SELECTOR_INVALID', `${goQuote(e.operator ?? '')} is not a valid label selector operator`);
    }
    reqs.push(newRequirement(e.key ?? '', op, (e.values ?? []).map((v) => v ?? '')));
  }
  return makeSelector(reqs);
}
