// Waiting on an informer's cache in integration tests: a condition re-checked on every event the
// informer sees, instead of polling the API server.
import type { Informer } from '../../src/client/informer.ts';
import type { HasMetadata } from '../../src/client/client.ts';

export type CacheWait<T> = (cond: (all: T[]) => boolean, what: string, timeoutMs: number) => Promise<T[]>;

/** Hooks `informer`'s events (call before or after start) and returns its `until`. */
export function cacheWaiter<T extends HasMetadata>(informer: Informer<T>): CacheWait<T> {
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  informer.addEventHandler({ onAdd: poke, onUpdate: poke, onDelete: poke });
  return (cond, what, timeoutMs) =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const all = informer.store.list();
        if (!cond(all)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(all);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
}
