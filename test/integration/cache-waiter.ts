// Waiting on an informer's cache in integration tests: a condition re-checked on every event the
// informer sees (until()'s event-driven form), instead of polling the API server.
import type { Informer } from '../../src/client/informer.ts';
import type { HasMetadata } from '../../src/client/client.ts';
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
