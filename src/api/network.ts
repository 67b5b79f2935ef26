// Cluster network facts shared by the API server (Service allocators), the controllers (endpoints),
// the node agent (pod resolv.conf, service environment variables) and its proxy and DNS: the default
// ranges, the well-known Service addresses within them, and IPv4 arithmetic. IPv4 single-stack, as
// tinykube's pod network is.

/** The Service CIDR (kube-apiserver's --service-cluster-ip-range); k3s' default. */
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
/** kube-apiserver's default --service-node-port-range. */
export const DEFAULT_NODE_PORT_RANGE = { base: 30000, size: 2768 } as const;
/** The kubelet's --cluster-domain default in kubeadm and k3s. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Labels Kubernetes puts on EndpointSlices (discovery.k8s.io/v1 well-known labels). */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** kube-controller-manager's EndpointSlice controller's managed-by value, which tinykube's uses too. */
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
/** Set on a Service to keep the EndpointSlice controller and the proxy off it (a value is the owner). */
export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
/** The service-proxy-name of `kube-system/kube-dns`: each node's DNS serves its address itself. */
export const NODE_DNS_PROXY_NAME = 'tinykube-node-dns';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';

export class IPv4Error extends Error {
  readonly code = 'ERR_IPV4';
  constructor(message: string) {
    super(message);
    this.name = 'IPv4Error';
  }
}

/** A dotted-quad IPv4 address as a 32-bit unsigned number, or undefined when it is not one (no leading zeros, as Go's netip). */
export function parseIPv4(s: string): number | undefined {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface IPv4Cidr {
  /** The network address (host bits cleared). */
  readonly base: number;
  readonly prefix: number;
  /** How many addresses the range holds, network and broadcast included. */
  readonly size: number;
}

/** Parses `a.b.c.d/n`; throws IPv4Error naming the input when it is not one. */
export function parseIPv4Cidr(cidr: string): IPv4Cidr {
  const slash = cidr.trim().split('/');
  const addr = slash.length === 2 ? parseIPv4(slash[0]) : undefined;
  const prefix = slash.length === 2 && /^\d{1,2}$/.test(slash[1]) ? Number(slash[1]) : NaN;
  if (addr === undefined || !(prefix >= 0 && prefix <= 32)) throw new IPv4Error(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (addr & mask) >>> 0, prefix, size: 2 ** (32 - prefix) };
}

export function cidrContains(c: IPv4Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + c.size;
}

/** The n-th address of a range (0 is the network address). */
export function nthAddress(cidr: string, n: number): string {
  const c = parseIPv4Cidr(cidr);
  if (n < 0 || n >= c.size) throw new IPv4Error(`${cidr} has no address number ${n}`);
  return formatIPv4(c.base + n);
}

/** The `default/kubernetes` Service's address: the first of the Service CIDR, as kube-apiserver picks it. */
export function kubernetesServiceIP(serviceCidr = DEFAULT_SERVICE_CIDR): string {
  return nthAddress(serviceCidr, 1);
}

/** The cluster DNS Service's address (`kube-system/kube-dns`): the tenth of the Service CIDR, as k3s and kubeadm pick it. */
export function clusterDNSIP(serviceCidr = DEFAULT_SERVICE_CIDR): string {
  return nthAddress(serviceCidr, 10);
}

/** The ranges the API server allocates Service addresses and node ports from. */
export interface ServiceRanges {
  /** kube-apiserver's --service-cluster-ip-range (one IPv4 CIDR). */
  serviceCidr: string;
  /** kube-apiserver's --service-node-port-range: `size` ports from `base`. */
  nodePorts: { base: number; size: number };
}

export const DEFAULT_SERVICE_RANGES: ServiceRanges = { serviceCidr: DEFAULT_SERVICE_CIDR, nodePorts: DEFAULT_NODE_PORT_RANGE };

/** Parses `--service-node-port-range` as kube-apiserver writes it (`30000-32767`, both ends included; or one port). */
export function parseNodePortRange(s: string): { base: number; size: number } {
  const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(s);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(lo >= 1 && hi <= 65535 && lo <= hi)) throw new IPv4Error(`invalid port range ${JSON.stringify(s)}: want LOW-HIGH within 1-65535`);
  return { base: lo, size: hi - lo + 1 };
}

/** `30000-32767`, as kube-apiserver prints a node port range in its messages. */
export function formatNodePortRange(r: { base: number; size: number }): string {
  return `${r.base}-${r.base + r.size - 1}`;
}
