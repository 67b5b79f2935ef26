// The informer's local cache: objects by `namespace/name` (or `name` when cluster-scoped), with optional
// secondary indexes (e.g. pods by spec.nodeName for the scheduler, by namespace for controllers).
// Sized for the scheduler's 150k pods: every operation is O(1) or O(index bucket), nothing scans.
//
// Written only by its informer, from one async loop; read by anyone through the Lister view. Readers
// get the cached objects themselves: treat them as immutable (copy before changing), as in client-go.

import type { HasMetadata } from './client.ts';

/** Read-only view of a cache, handed to components. */
export interface Lister<T> {
  get(namespace: string | undefined, name: string): T | undefined;
  getByKey(key: string): T | undefined;
  list(): T[];
  keys(): IterableIterator<string>;
  values(): IterableIterator<T>;
  /** Objects whose index function returned `value`; [] for an unknown index or value. */
  byIndex(index: string, value: string): T[];
  readonly size: number;
}

export type IndexFunc<T> = (obj: T) => string[];

export function keyOf(obj: HasMetadata): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

export function keyFor(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export const byNamespace: IndexFunc<HasMetadata> = (obj) => [obj.metadata?.namespace ?? ''];

export class Store<T extends HasMetadata> implements Lister<T> {
  #items = new Map<string, T>();
  readonly #indexers: Map<string, IndexFunc<T>>;
  // index name → value → keys
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.#indexers = new Map(Object.entries(indexers));
    for (const name of this.#indexers.keys()) this.#indexes.set(name, new Map());
  }

  get size(): number {
    return this.#items.size;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#items.get(keyFor(namespace, name));
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): IterableIterator<string> {
    return this.#items.keys();
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.#indexes.get(index)?.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.#items.get(k);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  /** Inserts or replaces; returns the previous object. */
  set(key: string, obj: T): T | undefined {
    const old = this.#items.get(key);
    if (old !== undefined) this.#unindex(key, old);
    this.#items.set(key, obj);
    this.#index(key, obj);
    return old;
  }

  /** Removes; returns the removed object. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  /** Swaps in a complete new content (after a list); returns the previous content. */
  replace(items: Map<string, T>): Map<string, T> {
    const old = this.#items;
    this.#items = items;
    for (const idx of this.#indexes.values()) idx.clear();
    if (this.#indexers.size > 0) for (const [k, obj] of items) this.#index(k, obj);
    return old;
  }

  #index(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        let set = idx.get(v);
        if (!set) idx.set(v, (set = new Set()));
        set.add(key);
      }
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        const set = idx.get(v);
        if (!set) continue;
        set.delete(key);
        if (set.size === 0) idx.delete(v);
      }
    }
  }
}
