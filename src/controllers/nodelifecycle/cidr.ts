// Pod CIDR allocation: each node gets one subnet (/24 by default) of the cluster CIDR (10.244.0.0/16 by
// default), the lowest one free. Nothing is persisted here: the used set is rebuilt from the nodes'
// spec.podCIDRs (the informer replays every node at start), so allocations survive restarts.
// Subnets outside the cluster CIDR (set by hand, or picked by an agent from another range) are ignored.
// IPv4 only, as tinykube's CNI setup is.
//
// Owned by the node lifecycle controller; synchronous, so concurrent workers cannot hand out one
// subnet twice (next() reserves before the write that records it).

export class CidrError extends Error {
  readonly code = 'ERR_CIDR';
  constructor(message: string) {
    super(message);
    this.name = 'CidrError';
  }
}

export function parseIPv4Cidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new CidrError(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new CidrError(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (addr & mask) >>> 0, prefix };
}

function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export class CidrAllocator {
  readonly #base: number;
  readonly #prefix: number;
  readonly #maskSize: number;
  readonly #count: number;
  // subnet index → nodes claiming it; node → its subnet indexes
  readonly #owners = new Map<number, Set<string>>();
  readonly #byNode = new Map<string, Set<number>>();

  constructor(clusterCidr: string, nodeMaskSize = 24) {
    const { base, prefix } = parseIPv4Cidr(clusterCidr);
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < prefix || nodeMaskSize > 30) {
      throw new CidrError(`node CIDR mask size ${nodeMaskSize} does not fit cluster CIDR ${clusterCidr}`);
    }
    // More than 2^16 subnets would make the linear scan slow and is far beyond any cluster we run.
    if (nodeMaskSize - prefix > 16) throw new CidrError(`cluster CIDR ${clusterCidr} holds too many /${nodeMaskSize} subnets`);
    this.#base = base;
    this.#prefix = prefix;
    this.#maskSize = nodeMaskSize;
    this.#count = 2 ** (nodeMaskSize - prefix);
  }

  /** Index of `cidr` among the node subnets, or undefined when it is not one of them. */
  #index(cidr: string): number | undefined {
    let parsed;
    try {
      parsed = parseIPv4Cidr(cidr);
    } catch {
      return undefined;
    }
    if (parsed.prefix !== this.#maskSize) return undefined;
    const offset = parsed.base - this.#base;
    if (offset < 0) return undefined;
    const i = offset / 2 ** (32 - this.#maskSize);
    return Number.isInteger(i) && i < this.#count ? i : undefined;
  }

  /** Records the subnets `node` holds now (replacing what it held; outside subnets are ignored). */
  setNode(node: string, cidrs: readonly string[]): void {
    this.removeNode(node);
    const held = new Set<number>();
    for (const c of cidrs) {
      const i = this.#index(c);
      if (i === undefined) continue;
      held.add(i);
      let owners = this.#owners.get(i);
      if (!owners) this.#owners.set(i, (owners = new Set()));
      owners.add(node);
    }
    if (held.size) this.#byNode.set(node, held);
  }

  /** Frees what `node` held (a subnet another node also claims stays used). */
  removeNode(node: string): void {
    for (const i of this.#byNode.get(node) ?? []) {
      const owners = this.#owners.get(i);
      owners?.delete(node);
      if (owners?.size === 0) this.#owners.delete(i);
    }
    this.#byNode.delete(node);
  }

  /** Reserves the lowest free subnet for `node`, or undefined when the range is exhausted. */
  next(node: string): string | undefined {
    for (let i = 0; i < this.#count; i++) {
      if (this.#owners.has(i)) continue;
      const cidr = `${formatIPv4((this.#base + i * 2 ** (32 - this.#maskSize)) >>> 0)}/${this.#maskSize}`;
      this.setNode(node, [cidr]);
      return cidr;
    }
    return undefined;
  }

  get used(): number {
    return this.#owners.size;
  }

  get capacity(): number {
    return this.#count;
  }

  get clusterPrefix(): number {
    return this.#prefix;
  }
}
