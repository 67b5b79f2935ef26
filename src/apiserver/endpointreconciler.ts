// The `default/kubernetes` Endpoints and EndpointSlice: the API servers' own addresses, kept by each
// API server as kube-apiserver's "lease" endpoint reconciler does (pkg/controlplane/reconcilers):
// every server renews a lease of its own in storage (`/masterleases/<ip>`, as kube-apiserver keys
// them) every `intervalMs`, then writes the Endpoints from the leases that have not expired, so
// several servers list themselves and one that dies drops out once its lease runs out (15 s). A
// server that stops cleanly removes its lease and rewrites the Endpoints at once.
//
// The Endpoints carry `endpointslice.kubernetes.io/skip-mirror: "true"` and one subset (the servers'
// addresses, port "https"); the EndpointSlice named `kubernetes` is made from them as kube's
// EndpointsAdapter does (label kubernetes.io/service-name only: no controller manages it). Storage has
// no TTL here, so a lease holds its expiry time and readers ignore (and remove) expired ones.
//
// Owned by the control plane: start() once, stop() on shutdown; its timer is its only caller.

import { LABEL_SERVICE_NAME } from '../api/network.ts';
import type { EndpointSlice, Endpoints, KubeObject } from '../api/types.ts';
import type { Registry } from '../registry/registry.ts';
import type { Backend } from '../storage/backend.ts';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError } from '../storage/errors.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { StatusError } from '../util/status.ts';

export const KUBERNETES_SERVICE = 'kubernetes';
const LEASE_PREFIX = '/masterleases/';
const SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';

export interface EndpointReconcilerOptions {
  /** This server's advertised IPv4 address and port. */
  ip: string;
  port: number;
  clock: Clock;
  /** kube-apiserver's lease TTL (15 s) and its endpoint reconcile interval (10 s). */
  ttlMs?: number;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export class NoLiveServersError extends Error {
  readonly code = 'ERR_NO_LIVE_API_SERVERS';
  constructor() {
    super('no API server IP addresses were listed in storage, refusing to erase all endpoints for the kubernetes Service');
    this.name = 'NoLiveServersError';
  }
}

interface LeaseValue {
  ip: string;
  expiresAt: number;
}

export class LeaseEndpointReconciler {
  readonly #registry: Registry;
  readonly #backend: Backend;
  readonly #o: Required<Omit<EndpointReconcilerOptions, 'onError'>> & Pick<EndpointReconcilerOptions, 'onError'>;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(registry: Registry, backend: Backend, o: EndpointReconcilerOptions) {
    this.#registry = registry;
    this.#backend = backend;
    this.#o = { ttlMs: 15_000, intervalMs: 10_000, ...o };
  }

  /** Starts the passes; the promise settles when the first one has (its failure is reported, not thrown). */
  start(): Promise<void> {
    if (!this.#stopped) return Promise.resolve();
    this.#stopped = false;
    return this.#tick();
  }

  /** Stops renewing, removes this server's lease and rewrites the endpoints without it (RemoveEndpoints). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
    try {
      await this.#backend.delete(LEASE_PREFIX + this.#o.ip);
      await this.reconcile();
    } catch (err) {
      // The last server out leaves itself listed, as kube-apiserver does (it refuses to erase them all).
      if (!(err instanceof KeyNotFoundError || err instanceof NoLiveServersError)) this.#o.onError?.(err);
    }
  }

  #tick(): Promise<void> {
    return (this.#running = this.renewAndReconcile()
      .catch((err: unknown) => this.#o.onError?.(err))
      .finally(() => {
        if (!this.#stopped) this.#timer = this.#o.clock.setTimeout(() => void this.#tick(), this.#o.intervalMs);
      }));
  }

  /** UpdateLease, then doReconcile. */
  async renewAndReconcile(): Promise<void> {
    await this.#renew();
    await this.reconcile();
  }

  async #renew(): Promise<void> {
    const key = LEASE_PREFIX + this.#o.ip;
    const value = JSON.stringify({ ip: this.#o.ip, expiresAt: this.#o.clock.now() + this.#o.ttlMs } satisfies LeaseValue);
    for (let i = 0; i < 5; i++) {
      const kv = await this.#backend.get(key);
      try {
        if (kv) await this.#backend.update(key, value, kv.modRevision);
        else await this.#backend.create(key, value);
        return;
      } catch (err) {
        if (!(err instanceof RevisionMismatchError || err instanceof KeyExistsError || err instanceof KeyNotFoundError)) throw err;
      }
    }
  }

  /** The addresses of the servers whose leases are live, sorted; expired leases are removed. */
  async liveAddresses(): Promise<string[]> {
    const now = this.#o.clock.now();
    const out: string[] = [];
    for (const kv of (await this.#backend.list(LEASE_PREFIX)).items) {
      let lease: LeaseValue | undefined;
      try {
        lease = JSON.parse(kv.value) as LeaseValue;
      } catch {
        lease = undefined;
      }
      if (lease && lease.expiresAt > now) out.push(lease.ip);
      else await this.#backend.delete(kv.key, kv.modRevision).catch(() => undefined);
    }
    return out.sort(compareIP);
  }

  /** doReconcile: the Endpoints list exactly the live servers on `https`, and the EndpointSlice follows them. */
  async reconcile(): Promise<void> {
    const ips = await this.liveAddresses();
    // Our own lease was just renewed: none at all means storage is not answering as it should.
    if (ips.length === 0) throw new NoLiveServersError();
    const store = this.#registry.store('endpoints');
    const current = (await store.tryGet('default', KUBERNETES_SERVICE)) as Endpoints | null;
    const ports = [{ name: 'https', port: this.#o.port, protocol: 'TCP' }];
    const want: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? { name: KUBERNETES_SERVICE, namespace: 'default' }), labels: { ...(current?.metadata?.labels ?? {}), [SKIP_MIRROR]: 'true' } },
      subsets: [{ addresses: ips.map((ip) => ({ ip })), ports }],
    };
    let endpoints: Endpoints;
    if (!current) endpoints = await createOrGet(store, want);
    else if (sameEndpoints(current, want)) endpoints = current;
    else endpoints = (await store.update('default', KUBERNETES_SERVICE, want as KubeObject)) as Endpoints;
    await this.#ensureSlice(endpoints);
  }

  /** EnsureEndpointSliceFromEndpoints. */
  async #ensureSlice(ep: Endpoints): Promise<void> {
    const slices = this.#registry.tryStore('endpointslices', 'discovery.k8s.io');
    if (!slices) return;
    const want = sliceFromEndpoints(ep);
    const current = (await slices.tryGet('default', KUBERNETES_SERVICE)) as EndpointSlice | null;
    if (!current) {
      await createOrGet(slices, want);
      return;
    }
    if (JSON.stringify([current.addressType, current.endpoints, current.ports, current.metadata?.labels]) === JSON.stringify([want.addressType, want.endpoints, want.ports, want.metadata?.labels])) return;
    // The address type is immutable: a slice of another type is replaced.
    if (current.addressType !== want.addressType) {
      await slices.delete('default', KUBERNETES_SERVICE);
      await createOrGet(slices, want);
      return;
    }
    await slices.update('default', KUBERNETES_SERVICE, { ...want, metadata: { ...current.metadata, labels: want.metadata!.labels } } as KubeObject);
  }
}

/** endpointSliceFromEndpoints: the first subset's ports and addresses, ready ones first. */
export function sliceFromEndpoints(ep: Endpoints): EndpointSlice {
  const ss = ep.subsets?.[0];
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: ep.metadata?.name, namespace: ep.metadata?.namespace, labels: { [LABEL_SERVICE_NAME]: ep.metadata?.name ?? '' } },
    addressType: 'IPv4',
    endpoints: [],
  };
  if (ss) {
    slice.ports = (ss.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
    slice.endpoints = [
      ...(ss.addresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: true } })),
      ...(ss.notReadyAddresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: false } })),
    ];
  }
  return slice;
}

function sameEndpoints(a: Endpoints, b: Endpoints): boolean {
  return JSON.stringify(a.subsets ?? []) === JSON.stringify(b.subsets ?? []) && a.metadata?.labels?.[SKIP_MIRROR] === 'true';
}

async function createOrGet<T>(store: ReturnType<Registry['store']>, obj: T & { metadata?: { name?: string; namespace?: string } }): Promise<T> {
  try {
    return (await store.create(obj.metadata?.namespace, obj as KubeObject)) as T;
  } catch (err) {
    // Another API server made it first: the next pass compares against it.
    if (err instanceof StatusError && err.code === 409) return (await store.get(obj.metadata?.namespace, obj.metadata!.name!)) as T;
    throw err;
  }
}

function compareIP(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}
