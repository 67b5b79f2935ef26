// Sets of field paths in Kubernetes' FieldsV1 notation (metadata.managedFields[].fieldsV1), as
// structured-merge-diff writes them: `f:<field>` for a field or map key, `k:{"name":"nginx"}` for
// an item of a keyed list, `v:"value"` for an item of a set-like primitive list; a path that is
// owned and also has owned children carries a `".": {}` member; an owned leaf is `{}`.
//
// A path is a list of those element strings. Used by apply.ts; pure.

import { MAX_DEPTH, getOwn, isObject, setOwn, type JsonObject } from './json.ts';

export type FieldPath = readonly string[];

interface Node {
  owned: boolean;
  children: Map<string, Node>;
}

export class FieldSet {
  readonly #paths = new Map<string, FieldPath>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.add(p);
    return s;
  }

  add(path: FieldPath): void {
    this.#paths.set(JSON.stringify(path), path);
  }

  has(path: FieldPath): boolean {
    return this.#paths.has(JSON.stringify(path));
  }

  delete(path: FieldPath): void {
    this.#paths.delete(JSON.stringify(path));
  }

  get size(): number {
    return this.#paths.size;
  }

  [Symbol.iterator](): IterableIterator<FieldPath> {
    return this.#paths.values();
  }

  /** Paths of this set that `other` lacks. */
  difference(other: FieldSet): FieldPath[] {
    return [...this].filter((p) => !other.has(p));
  }

  /** Every proper prefix of every path: "something below this path is owned". */
  prefixes(): Set<string> {
    const out = new Set<string>();
    for (const p of this) for (let i = 1; i < p.length; i++) out.add(JSON.stringify(p.slice(0, i)));
    return out;
  }

  toFieldsV1(): JsonObject {
    const root: Node = { owned: false, children: new Map() };
    for (const p of this) {
      let n = root;
      for (const el of p) {
        let c = n.children.get(el);
        if (!c) {
          c = { owned: false, children: new Map() };
          n.children.set(el, c);
        }
        n = c;
      }
      n.owned = true;
    }
    return serialize(root);
  }

  /** Reads a fieldsV1 value; malformed parts are skipped (it is stored data, not a request). */
  static fromFieldsV1(v: unknown): FieldSet {
    const s = new FieldSet();
    walk(v, [], s, 0);
    return s;
  }
}

function serialize(n: Node): JsonObject {
  const out: JsonObject = {};
  if (n.owned && n.children.size > 0) out['.'] = {};
  for (const k of [...n.children.keys()].sort()) setOwn(out, k, serialize(n.children.get(k) as Node));
  return out;
}

function walk(v: unknown, prefix: string[], out: FieldSet, depth: number): void {
  if (!isObject(v) || depth > MAX_DEPTH) return;
  for (const k of Object.keys(v)) {
    if (k === '.') {
      if (prefix.length > 0) out.add(prefix);
      continue;
    }
    const c = getOwn(v, k);
    if (!isObject(c)) continue;
    const p = [...prefix, k];
    if (Object.keys(c).length === 0) out.add(p);
    else walk(c, p, out, depth + 1);
  }
}

/** structured-merge-diff's rendering of a path in conflict messages: `.spec.containers[name="nginx"].image`. */
export function pathString(path: FieldPath): string {
  let s = '';
  for (const el of path) {
    const body = el.slice(2);
    if (el.startsWith('f:')) s += `.${body}`;
    else if (el.startsWith('k:')) {
      try {
        const key = JSON.parse(body) as unknown;
        s += isObject(key) ? `[${Object.keys(key).map((k) => `${k}=${JSON.stringify(key[k])}`).join(',')}]` : `[${body}]`;
      } catch {
        s += `[${body}]`;
      }
    } else if (el.startsWith('v:')) s += `[=${body}]`;
    else if (el.startsWith('i:')) s += `[${body}]`;
    else s += `.${el}`;
  }
  return s;
}
