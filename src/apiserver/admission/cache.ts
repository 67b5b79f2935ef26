// A watched copy of one kind's objects for admission plugins, which must not read storage on every
// request (kube-apiserver's plugins read informers' listers). Filled by a list, kept by a watch from
// the list's revision. A name missing from the copy may be an object created a moment ago: get()
// then reads the store, so a fresh object is never refused.

import type { KubeObject } from '../../api/types.ts';
import type { Store, StoreWatch } from '../../registry/store.ts';

export class WatchedCache<T> {
  readonly #store: Store;
  readonly #items = new Map<string, T>();
  #watch: StoreWatch | undefined;
  #synced = false;
  #stopped = false;

  constructor(store: Store) {
    this.#store = store;
  }

  async start(): Promise<void> {
    const list = await this.#store.list({});
    for (const o of list.items) this.#items.set(keyOf(o), o as unknown as T);
    const watch = await this.#store.watch({
      resourceVersion: list.resourceVersion,
      onEvent: (ev) => {
        if (ev.type === 'DELETED') this.#items.delete(keyOf(ev.object));
        else this.#items.set(keyOf(ev.object), ev.object as unknown as T);
      },
      onError: () => {
        // Only a closing store ends it: lookups read the store from then on.
        this.#synced = false;
        this.#items.clear();
      },
    });
    if (this.#stopped) return watch.close();
    this.#watch = watch;
    this.#synced = true;
  }

  stop(): void {
    this.#stopped = true;
    this.#synced = false;
    this.#watch?.close();
  }

  /** The object, from the copy, or from the store when the copy does not have it. */
  async get(namespace: string | undefined, name: string): Promise<T | null> {
    const hit = this.#synced ? this.#items.get(`${namespace ?? ''}/${name}`) : undefined;
    if (hit) return hit;
    return (await this.#store.tryGet(namespace, name)) as unknown as T | null;
  }

  /** Every object of the copy (empty until started). */
  values(): IterableIterator<T> {
    return this.#items.values();
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
