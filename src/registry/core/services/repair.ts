// The repair pass of the Service allocators (kube-apiserver's ipallocator and portallocator repair
// controllers): claims are compared with the stored Services. A Service whose address or node port
// has no claim gets it back (a database restored from a backup, a claim deleted by hand); a claim no
// Service holds (an API server that died between claiming and storing) is deleted once it is older
// than a write can take, so a create in flight is never robbed. Two Services holding one address are
// reported, not changed, as Kubernetes does.
//
// Runs in the API server at start and then every few minutes (kube's repair interval is 3 minutes).
// Several API servers may run it at once on one store: every change is a create-if-absent or a
// delete at the revision read.

import type { Backend } from '../../../storage/backend.ts';
import type { ServiceRanges } from '../../../api/network.ts';
import type { Service } from '../../../api/types.ts';
import type { Clock, Timer } from '../../../util/clock.ts';
import { clusterIPOf, nodePortsOf, ownerOf, sameOwner, ServiceAllocator, type Claim, type ClaimOwner, type ClaimPool } from './allocator.ts';

/** How old a claim without a Service must be before it is freed: longer than any write takes. */
export const ORPHAN_GRACE_MS = 60_000;
/** kube-apiserver repairs its Service allocators every 3 minutes. */
export const REPAIR_INTERVAL_MS = 3 * 60_000;

export interface RepairResult {
  /** Claims made for stored Services that had none. */
  restored: number;
  /** Claims without a Service deleted. */
  released: number;
  /** Claims without a Service still too young to delete. */
  pendingOrphans: number;
  /** Addresses or ports a Service holds that another Service's claim has, or that are out of range. */
  conflicts: number;
}

export class ServiceClaimRepair {
  readonly #al: ServiceAllocator;
  readonly #clock: Clock;
  readonly #listServices: () => Promise<Service[]>;
  readonly #log: (msg: string) => void;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(
    backend: Backend,
    ranges: ServiceRanges,
    opts: { clock: Clock; listServices: () => Promise<Service[]>; log?: (msg: string) => void },
  ) {
    this.#al = new ServiceAllocator(backend, ranges, { clock: opts.clock });
    this.#clock = opts.clock;
    this.#listServices = opts.listServices;
    this.#log = opts.log ?? ((m) => console.error(`tinykube: service allocator repair: ${m}`));
  }

  /** One pass. Claims are read before Services, so a Service stored after the read still has its claim. */
  async runOnce(): Promise<RepairResult> {
    const ipClaims = await this.#al.ips.list();
    const portClaims = await this.#al.ports.list();
    const all = await this.#listServices();
    const result: RepairResult = { restored: 0, released: 0, pendingOrphans: 0, conflicts: 0 };
    const wantIPs = new Map<string, ClaimOwner>();
    const wantPorts = new Map<string, ClaimOwner>();
    for (const svc of all) {
      const owner = ownerOf(svc);
      const ip = clusterIPOf(svc.spec);
      if (ip) wantIPs.set(ip, owner);
      if (svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer') for (const p of nodePortsOf(svc.spec)) wantPorts.set(String(p), owner);
    }
    await this.#reconcile(this.#al.ips, 'ClusterIP', ipClaims, wantIPs, result);
    await this.#reconcile(this.#al.ports, 'NodePort', portClaims, wantPorts, result);
    return result;
  }

  async #reconcile(pool: ClaimPool, what: string, claims: Claim[], want: Map<string, ClaimOwner>, result: RepairResult): Promise<void> {
    const byValue = new Map(claims.map((c) => [c.value, c]));
    for (const [value, owner] of want) {
      const c = byValue.get(value);
      const who = `${owner.namespace}/${owner.name}`;
      if (pool.indexOf(value) === undefined) {
        result.conflicts++;
        this.#log(`the ${what} ${value} of Service ${who} is not within the configured range`);
      } else if (!c) {
        if (await pool.restore(value, owner)) result.restored++;
        else {
          const now = await pool.get(value);
          if (!sameOwner(now?.owner, owner)) {
            result.conflicts++;
            this.#log(`the ${what} ${value} of Service ${who} was allocated to another service`);
          }
        }
      } else if (!sameOwner(c.owner, owner)) {
        result.conflicts++;
        this.#log(`the ${what} ${value} of Service ${who} is claimed by ${c.owner ? `${c.owner.namespace}/${c.owner.name}` : 'nobody readable'}`);
      }
    }
    const now = this.#clock.now();
    for (const c of claims) {
      if (want.has(c.value)) continue;
      if (now - c.created < ORPHAN_GRACE_MS) {
        result.pendingOrphans++;
        continue;
      }
      await pool.remove(c);
      result.released++;
    }
  }

  /** Runs a pass now (awaited) and then every `intervalMs`; failures are logged and retried at the next pass. */
  async start(intervalMs = REPAIR_INTERVAL_MS): Promise<void> {
    await this.#pass();
    const next = () => {
      if (this.#stopped) return;
      this.#timer = this.#clock.setTimeout(() => void this.#pass().then(next), intervalMs);
    };
    next();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  async #pass(): Promise<void> {
    try {
      const r = await this.runOnce();
      if (r.restored || r.released) this.#log(`restored ${r.restored} and released ${r.released} claims`);
    } catch (err) {
      this.#log(err instanceof Error ? err.message : String(err));
    }
  }
}
