// Prefix ranges over the key space, shared by the backends.
//
// Keys sort by their UTF-8 bytes in both SQLite (BINARY collation) and etcd, which is the same as
// code-point order. JavaScript's `<` compares UTF-16 code units and disagrees with that order for
// astral characters against U+E000..U+FFFF, so comparisons here go through code points.

/**
 * The smallest key greater than every key that starts with `prefix`, or null when no such key
 * exists (empty prefix, or a prefix made only of U+10FFFF). A key k has the prefix exactly when
 * prefix <= k < prefixEnd(prefix).
 */
export function prefixEnd(prefix: string): string | null {
  const cps = Array.from(prefix, (ch) => ch.codePointAt(0)!);
  while (cps.length > 0) {
    const last = cps.pop()!;
    if (last < 0x10ffff) {
      // Lone surrogates cannot be stored as UTF-8: step over the surrogate block.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return String.fromCodePoint(...cps, next);
    }
  }
  return null;
}

/** Compares two keys in storage order (UTF-8 bytes = code points). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface KeyRange {
  /** Lower bound; inclusive unless `lowerExclusive`. */
  lower: string;
  lowerExclusive: boolean;
  /** Exclusive upper bound; null = unbounded. */
  upper: string | null;
  /** True when the range is known to be empty (startAfter at or past the end of the prefix). */
  empty: boolean;
}

/**
 * The range a list covers: keys under `prefix`, strictly after `startAfter` when given. A
 * `startAfter` before the prefix is ignored and one after it yields an empty range, so a stray
 * continue key can never leak keys outside the prefix.
 */
export function listRange(prefix: string, startAfter?: string): KeyRange {
  const upper = prefixEnd(prefix);
  if (startAfter === undefined || startAfter === '' || compareKeys(startAfter, prefix) < 0) {
    return { lower: prefix, lowerExclusive: false, upper, empty: false };
  }
  const empty = upper !== null && compareKeys(startAfter, upper) >= 0;
  return { lower: startAfter, lowerExclusive: true, upper, empty };
}
