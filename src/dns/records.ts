// The cluster DNS's records: an index of Services and EndpointSlices (fed by informers, or directly by
// tests and the bench) and the lookup that turns a question into an answer, as the Kubernetes DNS
// specification (kubernetes/dns docs/specification.md, schema 1.0.1) defines the records and CoreDNS's
// kubernetes plugin answers the edge cases:
//  - `<svc>.<ns>.svc.<zone>` A: the ClusterIP; headless: one A per ready endpoint (NXDOMAIN without
//    any); ExternalName: a CNAME, chased only when the target is inside the zone (the client's resolver
//    follows it otherwise).
//  - `<endpoint>.<svc>.<ns>.svc.<zone>` A, where <endpoint> is the endpoint's hostname or its address
//    with dashes (CoreDNS's endpointHostname), for headless and ClusterIP Services alike.
//  - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV: named ports only; a ClusterIP Service targets its
//    own name on the Service port, a headless one each ready endpoint on the EndpointSlice's port;
//    the targets' A records go in the additional section.
//  - `a-b-c-d.<ns>.pod.<zone>` A for any address (CoreDNS `pods insecure`, the spec's deprecated 2.6).
//  - PTR for ClusterIPs and endpoint addresses; `dns-version.<zone>` TXT; SOA and NS at the apex.
//  - A name that exists without the asked type is NOERROR with no answer (NODATA); `<ns>.svc.<zone>`
//    exists when the namespace has a Service; anything else is NXDOMAIN. Names compare
//    case-insensitively: callers pass the lowercased name for matching and the asked one to echo.
//
// Lookups are O(1) in the number of Services (maps keyed by `<name>.<ns>` and by address); the
// `generation` counter changes with every change so a cache of encoded answers knows when to drop.

import type { EndpointSlice, Service, SliceEndpoint } from '../api/types.ts';
import { LABEL_SERVICE_NAME, cidrContains, parseIPv4, parseIPv4Cidr } from '../api/network.ts';
import type { IPv4Cidr } from '../api/network.ts';
import type { LocalResolver } from './resolver.ts';
import { flat } from '../util/flat.ts';

/** CoreDNS kubernetes plugin's default TTL, used for answers and (as the SOA minimum) for negative caching. */
export const DEFAULT_TTL = 5;
/** The schema version the DNS specification this follows declares (section 1). */
export const DNS_SCHEMA_VERSION = '1.0.1';

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_TXT = 16;
export const TYPE_AAAA = 28;
export const TYPE_SRV = 33;
export const TYPE_OPT = 41;
export const TYPE_IXFR = 251;
export const TYPE_AXFR = 252;
export const TYPE_ANY = 255;

/** One resource record, in dns-packet's encodable shape. */
export type RR =
  | { type: 'A'; name: string; ttl: number; data: string }
  | { type: 'CNAME' | 'PTR' | 'NS'; name: string; ttl: number; data: string }
  | { type: 'TXT'; name: string; ttl: number; data: string }
  | { type: 'SRV'; name: string; ttl: number; data: { priority: number; weight: number; port: number; target: string } }
  | {
      type: 'SOA';
      name: string;
      ttl: number;
      data: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
    };

export interface Answer {
  rcode: number;
  answers: RR[];
  authorities: RR[];
  additionals: RR[];
}

export interface ZoneOptions {
  /** The cluster domain, without a trailing dot. Default cluster.local. */
  zone?: string;
  ttl?: number;
  /**
   * Ranges whose reverse names this server answers with authority (NXDOMAIN when unknown): the
   * Service CIDR and the cluster (pod) CIDR. Reverse names of other addresses are answered only when
   * an endpoint has the address; otherwise the caller forwards them.
   */
  reverseCidrs?: readonly string[];
  /** The cluster DNS Service's address, for `ns.dns.<zone>` (the NS record's target, as CoreDNS names it). */
  serverIP?: string;
  /** Time source for the SOA serial (seconds). */
  now?: () => number;
}

interface Port {
  name: string;
  port: number;
  protocol: string;
}

interface ServiceEntry {
  name: string;
  namespace: string;
  /** `<name>.<ns>.svc.<zone>`, lowercased. */
  fqdn: string;
  kind: 'ClusterIP' | 'Headless' | 'ExternalName' | 'Pending';
  clusterIP: string;
  externalName: string;
  ports: readonly Port[];
  publishNotReady: boolean;
}

interface EndpointEntry {
  ip: string;
  /** Lowercased; unset for most endpoints, whose name is then their address with dashes (hostOf). */
  hostname: string | undefined;
  ready: boolean;
}

/** The endpoint's name under its Service: its hostname, or its address with dashes (CoreDNS's endpointHostname). */
function hostOf(ep: EndpointEntry): string {
  return ep.hostname ?? ep.ip.replaceAll('.', '-');
}


/**
 * A slice's endpoints as parallel arrays rather than an object each: at 10,000 Services of 10 endpoints
 * the objects took ~6 MB of the node's memory, while queries that list endpoints (headless A, SRV,
 * PTR) are a minority and make the few they answer with (entriesOf).
 */
interface SliceEntry {
  /** `<ns>/<service>` the slice belongs to (its kubernetes.io/service-name label). */
  service: string;
  /** Each endpoint address (an endpoint with several addresses has an entry for each). */
  ips: readonly string[];
  /** The entries' lowercased hostnames, when any endpoint has one. */
  hostnames: ReadonlyArray<string | undefined> | undefined;
  /** The entries whose endpoint is not ready, when any is not. */
  notReady: ReadonlySet<number> | undefined;
  ports: readonly Port[];
}

const HEADLESS = 'None';


// Port lists repeat across Services and slices (most name one `http` TCP port): one frozen list for
// each distinct one rather than an object and an array per Service and per slice.
const PORT_LISTS = new Map<string, readonly Port[]>();
const MAX_PORT_LISTS = 10_000;
function portList(ports: ReadonlyArray<{ name?: string; port?: number; protocol?: string }>): readonly Port[] {
  const list = ports.map((p) => ({ name: (p.name ?? '').toLowerCase(), port: p.port ?? 0, protocol: (p.protocol ?? 'TCP').toLowerCase() }));
  const key = list.map((p) => `${p.name}/${p.port}/${p.protocol}`).join(',');
  let out = PORT_LISTS.get(key);
  if (!out) {
    // Bounded: past it, lists are simply kept unshared.
    if (PORT_LISTS.size >= MAX_PORT_LISTS) return list;
    out = Object.freeze(list.map((p) => Object.freeze(p)));
    PORT_LISTS.set(key, out);
  }
  return out;
}
const MAX_CNAME_CHAIN = 8;

/** The index; every method is synchronous and called from the one event loop (informer handlers, queries). */
export class ZoneIndex implements LocalResolver {
  readonly zone: string;
  readonly ttl: number;
  readonly #zoneSuffix: string;
  readonly #reverseCidrs: IPv4Cidr[];
  readonly #serverIP: string | undefined;
  readonly #now: () => number;
  /** `<name>.<ns>` → the Service. */
  readonly #services = new Map<string, ServiceEntry>();
  /** `<ns>/<name>` of a slice → the slice. */
  readonly #slices = new Map<string, SliceEntry>();
  /** `<ns>/<service>` → its slices' keys. */
  readonly #slicesByService = new Map<string, readonly string[]>();
  /** Namespace → how many Services it has. */
  readonly #namespaces = new Map<string, number>();
  /**
   * Address → the Services whose ClusterIP or published endpoint it is (one, or several when Services
   * share an endpoint). The PTR targets are found when asked: no object per address is kept.
   */
  readonly #ptr = new Map<string, ServiceEntry | ServiceEntry[]>();
  #generation = 0;
  #serial: number;
  /** False until the first full list of both kinds arrived: an unknown name is then SERVFAIL, not NXDOMAIN (as CoreDNS). */
  synced = true;

  constructor(o: ZoneOptions = {}) {
    this.zone = (o.zone ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
    this.#zoneSuffix = `.${this.zone}`;
    this.ttl = o.ttl ?? DEFAULT_TTL;
    this.#reverseCidrs = (o.reverseCidrs ?? []).map(parseIPv4Cidr);
    this.#serverIP = o.serverIP;
    this.#now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.#serial = this.#now() >>> 0;
  }

  /** Changes with every change of the records. */
  get generation(): number {
    return this.#generation;
  }

  get serviceCount(): number {
    return this.#services.size;
  }

  // ---- feeding ----

  upsertService(svc: Service): void {
    const name = svc.metadata?.name?.toLowerCase();
    const namespace = svc.metadata?.namespace?.toLowerCase();
    if (!name || !namespace) return;
    const key = flat`${name}.${namespace}`;
    const spec = svc.spec ?? {};
    const clusterIP = spec.clusterIP ?? '';
    const kind: ServiceEntry['kind'] =
      spec.type === 'ExternalName' ? 'ExternalName' : clusterIP === HEADLESS ? 'Headless' : parseIPv4(clusterIP) !== undefined ? 'ClusterIP' : 'Pending';
    const entry: ServiceEntry = {
      name,
      namespace,
      fqdn: flat`${key}.svc.${this.zone}`,
      kind,
      clusterIP: kind === 'ClusterIP' ? clusterIP : '',
      externalName: (spec.externalName ?? '').toLowerCase().replace(/\.$/, ''),
      ports: portList(spec.ports ?? []),
      publishNotReady: spec.publishNotReadyAddresses === true,
    };
    const svcKey = flat`${namespace}/${name}`;
    const before = this.#ptrAddresses(svcKey);
    if (!this.#services.has(key)) this.#namespaces.set(namespace, (this.#namespaces.get(namespace) ?? 0) + 1);
    this.#services.set(key, entry);
    this.#reindexPtr(svcKey, before);
    this.#changed();
  }

  deleteService(svc: Service): void {
    const name = svc.metadata?.name?.toLowerCase();
    const namespace = svc.metadata?.namespace?.toLowerCase();
    if (!name || !namespace) return;
    const key = `${name}.${namespace}`;
    const svcKey = flat`${namespace}/${name}`;
    const before = this.#ptrAddresses(svcKey);
    if (!this.#services.delete(key)) return;
    const n = (this.#namespaces.get(namespace) ?? 1) - 1;
    if (n > 0) this.#namespaces.set(namespace, n);
    else this.#namespaces.delete(namespace);
    this.#reindexPtr(svcKey, before);
    this.#changed();
  }

  upsertSlice(slice: EndpointSlice): void {
    const key = sliceKey(slice);
    const service = slice.metadata?.labels?.[LABEL_SERVICE_NAME]?.toLowerCase();
    if (!key) return;
    const old = this.#slices.get(key);
    if (old && old.service !== `${slice.metadata?.namespace?.toLowerCase()}/${service}`) this.deleteSlice(slice);
    // Only IPv4 slices: tinykube is single-stack, and an AAAA is never answered from these.
    if (!service || (slice.addressType !== undefined && slice.addressType !== 'IPv4')) {
      if (old) this.deleteSlice(slice);
      return;
    }
    const svcKey = flat`${slice.metadata!.namespace!.toLowerCase()}/${service}`;
    const entry: SliceEntry = {
      service: svcKey,
      ...sliceEndpoints(slice.endpoints ?? []),
      ports: portList(slice.ports ?? []),
    };
    const before = this.#ptrAddresses(svcKey);
    this.#slices.set(key, entry);
    // An array, not a Set each: a Service has a slice or a few (one per 100 endpoints).
    const keys = this.#slicesByService.get(svcKey) ?? [];
    if (!keys.includes(key)) this.#slicesByService.set(svcKey, [...keys, key]);
    this.#reindexPtr(svcKey, before);
    this.#changed();
  }

  deleteSlice(slice: EndpointSlice): void {
    const key = sliceKey(slice);
    if (!key) return;
    const old = this.#slices.get(key);
    if (!old) return;
    const before = this.#ptrAddresses(old.service);
    this.#slices.delete(key);
    const keys = (this.#slicesByService.get(old.service) ?? []).filter((k) => k !== key);
    if (keys.length > 0) this.#slicesByService.set(old.service, keys);
    else this.#slicesByService.delete(old.service);
    this.#reindexPtr(old.service, before);
    this.#changed();
  }

  #changed(): void {
    this.#generation++;
    this.#serial = Math.max(this.#serial + 1, this.#now()) >>> 0;
  }

  /**
   * The addresses the Service has PTR names for (its ClusterIP, its published endpoints), as the index
   * stands. A change takes them before and after (#reindexPtr) rather than keeping them per Service: a
   * Map of 10,000 arrays of addresses took ~2 MB.
   */
  #ptrAddresses(svcKey: string): string[] {
    const slash = svcKey.indexOf('/');
    const svc = this.#services.get(`${svcKey.slice(slash + 1)}.${svcKey.slice(0, slash)}`);
    if (!svc || svc.kind === 'ExternalName') return [];
    const addresses = new Set<string>();
    if (svc.kind === 'ClusterIP') addresses.add(svc.clusterIP);
    for (const ep of this.#endpoints(svc)) addresses.add(ep.ip);
    return [...addresses];
  }

  /** Replaces the PTR names one Service contributes; `before` is what #ptrAddresses said before the change. */
  #reindexPtr(svcKey: string, before: readonly string[]): void {
    const slash = svcKey.indexOf('/');
    const ns = svcKey.slice(0, slash);
    const name = svcKey.slice(slash + 1);
    for (const ip of before) {
      const cur = this.#ptr.get(ip);
      if (!cur) continue;
      const keep = (Array.isArray(cur) ? cur : [cur]).filter((e) => e.name !== name || e.namespace !== ns);
      if (keep.length === 0) this.#ptr.delete(ip);
      else this.#ptr.set(ip, keep.length === 1 ? keep[0] : keep);
    }
    const svc = this.#services.get(`${name}.${ns}`);
    if (!svc) return;
    for (const ip of this.#ptrAddresses(svcKey)) {
      const cur = this.#ptr.get(ip);
      this.#ptr.set(ip, cur === undefined ? svc : Array.isArray(cur) ? [...cur, svc] : [cur, svc]);
    }
  }

  /** The Service's published endpoints (ready ones, or all with publishNotReadyAddresses), one per address and name. */
  #endpoints(svc: ServiceEntry): EndpointEntry[] {
    const keys = this.#slicesByService.get(`${svc.namespace}/${svc.name}`);
    if (!keys) return [];
    const seen = new Set<string>();
    const out: EndpointEntry[] = [];
    for (const k of keys) {
      for (const ep of entriesOf(this.#slices.get(k)!)) {
        if (!ep.ready && !svc.publishNotReady) continue;
        const id = ep.hostname === undefined ? ep.ip : `${ep.ip}/${ep.hostname}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(ep);
      }
    }
    return out;
  }

  /** The Service's endpoint ports matching a SRV question's port and protocol (names are unique per Service). */
  #slicePorts(svc: ServiceEntry, port: string, proto: string): Port[] {
    const out = new Map<string, Port>();
    for (const k of this.#slicesByService.get(`${svc.namespace}/${svc.name}`) ?? []) {
      for (const p of this.#slices.get(k)!.ports) if (p.name === port && p.protocol === proto) out.set(`${p.port}`, p);
    }
    return [...out.values()];
  }

  // ---- lookup ----

  /** Whether this server answers the name itself (else the caller forwards it). `lower` is lowercased, without the trailing dot. */
  isLocal(lower: string): boolean {
    if (lower === this.zone || lower.endsWith(this.#zoneSuffix)) return true;
    const ip = reverseIP(lower);
    if (ip === undefined) return false;
    if (this.#ptr.has(ip)) return true;
    const n = parseIPv4(ip)!;
    return this.#reverseCidrs.some((c) => cidrContains(c, n));
  }

  /**
   * The answer for a question this server is authoritative for (isLocal). `asked` is the name as asked
   * (without the trailing dot), echoed as the owner of the answers; `lower` is it lowercased.
   */
  resolve(asked: string, lower: string, qtype: number): Answer {
    const out: Answer = { rcode: RCODE_NOERROR, answers: [], authorities: [], additionals: [] };
    this.#resolveInto(out, asked, lower, qtype, 0);
    if (out.answers.length === 0 || out.rcode === RCODE_NXDOMAIN) {
      if (out.rcode === RCODE_NXDOMAIN && !this.synced) out.rcode = RCODE_SERVFAIL;
      else out.authorities.push(this.soa(lower));
    }
    return out;
  }

  #resolveInto(out: Answer, asked: string, lower: string, qtype: number, depth: number): void {
    const ip = reverseIP(lower);
    if (ip !== undefined) return this.#reverse(out, asked, ip, qtype);
    let rel: string[];
    if (lower === this.zone) rel = [];
    else if (lower.endsWith(this.#zoneSuffix)) rel = lower.slice(0, -this.#zoneSuffix.length).split('.');
    else {
      out.rcode = RCODE_NXDOMAIN;
      return;
    }
    const n = rel.length;
    const ttl = this.ttl;
    const want = (t: number) => qtype === t || qtype === TYPE_ANY;
    if (n === 0) {
      if (want(TYPE_SOA)) out.answers.push(this.soa(lower, asked));
      if (want(TYPE_NS)) out.answers.push({ type: 'NS', name: asked, ttl, data: `ns.dns.${this.zone}` });
      return;
    }
    const top = rel[n - 1];
    if (n === 1 && top === 'dns-version') {
      if (want(TYPE_TXT)) out.answers.push({ type: 'TXT', name: asked, ttl, data: DNS_SCHEMA_VERSION });
      return;
    }
    if (top === 'dns' && this.#serverIP !== undefined) {
      if (n === 1) return; // an empty non-terminal above ns.dns
      if (n === 2 && rel[0] === 'ns') {
        if (want(TYPE_A)) out.answers.push({ type: 'A', name: asked, ttl, data: this.#serverIP });
        return;
      }
    }
    if (top === 'svc') return this.#svc(out, asked, rel, qtype, depth);
    if (top === 'pod') {
      if (n === 1) return;
      if (n === 2) {
        if (!this.#namespaces.has(rel[0])) out.rcode = RCODE_NXDOMAIN;
        return;
      }
      const podIP = n === 3 ? dashedIPv4(rel[0]) : undefined;
      if (podIP === undefined) {
        out.rcode = RCODE_NXDOMAIN;
        return;
      }
      if (want(TYPE_A)) out.answers.push({ type: 'A', name: asked, ttl, data: podIP });
      return;
    }
    out.rcode = RCODE_NXDOMAIN;
  }

  #svc(out: Answer, asked: string, rel: string[], qtype: number, depth: number): void {
    const n = rel.length;
    const ttl = this.ttl;
    const want = (t: number) => qtype === t || qtype === TYPE_ANY;
    if (n === 1) return; // svc.<zone>: exists
    if (n === 2) {
      if (!this.#namespaces.has(rel[0])) out.rcode = RCODE_NXDOMAIN;
      return;
    }
    if (n > 5) {
      out.rcode = RCODE_NXDOMAIN;
      return;
    }
    const svc = this.#services.get(`${rel[n - 3]}.${rel[n - 2]}`);
    if (!svc || svc.kind === 'Pending' || (svc.kind === 'ExternalName' && n > 3)) {
      out.rcode = RCODE_NXDOMAIN;
      return;
    }
    if (n === 3) {
      if (svc.kind === 'ExternalName') {
        out.answers.push({ type: 'CNAME', name: asked, ttl, data: svc.externalName });
        if (qtype === TYPE_CNAME || qtype === TYPE_ANY) return;
        // In-zone targets are answered here (kube-dns and CoreDNS do); others are the client's to chase.
        const target = svc.externalName;
        if ((target === this.zone || target.endsWith(this.#zoneSuffix)) && depth < MAX_CNAME_CHAIN) {
          if (out.answers.some((r) => r.type === 'CNAME' && r.name.toLowerCase() === target)) return;
          this.#resolveInto(out, target, target, qtype, depth + 1);
        }
        return;
      }
      if (svc.kind === 'ClusterIP') {
        if (want(TYPE_A)) out.answers.push({ type: 'A', name: asked, ttl, data: svc.clusterIP });
        return;
      }
      const eps = this.#endpoints(svc);
      // A headless Service without ready endpoints has no records at all (spec 2.4.1: NXDOMAIN).
      if (eps.length === 0) {
        out.rcode = RCODE_NXDOMAIN;
        return;
      }
      if (want(TYPE_A)) {
        const seen = new Set<string>();
        for (const ep of eps) {
          if (seen.has(ep.ip)) continue;
          seen.add(ep.ip);
          out.answers.push({ type: 'A', name: asked, ttl, data: ep.ip });
        }
      }
      return;
    }
    if (n === 4) {
      const host = rel[0];
      const eps = this.#endpoints(svc).filter((ep) => hostOf(ep) === host);
      if (eps.length === 0) {
        out.rcode = RCODE_NXDOMAIN;
        return;
      }
      if (want(TYPE_A)) for (const ep of eps) out.answers.push({ type: 'A', name: asked, ttl, data: ep.ip });
      return;
    }
    // _<port>._<proto>.<svc>.<ns>.svc: CoreDNS strips the underscores when present.
    const port = rel[0].replace(/^_/, '');
    const proto = rel[1].replace(/^_/, '');
    const srv: Array<{ port: number; target: string; ip: string }> = [];
    if (svc.kind === 'ClusterIP') {
      for (const p of svc.ports) if (p.name !== '' && p.name === port && p.protocol === proto) srv.push({ port: p.port, target: svc.fqdn, ip: svc.clusterIP });
    } else {
      const ports = port === '' ? [] : this.#slicePorts(svc, port, proto);
      if (ports.length > 0) for (const ep of this.#endpoints(svc)) for (const p of ports) srv.push({ port: p.port, target: `${hostOf(ep)}.${svc.fqdn}`, ip: ep.ip });
    }
    if (srv.length === 0) {
      out.rcode = RCODE_NXDOMAIN;
      return;
    }
    if (want(TYPE_SRV)) {
      // CoreDNS: priority 0, the weight shared out over the records of one priority.
      const weight = Math.floor(100 / srv.length);
      const extra = new Set<string>();
      for (const s of srv) {
        out.answers.push({ type: 'SRV', name: asked, ttl, data: { priority: 0, weight, port: s.port, target: s.target } });
        const id = `${s.target} ${s.ip}`;
        if (extra.has(id)) continue;
        extra.add(id);
        out.additionals.push({ type: 'A', name: s.target, ttl, data: s.ip });
      }
    }
    if (qtype === TYPE_A) {
      const seen = new Set<string>();
      for (const s of srv) {
        if (seen.has(s.ip)) continue;
        seen.add(s.ip);
        out.answers.push({ type: 'A', name: asked, ttl, data: s.ip });
      }
    }
  }

  #reverse(out: Answer, asked: string, ip: string, qtype: number): void {
    const refs = this.#ptr.get(ip);
    if (!refs) {
      out.rcode = RCODE_NXDOMAIN;
      return;
    }
    if (qtype !== TYPE_PTR && qtype !== TYPE_ANY) return;
    const seen = new Set<string>();
    const add = (target: string): void => {
      if (seen.has(target)) return;
      seen.add(target);
      out.answers.push({ type: 'PTR', name: asked, ttl: this.ttl, data: target });
    };
    for (const svc of Array.isArray(refs) ? refs : [refs]) {
      if (svc.kind === 'ClusterIP' && svc.clusterIP === ip) add(svc.fqdn);
      for (const ep of this.#endpoints(svc)) if (ep.ip === ip) add(`${hostOf(ep)}.${svc.fqdn}`);
    }
  }

  /** The SOA of the zone `lower` lies in (the cluster zone, or the reverse zone of the CIDR it is in). */
  soa(lower: string, owner?: string): RR {
    let zone = this.zone;
    const ip = reverseIP(lower);
    if (ip !== undefined) {
      const n = parseIPv4(ip)!;
      const c = this.#reverseCidrs.find((r) => cidrContains(r, n));
      zone = c ? reverseZone(c) : `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
    }
    // CoreDNS's SOA: ns.dns.<zone>, hostmaster.<zone>, refresh 7200, retry 1800, expire 86400, minimum = TTL.
    return {
      type: 'SOA',
      name: owner ?? zone,
      ttl: this.ttl,
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: this.#serial,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }
}

function sliceKey(slice: EndpointSlice): string | undefined {
  const name = slice.metadata?.name;
  const ns = slice.metadata?.namespace;
  return name && ns ? flat`${ns.toLowerCase()}/${name}` : undefined;
}

/** The endpoints' IPv4 addresses, hostnames and readiness as a SliceEntry keeps them. */
function sliceEndpoints(eps: readonly SliceEndpoint[]): Pick<SliceEntry, 'ips' | 'hostnames' | 'notReady'> {
  const ips: string[] = [];
  let hostnames: Array<string | undefined> | undefined;
  let notReady: Set<number> | undefined;
  for (const e of eps) {
    // EndpointSlice semantics: a nil `ready` means ready (discovery/v1 EndpointConditions).
    const ready = e.conditions?.ready !== false;
    const hostname = e.hostname?.toLowerCase();
    for (const ip of e.addresses ?? []) {
      if (parseIPv4(ip) === undefined) continue;
      if (hostname !== undefined) (hostnames ??= new Array<string | undefined>(ips.length))[ips.length] = hostname;
      else if (hostnames) hostnames[ips.length] = undefined;
      if (!ready) (notReady ??= new Set()).add(ips.length);
      ips.push(ip);
    }
  }
  if (hostnames) hostnames.length = ips.length;
  // Copied to their length: kept as long as the slice, and an array grown by push has room for 17.
  return { ips: ips.slice(), hostnames: hostnames?.slice(), notReady };
}

/** A slice's endpoints as entries (made for the query that reads them). */
function* entriesOf(s: SliceEntry): Generator<EndpointEntry> {
  for (let i = 0; i < s.ips.length; i++) yield { ip: s.ips[i], hostname: s.hostnames?.[i], ready: !s.notReady?.has(i) };
}

/** The address of `d.c.b.a.in-addr.arpa`, or undefined when the name is not a full IPv4 reverse name. */
export function reverseIP(lower: string): string | undefined {
  if (!lower.endsWith('.in-addr.arpa')) return undefined;
  const parts = lower.slice(0, -'.in-addr.arpa'.length).split('.');
  if (parts.length !== 4) return undefined;
  const ip = parts.reverse().join('.');
  return parseIPv4(ip) === undefined ? undefined : ip;
}

function reverseZone(c: IPv4Cidr): string {
  const octets = [c.base >>> 24, (c.base >>> 16) & 255, (c.base >>> 8) & 255, c.base & 255].slice(0, Math.floor(c.prefix / 8));
  return [...octets.reverse(), 'in-addr', 'arpa'].join('.');
}

/** `10-244-1-5` → `10.244.1.5` (the pod record's label), else undefined. */
function dashedIPv4(label: string): string | undefined {
  const ip = label.replaceAll('-', '.');
  return label.split('-').length === 4 && parseIPv4(ip) !== undefined ? ip : undefined;
}
