// Informer (reflector + cache): list, then watch from the list's resourceVersion, keep a local cache and
// tell handlers what changed. Used by the scheduler (all pods, all nodes), controllers and node agents.
//
// Behaviour, matching client-go's reflector where it matters:
//  - The list is paginated (`limit`/`continue`, default 500 per page) so 150k pods never arrive as one
//    giant body; the watch starts from the first page's resourceVersion (the snapshot the pages share).
//  - The watch asks for bookmarks and a server-side timeout of 5–10 min; when the server ends a watch
//    cleanly the informer re-watches from the last resourceVersion it saw, without re-listing.
//  - 410 Expired/Gone (at watch start or as an ERROR event) → re-list at once and diff against the cache:
//    handlers see adds, updates (only for objects whose resourceVersion changed) and deletes.
//  - A dropped connection or any other failure → back off (800 ms doubling to 30 s, jittered, on the
//    injected Clock), then re-watch from the last resourceVersion. Re-watching rather than re-listing
//    spares the server a 150k-object list per blip; if the version has been compacted meanwhile the
//    server answers 410 and the informer re-lists. A list that fails backs off and is retried.
//  - Handlers run synchronously, in event order, on the informer's loop; a handler that throws is
//    reported to onError and does not stop the informer. Handlers must not block: queue work instead.

import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { Backoff } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { Store, keyOf } from './cache.ts';
import type { IndexFunc, Lister } from './cache.ts';
import type { ApiClient, HasMetadata, ListOptions, ObjectList, WatchOptions } from './client.ts';
import { ApiError, isExpired } from './errors.ts';
import type { ResourceRef } from './resources.ts';
import type { WatchEvent } from './watch.ts';

/** What the informer needs from the API; ApiClient provides it through listWatch(). */
export interface ListerWatcher<T> {
  list(options: ListOptions): Promise<ObjectList<T>>;
  watch(options: WatchOptions): Promise<AsyncIterable<WatchEvent<T>> & { close(): void }>;
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

/** A ListerWatcher for one resource (all namespaces when `namespace` is undefined). */
export function listWatch<T>(client: ApiClient, ref: ResourceRef, namespace?: string, selectors: Selectors = {}): ListerWatcher<T> {
  return {
    list: (o) => client.list<T>(ref, namespace, { ...selectors, ...o }),
    watch: (o) => client.watch<T>(ref, namespace, { ...selectors, ...o }),
  };
}

/**
 * A ListerWatcher whose objects pass through `fn` before the informer caches them (client-go's
 * SetTransform): caches of thousands of objects keep only what their users read.
 */
export function transformListWatch<T>(lw: ListerWatcher<T>, fn: (obj: T) => T): ListerWatcher<T> {
  return {
    async list(o) {
      const l = await lw.list(o);
      return { ...l, items: l.items.map(fn) };
    },
    async watch(o) {
      const w = await lw.watch(o);
      const it: AsyncIterable<WatchEvent<T>> = {
        async *[Symbol.asyncIterator]() {
          for await (const ev of w) yield ev.type === 'ERROR' || ev.type === 'BOOKMARK' ? ev : { type: ev.type, object: fn(ev.object) };
        },
      };
      return Object.assign(it, { close: () => w.close() });
    },
  };
}

export interface EventHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /** Gets the last state: the DELETED event's object, or the cached one when a re-list found it gone. */
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  clock?: Clock;
  /** Page size of lists; 0 lists in one request. Default 500. */
  pageSize?: number;
  backoff?: BackoffOptions;
  indexers?: Record<string, IndexFunc<T>>;
  /** Failures the informer recovers from by itself (reported for logs and tests). */
  onError?: (err: unknown) => void;
  /** Randomness for backoff jitter and watch timeouts. */
  random?: () => number;
}

export class Informer<T extends HasMetadata> {
  readonly store: Lister<T>;
  readonly #store: Store<T>;
  readonly #lw: ListerWatcher<T>;
  readonly #clock: Clock;
  readonly #pageSize: number;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #onError: (err: unknown) => void;
  readonly #handlers = new Set<EventHandler<T>>();
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #watch: { close(): void } | undefined;
  #synced = false;
  #syncWaiters: Array<() => void> = [];
  #rv = '';

  constructor(lw: ListerWatcher<T>, options: InformerOptions<T> = {}) {
    this.#lw = lw;
    this.#store = new Store<T>(options.indexers);
    this.store = this.#store;
    this.#clock = options.clock ?? realClock;
    this.#pageSize = options.pageSize ?? 500;
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff({ random: this.#random, ...options.backoff });
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * Adds a handler; returns its removal. A handler added after objects are cached first gets an onAdd
   * for each of them (as client-go does), so late subscribers see the full state.
   */
  addEventHandler(handler: EventHandler<T>): () => void {
    this.#handlers.add(handler);
    if (handler.onAdd) for (const obj of this.#store.values()) this.#call(() => handler.onAdd!(obj));
    return () => this.#handlers.delete(handler);
  }

  /** Starts the list/watch loop (idempotent while running). */
  start(): void {
    if (this.#loop) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = this.#run(abort.signal).finally(() => {
      if (this.#abort === abort) {
        this.#abort = undefined;
        this.#loop = undefined;
      }
    });
  }

  /** Stops the loop and closes the watch; resolves when the loop has exited. The cache stays readable. */
  async stop(): Promise<void> {
    const loop = this.#loop;
    this.#abort?.abort();
    this.#watch?.close();
    await loop;
  }

  /** True once the first complete list is in the cache and handlers have seen it. */
  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== done);
        reject(signal!.reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(done);
    });
  }

  /** The resourceVersion of the last list, event or bookmark applied. */
  get lastSyncResourceVersion(): string {
    return this.#rv;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#listAndReplace(signal);
          needList = false;
          this.#backoff.reset();
        }
        const outcome = await this.#watchOnce(signal);
        if (outcome === 'expired') needList = true;
        else if (outcome === 'idle') await this.#clock.sleep(this.#backoff.next(), signal);
        else this.#backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        this.#onError(err);
        try {
          await this.#clock.sleep(this.#backoff.next(), signal);
        } catch {
          break;
        }
      }
    }
  }

  async #listAndReplace(signal: AbortSignal): Promise<void> {
    const items = new Map<string, T>();
    let rv: string | undefined;
    let cont: string | undefined;
    do {
      const page = await this.#lw.list({ limit: this.#pageSize > 0 ? this.#pageSize : undefined, continue: cont, signal });
      if (signal.aborted) return;
      rv ??= page.metadata?.resourceVersion;
      for (const item of page.items ?? []) items.set(keyOf(item), item);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    const old = this.#store.replace(items);
    this.#rv = rv ?? '';
    for (const [key, obj] of old) {
      if (!items.has(key)) this.#dispatchDelete(obj);
    }
    for (const [key, obj] of items) {
      const prev = old.get(key);
      if (prev === undefined) this.#dispatchAdd(obj);
      else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#dispatchUpdate(prev, obj);
    }
    if (!this.#synced) {
      this.#synced = true;
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  // 'expired': re-list; 'closed': the server ended a watch that did deliver, re-watch now;
  // 'idle': the server ended it without a single event, re-watch after a backoff so a server that
  // closes watches at once is not hammered.
  async #watchOnce(signal: AbortSignal): Promise<'expired' | 'closed' | 'idle'> {
    let stream: AsyncIterable<WatchEvent<T>> & { close(): void };
    try {
      stream = await this.#lw.watch({
        resourceVersion: this.#rv,
        allowWatchBookmarks: true,
        timeoutSeconds: 300 + Math.floor(this.#random() * 300),
        signal,
      });
    } catch (err) {
      if (isExpired(err)) return 'expired';
      throw err;
    }
    this.#watch = stream;
    let events = 0;
    try {
      for await (const ev of stream) {
        if (ev.type === 'ERROR') {
          if (ev.object.code === 410) return 'expired';
          throw new ApiError(ev.object);
        }
        events++;
        this.#apply(ev);
      }
    } finally {
      stream.close();
      this.#watch = undefined;
    }
    return events > 0 ? 'closed' : 'idle';
  }

  #apply(ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T }): void {
    const rv = ev.object.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.#rv = rv;
      return;
    }
    if (!ev.object.metadata?.name) {
      this.#onError(new TypeError(`watch ${ev.type} event without metadata.name`));
      return;
    }
    const key = keyOf(ev.object);
    if (ev.type === 'DELETED') {
      this.#store.delete(key);
      this.#dispatchDelete(ev.object);
    } else {
      // ADDED for a cached key happens after a re-watch replays history; treat it as an update.
      const prev = this.#store.set(key, ev.object);
      if (prev === undefined) this.#dispatchAdd(ev.object);
      else this.#dispatchUpdate(prev, ev.object);
    }
    if (rv) this.#rv = rv;
  }

  #dispatchAdd(obj: T): void {
    for (const h of this.#handlers) if (h.onAdd) this.#call(() => h.onAdd!(obj));
  }

  #dispatchUpdate(prev: T, obj: T): void {
    for (const h of this.#handlers) if (h.onUpdate) this.#call(() => h.onUpdate!(prev, obj));
  }

  #dispatchDelete(obj: T): void {
    for (const h of this.#handlers) if (h.onDelete) this.#call(() => h.onDelete!(obj));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#onError(err);
    }
  }
}
