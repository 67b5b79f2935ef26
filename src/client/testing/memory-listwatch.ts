// A ListerWatcher over a map, for unit tests of components built on Informers without an API server:
// set()/remove() reach open watches as events, and a watch replays the events after the
// resourceVersion it asks for. Test-only.
import type { HasMetadata, ObjectList, WatchOptions } from '../client.ts';
import type { ListerWatcher } from '../informer.ts';
import type { WatchEvent } from '../watch.ts';

export class MemoryListerWatcher<T extends HasMetadata> implements ListerWatcher<T> {
  readonly #items = new Map<string, T>();
  readonly #log: WatchEvent<T>[] = [];
  readonly #watchers = new Set<(ev: WatchEvent<T> | undefined) => void>();
  #rv = 1;
  /** Lists wait for this (a cache that has not synced yet). */
  gate: Promise<void> = Promise.resolve();

  static key(obj: HasMetadata): string {
    return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  }

  set(obj: T): T {
    const o = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } } as T;
    const key = MemoryListerWatcher.key(o);
    const type = this.#items.has(key) ? 'MODIFIED' : 'ADDED';
    this.#items.set(key, o);
    this.#emit({ type, object: o });
    return o;
  }

  get(obj: HasMetadata): T | undefined {
    return this.#items.get(MemoryListerWatcher.key(obj));
  }

  remove(obj: HasMetadata): void {
    const key = MemoryListerWatcher.key(obj);
    const cur = this.#items.get(key);
    if (!cur) return;
    this.#items.delete(key);
    this.#emit({ type: 'DELETED', object: { ...cur, metadata: { ...cur.metadata, resourceVersion: String(++this.#rv) } } as T });
  }

  #emit(ev: WatchEvent<T>): void {
    this.#log.push(ev);
    for (const w of this.#watchers) w(ev);
  }

  async list(): Promise<ObjectList<T>> {
    await this.gate;
    return { items: [...this.#items.values()], metadata: { resourceVersion: String(this.#rv) } };
  }

  async watch(o: WatchOptions): Promise<AsyncIterable<WatchEvent<T>> & { close(): void }> {
    const from = Number(o.resourceVersion ?? 0);
    const buffered: (WatchEvent<T> | undefined)[] = this.#log.filter((ev) => Number(ev.object.metadata?.resourceVersion) > from);
    let wake: (() => void) | undefined;
    const push = (ev: WatchEvent<T> | undefined): void => {
      buffered.push(ev);
      wake?.();
    };
    this.#watchers.add(push);
    const watchers = this.#watchers;
    return {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (buffered.length === 0) await new Promise<void>((r) => (wake = r));
          const ev = buffered.shift();
          if (!ev) return;
          yield ev;
        }
      },
      close() {
        watchers.delete(push);
        push(undefined);
      },
    };
  }
}
