// Our keys on etcd's byte key space, under a cluster prefix ("/tinykube-a" + "/registry/pods/...")
// so several tinykube clusters can share one etcd without seeing each other.
//
// Callers: EtcdBackend and its watchers, from any request; pure.
//
// etcd ranges are [key, range_end) over raw bytes; keys sort by UTF-8 bytes there, which is
// code-point order, the order src/storage/keyrange.ts reasons in, so its listRange decides which
// part of a prefix a page covers and this file only turns that into bytes.

import { listRange } from '../keyrange.ts';

export interface ByteRange {
  key: Buffer;
  /** etcd's range_end: exclusive upper bound; [0] means "to the end of the key space". */
  rangeEnd: Buffer;
}

const ZERO = Buffer.from([0]);

/**
 * etcd's prefix range end: the bytes after every key that starts with `prefix` (the last byte
 * below 0xff incremented, what follows it dropped). A prefix of only 0xff bytes (or none) has no
 * such bound: [0] asks etcd for everything from the start key on.
 */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return ZERO;
}

export class EtcdKeys {
  /** The cluster prefix every stored key starts with ("" keeps keys as they are). */
  readonly prefix: string;
  readonly #prefixBytes: Buffer;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.#prefixBytes = Buffer.from(prefix, 'utf8');
  }

  encode(key: string): Buffer {
    return Buffer.from(this.prefix + key, 'utf8');
  }

  /** The key as callers know it, from a stored key (which always carries the prefix: ranges never leave it). */
  decode(stored: Buffer): string {
    return stored.subarray(this.#prefixBytes.length).toString('utf8');
  }

  /**
   * The stored range holding the keys under `prefix`, strictly after `startAfter` when given; null
   * when that is empty. A `startAfter` outside the prefix never widens the range (see listRange).
   */
  range(prefix: string, startAfter?: string): ByteRange | null {
    const r = listRange(prefix, startAfter);
    if (r.empty) return null;
    const whole = this.encode(prefix);
    if (whole.length === 0) return { key: ZERO, rangeEnd: ZERO };
    const lower = this.encode(r.lower);
    // The smallest key after `lower` is `lower` + NUL.
    return { key: r.lowerExclusive ? Buffer.concat([lower, ZERO]) : lower, rangeEnd: prefixRangeEnd(whole) };
  }
}
