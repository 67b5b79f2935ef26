// A binary heap with keyed access (update and delete by key in O(log n)), for the scheduling queue's
// activeQ (priority, then age) and backoffQ (backoff expiry). Not shared: owned by one queue.

export class KeyedHeap<T> {
  readonly #items: T[] = [];
  readonly #index = new Map<string, number>();
  readonly #key: (t: T) => string;
  readonly #less: (a: T, b: T) => boolean;

  constructor(key: (t: T) => string, less: (a: T, b: T) => boolean) {
    this.#key = key;
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#items[i];
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  /** Inserts, or replaces the item with the same key and restores the order. */
  push(item: T): void {
    const k = this.#key(item);
    const i = this.#index.get(k);
    if (i !== undefined) {
      this.#items[i] = item;
      this.#fix(i);
      return;
    }
    this.#items.push(item);
    this.#index.set(k, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    if (this.#items.length === 0) return undefined;
    return this.#removeAt(0);
  }

  delete(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#removeAt(i);
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  #removeAt(i: number): T {
    const items = this.#items;
    const out = items[i];
    const last = items.pop()!;
    this.#index.delete(this.#key(out));
    if (i < items.length) {
      items[i] = last;
      this.#index.set(this.#key(last), i);
      this.#fix(i);
    }
    return out;
  }

  #fix(i: number): void {
    if (!this.#up(i)) this.#down(i);
  }

  #up(i: number): boolean {
    const items = this.#items;
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(items[i], items[p])) break;
      this.#swap(i, p);
      i = p;
      moved = true;
    }
    return moved;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.#less(items[r], items[l]) ? r : l;
      if (!this.#less(items[c], items[i])) return;
      this.#swap(i, c);
      i = c;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    [items[a], items[b]] = [items[b], items[a]];
    this.#index.set(this.#key(items[a]), a);
    this.#index.set(this.#key(items[b]), b);
  }
}
