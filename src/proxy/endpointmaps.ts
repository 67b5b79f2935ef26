// Where a service chain's endpoints live when they are map elements rather than rules (see builder.ts
// for why). A chain that DNATs gets an id and a capacity C; its keys are the integers base … base+C-1,
// base = id * ENDPOINT_SLOTS, of the map `endpoints-<proto>-<id mod its protocol's shard count>`: key
// base+i is endpoint i for i < N, keys base+N … base+C-1 are absent. The chain's rules:
//  - DNAT_ATTEMPTS times `dnat ip to numgen random mod C offset <base> map @m`: a lookup that misses (an
//    absent key) ends its rule, so the next one draws again, and each draw that lands is uniform over
//    the N endpoints (rejection sampling);
//  - then once `dnat ip to numgen random mod M offset <base> map @m`, M = fallbackSlots(C) ≤ N, which
//    always lands: the rare connection whose draws all missed goes to one of the first M endpoints.
// The rules name C and M, not N, so endpoints may come and go as elements alone while N stays within
// [M, C] (`fits`): no rule is rewritten, and the kernel does not re-validate the table (what a new DNAT
// rule costs, builder.ts). A count outside it gets a new capacity, and the rules are rewritten.
//
// Uniformity: a share (1 - N/C)^4 of new connections misses all four draws; M is the least N for which
// that share is at most 1%, so no endpoint's share differs from 1/N by more than 1% of it (the first M
// get a little more, the others that much less; kube-proxy's numgen vmap is exact). With C = N + N/4 +
// 1, one endpoint fewer or more keeps the rules from 9 endpoints on. (A first version spread the misses
// over a second region of C keys, j → endpoint j mod N: 23 elements a Service instead of 10 made a full
// sync of 10,000 Services take 6.4 s of nft instead of 4.8 s.)
//
// Why shards: the kernel checks a map element against every rule bound to the map as it is added (or
// bound), so one map for 10,000 chains made the first load (100,000 elements × 10,000 bindings) take
// ~11 s of kernel time; S maps cut both factors by S. With five rules and 23 elements a chain, 64 maps
// made a full sync of 10,000 Services take 10 s and a refresh 24 s (load average 5); 512 maps bring
// the element × binding checks back to about what one rule and 10 elements over 64 maps cost. More maps
// make every transaction slower instead: nft lists every set of the table to fill its cache (2,048
// maps: an element change 35 ms instead of 13 ms; measured with a 10,000-chain table, load 4). UDP and
// SCTP Services are few, and get fewer maps. (One family of maps for all protocols, typed `th dport`,
// is accepted by nft 1.0.6 but then cannot be read back: it fails on its own table's rules.)
//
// The allocator is called by the builder (through the proxier, one sync at a time) and must keep a
// chain's id and capacity for as long as the kernel holds the chain: a change of either rewrites the rules.

/** Keys per chain id (id × slots fits 32 bits): the most endpoints a chain's map slots hold. */
export const ENDPOINT_SLOTS = 65536;
/** Draws over the capacity before the fallback rule. */
export const DNAT_ATTEMPTS = 4;
/** The most an endpoint's share of new connections may differ from 1/N, relative to it. */
const MAX_SPREAD_ERROR = 0.01;
/** The largest share of empty slots for which all DNAT_ATTEMPTS draws miss at most MAX_SPREAD_ERROR of the time. */
const MAX_EMPTY = MAX_SPREAD_ERROR ** (1 / DNAT_ATTEMPTS);
/** Maps per protocol. */
export const ENDPOINT_MAP_SHARDS: Readonly<Record<string, number>> = { tcp: 512, udp: 64, sctp: 16 };
const MAX_IDS = 65536;

import type { Element, SlotRange } from './model.ts';

// The names, made once: 20,000 chains' slots refer to these strings rather than each to a copy.
const MAP_NAMES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(ENDPOINT_MAP_SHARDS).map(([proto, n]) => [proto, Array.from({ length: n }, (_, i) => `endpoints-${proto}-${i}`)]),
);

export function endpointMap(proto: string, id: number): string {
  return MAP_NAMES[proto][id % ENDPOINT_MAP_SHARDS[proto]];
}

/** A chain's keys in its endpoint map. */
export interface Slots {
  readonly id: number;
  /** C: the modulus of the chain's draws. */
  readonly capacity: number;
  /** M: the modulus of its fallback rule; the chain spreads over M … C endpoints without a rule change. */
  readonly fallback: number;
}

/** M for capacity C: the fewest endpoints whose empty slots leave at most 1% of connections to the fallback rule. */
export function fallbackSlots(c: number): number {
  return Math.max(1, Math.ceil(c * (1 - MAX_EMPTY) - 1e-9));
}

/** The largest relative difference between an endpoint's share of new connections and 1/N, for N = `n` endpoints in rules of capacity `c`. */
export function spreadError(c: number, n: number): number {
  if (n >= c) return 0;
  const missed = (1 - n / c) ** DNAT_ATTEMPTS;
  const m = fallbackSlots(c);
  // The first m endpoints get (1 - missed)/n + missed/m each, the others (1 - missed)/n.
  return missed * Math.max(n / m - 1, 1);
}

/** Whether `n` endpoints may use rules of capacity `c` (the fallback rule needs its M endpoints). */
export function fits(c: number, n: number): boolean {
  return n >= fallbackSlots(c) && n <= c && spreadError(c, n) <= MAX_SPREAD_ERROR;
}

/** The capacity a chain of `n` endpoints gets: room for a quarter more, as long as one fewer still fits. */
export function capacityFor(n: number): number {
  for (let c = n + Math.floor(n / 4) + 1; c > n; c--) if (fits(c, n) && fits(c, Math.max(1, n - 1))) return c;
  return n;
}

/** Gives DNAT chains their ids and capacities. */
export interface EndpointIds {
  /**
   * The chain's slots for `n` endpoints: the same id for as long as the chain lives, the same capacity
   * while `n` fits it. Undefined when every id is taken or `n` is too large (the chain then cascades).
   */
  slots(chain: string, n: number): Slots | undefined;
}

export class EndpointIdAllocator implements EndpointIds {
  readonly #slots = new Map<string, Slots>();
  readonly #free: number[] = [];
  #next = 0;

  slots(chain: string, n: number): Slots | undefined {
    const cur = this.#slots.get(chain);
    if (cur && fits(cur.capacity, n)) return cur;
    const capacity = capacityFor(n);
    if (n < 1 || capacity > ENDPOINT_SLOTS) return undefined;
    const id = cur?.id ?? this.#free.pop() ?? (this.#next < MAX_IDS ? this.#next++ : undefined);
    if (id === undefined) return undefined;
    const s = { id, capacity, fallback: fallbackSlots(capacity) };
    this.#slots.set(chain, s);
    return s;
  }

  /**
   * Frees the ids of the chains for which `live` is false. Call it after a transaction succeeded:
   * the chains it removed are gone from the kernel with their elements, so their ids may be reused.
   */
  retain(live: (chain: string) => boolean, among: Iterable<string> = [...this.#slots.keys()]): void {
    for (const chain of among) {
      const s = this.#slots.get(chain);
      if (s === undefined || live(chain)) continue;
      this.#slots.delete(chain);
      this.#free.push(s.id);
    }
  }

  get size(): number {
    return this.#slots.size;
  }
}

/** The map elements of a chain's slots: endpoint i at key base + i. */
export function slotElements(r: SlotRange): Element[] {
  const out: Element[] = [];
  for (let i = 0; i < r.ips.length; i++) out.push({ set: r.map, key: String(r.base + i), value: `${r.ips[i]} . ${typeof r.ports === 'number' ? r.ports : r.ports[i]}`, exclusive: true });
  return out;
}
