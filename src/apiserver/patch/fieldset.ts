// Sets of field paths in Kubernetes' FieldsV1 notation (metadata.managedFields[].fieldsV1), as
// structured-merge-diff writes them: `f:<field>` for a field or map key, `k:{"name":"nginx"}` for
// an item of a keyed list, `v:"value"` for an item of a set-like primitive list; a path that is
// owned and also has owned children carries a `".": {}` member; an owned leaf is `{}`.
//
// A path is a list of those element strings. Used by apply.ts; pure.

import { MAX_DEPTH, getOwn, isObject, setOwn, type JsonObject } from './json.ts';

export type FieldPath = readonly string[];

/** One path element's node: `owned` when the path ending here is in the set. */
export class FieldNode {
  owned = false;
  readonly children = new Map<string, FieldNode>();

  /** The child for a path element, created when missing. */
  child(el: string): FieldNode {
    let c = this.children.get(el);
    if (!c) {
      c = new FieldNode();
      this.children.set(el, c);
    }
    return c;
  }

  /** Whether this node or any below it is owned. */
  anyOwned(): boolean {
    const stack: FieldNode[] = [this];
    while (stack.length > 0) {
      const n = stack.pop() as FieldNode;
      if (n.owned) return true;
      for (const c of n.children.values()) stack.push(c);
    }
    return false;
  }
}

/** A set of field paths, stored as a trie so long lists of items cost one node per element. */
export class FieldSet {
  readonly root = new FieldNode();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.add(p);
    return s;
  }

  add(path: FieldPath): void {
    let n = this.root;
    for (const el of path) n = n.child(el);
    n.owned = true;
  }

  #find(path: FieldPath): FieldNode | undefined {
    let n: FieldNode | undefined = this.root;
    for (const el of path) {
      n = n.children.get(el);
      if (!n) return undefined;
    }
    return n;
  }

  has(path: FieldPath): boolean {
    return this.#find(path)?.owned === true;
  }

  delete(path: FieldPath): void {
    const n = this.#find(path);
    if (n) n.owned = false;
  }

  /** The path or something below it is in the set. */
  ownsAtOrBelow(path: FieldPath): boolean {
    return this.#find(path)?.anyOwned() === true;
  }

  isEmpty(): boolean {
    return !this.root.anyOwned();
  }

  get size(): number {
    let count = 0;
    for (const _ of this) count++;
    return count;
  }

  *[Symbol.iterator](): IterableIterator<FieldPath> {
    const stack: Array<[FieldNode, string[]]> = [[this.root, []]];
    while (stack.length > 0) {
      const [n, path] = stack.pop() as [FieldNode, string[]];
      if (n.owned && path.length > 0) yield path;
      for (const [el, c] of [...n.children].reverse()) stack.push([c, [...path, el]]);
    }
  }

  /** Paths of this set that `other` lacks (walks both tries together). */
  difference(other: FieldSet): FieldPath[] {
    const out: FieldPath[] = [];
    const stack: Array<[FieldNode, FieldNode | undefined, string[]]> = [[this.root, other.root, []]];
    while (stack.length > 0) {
      const [n, o, path] = stack.pop() as [FieldNode, FieldNode | undefined, string[]];
      if (n.owned && path.length > 0 && !o?.owned) out.push(path);
      for (const [el, c] of n.children) stack.push([c, o?.children.get(el), [...path, el]]);
    }
    return out;
  }

  toFieldsV1(): JsonObject {
    return serialize(this.root) ?? {};
  }

  /** Reads a fieldsV1 value; malformed parts are skipped (it is stored data, not a request). */
  static fromFieldsV1(v: unknown): FieldSet {
    const s = new FieldSet();
    walk(v, s.root, true, 0);
    return s;
  }
}

/** FieldsV1 of a node; undefined when nothing at or below it is owned. */
function serialize(n: FieldNode): JsonObject | undefined {
  const out: JsonObject = {};
  let children = 0;
  for (const k of [...n.children.keys()].sort()) {
    const c = serialize(n.children.get(k) as FieldNode);
    if (c !== undefined) {
      setOwn(out, k, c);
      children++;
    }
  }
  if (children === 0) return n.owned ? {} : undefined;
  if (n.owned) return { '.': {}, ...out };
  return out;
}

function walk(v: unknown, node: FieldNode, isRoot: boolean, depth: number): void {
  if (!isObject(v) || depth > MAX_DEPTH) return;
  const keys = Object.keys(v);
  if (keys.length === 0) {
    if (!isRoot) node.owned = true;
    return;
  }
  for (const k of keys) {
    if (k === '.') {
      if (!isRoot) node.owned = true;
      continue;
    }
    const c = getOwn(v, k);
    if (isObject(c)) walk(c, node.child(k), false, depth + 1);
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
