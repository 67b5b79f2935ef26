// Per-attempt scratch space shared by the plugins of one scheduling cycle (PreFilter computes, Filter
// reads). One CycleState per attempt; the cycle is synchronous, so no locking. Keys are typed tokens, so
// a plugin reads back exactly the type it wrote.

export interface StateKey<T> {
  readonly name: string;
  /** Phantom: carries T for the type checker only. */
  readonly _type?: T;
}

export function stateKey<T>(name: string): StateKey<T> {
  return { name };
}

export class CycleState {
  readonly #data = new Map<string, unknown>();
  /** Plugins whose PreFilter returned Skip: their Filter is not run in this cycle. */
  readonly skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore returned Skip: their Score is not run in this cycle. */
  readonly skipScorePlugins = new Set<string>();
  /** The Filter plugins left after PreFilter skips (set by the framework once per cycle). */
  activeFilters: readonly unknown[] | undefined;

  write<T>(key: StateKey<T>, value: T): void {
    this.#data.set(key.name, value);
  }

  read<T>(key: StateKey<T>): T | undefined {
    return this.#data.get(key.name) as T | undefined;
  }

  delete(key: StateKey<unknown>): void {
    this.#data.delete(key.name);
  }

  /**
   * A copy for what-if evaluations (preemption dry runs): values with a clone() method (the states that
   * PreFilterExtensions update) are cloned, others are shared and must be treated as immutable.
   */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.#data) c.#data.set(k, isCloneable(v) ? v.clone() : v);
    for (const p of this.skipFilterPlugins) c.skipFilterPlugins.add(p);
    for (const p of this.skipScorePlugins) c.skipScorePlugins.add(p);
    return c;
  }
}

interface Cloneable {
  clone(): unknown;
}

function isCloneable(v: unknown): v is Cloneable {
  return typeof v === 'object' && v !== null && typeof (v as Cloneable).clone === 'function';
}
