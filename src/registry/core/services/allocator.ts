// Service ClusterIPs and node ports, allocated the way Kubernetes 1.33 allocates ClusterIPs
// (networking.k8s.io IPAddress objects): every address and every node port in use has a key of its
// own in storage, created if absent. A create fails when the key exists, so API servers sharing one
// etcd never hand out the same address, and nothing lives in memory: a restarted server reads the
// claims it finds. Addresses are claimed before the Service is stored and given back when the write
// fails (the store's WriteHooks); a dry run only looks. A claim left by a crash between the two is
// found by the repair pass (repair.ts).
//
// Called by the Service store's hooks, concurrently for many requests; every method is safe to run
// concurrently with itself and with other API servers' allocators on the same store.

import { randomUUID } from 'node:crypto';
import type { Backend } from '../../../storage/backend.ts';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError } from '../../../storage/errors.ts';
import { FieldPath, invalid, invalidError } from '../../../api/field.ts';
import { formatIPv4, formatNodePortRange, parseIPv4, parseIPv4Cidr, type ServiceRanges } from '../../../api/network.ts';
import { needsHealthCheck } from '../../../api/defaults/service.ts';
import { goStrings } from '../../../api/validation/services.ts';
import type { Service } from '../../../api/types.ts';
import { rfc3339, type Clock } from '../../../util/clock.ts';
import { internalError, StatusError } from '../../../util/status.ts';

/** Where address claims live: the keys networking.k8s.io/v1 IPAddress objects would have. */
export const IP_CLAIM_PREFIX = '/registry/networking.k8s.io/ipaddresses/';
/** Where node port claims live (Kubernetes keeps node ports in one bitmap; tinykube gives each its key). */
export const NODE_PORT_CLAIM_PREFIX = '/registry/tinykube.io/servicenodeports/';

/** Dynamic picks tried at random before the pool is listed to find what is free. */
const RANDOM_TRIES = 8;

type Spec = NonNullable<Service['spec']>;

/** The Service a claim belongs to (an IPAddress' spec.parentRef). */
export interface ClaimOwner {
  namespace: string;
  name: string;
}

/** A claim as read back from storage. */
export interface Claim {
  /** The address or the port. */
  value: string;
  owner: ClaimOwner | undefined;
  /** When it was made (epoch ms); 0 when unreadable. */
  created: number;
  modRevision: number;
}

/**
 * The "static" lower band of a range that dynamic allocation uses last (kube's ServiceIPStaticSubrange
 * and its node port counterpart): min(max(lo, size/step), hi), none for tiny ranges.
 */
function staticBand(size: number, lo: number, hi: number, step: number): number {
  if (size <= lo) return 0;
  return Math.min(Math.max(lo, Math.floor(size / step)), hi);
}

/**
 * One range of numbered resources (addresses or ports), each claimed by its key. Index i is the
 * i-th allocatable member: for addresses the network and broadcast addresses are not members.
 */
export class ClaimPool {
  readonly #backend: Backend;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly prefix: string;
  readonly size: number;
  readonly #offset: number;
  readonly #render: (i: number) => string;
  readonly #parse: (v: string) => number | undefined;
  readonly #body: (value: string, owner: ClaimOwner, now: number) => unknown;

  constructor(opts: {
    backend: Backend;
    clock: Clock;
    random: () => number;
    prefix: string;
    size: number;
    staticBand: number;
    render: (i: number) => string;
    parse: (v: string) => number | undefined;
    body: (value: string, owner: ClaimOwner, now: number) => unknown;
  }) {
    this.#backend = opts.backend;
    this.#clock = opts.clock;
    this.#random = opts.random;
    this.prefix = opts.prefix;
    this.size = opts.size;
    this.#offset = opts.staticBand;
    this.#render = opts.render;
    this.#parse = opts.parse;
    this.#body = opts.body;
  }

  /** The member index of a value, or undefined when it is outside the range. */
  indexOf(value: string): number | undefined {
    const i = this.#parse(value);
    return i !== undefined && i >= 0 && i < this.size ? i : undefined;
  }

  render(i: number): string {
    return this.#render(i);
  }

  key(value: string): string {
    return this.prefix + value;
  }

  /** Claims member i; false when someone holds it. A dry run only checks. */
  async claim(i: number, owner: ClaimOwner, dryRun: boolean): Promise<boolean> {
    const value = this.#render(i);
    if (dryRun) return (await this.#backend.get(this.key(value))) === null;
    try {
      await this.#backend.create(this.key(value), JSON.stringify(this.#body(value, owner, this.#clock.now())));
      return true;
    } catch (err) {
      if (err instanceof KeyExistsError) return false;
      throw err;
    }
  }

  /**
   * Claims a free member at random, from the upper part of the range first (the lower band is kept
   * for addresses users ask for by number); undefined when the range is full. `skip` holds members
   * this operation already picked (a dry run claims nothing, so it must not pick one twice).
   */
  async claimNext(owner: ClaimOwner, dryRun: boolean, skip: ReadonlySet<number>): Promise<number | undefined> {
    const bands: [number, number][] = this.#offset > 0 && this.#offset < this.size ? [[this.#offset, this.size], [0, this.#offset]] : [[0, this.size]];
    for (const [lo, hi] of bands) {
      for (let t = 0; t < RANDOM_TRIES; t++) {
        const i = lo + Math.floor(this.#random() * (hi - lo));
        if (!skip.has(i) && (await this.claim(i, owner, dryRun))) return i;
      }
      // Crowded: list the claims and try the free members in random order.
      const taken = new Set((await this.list()).map((c) => this.indexOf(c.value)));
      const free: number[] = [];
      for (let i = lo; i < hi; i++) if (!taken.has(i) && !skip.has(i)) free.push(i);
      while (free.length > 0) {
        const j = Math.floor(this.#random() * free.length);
        const i = free[j];
        free[j] = free[free.length - 1];
        free.pop();
        if (await this.claim(i, owner, dryRun)) return i;
      }
    }
    return undefined;
  }

  /** Gives member `value` back, only when `owner` holds it (another Service's claim is left alone). */
  async release(value: string, owner: ClaimOwner): Promise<void> {
    const c = await this.get(value);
    if (!c || !sameOwner(c.owner, owner)) return;
    await this.remove(c);
  }

  /** Deletes a claim as it was read; a claim changed or gone since is left as it is. */
  async remove(c: Claim): Promise<void> {
    try {
      await this.#backend.delete(this.key(c.value), c.modRevision);
    } catch (err) {
      if (err instanceof KeyNotFoundError || err instanceof RevisionMismatchError) return;
      throw err;
    }
  }

  /** Creates the claim of a member a stored Service holds; false when someone else holds it. */
  async restore(value: string, owner: ClaimOwner): Promise<boolean> {
    const i = this.indexOf(value);
    return i !== undefined && this.claim(i, owner, false);
  }

  async get(value: string): Promise<Claim | undefined> {
    const kv = await this.#backend.get(this.key(value));
    return kv ? readClaim(value, kv.value, kv.modRevision) : undefined;
  }

  async list(): Promise<Claim[]> {
    const out: Claim[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.#backend.list(this.prefix, { limit: 10000, startAfter, skipRemaining: true });
      for (const kv of page.items) out.push(readClaim(kv.key.slice(this.prefix.length), kv.value, kv.modRevision));
      if (!page.more || page.items.length === 0) return out;
      startAfter = page.items[page.items.length - 1].key;
    }
  }
}

function readClaim(value: string, text: string, modRevision: number): Claim {
  try {
    const o = JSON.parse(text) as { metadata?: { creationTimestamp?: string }; spec?: { parentRef?: { namespace?: string; name?: string } } };
    const ref = o.spec?.parentRef;
    const created = Date.parse(o.metadata?.creationTimestamp ?? '');
    return { value, owner: ref?.name ? { namespace: ref.namespace ?? '', name: ref.name } : undefined, created: Number.isNaN(created) ? 0 : created, modRevision };
  } catch {
    return { value, owner: undefined, created: 0, modRevision };
  }
}

export function sameOwner(a: ClaimOwner | undefined, b: ClaimOwner | undefined): boolean {
  return a !== undefined && b !== undefined && a.namespace === b.namespace && a.name === b.name;
}

export function ownerOf(svc: Service): ClaimOwner {
  return { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
}

/** The allocated address of a Service, or undefined (ExternalName, headless, none yet). */
export function clusterIPOf(spec: Spec | undefined): string | undefined {
  if (!spec || spec.type === 'ExternalName') return undefined;
  const ip = spec.clusterIPs?.[0] ?? spec.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

/** Every node port a Service holds: its ports' and its health check's (collectServiceNodePorts + healthCheckNodePort). */
export function nodePortsOf(spec: Spec | undefined): number[] {
  if (!spec) return [];
  const out = new Set<number>();
  for (const p of spec.ports ?? []) if (p.nodePort) out.add(p.nodePort);
  if (spec.healthCheckNodePort) out.add(spec.healthCheckNodePort);
  return [...out];
}

function portNumbersOf(spec: Spec): number[] {
  const out = new Set<number>();
  for (const p of spec.ports ?? []) if (p.nodePort) out.add(p.nodePort);
  return [...out];
}

const needsNodePorts = (spec: Spec) => spec.type === 'NodePort' || spec.type === 'LoadBalancer';
/** shouldAllocateNodePorts: LoadBalancers may opt out (allocateLoadBalancerNodePorts: false). */
const allocatesNodePorts = (spec: Spec) => spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);

/** What one write claimed and will give back: reverted on failure, the releases done on commit. */
export interface AllocationTransaction {
  commit(): Promise<void>;
  revert(): Promise<void>;
}

/** The Service allocators of one API server: its ClusterIP range and its node port range. */
export class ServiceAllocator {
  readonly ips: ClaimPool;
  readonly ports: ClaimPool;
  readonly ranges: ServiceRanges;

  constructor(backend: Backend, ranges: ServiceRanges, opts: { clock: Clock; random?: () => number }) {
    this.ranges = ranges;
    const random = opts.random ?? Math.random;
    const cidr = parseIPv4Cidr(ranges.serviceCidr);
    // Members are the addresses between the network and broadcast addresses (kube's bitmap range).
    const first = cidr.size > 2 ? cidr.base + 1 : cidr.base;
    const ipCount = cidr.size > 2 ? cidr.size - 2 : cidr.size;
    this.ips = new ClaimPool({
      backend,
      clock: opts.clock,
      random,
      prefix: IP_CLAIM_PREFIX,
      size: ipCount,
      staticBand: staticBand(cidr.size, 16, 256, 16),
      render: (i) => formatIPv4(first + i),
      parse: (v) => {
        const n = parseIPv4(v);
        return n === undefined ? undefined : n - first;
      },
      body: (value, owner, now) => ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IPAddress',
        metadata: {
          name: value,
          uid: randomUUID(),
          creationTimestamp: rfc3339(now),
          labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' },
        },
        spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
      }),
    });
    const { base, size } = ranges.nodePorts;
    this.ports = new ClaimPool({
      backend,
      clock: opts.clock,
      random,
      prefix: NODE_PORT_CLAIM_PREFIX,
      size,
      staticBand: staticBand(size, 16, 128, 32),
      render: (i) => String(base + i),
      parse: (v) => (/^\d{1,5}$/.test(v) ? Number(v) - base : undefined),
      body: (value, owner, now) => ({
        apiVersion: 'tinykube.io/v1',
        kind: 'ServiceNodePort',
        metadata: { name: value, creationTimestamp: rfc3339(now) },
        spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
      }),
    });
  }

  /** Allocates what a new Service needs and writes it into the Service (allocateCreate). */
  async allocateCreate(svc: Service, dryRun: boolean): Promise<AllocationTransaction> {
    const op = new Operation(this, svc, dryRun);
    try {
      const spec = (svc.spec ??= {});
      if (spec.type !== 'ExternalName' && spec.clusterIPs?.[0] !== 'None') await op.allocateClusterIP();
      if (needsNodePorts(spec)) await op.initNodePorts();
      if (needsHealthCheck(spec)) await op.allocateHealthCheck();
    } catch (err) {
      await op.revert();
      throw err;
    }
    return op;
  }

  /** Allocates and releases what an update changes (allocateUpdate): type changes, new node ports. */
  async allocateUpdate(svc: Service, old: Service, dryRun: boolean): Promise<AllocationTransaction> {
    const op = new Operation(this, svc, dryRun);
    try {
      const spec = (svc.spec ??= {});
      const was: Spec = old.spec ?? {};
      if (was.type === 'ExternalName' && spec.type !== 'ExternalName') {
        if (spec.clusterIPs?.[0] !== 'None') await op.allocateClusterIP();
      } else if (was.type !== 'ExternalName' && spec.type === 'ExternalName') {
        const ip = clusterIPOf(was);
        if (ip) op.releaseLater(this.ips, ip);
      }
      if (needsNodePorts(was) && (spec.type === 'ExternalName' || spec.type === 'ClusterIP')) {
        for (const p of portNumbersOf(was)) op.releaseLater(this.ports, String(p));
      }
      if (needsNodePorts(spec)) await op.updateNodePorts(was);
      const needed = needsHealthCheck(was);
      const needs = needsHealthCheck(spec);
      if (!needed && needs) await op.allocateHealthCheck();
      else if (needed && !needs && was.healthCheckNodePort) op.releaseLater(this.ports, String(was.healthCheckNodePort));
    } catch (err) {
      await op.revert();
      throw err;
    }
    return op;
  }

  /** Gives back everything a deleted Service held (releaseAllocatedResources). */
  async release(svc: Service): Promise<void> {
    const owner = ownerOf(svc);
    const ip = clusterIPOf(svc.spec);
    if (ip) await this.ips.release(ip, owner);
    for (const p of nodePortsOf(svc.spec)) await this.ports.release(String(p), owner);
  }
}

/** One write's claims: those made (given back on revert) and those to give back once it is stored. */
class Operation implements AllocationTransaction {
  readonly #al: ServiceAllocator;
  readonly #svc: Service;
  readonly #owner: ClaimOwner;
  readonly #dryRun: boolean;
  readonly #claimed: { pool: ClaimPool; value: string }[] = [];
  readonly #toRelease: { pool: ClaimPool; value: string }[] = [];
  /** Node port members this operation picked or kept, so one request never uses one twice. */
  readonly #portsInUse = new Set<number>();

  constructor(al: ServiceAllocator, svc: Service, dryRun: boolean) {
    this.#al = al;
    this.#svc = svc;
    this.#owner = ownerOf(svc);
    this.#dryRun = dryRun;
  }

  get #spec(): Spec {
    return this.#svc.spec!;
  }

  #invalid(path: FieldPath, value: unknown, detail: string): Error {
    return invalidError('Service', this.#svc.metadata?.name ?? '', [invalid(path, value, detail)]);
  }

  async allocateClusterIP(): Promise<void> {
    const spec = this.#spec;
    const pool = this.#al.ips;
    const want = spec.clusterIPs?.[0] ?? spec.clusterIP ?? '';
    let ip: string;
    if (want) {
      const i = pool.indexOf(want);
      const path = new FieldPath('spec').child('clusterIPs');
      if (i === undefined) {
        throw this.#invalid(path, goStrings(spec.clusterIPs), `failed to allocate IP ${want}: the provided IP (${want}) is not in the valid range. The range of valid IPs is ${this.#al.ranges.serviceCidr}`);
      }
      if (!(await pool.claim(i, this.#owner, this.#dryRun))) throw this.#invalid(path, goStrings(spec.clusterIPs), `failed to allocate IP ${want}: provided IP is already allocated`);
      ip = pool.render(i);
    } else {
      const i = await pool.claimNext(this.#owner, this.#dryRun, new Set());
      if (i === undefined) throw internalError(new Error('failed to allocate a serviceIP: range is full'));
      ip = pool.render(i);
    }
    if (!this.#dryRun) this.#claimed.push({ pool, value: ip });
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  async #claimPort(n: number, path: FieldPath): Promise<void> {
    const pool = this.#al.ports;
    const i = pool.indexOf(String(n));
    if (i === undefined) {
      throw this.#invalid(path, n, `provided port is not in the valid range. The range of valid ports is ${formatNodePortRange(this.#al.ranges.nodePorts)}`);
    }
    if (this.#portsInUse.has(i) || !(await pool.claim(i, this.#owner, this.#dryRun))) throw this.#invalid(path, n, 'provided port is already allocated');
    this.#portsInUse.add(i);
    if (!this.#dryRun) this.#claimed.push({ pool, value: String(n) });
  }

  async #nextPort(what: string): Promise<number> {
    const pool = this.#al.ports;
    const i = await pool.claimNext(this.#owner, this.#dryRun, this.#portsInUse);
    if (i === undefined) throw internalError(new Error(`failed to allocate a ${what}: range is full`));
    this.#portsInUse.add(i);
    const n = Number(pool.render(i));
    if (!this.#dryRun) this.#claimed.push({ pool, value: String(n) });
    return n;
  }

  /** initNodePorts: ports sharing a number (TCP and UDP 53) share a node port. */
  async initNodePorts(): Promise<void> {
    const spec = this.#spec;
    const ports = spec.ports ?? [];
    const byPort = new Map<number, number>();
    for (let i = 0; i < ports.length; i++) {
      const sp = ports[i];
      if (!sp.nodePort && !allocatesNodePorts(spec)) continue;
      const path = new FieldPath('spec').child('ports').index(i).child('nodePort');
      const already = byPort.get(sp.port);
      if (already === undefined) {
        // A node port asked for by a later entry of the same port number is the one to use.
        const requested = ports.slice(i).find((q) => q.port === sp.port && q.nodePort)?.nodePort;
        const n = requested ?? (await this.#nextPort('nodePort'));
        if (requested !== undefined) await this.#claimPort(requested, path);
        sp.nodePort = n;
        byPort.set(sp.port, n);
      } else if (sp.nodePort !== already) {
        if (!sp.nodePort) sp.nodePort = already;
        else await this.#claimPort(sp.nodePort, path);
      }
    }
  }

  /** updateNodePorts: new numbers are claimed, missing ones allocated, dropped ones released on commit. */
  async updateNodePorts(was: Spec): Promise<void> {
    const spec = this.#spec;
    const oldNumbers = new Set(portNumbersOf(was));
    const ports = spec.ports ?? [];
    for (const n of oldNumbers) {
      const i = this.#al.ports.indexOf(String(n));
      if (i !== undefined && ports.some((p) => p.nodePort === n)) this.#portsInUse.add(i);
    }
    const claimedHere = new Set<number>();
    for (let i = 0; i < ports.length; i++) {
      const sp = ports[i];
      if (!sp.nodePort && !allocatesNodePorts(spec)) continue;
      if (sp.nodePort) {
        if (!oldNumbers.has(sp.nodePort) && !claimedHere.has(sp.nodePort)) {
          await this.#claimPort(sp.nodePort, new FieldPath('spec').child('ports').index(i).child('nodePort'));
          claimedHere.add(sp.nodePort);
        }
      } else {
        sp.nodePort = await this.#nextPort('nodePort');
      }
    }
    const now = new Set(portNumbersOf(spec));
    for (const n of oldNumbers) if (!now.has(n) && n !== spec.healthCheckNodePort) this.releaseLater(this.#al.ports, String(n));
  }

  async allocateHealthCheck(): Promise<void> {
    const spec = this.#spec;
    if (spec.healthCheckNodePort) {
      const n = spec.healthCheckNodePort;
      // kube-apiserver answers a requested health-check port it cannot have with an internal error.
      try {
        await this.#claimPort(n, new FieldPath('spec').child('healthCheckNodePort'));
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 422)) throw err;
        const why = err.details?.causes?.[0]?.message?.replace(/^Invalid value: \d+: /, '') ?? err.message;
        throw internalError(new Error(`failed to allocate requested HealthCheck NodePort ${n}: ${why}`));
      }
      return;
    }
    spec.healthCheckNodePort = await this.#nextPort('HealthCheck NodePort');
  }

  releaseLater(pool: ClaimPool, value: string): void {
    if (!this.#dryRun) this.#toRelease.push({ pool, value });
  }

  async commit(): Promise<void> {
    this.#claimed.length = 0;
    for (const { pool, value } of this.#toRelease.splice(0)) await pool.release(value, this.#owner);
  }

  async revert(): Promise<void> {
    this.#toRelease.length = 0;
    for (const { pool, value } of this.#claimed.splice(0)) await pool.release(value, this.#owner);
  }
}
