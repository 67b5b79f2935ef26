// JSON value helpers shared by every patch kind. Patches are attacker-controlled, so nothing here
// recurses on input depth (clone, equality, depth and size measures use explicit stacks), and keys
// are written with own-property semantics so a `"__proto__"` key stays data, never a prototype.

export type JsonObject = Record<string, unknown>;

/**
 * Deepest nesting any patch input or result may have. Real objects nest ~15 levels; the bound keeps
 * the recursive merges far from the stack limit (V8's JSON.parse itself fails near 5,000 levels).
 */
export const MAX_DEPTH = 1000;

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Own property or undefined: `o.__proto__`/`o.constructor` must not leak from the prototype. */
export function getOwn(o: JsonObject, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

export function setOwn(o: JsonObject, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' (JSON kinds). */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Deep copy of a JSON value (iterative). */
export function deepClone(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const root = emptyLike(v);
  const stack: Array<[object, object]> = [[v, root]];
  while (stack.length > 0) {
    const [src, dst] = stack.pop() as [object, object];
    if (Array.isArray(src)) {
      const out = dst as unknown[];
      for (let i = 0; i < src.length; i++) {
        const c: unknown = src[i];
        if (c !== null && typeof c === 'object') {
          const d = emptyLike(c);
          out[i] = d;
          stack.push([c, d]);
        } else out[i] = c;
      }
    } else {
      const s = src as JsonObject;
      const out = dst as JsonObject;
      for (const k of Object.keys(s)) {
        const c = s[k];
        if (c !== null && typeof c === 'object') {
          const d = emptyLike(c);
          setOwn(out, k, d);
          stack.push([c, d]);
        } else setOwn(out, k, c);
      }
    }
  }
  return root;
}

function emptyLike(v: object): object {
  return Array.isArray(v) ? new Array<unknown>(v.length) : {};
}

/** Structural equality of JSON values: object key order is irrelevant, array order is not (iterative). */
export function deepEqual(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop() as [unknown, unknown];
    if (x === y) continue;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x)) {
      const ya = y as unknown[];
      if (x.length !== ya.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], ya[i]]);
    } else {
      const xo = x as JsonObject;
      const yo = y as JsonObject;
      const xk = Object.keys(xo);
      if (xk.length !== Object.keys(yo).length) return false;
      for (const k of xk) {
        if (!Object.hasOwn(yo, k)) return false;
        stack.push([xo[k], yo[k]]);
      }
    }
  }
  return true;
}

/** True when `v` nests deeper than `limit` containers (a scalar has depth 0, `{}` depth 1). Iterative, stops early. */
export function deeperThan(v: unknown, limit: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  const stack: Array<[unknown, number]> = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop() as [unknown, number];
    if (x === null || typeof x !== 'object') continue;
    if (d > limit) return true;
    const children = Array.isArray(x) ? x : Object.values(x as JsonObject);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

/** Approximate serialized size in bytes, counting no further than `limit` (returns > limit then). */
export function sizeUpTo(v: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0 && total <= limit) {
    const x = stack.pop();
    if (x === null || typeof x === 'boolean') total += 5;
    else if (typeof x === 'number') total += 8;
    else if (typeof x === 'string') total += x.length + 2;
    else if (Array.isArray(x)) {
      total += 2 + x.length;
      for (const c of x) stack.push(c);
    } else if (typeof x === 'object') {
      const o = x as JsonObject;
      total += 2;
      for (const k of Object.keys(o)) {
        total += k.length + 4;
        stack.push(o[k]);
      }
    }
  }
  return total;
}

/**
 * Go's `%v` rendering of a decoded JSON value (`map[name:nginx]`, `[a b]`), which the apiserver's
 * patch error messages embed. Truncated: it is only for messages.
 */
export function goFormat(v: unknown, depth = 0): string {
  if (depth > 8) return '...';
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.slice(0, 20).map((x) => goFormat(x, depth + 1)).join(' ')}${v.length > 20 ? ' ...' : ''}]`;
  if (typeof v === 'object') {
    const o = v as JsonObject;
    const keys = Object.keys(o).sort();
    return `map[${keys.slice(0, 20).map((k) => `${k}:${goFormat(o[k], depth + 1)}`).join(' ')}${keys.length > 20 ? ' ...' : ''}]`;
  }
  const s = String(v);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

/** Go's type name for a decoded JSON value, as encoding/json names it in "cannot unmarshal X into ..." errors. */
export function goJsonTypeName(v: unknown): string {
  switch (jsonKind(v)) {
    case 'object':
      return 'object';
    case 'array':
      return 'array';
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'null';
  }
}
