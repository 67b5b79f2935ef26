// The desired state of the proxy's nftables table, as plain data: what the builder computes from
// Services and EndpointSlices and what the differ compares. The table is split into a fixed base (base
// chains, the dispatch maps, masquerade and reject helpers) and one part per Service, so a change to one
// Service is rebuilt and diffed alone (kube-proxy's nftables mode likewise only rewrites the chains of
// the services that changed since the last sync).

/** The table's family and name: one table of tinykube's own, never shared with anyone's rules. */
export const TABLE_FAMILY = 'ip';
export const TABLE_NAME = 'tinykube-proxy';

/** Facts about the node the proxy runs on. */
export interface NodeFacts {
  /** The Node's name: endpoints with this `nodeName` are local (Local traffic policies). */
  readonly name: string;
  /** The node's IPv4 addresses (informational; NodePorts match every local address through `fib`). */
  readonly addresses: readonly string[];
  /**
   * The node's pod CIDR (`node.spec.podCIDR`). Traffic from outside it is masqueraded on its way to a
   * Cluster-policy NodePort/LoadBalancer or a ClusterIP (kube-proxy's `--detect-local-mode=NodeCIDR`);
   * when unknown, all such external traffic is masqueraded, as kube-proxy does without a local detector.
   */
  readonly podCIDR?: string;
}

/** One element of a set or verdict map: `key` in nft syntax, `value` (a verdict) for maps. */
export interface Element {
  readonly set: string;
  readonly key: string;
  readonly value?: string;
  /**
   * No other Service can claim the key: not tracked in `owners`. An endpoint map slot of the Service's
   * own chain, and the keys of its ClusterIP and NodePorts (the API's allocators hand each out once).
   */
  readonly exclusive?: boolean;
}

/** A DNAT chain's endpoints as slots of its endpoint map (endpointmaps.ts); written out as elements by the differ. */
export interface SlotRange {
  readonly map: string;
  /** The first key: endpoint i is at base + i. */
  readonly base: number;
  readonly capacity: number;
  /** Each endpoint's address, in slot order. */
  readonly ips: readonly string[];
  /** Their port: one for all (the usual case), or one per endpoint. */
  readonly ports: number | readonly number[];
}

/** A UDP service port's frontends and endpoints, for conntrack cleanup when endpoints go away. */
export interface UdpPort {
  /** `ip:port` pairs clients address: the ClusterIP, external IPs and load-balancer ingress IPs. */
  readonly frontends: readonly { readonly ip: string; readonly port: number }[];
  readonly nodePort?: number;
  /** Endpoint IPs traffic may currently be sent to. */
  readonly endpoints: readonly string[];
}

/** Everything one Service contributes to the table. Chain names are unique to the Service. */
export interface ServicePart {
  /** Regular chains: name → rules (nft rule text, without `add rule ip TABLE CHAIN`). */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** Session-affinity sets: name → declaration body (`type ...; flags ...; timeout ...;`). */
  readonly sets: ReadonlyMap<string, string>;
  /** Elements of the shared maps (service-ips, service-nodeports, no-endpoint-*, cluster-ips). */
  readonly elements: readonly Element[];
  /** The chains' slots in the endpoint maps (their elements are exclusive to the Service). */
  readonly slots: readonly SlotRange[];
  /**
   * This node's endpoints its DNAT chains send to: each is an element `ip . ip` of the shared
   * hairpin-endpoints set, held while any Service names it (a pod landing on itself through a
   * Service is masqueraded).
   */
  readonly hairpin: readonly string[];
  /** Keyed by service port name (`ns/name:port/proto`). */
  readonly udp: ReadonlyMap<string, UdpPort>;
  /** The Service's health check node port (LoadBalancer with externalTrafficPolicy Local), served beside the table. */
  readonly healthCheck?: HealthCheck;
}

/** What a Service's healthCheckNodePort serves on this node. */
export interface HealthCheck {
  readonly port: number;
  /** This node's ready endpoints of the Service. */
  readonly localEndpoints: number;
  /** The Service's uid, for events about the port. */
  readonly uid?: string;
}

export interface BaseChain {
  /** `type nat hook prerouting priority dstnat; policy accept;` for base chains; undefined for regular ones. */
  readonly hook?: string;
  readonly rules: readonly string[];
}

/** A shared set or map of the base: its declaration; its elements come from the service parts. */
export interface BaseSet {
  readonly kind: 'set' | 'map';
  readonly decl: string;
}

export interface TableModel {
  readonly chains: ReadonlyMap<string, BaseChain>;
  readonly sets: ReadonlyMap<string, BaseSet>;
  /** Service key (`namespace/name`) → its part. Parts are immutable: an unchanged Service keeps the same object. */
  readonly services: ReadonlyMap<string, ServicePart>;
  /** Element identity (`set key`) → the Service whose element the table holds, when two claim one key (exclusive elements are not here). */
  readonly owners: ReadonlyMap<string, string>;
}
