// The Service strategy's preparation (pkg/registry/core/service/strategy.go): clusterIP and
// clusterIPs kept in step, fields a type change leaves behind dropped, and the IP family fields
// initialised as kube-apiserver's allocator does (initIPFamilyFields) on a cluster with one IPv4
// Service range. Pure; the store calls these before validation and allocation.

import type { Service } from '../../../api/types.ts';
import { externallyAccessible, needsHealthCheck } from '../../../api/defaults/service.ts';
import { parseIPSloppy } from '../../../api/validation/names.ts';

type Spec = NonNullable<Service['spec']>;

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * NormalizeClusterIPs: old clients set only clusterIP, new ones both; a patch that leaves clusterIPs
 * out keeps them, and a changed clusterIP with unchanged clusterIPs speaks for both.
 */
export function normalizeClusterIPs(spec: Spec, old: Spec | undefined): void {
  if (!old) {
    if (spec.clusterIP && !(spec.clusterIPs?.length)) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  if ((old.clusterIPs?.length ?? 0) > 0 && !(spec.clusterIPs?.length) && (old.clusterIP ?? '') === (spec.clusterIP ?? '')) {
    spec.clusterIPs = [...old.clusterIPs!];
  }
  if ((old.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    if (old.clusterIP && !spec.clusterIP) {
      if (sameStrings(old.clusterIPs, spec.clusterIPs)) delete spec.clusterIPs;
    } else if (sameStrings(old.clusterIPs, spec.clusterIPs)) {
      spec.clusterIPs = [spec.clusterIP!];
    }
  }
}

const needsClusterIP = (s: Spec) => s.type !== 'ExternalName';
const needsNodePort = (s: Spec) => s.type === 'NodePort' || s.type === 'LoadBalancer';

/**
 * dropTypeDependentFields: on a type change, what the old type needed and the user left as it was
 * (addresses, node ports, policies) goes; the allocator gives the addresses and ports back.
 */
export function dropTypeDependentFields(svc: Service, old: Service): void {
  const spec = svc.spec!;
  const was: Spec = old.spec ?? {};
  if (needsClusterIP(was) && !needsClusterIP(spec)) {
    if ((was.clusterIP ?? '') === (spec.clusterIP ?? '') && sameStrings(was.clusterIPs, spec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameStrings(was.ipFamilies, spec.ipFamilies)) delete spec.ipFamilies;
    if ((was.ipFamilyPolicy ?? null) === (spec.ipFamilyPolicy ?? null)) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(was) && !needsNodePort(spec)) {
    const oldPorts = was.ports ?? [];
    const ports = spec.ports ?? [];
    const same = oldPorts.length === ports.length && oldPorts.every((p, i) => (p.nodePort ?? 0) === (ports[i].nodePort ?? 0));
    if (same) for (const p of ports) delete p.nodePort;
  }
  if (needsHealthCheck(was) && !needsHealthCheck(spec) && (was.healthCheckNodePort ?? 0) === (spec.healthCheckNodePort ?? 0)) delete spec.healthCheckNodePort;
  if (was.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts != null && was.allocateLoadBalancerNodePorts === spec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if ((was.loadBalancerClass ?? null) === (spec.loadBalancerClass ?? null)) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(was) && !externallyAccessible(spec) && (was.externalTrafficPolicy ?? '') === (spec.externalTrafficPolicy ?? '')) delete spec.externalTrafficPolicy;
  // The load balancer's status means nothing once the Service is not one.
  if (spec.type !== 'LoadBalancer' && svc.status) svc.status = { ...svc.status, loadBalancer: {} };
}

/**
 * initIPFamilyFields with IPv4 as the only configured family: the policy defaults to the old one, or
 * RequireDualStack for a headless Service without selector (which may name any families, as in
 * Kubernetes), else SingleStack; families follow the given addresses, then IPv4. Inputs Kubernetes
 * refuses (IPv6, RequireDualStack) are left for validation to report.
 */
export function initIPFamilies(spec: Spec, old: Spec | undefined): void {
  if (spec.type === 'ExternalName') return;
  const headlessSelectorless = spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0;
  if (spec.ipFamilyPolicy == null) {
    if (old?.ipFamilyPolicy != null) spec.ipFamilyPolicy = old.ipFamilyPolicy;
    else spec.ipFamilyPolicy = headlessSelectorless ? 'RequireDualStack' : 'SingleStack';
  }
  const families = [...(spec.ipFamilies ?? [])];
  const ips = spec.clusterIPs ?? [];
  for (let i = 0; i < ips.length; i++) {
    if (ips[i] === 'None') break;
    if (i >= families.length) {
      const fam = parseIPSloppy(ips[i]);
      if (fam !== 4) return; // an IPv6 or bad address: validation says which
      families.push('IPv4');
    }
  }
  if (headlessSelectorless) {
    if (families.length === 0) families.push('IPv4');
    if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    spec.ipFamilies = families;
    return;
  }
  if (families.length === 0) families.push('IPv4');
  spec.ipFamilies = families;
}
