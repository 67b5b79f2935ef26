// The pure half of the overlay: from the Node objects to the kernel entries this node needs, and from
// those and what the kernel has to the commands that close the gap. Nothing here runs a command.
//
// The scheme is flannel's (pkg/backend/vxlan, pkg/backend/hostgw):
//  - vxlan: one device per node (VNI 1, UDP 8472, learning off). A node's VTEP address is its
//    podCIDR's network address, as a /32 on the device. For every other node: a route to its podCIDR
//    via its VTEP address over the device (onlink), a permanent neighbour entry giving that address
//    the node's VTEP MAC, and an fdb entry sending that MAC to the node's public IP.
//  - host-gw: for every other node, a route to its podCIDR via its public IP (nodes on one link).
// Each node publishes its backend, VTEP MAC and public IP as annotations of its own Node object.
//
// Routes carry a protocol number of their own (ROUTE_PROTO), so the overlay reads and changes its
// routes and nothing else of the routing table.
import { createHash } from 'node:crypto';
import { formatIPv4, parseIPv4, parseIPv4Cidr } from '../api/network.ts';
import type { Node } from '../api/types.ts';

export type Backend = 'vxlan' | 'host-gw';
export const BACKENDS: readonly Backend[] = ['vxlan', 'host-gw'];

export const BACKEND_TYPE_ANNOTATION = 'tinykube.io/backend-type';
export const VTEP_MAC_ANNOTATION = 'tinykube.io/vtep-mac';
export const PUBLIC_IP_ANNOTATION = 'tinykube.io/public-ip';

export const VXLAN_VNI = 1;
/** flannel's port (Linux's VXLAN default), not IANA's 4789. */
export const VXLAN_PORT = 8472;
export const VXLAN_DEVICE = `tinykube.${VXLAN_VNI}`;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;
/** The rtnetlink protocol number on the overlay's routes ("ip route show proto 77"). */
export const ROUTE_PROTO = 77;

/**
 * TX checksum offload on the VXLAN device. With it off the kernel checksums every encapsulated packet in
 * software and loses TSO through the device: pod-to-pod throughput across nodes fell to 0.4× of the
 * host's here (bench/network). It is off only where it is known to break: kernels before 5.7 send bad
 * checksums for VXLAN packets that MASQUERADE --random-fully rewrites (calico issue 3145, flannel
 * 1279; Calico's rule since felix 3.19), and `off` is there for a node whose public IP sits behind a NAT
 * that corrupts them (flannel's troubleshooting guide, k3s issue 6880).
 */
export type ChecksumOffload = 'auto' | 'on' | 'off';
export const CHECKSUM_OFFLOAD_MODES: readonly ChecksumOffload[] = ['auto', 'on', 'off'];

/** Whether the offload stays on, for a mode and a kernel release string (`uname -r`). */
export function txChecksumOffloadOn(mode: ChecksumOffload, kernelRelease: string): boolean {
  if (mode !== 'auto') return mode === 'on';
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 5 || (major === 5 && minor >= 7);
}

/** This node, as the overlay sees it. */
export interface Self {
  readonly name: string;
  readonly podCIDR: string;
  readonly publicIP: string;
  readonly backend: Backend;
}

/** Another node the overlay programs entries for. */
export interface Peer {
  readonly name: string;
  /** Normalised: network address / prefix. */
  readonly podCIDR: string;
  readonly publicIP: string;
  /** vxlan only. */
  readonly vtepMac?: string;
}

/** A node left out, and why (said once per change, in an event or the log). */
export interface Exclusion {
  readonly node: string;
  readonly reason: string;
}

export interface PeerSet {
  readonly peers: readonly Peer[];
  /** Nodes whose facts conflict with another's (an overlapping podCIDR, another backend): never routed to. */
  readonly refused: readonly Exclusion[];
  /** Nodes not ready for the overlay yet (no podCIDR, nothing published): skipped quietly. */
  readonly pending: readonly Exclusion[];
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** `a.b.c.d/n` with the host bits cleared, or undefined when it is not an IPv4 CIDR. */
export function normalizeCidr(cidr: string): string | undefined {
  try {
    const c = parseIPv4Cidr(cidr);
    return `${formatIPv4(c.base)}/${c.prefix}`;
  } catch {
    return undefined;
  }
}

function rangeOf(cidr: string): [number, number] {
  const c = parseIPv4Cidr(cidr);
  return [c.base, c.base + c.size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = rangeOf(a);
  const [b0, b1] = rangeOf(b);
  return a0 <= b1 && b0 <= a1;
}

/** The node's VTEP address: its podCIDR's network address (flannel's scheme). */
export function vtepAddress(podCIDR: string): string {
  return formatIPv4(parseIPv4Cidr(podCIDR).base);
}

/**
 * A stable, locally administered unicast MAC for a node's VTEP: a device recreated after a restart
 * keeps its address, so other nodes' fdb and neighbour entries stay right meanwhile.
 */
export function vtepMac(nodeName: string): string {
  const h = createHash('sha256').update(`tinykube-vtep/${nodeName}`).digest();
  const bytes = [(h[0] & 0xfc) | 0x02, h[1], h[2], h[3], h[4], h[5]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The annotations a node publishes on its own Node (null removes one, as a merge patch does). */
export function publishedAnnotations(self: Self, mac: string | undefined): Record<string, string | null> {
  return {
    [BACKEND_TYPE_ANNOTATION]: self.backend,
    [PUBLIC_IP_ANNOTATION]: self.publicIP,
    [VTEP_MAC_ANNOTATION]: self.backend === 'vxlan' ? (mac ?? null) : null,
  };
}

/** Whether `node` already carries what publishedAnnotations() would write. */
export function isPublished(node: Node | undefined, want: Record<string, string | null>): boolean {
  const have = node?.metadata?.annotations ?? {};
  return Object.entries(want).every(([k, v]) => (v === null ? !(k in have) : have[k] === v));
}

function age(n: Node): string {
  return n.metadata?.creationTimestamp ?? '';
}

/**
 * The other nodes to program, from all Node objects. Nodes are taken oldest first (then by name), so
 * every node decides alike: of two nodes whose podCIDRs overlap, the one that joined later is refused
 * everywhere, and no two nodes ever get routes to one range. A podCIDR that overlaps this node's own
 * is refused too (a route to it would take this node's pods' traffic away from its bridge).
 */
export function peersFromNodes(nodes: readonly Node[], self: Self): PeerSet {
  const peers: Peer[] = [];
  const refused: Exclusion[] = [];
  const pending: Exclusion[] = [];
  const owners: Array<{ node: string; cidr: string }> = [];
  const own = normalizeCidr(self.podCIDR);
  if (own) owners.push({ node: self.name, cidr: own });
  const others = nodes
    .filter((n) => n.metadata?.name && n.metadata.name !== self.name)
    .sort((a, b) => (age(a) < age(b) ? -1 : age(a) > age(b) ? 1 : (a.metadata!.name! < b.metadata!.name! ? -1 : 1)));
  for (const n of others) {
    const name = n.metadata!.name!;
    const raw = n.spec?.podCIDR;
    if (!raw) {
      pending.push({ node: name, reason: 'has no podCIDR yet' });
      continue;
    }
    const cidr = normalizeCidr(raw);
    if (!cidr) {
      refused.push({ node: name, reason: `its podCIDR ${JSON.stringify(raw)} is not an IPv4 CIDR` });
      continue;
    }
    const a = n.metadata?.annotations ?? {};
    const backend = a[BACKEND_TYPE_ANNOTATION];
    const publicIP = a[PUBLIC_IP_ANNOTATION];
    const mac = a[VTEP_MAC_ANNOTATION]?.toLowerCase();
    if (!backend || !publicIP || (self.backend === 'vxlan' && backend === 'vxlan' && !mac)) {
      pending.push({ node: name, reason: 'has not published its overlay facts yet' });
      continue;
    }
    if (backend !== self.backend) {
      refused.push({ node: name, reason: `it uses the ${backend} backend, this node ${self.backend}` });
      continue;
    }
    if (parseIPv4(publicIP) === undefined) {
      refused.push({ node: name, reason: `its public IP ${JSON.stringify(publicIP)} is not an IPv4 address` });
      continue;
    }
    if (self.backend === 'vxlan' && !MAC.test(mac ?? '')) {
      refused.push({ node: name, reason: `its VTEP MAC ${JSON.stringify(mac)} is not a MAC address` });
      continue;
    }
    const clash = owners.find((o) => cidrsOverlap(o.cidr, cidr));
    if (clash) {
      const whose = clash.node === self.name ? "this node's own" : `node ${clash.node}'s`;
      refused.push({ node: name, reason: `its podCIDR ${cidr} overlaps ${whose} ${clash.cidr}` });
      continue;
    }
    owners.push({ node: name, cidr });
    peers.push(self.backend === 'vxlan' ? { name, podCIDR: cidr, publicIP, vtepMac: mac } : { name, podCIDR: cidr, publicIP });
  }
  return { peers, refused, pending };
}

export interface RouteEntry {
  readonly dst: string;
  readonly gateway: string;
  /** Undefined in a desired host-gw route: the kernel picks the link that reaches the gateway. */
  readonly dev?: string;
  readonly onlink: boolean;
}

export interface NeighEntry {
  readonly ip: string;
  readonly mac: string;
}

export interface FdbEntry {
  readonly mac: string;
  readonly dst: string;
}

/** The overlay's entries: routes with ROUTE_PROTO; on the VXLAN device, permanent neighbours and fdb entries with a destination. */
export interface NetState {
  readonly routes: readonly RouteEntry[];
  readonly neighs: readonly NeighEntry[];
  readonly fdb: readonly FdbEntry[];
}

export const EMPTY_STATE: NetState = { routes: [], neighs: [], fdb: [] };

export function desiredState(backend: Backend, peers: readonly Peer[], device = VXLAN_DEVICE): NetState {
  if (backend === 'host-gw') {
    return { routes: peers.map((p) => ({ dst: p.podCIDR, gateway: p.publicIP, onlink: false })), neighs: [], fdb: [] };
  }
  const routes: RouteEntry[] = [];
  const neighs: NeighEntry[] = [];
  const fdb: FdbEntry[] = [];
  for (const p of peers) {
    if (!p.vtepMac) continue;
    const vtep = vtepAddress(p.podCIDR);
    routes.push({ dst: p.podCIDR, gateway: vtep, dev: device, onlink: true });
    neighs.push({ ip: vtep, mac: p.vtepMac });
    fdb.push({ mac: p.vtepMac, dst: p.publicIP });
  }
  return { routes, neighs, fdb };
}

// --- reading the kernel's JSON (`ip -j`, `bridge -j`) ---

function jsonArray(text: string): Array<Record<string, unknown>> {
  const t = text.trim();
  if (!t) return [];
  const v: unknown = JSON.parse(t);
  return Array.isArray(v) ? (v as Array<Record<string, unknown>>) : [];
}

/** `ip -j route show proto ROUTE_PROTO`. */
export function parseRoutes(text: string): RouteEntry[] {
  return jsonArray(text).flatMap((r) => {
    const dst = typeof r.dst === 'string' ? (r.dst.includes('/') ? r.dst : `${r.dst}/32`) : undefined;
    if (!dst || dst === 'default/32' || typeof r.gateway !== 'string') return [];
    const flags = Array.isArray(r.flags) ? r.flags : [];
    return [{ dst, gateway: r.gateway, dev: typeof r.dev === 'string' ? r.dev : undefined, onlink: flags.includes('onlink') }];
  });
}

/** `ip -j neigh show dev DEVICE`: the permanent entries only (the kernel's own resolution attempts are not ours). */
export function parseNeighs(text: string): NeighEntry[] {
  return jsonArray(text).flatMap((n) => {
    const state = Array.isArray(n.state) ? n.state : [];
    if (!state.includes('PERMANENT') || typeof n.dst !== 'string' || typeof n.lladdr !== 'string') return [];
    return [{ ip: n.dst, mac: n.lladdr.toLowerCase() }];
  });
}

/** `bridge -j fdb show dev DEVICE`: the entries that send a MAC to a remote address. */
export function parseFdb(text: string): FdbEntry[] {
  return jsonArray(text).flatMap((f) => (typeof f.mac === 'string' && typeof f.dst === 'string' ? [{ mac: f.mac.toLowerCase(), dst: f.dst }] : []));
}

// --- the difference, as commands ---

export type Command = readonly string[];

function routeArgs(r: RouteEntry): string[] {
  return [r.dst, 'via', r.gateway, ...(r.dev ? ['dev', r.dev] : []), ...(r.onlink ? ['onlink'] : []), 'proto', String(ROUTE_PROTO)];
}

function sameRoute(want: RouteEntry, have: RouteEntry): boolean {
  return want.gateway === have.gateway && want.onlink === have.onlink && (want.dev === undefined || want.dev === have.dev);
}

/**
 * The commands that turn `actual` into `desired`: additions before removals (a peer whose MAC
 * changed is reachable again before its old entry goes), each entry touched only when it differs.
 * An empty list means the kernel already has it all.
 */
export function diffState(desired: NetState, actual: NetState, device = VXLAN_DEVICE): Command[] {
  const first: Command[] = [];
  const adds: Command[] = [];
  const dels: Command[] = [];
  const wantFdb = new Map(desired.fdb.map((f) => [f.mac, f.dst]));
  for (const h of actual.fdb) {
    const want = wantFdb.get(h.mac);
    if (want === h.dst) continue;
    const del = ['bridge', 'fdb', 'del', h.mac, 'dev', device, 'dst', h.dst, 'self'];
    // A MAC now at another address: its old entry is wrong already, and goes before the new one is added.
    if (want !== undefined) first.push(del);
    else dels.push(del);
  }
  for (const f of desired.fdb) {
    if (!actual.fdb.some((h) => h.mac === f.mac && h.dst === f.dst)) adds.push(['bridge', 'fdb', 'append', f.mac, 'dev', device, 'dst', f.dst, 'self', 'permanent']);
  }
  const haveNeigh = new Map(actual.neighs.map((n) => [n.ip, n.mac]));
  const wantNeigh = new Set(desired.neighs.map((n) => n.ip));
  for (const n of desired.neighs) {
    if (haveNeigh.get(n.ip) !== n.mac) adds.push(['ip', 'neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', device, 'nud', 'permanent']);
  }
  for (const n of actual.neighs) if (!wantNeigh.has(n.ip)) dels.push(['ip', 'neigh', 'del', n.ip, 'dev', device]);
  const haveRoute = new Map<string, RouteEntry[]>();
  for (const r of actual.routes) haveRoute.set(r.dst, [...(haveRoute.get(r.dst) ?? []), r]);
  const wantRoute = new Set(desired.routes.map((r) => r.dst));
  for (const r of desired.routes) {
    const have = haveRoute.get(r.dst) ?? [];
    const match = have.find((h) => sameRoute(r, h));
    if (match) {
      // Extra routes to the same range (another metric, added by hand) would shadow or race ours.
      for (const h of have) if (h !== match) first.push(['ip', 'route', 'del', ...routeArgs(h)]);
    } else if (have.length <= 1) {
      // One wrong route is replaced in one step: the range stays routed throughout.
      adds.push(['ip', 'route', 'replace', ...routeArgs(r)]);
    } else {
      for (const h of have) first.push(['ip', 'route', 'del', ...routeArgs(h)]);
      adds.push(['ip', 'route', 'replace', ...routeArgs(r)]);
    }
  }
  for (const [dst, have] of haveRoute) {
    if (!wantRoute.has(dst)) for (const h of have) dels.push(['ip', 'route', 'del', ...routeArgs(h)]);
  }
  // Routes go before the neighbour and fdb entries they use.
  const order = (c: Command): number => (c[1] === 'route' ? 0 : c[1] === 'neigh' ? 1 : 2);
  return [...first, ...adds, ...dels.sort((a, b) => order(a) - order(b))];
}

// --- the VXLAN device ---

export interface DeviceSpec {
  readonly name: string;
  readonly vni: number;
  readonly port: number;
  /** The node's public IP, the outer source address. */
  readonly local: string;
  /** The link that holds `local`. */
  readonly parent: string;
  readonly mtu: number;
  readonly mac: string;
}

export function deviceSpec(nodeName: string, publicIP: string, parent: { name: string; mtu: number }): DeviceSpec {
  return { name: VXLAN_DEVICE, vni: VXLAN_VNI, port: VXLAN_PORT, local: publicIP, parent: parent.name, mtu: parent.mtu - VXLAN_OVERHEAD, mac: vtepMac(nodeName) };
}

/** How an existing link compares with the spec: adoptable as it is, after small fixes, or to be recreated. */
export type DeviceVerdict = { readonly kind: 'recreate'; readonly why: string } | { readonly kind: 'adopt'; readonly fixes: readonly Command[] };

/** Judges `ip -d -j link show dev NAME` (one element) against the spec. */
export function judgeDevice(link: Record<string, unknown>, spec: DeviceSpec): DeviceVerdict {
  const info = (link.linkinfo ?? {}) as { info_kind?: string; info_data?: Record<string, unknown> };
  if (info.info_kind !== 'vxlan') return { kind: 'recreate', why: `it is a ${info.info_kind ?? 'plain'} link, not vxlan` };
  const d = info.info_data ?? {};
  const checks: Array<[string, unknown, unknown]> = [
    ['VNI', d.id, spec.vni],
    ['port', d.port, spec.port],
    ['local address', d.local, spec.local],
    ['parent link', d.link, spec.parent],
    ['learning', d.learning, false],
  ];
  for (const [what, have, want] of checks) {
    if (have !== want) return { kind: 'recreate', why: `its ${what} is ${JSON.stringify(have)}, not ${JSON.stringify(want)}` };
  }
  const fixes: Command[] = [];
  if (link.mtu !== spec.mtu) fixes.push(['ip', 'link', 'set', 'dev', spec.name, 'mtu', String(spec.mtu)]);
  if (typeof link.address === 'string' && link.address.toLowerCase() !== spec.mac) fixes.push(['ip', 'link', 'set', 'dev', spec.name, 'address', spec.mac]);
  return { kind: 'adopt', fixes };
}

export function createDeviceCommand(spec: DeviceSpec): Command {
  return [
    'ip', 'link', 'add', spec.name, 'address', spec.mac, 'mtu', String(spec.mtu), 'type', 'vxlan',
    'id', String(spec.vni), 'local', spec.local, 'dev', spec.parent, 'dstport', String(spec.port), 'nolearning',
  ];
}

/** Commands that leave exactly `want` (a /32) as the device's IPv4 address, from `ip -j addr show dev NAME`. */
export function addressCommands(addrJson: string, device: string, want: string): Command[] {
  const have = jsonArray(addrJson).flatMap((l) => (Array.isArray(l.addr_info) ? (l.addr_info as Array<Record<string, unknown>>) : []))
    .filter((a) => a.family === 'inet')
    .map((a) => `${String(a.local)}/${String(a.prefixlen)}`);
  const target = `${want}/32`;
  const out: Command[] = have.filter((a) => a !== target).map((a) => ['ip', 'addr', 'del', a, 'dev', device]);
  if (!have.includes(target)) out.push(['ip', 'addr', 'add', target, 'dev', device]);
  return out;
}

/** The link holding `ip` and its MTU, from `ip -j addr show`. */
export function linkHolding(addrJson: string, ip: string): { name: string; mtu: number } | undefined {
  for (const l of jsonArray(addrJson)) {
    const infos = Array.isArray(l.addr_info) ? (l.addr_info as Array<Record<string, unknown>>) : [];
    if (infos.some((a) => a.family === 'inet' && a.local === ip) && typeof l.ifname === 'string' && typeof l.mtu === 'number') {
      return { name: l.ifname, mtu: l.mtu };
    }
  }
  return undefined;
}
