// The node's cluster DNS as a component: informers on Services and EndpointSlices feed a ZoneIndex, a
// DnsServer answers from it on one address (UDP and TCP) and forwards other names to the node's
// resolvers. Built with its dependencies (rule 9 of style.md); start() binds and starts the informers,
// stop() closes both sockets and stops the informers. Until both informers have their first list, a
// name the index does not know is SERVFAIL rather than NXDOMAIN (CoreDNS does the same), so a pod
// starting with the node never caches a false "no such name".
import type { AddressInfo } from 'node:net';
import type { EndpointSlice, Service } from '../api/types.ts';
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_SERVICE_CIDR, LABEL_SERVICE_NAME } from '../api/network.ts';
import type { ApiClient, HasMetadata } from '../client/client.ts';
import { Informer, listWatch, transformListWatch } from '../client/informer.ts';
import type { ListerWatcher } from '../client/informer.ts';
import type { ResourceRef } from '../client/resources.ts';
import { UpstreamForwarder, readResolvConf, withoutSelf } from './forward.ts';
import type { Upstream } from './forward.ts';
import { ZoneIndex } from './records.ts';
import { DnsServer } from './server.ts';

// The collections the DNS reads (the typed refs of these kinds live with the Service work in
// client/resources.ts; the DNS needs only their paths).
const SERVICES: ResourceRef = { apiVersion: 'v1', resource: 'services' };
const ENDPOINT_SLICES: ResourceRef = { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices' };

/** The pod network's default range (the node lifecycle controller's and CNI's default). */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';

export interface ClusterDNSOptions {
  /** Where to listen; port 53 in a cluster, 0 in tests. */
  host: string;
  port: number;
  zone?: string;
  /** Reverse names of these ranges are the cluster's to answer. Default: the Service and cluster CIDRs. */
  reverseCidrs?: readonly string[];
  /** The cluster DNS Service's address (`ns.dns.<zone>`). */
  serverIP?: string;
  /** Upstream resolvers; default the `nameserver`s of `resolvConf`. */
  upstreams?: readonly Upstream[];
  resolvConf?: string;
  forwardTimeoutMs?: number;
  tcpIdleMs?: number;
  log?: (msg: string) => void;
}

export interface ClusterDNSSources {
  services: ListerWatcher<Service & HasMetadata>;
  slices: ListerWatcher<EndpointSlice & HasMetadata>;
}

/** Informer sources over the API server, keeping only the fields the records use (10,000 Services stay small). */
export function apiSources(client: ApiClient): ClusterDNSSources {
  return {
    services: transformListWatch(listWatch<Service & HasMetadata>(client, SERVICES), trimServiceForDNS),
    slices: transformListWatch(listWatch<EndpointSlice & HasMetadata>(client, ENDPOINT_SLICES), trimSliceForDNS),
  };
}

/** What the DNS keeps of a Service. */
export function trimServiceForDNS(s: Service & HasMetadata): Service & HasMetadata {
  const spec = s.spec ?? {};
  return {
    metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace, resourceVersion: s.metadata?.resourceVersion },
    spec: {
      type: spec.type,
      clusterIP: spec.clusterIP,
      externalName: spec.externalName,
      publishNotReadyAddresses: spec.publishNotReadyAddresses,
      ports: spec.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    },
  };
}

// One shared conditions object per state, not one per endpoint (100,000 at 10,000 Services); the
// index only reads them.
const READY = Object.freeze({ ready: true });
const NOT_READY = Object.freeze({ ready: false });

/** What the DNS keeps of an EndpointSlice: addresses, hostnames, readiness, ports. */
export function trimSliceForDNS(s: EndpointSlice & HasMetadata): EndpointSlice & HasMetadata {
  const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
  return {
    metadata: {
      name: s.metadata?.name,
      namespace: s.metadata?.namespace,
      resourceVersion: s.metadata?.resourceVersion,
      labels: svc === undefined ? undefined : { [LABEL_SERVICE_NAME]: svc },
    },
    addressType: s.addressType,
    endpoints: (s.endpoints ?? []).map((e) => {
      const conditions = e.conditions?.ready === false ? NOT_READY : READY;
      return e.hostname === undefined ? { addresses: e.addresses, conditions } : { addresses: e.addresses, hostname: e.hostname, conditions };
    }),
    ports: s.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
  };
}

/** Informers someone else runs (the node's, shared with its proxy): the DNS adds handlers and waits for their lists only. */
export interface SharedInformers {
  readonly services: Informer<Service & HasMetadata>;
  readonly slices: Informer<EndpointSlice & HasMetadata>;
}

export class ClusterDNS {
  readonly index: ZoneIndex;
  readonly server: DnsServer;
  readonly #services: Informer<Service & HasMetadata>;
  readonly #slices: Informer<EndpointSlice & HasMetadata>;
  /** Whether start() and stop() start and stop the informers (they were made here from sources). */
  readonly #ownInformers: boolean;
  readonly #forwarder: UpstreamForwarder;
  #upstreams: readonly Upstream[] = [];
  readonly #o: ClusterDNSOptions;

  /** From list/watch sources (informers of its own), or from informers the caller starts and stops. */
  constructor(sources: ClusterDNSSources | SharedInformers, o: ClusterDNSOptions) {
    this.#o = o;
    this.index = new ZoneIndex({
      zone: o.zone ?? DEFAULT_CLUSTER_DOMAIN,
      reverseCidrs: o.reverseCidrs ?? [DEFAULT_SERVICE_CIDR, DEFAULT_CLUSTER_CIDR],
      serverIP: o.serverIP,
    });
    const onError = (err: unknown) => o.log?.(`dns informer: ${err instanceof Error ? err.message : String(err)}`);
    if (sources.services instanceof Informer && sources.slices instanceof Informer) {
      this.#ownInformers = false;
      this.#services = sources.services;
      this.#slices = sources.slices;
    } else {
      const own = sources as ClusterDNSSources;
      this.#ownInformers = true;
      this.#services = new Informer(own.services, { onError });
      this.#slices = new Informer(own.slices, { onError });
    }
    this.#services.addEventHandler({
      onAdd: (s) => this.index.upsertService(s),
      onUpdate: (_, s) => this.index.upsertService(s),
      onDelete: (s) => this.index.deleteService(s),
    });
    this.#slices.addEventHandler({
      onAdd: (s) => this.index.upsertSlice(s),
      onUpdate: (_, s) => this.index.upsertSlice(s),
      onDelete: (s) => this.index.deleteSlice(s),
    });
    this.#forwarder = new UpstreamForwarder({ upstreams: () => this.#upstreams, timeoutMs: o.forwardTimeoutMs });
    this.server = new DnsServer({ host: o.host, port: o.port, resolver: this.index, forwarder: this.#forwarder, tcpIdleMs: o.tcpIdleMs, log: o.log });
  }

  /** Binds the sockets (the bound address is returned: port 0 picks one) and starts the informers. */
  async start(): Promise<AddressInfo> {
    this.index.synced = false;
    const addr = await this.server.start();
    this.#upstreams = withoutSelf(this.#o.upstreams ?? readResolvConf(this.#o.resolvConf), { host: addr.address, port: addr.port });
    if (this.#upstreams.length === 0) this.#o.log?.('dns: no upstream resolvers: names outside the cluster get SERVFAIL');
    if (this.#ownInformers) {
      this.#services.start();
      this.#slices.start();
    }
    void Promise.all([this.#services.waitForSync(), this.#slices.waitForSync()]).then(() => {
      this.index.synced = true;
    });
    return addr;
  }

  /** Resolves once both informers have their first list (the index answers NXDOMAIN from then on). */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([this.#services.waitForSync(signal), this.#slices.waitForSync(signal)]);
    this.index.synced = true;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    if (this.#ownInformers) await Promise.all([this.#services.stop(), this.#slices.stop()]);
  }
}
