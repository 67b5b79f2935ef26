// Where a service chain's endpoints live when they are map elements rather than rules (see builder.ts
// for why). A chain that DNATs gets an id and a capacity C; the id's keys are the integers from
// id * ENDPOINT_SLOTS of the map `endpoints-<proto>-<id mod its protocol's shard count>`:
//  - the exact region, keys base … base+C-1: key base+i is endpoint i for i < N, and keys N … C-1 are absent;
//  - the fill region, keys base+C … base+2C-1: key base+C+j is endpoint j mod N.
// The chain's rules: DNAT_ATTEMPTS times `dnat ip to numgen random mod C offset <base> map @m`, then
// once the same over the fill region. A lookup that misses (a key of the exact region above N) ends its
// rule, so the next one draws again: each attempt is uniform over the N endpoints (rejection sampling),
// and only when all of them miss does the fill region answer. The rules name C, not N, so endpoints may
// come and go as elements alone while N stays within the capacity's range (see `fits`): no rule is
// rewritten, and the kernel does not re-validate the table (what a new DNAT rule costs, builder.ts).
//
// Uniformity: a share (1 - N/C)^4 of new connections misses all four draws and reaches the fill region,
// whose C slots are spread as evenly as they can be over N endpoints (exactly when N divides C). `fits`
// keeps a capacity only while every endpoint's share stays within 1% of 1/N (kube-proxy's numgen vmap
// is exact); a count outside that gets a new capacity, and the rules are rewritten. With C = N + N/4 + 1,
// one endpoint more or fewer fits (but for N = 5).
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

/** Keys per chain id (id × slots fits 32 bits): both regions, so a capacity of at most half of it. */
export const ENDPOINT_SLOTS = 65536;
/** Draws from the exact region before the fill region answers. */
export const DNAT_ATTEMPTS = 4;
/** The most an endpoint's share of new connections may differ from 1/N, relative to it. */
const MAX_SPREAD_ERROR = 0.01;
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
  /** C: the modulus of the chain's rules; the chain spreads over 1 … C endpoints without a rule change. */
  readonly capacity: number;
}

/** The capacity a chain of `n` endpoints gets: room for a quarter more. */
export function capacityFor(n: number): number {
  return n + Math.floor(n / 4) + 1;
}

/** The largest relative difference between an endpoint's share and 1/N, for N = `n` endpoints in rules of capacity `c`. */
export function spreadError(c: number, n: number): number {
  if (c % n === 0) return 0;
  const fallback = (1 - n / c) ** DNAT_ATTEMPTS;
  const few = Math.floor(c / n);
  // An endpoint holds `few` or `few + 1` fill slots; its share is (1 - fallback)/n + fallback * slots/c.
  return (fallback * Math.max(c - n * few, n * (few + 1) - c)) / c;
}

/** Whether `n` endpoints may use rules of capacity `c`. */
export function fits(c: number, n: number): boolean {
  return n >= 1 && n <= c && spreadError(c, n) <= MAX_SPREAD_ERROR;
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
    if (n < 1 || 2 * capacity > ENDPOINT_SLOTS) return undefined;
    const id = cur?.id ?? this.#free.pop() ?? (this.#next < MAX_IDS ? this.#next++ : undefined);
    if (id === undefined) return undefined;
    const s = { id, capacity };
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

/** The map elements of a chain's slots: the exact region, then the fill region. */
export function slotElements(r: SlotRange): Element[] {
  const n = r.ips.length;
  const target = (i: number): string => `${r.ips[i]} . ${typeof r.ports === 'number' ? r.ports : r.ports[i]}`;
  const out: Element[] = [];
  for (let i = 0; i < n; i++) out.push({ set: r.map, key: String(r.base + i), value: target(i), exclusive: true });
  for (let j = 0; j < r.capacity; j++) out.push({ set: r.map, key: String(r.base + r.capacity + j), value: target(j % n), exclusive: true });
  return out;
}
