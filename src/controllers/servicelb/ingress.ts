// What ServiceLB (k3s' built-in load balancer, without its svclb pods: every node's proxy already
// answers on a LoadBalancer's ports) writes into a Service's status.loadBalancer: the addresses of the
// nodes that can take its traffic. Pure; the controller (./controller.ts) calls it on every change.
//
// Which nodes, as k3s and the cloud service controller pick them:
// - Ready, schedulable, and not labelled node.kubernetes.io/exclude-from-external-load-balancers;
// - when some node carries svccontroller.k3s.cattle.io/enablelb, only the nodes where it is "true"
//   (and, for a Service labelled svccontroller.k3s.cattle.io/lbpool=P, only the nodes of pool P);
// - with externalTrafficPolicy Local, only the nodes hosting a ready endpoint of the Service (Local
//   keeps the client's address and never forwards to another node).
// Which addresses: the nodes' ExternalIPs when any of them has one, else their InternalIPs; IPv4
// only (tinykube is single-stack), sorted, each with ipMode VIP.
import type { EndpointSlice, Node, Service } from '../../api/types.ts';
import { LABEL_SERVICE_NAME } from '../../api/network.ts';

export const LABEL_EXCLUDE_FROM_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const LABEL_ENABLE_LB = 'svccontroller.k3s.cattle.io/enablelb';
export const LABEL_LB_POOL = 'svccontroller.k3s.cattle.io/lbpool';

export interface Ingress {
  ip: string;
  ipMode: 'VIP';
}

/** A LoadBalancer Service this controller implements: no loadBalancerClass names another implementation. */
export function wantsLoadBalancer(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass;
}

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function ipv4Compare(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The nodes of `slices` (the Service's EndpointSlices) with a ready pod endpoint, as k3s reads them for Local. */
export function nodesWithReadyEndpoints(slices: readonly EndpointSlice[]): Set<string> {
  const out = new Set<string>();
  for (const s of slices) {
    for (const e of s.endpoints ?? []) {
      if (e.targetRef?.kind === 'Pod' && e.conditions?.ready === true && e.nodeName) out.add(e.nodeName);
    }
  }
  return out;
}

/** The Service's EndpointSlices among `all` (the kubernetes.io/service-name label in its namespace). */
export function slicesOf(svc: Service, all: readonly EndpointSlice[]): EndpointSlice[] {
  const ns = svc.metadata?.namespace;
  const name = svc.metadata?.name;
  return all.filter((s) => s.metadata?.namespace === ns && s.metadata?.labels?.[LABEL_SERVICE_NAME] === name);
}

/** The nodes that may carry the Service's traffic (before the Local filter). */
export function eligibleNodes(svc: Service, nodes: readonly Node[]): Node[] {
  const selecting = nodes.some((n) => n.metadata?.labels?.[LABEL_ENABLE_LB] !== undefined);
  const pool = svc.metadata?.labels?.[LABEL_LB_POOL];
  return nodes.filter((n) => {
    const labels = n.metadata?.labels ?? {};
    if (!isReady(n) || n.spec?.unschedulable || labels[LABEL_EXCLUDE_FROM_LB] !== undefined) return false;
    if (selecting && labels[LABEL_ENABLE_LB] !== 'true') return false;
    if (selecting && pool && labels[LABEL_LB_POOL] !== pool) return false;
    return true;
  });
}

/** The ingress the Service should have; empty when no node qualifies (its EXTERNAL-IP stays <pending>). */
export function loadBalancerIngress(svc: Service, nodes: readonly Node[], slices: readonly EndpointSlice[]): Ingress[] {
  let chosen = eligibleNodes(svc, nodes);
  if (svc.spec?.externalTrafficPolicy === 'Local') {
    const ready = nodesWithReadyEndpoints(slices);
    chosen = chosen.filter((n) => ready.has(n.metadata?.name ?? ''));
  }
  const external = new Set<string>();
  const internal = new Set<string>();
  for (const n of chosen) {
    for (const a of n.status?.addresses ?? []) {
      if (!IPV4.test(a.address)) continue;
      if (a.type === 'ExternalIP') external.add(a.address);
      else if (a.type === 'InternalIP') internal.add(a.address);
    }
  }
  const ips = [...(external.size > 0 ? external : internal)].sort(ipv4Compare);
  return ips.map((ip) => ({ ip, ipMode: 'VIP' }));
}

/** Whether status.loadBalancer.ingress already says `want` (order included: ours is sorted). */
export function ingressEqual(have: Service['status'], want: readonly Ingress[]): boolean {
  const cur = have?.loadBalancer?.ingress ?? [];
  if (cur.length !== want.length) return false;
  return cur.every((c, i) => c.ip === want[i].ip && !c.hostname && (c.ipMode ?? 'VIP') === want[i].ipMode && !(c.ports?.length));
}

/** k3s' ingressToString as Go prints a []string: `[10.0.0.1 10.0.0.2]`. */
export function ingressText(ingress: readonly { ip?: string; hostname?: string }[]): string {
  return `[${ingress.map((i) => i.ip || i.hostname || '').join(' ')}]`;
}
