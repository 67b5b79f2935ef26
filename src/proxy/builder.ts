// The pure builder: Services + EndpointSlices + node facts → the desired table (model.ts). The layout
// follows kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go):
//
//   nat-prerouting / nat-output ──jump──▶ services:
//       ip daddr @cluster-ips ip saddr != <pod CIDR> jump mark-for-masquerade   (off-node ClusterIP traffic)
//       ip daddr . meta l4proto . th dport vmap @service-ips          (ClusterIPs, external IPs, LB ingress)
//       fib daddr type local ... meta l4proto . th dport vmap @service-nodeports
//   service-ips ──goto──▶ service-<port> (Cluster endpoints) | local-<port> (Local endpoints) | external-<port>
//   external-<port>: masquerade decision, then goto service-<port> or local-<port>
//   service-/local-<port>: four draws `dnat ip to numgen random mod C offset <id × 65536> map
//       @endpoints-<proto>-<shard>` over the chain's slots of an endpoint map, C its endpoint capacity,
//       and a fallback rule over its first M slots (endpointmaps.ts: the endpoints are elements, and
//       come and go without a rule change)
//   with sessionAffinity ClientIP instead: affinity lookups, then the cascade of `goto endpoint-...`
//   endpoint-<...> (affinity only): hairpin masquerade, affinity update, dnat
//   filter-input/forward/output ──▶ no-endpoint-services / no-endpoint-nodeports vmaps: goto reject-chain
//       (no endpoints anywhere: "connection refused" at once) or drop (endpoints exist, none usable here)
//   nat-postrouting ──▶ masquerading: mark a connection a pod's Service sent back to the pod itself
//       (`ip saddr . ip daddr @hairpin-endpoints`, an element per local endpoint), masquerade what
//       carries the 0x4000 mark
//   filter-prerouting / filter-output ──▶ firewall-check: ip daddr . meta l4proto . th dport vmap
//       @firewall-ips ──goto──▶ firewall-<port>: `ip saddr != { loadBalancerSourceRanges } drop`
//       (new connections to a LoadBalancer ingress IP from outside the ranges are dropped, before DNAT;
//       NodePorts are not subject to the ranges, as in kube-proxy). The allowed sources are the table's
//       one kind of anonymous set (see below why there are no others): few Services have them, and a
//       set's name scan costs little among the table's handful of named sets.
//
// Deviations from kube-proxy, measured: kube-proxy gives every endpoint a chain and spreads with
// `numgen random mod N vmap { ... }`, an anonymous map per service port. Debian's nft 1.0.6 dumps every
// chain and set of the table before each transaction, and the kernel's dumps restart from the first
// object for each netlink message (quadratic); anonymous sets also get their names by a scan of all
// sets. At 10,000 Services × 10 endpoints a one-element change then took ~1.3 s and the first load
// minutes on 2 cores. So: no anonymous sets, and an endpoint gets a chain only when session affinity
// needs one (its affinity set is updated there). The table holds about one chain per service port and
// a few hundred named sets (mostly endpoint maps). The hairpin case (an endpoint landing on itself) is
// one set lookup after DNAT rather than a rule per local endpoint in each service chain, so a local
// endpoint coming or going is an element too.
//
// Endpoints as map elements (issue 12's change→kernel target), measured with nft -f on a 10,000 × 10
// table: a transaction that adds a rule with a DNAT or a verdict, or a goto element, makes the kernel
// validate every chain reachable from the base chains, and that walk grows with the rules; a cascade of
// 10 DNATs per chain made it ~100 ms. With one DNAT rule per chain reading a data map (elements of a
// data map are never validated), an endpoint change is one short rule plus its elements, and the
// validation walk dropped to ~10-30 ms. The rules name the chain's capacity rather than its endpoint
// count, so an endpoint change within it is elements only (~12-17 ms at 10,000 Services against ~45-90
// ms for anything the kernel validates, load 3.5-5). Interval elements splitting the random range among
// the endpoints would keep the rule fixed too, but nft 1.0.6 then dumps every element of every interval
// set of the table per transaction (~350 ms a change). What is left of a transaction is nft's cache: for any
// element or rule command nft 1.0.6 dumps every chain of every table (~60 ms for 10,000 chains, user
// and kernel time about equal); commands that only add or flush a chain skip it; a long-lived `nft -i`
// (nft.ts) refills it in ~12-17 ms (the floor of an element-only change at 10,000 Services). bench/services-proxy.ts at 10,000 × 10, medians of alternated runs
// against the cascade layout and nft -f per transaction: change→kernel p50 164 → 41 ms, p99 267 →
// 120 ms (load 1.3-5; target p99 ≤ 100 ms met only on the quieter runs), full sync 7.0 → 4.9 s.
//
// Chain names spell the service port (`service-default/web/tcp/http`): nft names may be long and hold
// `/`, so no hash is needed (kube-proxy adds one only to share names with its iptables mode).

import type { EndpointSlice, Service, ServicePort } from '../api/types.ts';
import { cidrContains, formatIPv4, LABEL_SERVICE_NAME, parseIPv4, parseIPv4Cidr } from '../api/network.ts';
import { categorize, endpointsForPort, proxied, proxiedSlice } from './endpoints.ts';
import type { Endpoint } from './endpoints.ts';
import { DNAT_ATTEMPTS, ENDPOINT_MAP_SHARDS, ENDPOINT_SLOTS, endpointMap } from './endpointmaps.ts';
import type { EndpointIds } from './endpointmaps.ts';
import type { BaseChain, BaseSet, Element, NodeFacts, ServicePart, SlotRange, TableModel, UdpPort } from './model.ts';
import { flat } from '../util/flat.ts';

/** The packet mark kube-proxy uses for "masquerade this" (its --masquerade-bit 14). */
export const MASQ_MARK = '0x00004000';
/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT = 10800;

/** This node's endpoints as `ip . ip` (see the masquerading chain). */
export const HAIRPIN_SET = 'hairpin-endpoints';
const ADDR_PROTO_PORT = 'ipv4_addr . inet_proto . inet_service';
const PROTO_PORT = 'inet_proto . inet_service';
const LOCAL_DADDR = 'fib daddr type local ip daddr != 127.0.0.0/8';

export function buildBase(node?: NodeFacts): { chains: Map<string, BaseChain>; sets: Map<string, BaseSet> } {
  const chains = new Map<string, BaseChain>([
    ['nat-prerouting', { hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: ['jump services'] }],
    ['nat-output', { hook: 'type nat hook output priority -100; policy accept;', rules: ['jump services'] }],
    ['nat-postrouting', { hook: 'type nat hook postrouting priority srcnat; policy accept;', rules: ['jump masquerading'] }],
    // Filter hooks run before DNAT (priority -110 < dstnat), so a service without endpoints is refused
    // before anything is rewritten; filter-output-post-dnat (-90) sees what output DNAT left alone.
    ['filter-input', { hook: 'type filter hook input priority -110; policy accept;', rules: ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'] }],
    ['filter-forward', { hook: 'type filter hook forward priority -110; policy accept;', rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'] }],
    ['filter-output', { hook: 'type filter hook output priority -110; policy accept;', rules: ['ct state new jump service-endpoints-check', 'ct state new jump firewall-check'] }],
    // loadBalancerSourceRanges are checked on the original destination, before DNAT (kube-proxy's filter-prerouting).
    ['filter-prerouting', { hook: 'type filter hook prerouting priority -110; policy accept;', rules: ['ct state new jump firewall-check'] }],
    ['filter-output-post-dnat', { hook: 'type filter hook output priority -90; policy accept;', rules: ['ct state new jump cluster-ips-check'] }],
    // Off-node traffic to a ClusterIP is masqueraded so replies come back through this node
    // (kube-proxy's local detector, --detect-local-mode=NodeCIDR; it has the rule in each service
    // chain, for the Service's own ports: a port a ClusterIP does not serve is refused before NAT, so
    // one rule here does the same, and the service chains hold their DNATs only).
    ['services', {
      rules: [
        ...(node?.podCIDR ? [`ip daddr @cluster-ips ip saddr != ${node.podCIDR} jump mark-for-masquerade`] : []),
        'ip daddr . meta l4proto . th dport vmap @service-ips',
        `${LOCAL_DADDR} meta l4proto . th dport vmap @service-nodeports`,
      ],
    }],
    // A connection a pod's Service sent back to the pod itself is masqueraded, or the pod would answer
    // itself directly, not through the Service's address (kube-proxy's hairpin case). After DNAT the
    // test is source == destination: a lookup of the pair in a set of `ip . ip` of this node's endpoints.
    ['masquerading', { rules: [`ip saddr . ip daddr @${HAIRPIN_SET} jump mark-for-masquerade`, `meta mark & ${MASQ_MARK} == 0 return`, `meta mark set meta mark ^ ${MASQ_MARK}`, 'masquerade fully-random'] }],
    ['mark-for-masquerade', { rules: [`meta mark set meta mark | ${MASQ_MARK}`] }],
    ['service-endpoints-check', { rules: ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services'] }],
    ['nodeport-endpoints-check', { rules: [`${LOCAL_DADDR} meta l4proto . th dport vmap @no-endpoint-nodeports`] }],
    // A ClusterIP on a port it does not serve: refuse rather than let it wander off (kube-proxy 1.29+).
    ['cluster-ips-check', { rules: ['ip daddr @cluster-ips reject'] }],
    ['reject-chain', { rules: ['reject'] }],
    ['firewall-check', { rules: ['ip daddr . meta l4proto . th dport vmap @firewall-ips'] }],
  ]);
  const sets = new Map<string, BaseSet>([
    ['cluster-ips', { kind: 'set', decl: 'type ipv4_addr;' }],
    [HAIRPIN_SET, { kind: 'set', decl: 'type ipv4_addr . ipv4_addr;' }],
    ['service-ips', { kind: 'map', decl: `type ${ADDR_PROTO_PORT} : verdict;` }],
    ['service-nodeports', { kind: 'map', decl: `type ${PROTO_PORT} : verdict;` }],
    ['no-endpoint-services', { kind: 'map', decl: `type ${ADDR_PROTO_PORT} : verdict;` }],
    ['no-endpoint-nodeports', { kind: 'map', decl: `type ${PROTO_PORT} : verdict;` }],
    ['firewall-ips', { kind: 'map', decl: `type ${ADDR_PROTO_PORT} : verdict;` }],
  ]);
  for (const [proto, shards] of Object.entries(ENDPOINT_MAP_SHARDS)) {
    for (let shard = 0; shard < shards; shard++) {
      sets.set(endpointMap(proto, shard), { kind: 'map', decl: `typeof numgen random mod ${ENDPOINT_SLOTS} : ip daddr . ${proto} dport;` });
    }
  }
  return { chains, sets };
}

const NFT_PROTO: Readonly<Record<string, string>> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

export function serviceKey(svc: Service): string {
  return flat`${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

// Most parts have no sets and no UDP ports: one empty map for all of them (parts are never changed).
const NO_SETS: ReadonlyMap<string, string> = new Map();
const NO_UDP: ReadonlyMap<string, UdpPort> = new Map();

const EMPTY: readonly never[] = Object.freeze([]);

/** Up to this many chains a part keeps them in a SmallMap. */
const SMALL = 8;

/**
 * A few entries as two arrays, read by a linear search: a Map with its hash table took ~180 bytes for
 * the one to three chains most Services have (1.6 MB at 10,000 Services). Read-only, like the part.
 */
class SmallMap<K, V> implements ReadonlyMap<K, V> {
  readonly #keys: readonly K[];
  readonly #values: readonly V[];
  constructor(entries: ReadonlyArray<readonly [K, V]>) {
    this.#keys = entries.map((e) => e[0]);
    this.#values = entries.map((e) => e[1]);
  }
  get size(): number {
    return this.#keys.length;
  }
  get(key: K): V | undefined {
    const i = this.#keys.indexOf(key);
    return i < 0 ? undefined : this.#values[i];
  }
  has(key: K): boolean {
    return this.#keys.includes(key);
  }
  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.#keys.length; i++) fn.call(thisArg, this.#values[i], this.#keys[i], this);
  }
  entries(): MapIterator<[K, V]> {
    return this.#keys.map((k, i): [K, V] => [k, this.#values[i]]).values();
  }
  keys(): MapIterator<K> {
    return this.#keys.values();
  }
  values(): MapIterator<V> {
    return this.#values.values();
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
/** `a` without spare capacity (one shared empty array for all empty ones). */
function compact<T>(a: readonly T[]): readonly T[] {
  return a.length === 0 ? EMPTY : a.slice();
}

/** Index slices by the Service they belong to (`namespace/name` from the kubernetes.io/service-name label). */
export function slicesByService(slices: Iterable<EndpointSlice>): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    if (!proxiedSlice(s)) continue;
    const key = flat`${s.metadata?.namespace ?? ''}/${s.metadata!.labels![LABEL_SERVICE_NAME]}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

/**
 * Everything one Service contributes, or undefined when the proxy leaves it alone. With `ids`, chains
 * without session affinity reach their endpoints through the endpoint maps; without, through a cascade of rules.
 */
export function buildServicePart(svc: Service, slices: readonly EndpointSlice[], node: NodeFacts, ids?: EndpointIds): ServicePart | undefined {
  if (!proxied(svc)) return undefined;
  const spec = svc.spec!;
  const chains = new Map<string, string[]>();
  const sets = new Map<string, string>();
  const elements: Element[] = [];
  const slots: SlotRange[] = [];
  const hairpin = new Set<string>();
  const udp = new Map<string, UdpPort>();
  const type = spec.type ?? 'ClusterIP';
  const lbIPs: string[] = [];
  if (type === 'LoadBalancer') {
    // ipMode Proxy means the load balancer rewrites the destination itself; kube-proxy then leaves the address alone.
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip && ing.ipMode !== 'Proxy') lbIPs.push(ing.ip);
  }
  const externalIPs = [...(spec.externalIPs ?? []), ...lbIPs];
  const allowed = lbIPs.length > 0 ? firewallSources(spec.loadBalancerSourceRanges ?? [], lbIPs, node) : undefined;
  const nodePortType = type === 'NodePort' || type === 'LoadBalancer';
  const externallyAccessible = nodePortType || externalIPs.length > 0;
  const externalLocal = externallyAccessible && spec.externalTrafficPolicy === 'Local';
  const internalLocal = spec.internalTrafficPolicy === 'Local';
  const affinity = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT) : 0;
  const clusterIP = spec.clusterIP!;
  elements.push({ set: 'cluster-ips', key: clusterIP, exclusive: true });

  for (const port of spec.ports ?? []) {
    const proto = NFT_PROTO[port.protocol ?? 'TCP'];
    if (!proto) continue;
    const id = flat`${serviceKey(svc)}/${proto}/${port.name || port.port}`;
    const eps = categorize(endpointsForPort(slices, port, node.name));
    const internal = internalLocal ? eps.local : eps.cluster;
    const external = externalLocal ? eps.local : eps.cluster;
    const usesCluster = (!internalLocal && internal.length > 0) || (externallyAccessible && external.length > 0);
    const usesLocal = (internalLocal && internal.length > 0) || (externalLocal && external.length > 0);
    const clusterChain = flat`service-${id}`;
    const localChain = flat`local-${id}`;
    const externalChain = flat`external-${id}`;
    const endpointChain = (ep: Endpoint): string => `endpoint-${id}__${ep.ip}/${ep.port}`;
    if (allowed) {
      // Checked whether or not the Service has endpoints, as kube-proxy: a refused source never learns more.
      chains.set(`firewall-${id}`, [`ip saddr != ${allowed} drop`]);
      for (const ip of lbIPs) elements.push({ set: 'firewall-ips', key: `${ip} . ${proto} . ${port.port}`, value: `goto firewall-${id}` });
    }
    // The timeout is part of the set's name: a set's declaration cannot change in place, and a new
    // name lets one transaction swap the set with the chains that use it.
    const affinitySet = (ep: Endpoint): string => `affinity-${affinity}s-${id}__${ep.ip}/${ep.port}`;
    const writeEndpoints = (eps: readonly Endpoint[]): void => {
      for (const ep of eps) {
        const name = endpointChain(ep);
        if (chains.has(name)) continue;
        const rules = [`ip saddr ${ep.ip} jump mark-for-masquerade`];
        if (affinity > 0) {
          sets.set(affinitySet(ep), `type ipv4_addr; flags dynamic,timeout; timeout ${affinity}s;`);
          rules.push(`update @${affinitySet(ep)} { ip saddr }`);
        }
        rules.push(`meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
        chains.set(name, rules);
      }
    };
    // One endpoint of N picked uniformly by a cascade (rule i of N matches with probability 1/(N-i)), as
    // kube-proxy's iptables mode does with `statistic`; plain comparisons, no anonymous map per rule.
    const cascade = (n: number, target: (i: number) => string): string[] =>
      Array.from({ length: n }, (_, i) => (i < n - 1 ? `numgen random mod ${n - i} 0 ${target(i)}` : target(i)));
    const spread = (chain: string, eps: readonly Endpoint[], pre: readonly string[]): string[] => {
      const rules = [...pre];
      if (affinity > 0) {
        for (const ep of eps) rules.push(`ip saddr @${affinitySet(ep)} goto ${endpointChain(ep)}`);
        rules.push(...cascade(eps.length, (i) => `goto ${endpointChain(eps[i])}`));
        writeEndpoints(eps);
        return rules;
      }
      // Without affinity an endpoint needs no chain of its own: the DNATs sit here, and the hairpin
      // test is the masquerading chain's (an element per local endpoint, no rule here).
      for (const e of eps) if (e.local) hairpin.add(e.ip);
      const at = ids?.slots(chain, eps.length);
      if (at === undefined) {
        rules.push(...cascade(eps.length, (i) => `meta l4proto ${proto} dnat to ${eps[i].ip}:${eps[i].port}`));
        return rules;
      }
      const map = endpointMap(proto, at.id);
      const base = at.id * ENDPOINT_SLOTS;
      const port = eps[0].port;
      slots.push({ map, base, capacity: at.capacity, ips: eps.map((e) => e.ip), ports: eps.every((e) => e.port === port) ? port : eps.map((e) => e.port) });
      const dnat = (modulus: number): string => ['meta l4proto ', proto, ' dnat ip to numgen random mod ', modulus, ' offset ', base, ' map @', map].join('');
      // One string for the draws (10,000 chains hold them).
      const draw = dnat(at.capacity);
      for (let a = 0; a < DNAT_ATTEMPTS; a++) rules.push(draw);
      rules.push(dnat(at.fallback));
      return rules;
    };
    if (usesCluster) chains.set(clusterChain, spread(clusterChain, eps.cluster, []));
    if (usesLocal) chains.set(localChain, spread(localChain, eps.local, []));

    // Where nothing can take the traffic: reject when the service has no endpoints at all, drop when
    // it has some but the policy allows none of them from here (kube-proxy's two cases).
    const none = eps.hasAny ? 'drop' : 'goto reject-chain';
    const key = (ip: string): string => flat`${ip} . ${proto} . ${port.port}`;
    if (internal.length > 0) elements.push({ set: 'service-ips', key: key(clusterIP), value: flat`goto ${internalLocal ? localChain : clusterChain}`, exclusive: true });
    else elements.push({ set: 'no-endpoint-services', key: key(clusterIP), value: none, exclusive: true });

    if (externallyAccessible) {
      if (external.length > 0) {
        chains.set(externalChain, externalLocal
          ? [
              // This node's pods and the node itself are not "external": they get every endpoint,
              // and the node's own traffic is masqueraded so the reply finds its way back (kube-proxy).
              ...(node.podCIDR ? [`ip saddr ${node.podCIDR} goto ${clusterChain}`] : []),
              'fib saddr type local jump mark-for-masquerade',
              `fib saddr type local goto ${clusterChain}`,
              `goto ${localChain}`,
            ]
          : [node.podCIDR ? `ip saddr != ${node.podCIDR} jump mark-for-masquerade` : 'jump mark-for-masquerade', `goto ${clusterChain}`]);
        // Local endpoints are a subset of the usable cluster ones, so the cluster chain always has targets.
        if (externalLocal && !chains.has(clusterChain)) chains.set(clusterChain, spread(clusterChain, eps.cluster, []));
      }
      const verdict = external.length > 0 ? flat`goto ${externalChain}` : none;
      for (const ip of externalIPs) elements.push(external.length > 0 ? { set: 'service-ips', key: key(ip), value: verdict } : { set: 'no-endpoint-services', key: key(ip), value: verdict });
      if (nodePortType && port.nodePort) {
        const np = flat`${proto} . ${port.nodePort}`;
        elements.push({ set: external.length > 0 ? 'service-nodeports' : 'no-endpoint-nodeports', key: np, value: verdict, exclusive: true });
      }
    }
    if (proto === 'udp') udp.set(id, udpPort(clusterIP, externalIPs, port, [...new Set([...internal, ...external].map((e) => e.ip))]));
  }
  // The part lives as long as its Service: its arrays are copied to their length (an array grown by
  // push keeps room for 17 items, ~150 bytes, whatever it holds).
  const kept: Array<[string, readonly string[]]> = [];
  for (const [name, rules] of chains) kept.push([name, compact(rules)]);
  return {
    chains: kept.length > SMALL ? new Map(kept) : new SmallMap(kept),
    sets: sets.size > 0 ? sets : NO_SETS,
    elements: compact(elements),
    slots: compact(slots),
    hairpin: compact([...hairpin]),
    udp: udp.size > 0 ? udp : NO_UDP,
    healthCheck: healthCheck(svc, slices, node),
  };
}

/**
 * The allowed sources of a firewalled LoadBalancer as an nft expression (a set when several), or
 * undefined when the Service has no IPv4 source ranges. As kube-proxy: ranges are trimmed (validation
 * lets padding through) and filtered to IPv4; when one of them holds the node's address, the ingress IPs
 * are allowed too, since a node reaching a VIP it holds as a local address sends from that VIP.
 */
export function firewallSources(ranges: readonly string[], lbIPs: readonly string[], node: NodeFacts): string | undefined {
  const cidrs = new Map<string, ReturnType<typeof parseIPv4Cidr>>();
  for (const r of ranges) {
    try {
      const c = parseIPv4Cidr(r.trim());
      // Host bits cleared, as Go's net.ParseCIDR reads a range; nft refuses a prefix with host bits set.
      cidrs.set(`${formatIPv4(c.base)}/${c.prefix}`, c);
    } catch {
      // validation admits only CIDRs; anything else is another family
    }
  }
  if (cidrs.size === 0) return undefined;
  const sources = [...cidrs.keys()];
  const fromNode = node.addresses.some((a) => {
    const ip = parseIPv4(a);
    return ip !== undefined && [...cidrs.values()].some((c) => cidrContains(c, ip));
  });
  if (fromNode) for (const ip of lbIPs) if (!sources.includes(ip)) sources.push(ip);
  return sources.length === 1 ? sources[0] : `{ ${sources.join(', ')} }`;
}

/**
 * What the Service's health check node port answers: kube-proxy serves one for a LoadBalancer with
 * externalTrafficPolicy Local, counting this node's ready endpoints (distinct ip:port over all ports,
 * as its LocalReadyEndpoints; serving-terminating ones do not count).
 */
function healthCheck(svc: Service, slices: readonly EndpointSlice[], node: NodeFacts): ServicePart['healthCheck'] {
  const spec = svc.spec!;
  if (spec.type !== 'LoadBalancer' || spec.externalTrafficPolicy !== 'Local' || !spec.healthCheckNodePort) return undefined;
  const local = new Set<string>();
  for (const port of spec.ports ?? []) {
    for (const ep of endpointsForPort(slices, port, node.name)) if (ep.local && ep.ready) local.add(`${ep.ip}:${ep.port}`);
  }
  return { port: spec.healthCheckNodePort, localEndpoints: local.size, uid: svc.metadata?.uid };
}

function udpPort(clusterIP: string, externalIPs: readonly string[], port: ServicePort, endpoints: string[]): UdpPort {
  return {
    frontends: [clusterIP, ...externalIPs].map((ip) => ({ ip, port: port.port })),
    nodePort: port.nodePort || undefined,
    endpoints,
  };
}

/** The whole desired table. */
export function buildModel(services: Iterable<Service>, slices: Iterable<EndpointSlice>, node: NodeFacts, ids?: EndpointIds): TableModel {
  const bySvc = slicesByService(slices);
  const parts = new Map<string, ServicePart>();
  for (const svc of services) {
    const part = buildServicePart(svc, bySvc.get(serviceKey(svc)) ?? [], node, ids);
    if (part) parts.set(serviceKey(svc), part);
  }
  return assemble(parts, node);
}

export function assemble(services: ReadonlyMap<string, ServicePart>, node?: NodeFacts): TableModel {
  const { chains, sets } = buildBase(node);
  const owners = new Map<string, string>();
  for (const [key, part] of services) claim(owners, key, part);
  return { chains, sets, services, owners };
}

/** The element's identity within the table: its set and key (a map holds one value per key). */
export function elementId(e: Element): string {
  return `${e.set} ${e.key}`;
}

// Two Services may claim one map key (two LoadBalancers on one port of the same ingress address):
// the first keeps it, as ServiceLB leaves the later one pending.
function claim(owners: Map<string, string>, key: string, part: ServicePart): void {
  for (const e of part.elements) {
    if (e.exclusive) continue;
    const id = elementId(e);
    if (!owners.has(id)) owners.set(id, key);
  }
}

/** The model with some Services' parts replaced (undefined: removed). `prev` is left as it was. */
export function updateModel(prev: TableModel, updates: ReadonlyMap<string, ServicePart | undefined>): TableModel {
  const services = new Map(prev.services);
  const owners = new Map(prev.owners);
  for (const [key, part] of updates) {
    const old = services.get(key);
    if (old) for (const e of old.elements) if (!e.exclusive && owners.get(elementId(e)) === key) owners.delete(elementId(e));
    if (part) services.set(key, part);
    else services.delete(key);
  }
  for (const [key, part] of updates) if (part) claim(owners, key, part);
  return { chains: prev.chains, sets: prev.sets, services, owners };
}
