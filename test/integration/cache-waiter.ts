// Waiting on an informer's cache in integration tests: a condition re-checked on every event the
// informer sees (until()'s event-driven form), instead of polling the API server.
import type { ApiClient, HasMetadata } from '../../src/client/client.ts';
import { Informer, listWatch } from '../../src/client/informer.ts';
import type { ResourceRef } from '../../src/client/resources.ts';
import { until } from '../../src/testing/until.ts';

export type CacheWait<T> = (cond: (all: T[]) => boolean, what: string, timeoutMs: number) => Promise<T[]>;

/** Hooks `informer`'s events (call before or after start) and returns its `until`. */
export function cacheWaiter<T extends HasMetadata>(informer: Informer<T>): CacheWait<T> {
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  informer.addEventHandler({ onAdd: poke, onUpdate: poke, onDelete: poke });
  const on = (check: () => void) => (waiters.add(check), () => waiters.delete(check));
  return (cond, what, timeoutMs) =>
    until(what, () => {
      const all = informer.store.list();
      return cond(all) ? all : undefined;
    }, { timeoutMs, on });
}

/** An informer on one resource, started and synced, with its cache's `until` and content. */
export interface Watched<T> {
  informer: Informer<T & HasMetadata>;
  /** Resolves with the cache content once `cond` holds (checked on every event). */
  until(cond: (items: T[]) => boolean, what: string, timeoutMs?: number): Promise<T[]>;
  items(): T[];
}

/** Lists and watches `ref` (in `namespace`, or all), waits for the first list; the caller stops `informer`. */
export async function watchResource<T>(client: ApiClient, ref: ResourceRef, namespace: string | undefined, defaultTimeoutMs: number): Promise<Watched<T>> {
  const informer = new Informer<T & HasMetadata>(listWatch<T & HasMetadata>(client, ref, namespace));
  const wait = cacheWaiter(informer);
  informer.start();
  await informer.waitForSync();
  return { informer, until: (cond, what, timeoutMs = defaultTimeoutMs) => wait(cond, what, timeoutMs), items: () => informer.store.list() };
}
