// Where a service chain's endpoints live when they are map elements rather than rules (see builder.ts
// for why). A chain that DNATs gets an id; its endpoint i is the element `id * ENDPOINT_SLOTS + i` of
// the map `endpoints-<proto>-<id mod ENDPOINT_MAP_SHARDS>`, and the chain's one DNAT rule reads
// `dnat ip to numgen random mod N offset <id * ENDPOINT_SLOTS> map @endpoints-<proto>-<shard>`.
//
// Why shards: the kernel checks a map element against every rule bound to the map as it is added, so
// one map for 10,000 chains made the first load (100,000 elements × 10,000 bindings) take ~11 s of
// kernel time; 64 maps cut both factors by 64.
//
// The allocator is called by the builder (through the proxier, one sync at a time) and must keep a
// chain's id for as long as the kernel holds the chain: an id that changed would rewrite the rule.

/** Keys per chain: the most endpoints a chain can spread over through its map (id × slots fits 32 bits). */
export const ENDPOINT_SLOTS = 65536;
export const ENDPOINT_MAP_SHARDS = 64;
const MAX_IDS = 65536;

export const ENDPOINT_PROTOS = ['tcp', 'udp', 'sctp'] as const;

export function endpointMap(proto: string, id: number): string {
  return `endpoints-${proto}-${id % ENDPOINT_MAP_SHARDS}`;
}

/** Gives DNAT chains their ids. */
export interface EndpointIds {
  /** The chain's id, the same for as long as the chain lives; undefined when all are taken (the chain then cascades). */
  id(chain: string): number | undefined;
}

export class EndpointIdAllocator implements EndpointIds {
  readonly #ids = new Map<string, number>();
  readonly #free: number[] = [];
  #next = 0;

  id(chain: string): number | undefined {
    let id = this.#ids.get(chain);
    if (id !== undefined) return id;
    id = this.#free.pop() ?? (this.#next < MAX_IDS ? this.#next++ : undefined);
    if (id !== undefined) this.#ids.set(chain, id);
    return id;
  }

  /**
   * Frees the ids of the chains for which `live` is false. Call it after a transaction succeeded:
   * the chains it removed are gone from the kernel with their elements, so their ids may be reused.
   */
  retain(live: (chain: string) => boolean, among: Iterable<string> = [...this.#ids.keys()]): void {
    for (const chain of among) {
      const id = this.#ids.get(chain);
      if (id === undefined || live(chain)) continue;
      this.#ids.delete(chain);
      this.#free.push(id);
    }
  }

  get size(): number {
    return this.#ids.size;
  }
}
