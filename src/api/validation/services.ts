// Validation of core/v1 Services as Kubernetes 1.32 validates them (pkg/apis/core/validation:
// ValidateService, ValidateServiceUpdate, ValidateServiceStatusUpdate,
// ValidateServiceClusterIPsRelatedFields), plus the IP-family checks kube-apiserver's service
// allocator makes before allocating (initIPFamilyFields) on a cluster whose only Service family is
// IPv4, as tinykube's is. Pure and stateless; called by the Service strategy. Whether an address or a
// node port is free or in range is the allocator's to say (src/registry/core/services/allocator.ts).

import { duplicate, FieldPath, forbiddenField, GoValue, invalid, notSupported, required, type FieldError } from '../field.ts';
import { externallyAccessible, needsHealthCheck } from '../defaults/service.ts';
import type { Service } from '../types.ts';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidCIDR, isValidIP, isValidPortName, isValidPortNum, nameIsDNS1035Label, parseIPSloppy } from './names.ts';

type Spec = NonNullable<Service['spec']>;
type Port = NonNullable<Spec['ports']>[number];

const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SUPPORTED_AFFINITY = ['ClientIP', 'None'];
const SUPPORTED_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SUPPORTED_TRAFFIC_POLICIES = ['Cluster', 'Local'];
const SUPPORTED_FAMILIES = ['IPv4', 'IPv6'];
const SUPPORTED_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
/** MaxClientIPServiceAffinitySeconds: one day. */
const MAX_AFFINITY_SECONDS = 86400;

const specPath = new FieldPath('spec');
const clusterIPsPath = specPath.child('clusterIPs');
const familiesPath = specPath.child('ipFamilies');
const policyPath = specPath.child('ipFamilyPolicy');

/** Go's `%#v` of a []string, as kube-apiserver prints clusterIPs in its messages. */
export function goStrings(v: readonly string[] | undefined): GoValue {
  return v ? new GoValue(`[]string{${v.map((s) => JSON.stringify(s)).join(', ')}}`) : new GoValue('[]string(nil)');
}

/** `clusterIP: None` (isHeadlessService looks at clusterIPs, which the strategy syncs first). */
export function isHeadless(spec: Spec): boolean {
  return (spec.clusterIPs?.length ?? 0) > 0 && spec.clusterIPs![0] === 'None';
}

/** Go's `%#v` of the internal core.ServicePort key the duplicate-port check reports. */
function goServicePortKey(protocol: string | undefined, port: number): GoValue {
  return new GoValue(
    `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol ?? '')}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  );
}

export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, { namespaced: true, nameFn: nameIsDNS1035Label });
  const spec: Spec = svc.spec ?? {};
  const ports = spec.ports ?? [];
  const headless = isHeadless(spec);
  const annotations = svc.metadata?.annotations ?? {};
  const hints = annotations['service.kubernetes.io/topology-aware-hints'];
  const mode = annotations['service.kubernetes.io/topology-mode'];
  if (hints !== undefined && mode !== undefined && hints !== mode) {
    errs.push(invalid(new FieldPath('metadata').child('annotations').key('service.kubernetes.io/topology-mode'), mode, 'must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified'));
  }

  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required(specPath.child('ports'), ''));
  if (spec.type === 'LoadBalancer' && headless) errs.push(invalid(clusterIPsPath.index(0), spec.clusterIPs![0], "may not be set to 'None' for LoadBalancer services"));
  if (spec.type === 'NodePort' && headless) errs.push(invalid(clusterIPsPath.index(0), spec.clusterIPs![0], "may not be set to 'None' for NodePort services"));
  if (spec.type === 'ExternalName') {
    if ((spec.clusterIPs?.length ?? 0) > 0) errs.push(forbiddenField(clusterIPsPath, 'may not be set for ExternalName services'));
    if ((spec.ipFamilies?.length ?? 0) > 0) errs.push(forbiddenField(familiesPath, 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy != null) errs.push(forbiddenField(policyPath, 'may not be set for ExternalName services'));
    // The value (a CNAME) may end in a dot, as a fully qualified name.
    const cname = (spec.externalName ?? '').replace(/\.$/, '');
    if (cname) for (const msg of isDNS1123Subdomain(cname)) errs.push(invalid(specPath.child('externalName'), cname, msg));
    else errs.push(required(specPath.child('externalName'), ''));
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, specPath.child('ports').index(i))));

  if (spec.selector) errs.push(...validateLabels(spec.selector, specPath.child('selector')));

  if (!spec.sessionAffinity) errs.push(required(specPath.child('sessionAffinity'), ''));
  else if (!SUPPORTED_AFFINITY.includes(spec.sessionAffinity)) errs.push(notSupported(specPath.child('sessionAffinity'), spec.sessionAffinity, SUPPORTED_AFFINITY));
  const affinityPath = specPath.child('sessionAffinityConfig');
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    if (!cfg) errs.push(required(affinityPath, 'when session affinity type is ClientIP'));
    else if (!cfg.clientIP) errs.push(required(affinityPath.child('clientIP'), 'when session affinity type is ClientIP'));
    else if (cfg.clientIP.timeoutSeconds == null) errs.push(required(affinityPath.child('clientIP', 'timeoutSeconds'), 'when session affinity type is ClientIP'));
    else if (!(cfg.clientIP.timeoutSeconds > 0 && cfg.clientIP.timeoutSeconds <= MAX_AFFINITY_SECONDS)) {
      errs.push(invalid(affinityPath.child('clientIP', 'timeoutSeconds'), cfg.clientIP.timeoutSeconds, `must be greater than 0 and less than ${MAX_AFFINITY_SECONDS}`));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(forbiddenField(affinityPath, 'must not be set when session affinity is None'));
  }

  errs.push(...validateClusterIPsRelatedFields(svc));

  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = specPath.child('externalIPs').index(i);
    const bad = isValidIP(ip);
    if (bad.length) for (const msg of bad) errs.push(invalid(p, ip, msg));
    else errs.push(...validateNonSpecialIP(ip, p));
  });

  if (!spec.type) errs.push(required(specPath.child('type'), ''));
  else if (!SUPPORTED_TYPES.includes(spec.type)) errs.push(notSupported(specPath.child('type'), spec.type, SUPPORTED_TYPES));

  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbiddenField(specPath.child('ports').index(i).child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  // Node ports and ports are unique per (protocol, number).
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(specPath.child('ports').index(i).child('nodePort'), p.nodePort));
    nodePorts.add(key);
  });
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (seen.has(key)) errs.push(duplicate(specPath.child('ports').index(i), goServicePortKey(p.protocol, p.port)));
    seen.add(key);
  });

  const ranges = spec.loadBalancerSourceRanges ?? [];
  const rangesAnnotation = annotations['service.beta.kubernetes.io/load-balancer-source-ranges'];
  if (ranges.length > 0) {
    const p = specPath.child('LoadBalancerSourceRanges');
    if (spec.type !== 'LoadBalancer') errs.push(forbiddenField(p, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => {
      for (const msg of isValidCIDR(r.trim())) errs.push(invalid(p.index(i), r.trim(), msg));
    });
  } else if (rangesAnnotation !== undefined) {
    const p = new FieldPath('metadata').child('annotations').key('service.beta.kubernetes.io/load-balancer-source-ranges');
    if (spec.type !== 'LoadBalancer') errs.push(forbiddenField(p, "may only be used when `type` is 'LoadBalancer'"));
    const v = rangesAnnotation.trim();
    if (v) for (const r of v.split(',')) for (const msg of isValidCIDR(r.trim())) errs.push(invalid(p, r.trim(), msg));
  }

  if (spec.allocateLoadBalancerNodePorts != null && spec.type !== 'LoadBalancer') {
    errs.push(forbiddenField(specPath.child('allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  }
  // (sic: kube-apiserver reports this path without "spec.")
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) errs.push(required(new FieldPath('allocateLoadBalancerNodePorts'), ''));

  errs.push(...validateLoadBalancerClass(undefined, spec));
  errs.push(...validateExternalTrafficPolicy(spec));
  if (spec.internalTrafficPolicy == null) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') errs.push(required(specPath.child('internalTrafficPolicy'), ''));
  } else if (!SUPPORTED_TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported(specPath.child('internalTrafficPolicy'), spec.internalTrafficPolicy, SUPPORTED_TRAFFIC_POLICIES));
  }
  if (spec.trafficDistribution != null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported(specPath.child('trafficDistribution'), spec.trafficDistribution, ['PreferClose']));
  }
  errs.push(...validateSingleStackFamilies(spec));
  return errs;
}

function validateServicePort(p: Port, requireName: boolean, names: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(required(path.child('name'), ''));
  else if (p.name) {
    for (const msg of isDNS1123Label(p.name)) errs.push(invalid(path.child('name'), p.name, msg));
    if (names.has(p.name)) errs.push(duplicate(path.child('name'), p.name));
    else names.add(p.name);
  }
  for (const msg of isValidPortNum(p.port)) errs.push(invalid(path.child('port'), p.port ?? 0, msg));
  if (!p.protocol) errs.push(required(path.child('protocol'), ''));
  else if (!SUPPORTED_PROTOCOLS.includes(p.protocol)) errs.push(notSupported(path.child('protocol'), p.protocol, SUPPORTED_PROTOCOLS));
  const t = p.targetPort;
  if (typeof t === 'string') for (const msg of isValidPortName(t)) errs.push(invalid(path.child('targetPort'), t, msg));
  else for (const msg of isValidPortNum(t ?? 0)) errs.push(invalid(path.child('targetPort'), t ?? 0, msg));
  if (p.appProtocol != null) for (const msg of isQualifiedName(p.appProtocol)) errs.push(invalid(path.child('appProtocol'), p.appProtocol, msg));
  return errs;
}

function validateExternalTrafficPolicy(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const p = specPath.child('externalTrafficPolicy');
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy) errs.push(invalid(p, spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required(p, ''));
  } else if (!SUPPORTED_TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported(p, spec.externalTrafficPolicy, SUPPORTED_TRAFFIC_POLICIES));
  }
  const hc = specPath.child('healthCheckNodePort');
  // A missing healthCheckNodePort is not an error here: kube-apiserver allocates before it validates,
  // tinykube's allocator runs after validation and fills it in (allocator.ts).
  if (!needsHealthCheck(spec)) {
    if (spec.healthCheckNodePort) errs.push(invalid(hc, spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (spec.healthCheckNodePort) {
    for (const msg of isValidPortNum(spec.healthCheckNodePort)) errs.push(invalid(hc, spec.healthCheckNodePort, msg));
  }
  return errs;
}

function validateLoadBalancerClass(old: Spec | undefined, spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const p = specPath.child('loadBalancerClass');
  if (old) {
    // The class may change only when the type leaves or joins LoadBalancer.
    if (old.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && (old.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null)) {
      errs.push(invalid(p, spec.loadBalancerClass ?? null, 'may not change once set'));
    }
    return errs;
  }
  if (spec.loadBalancerClass != null) {
    if (spec.type !== 'LoadBalancer') errs.push(forbiddenField(p, "may only be used when `type` is 'LoadBalancer'"));
    else for (const msg of isQualifiedName(spec.loadBalancerClass)) errs.push(invalid(p, spec.loadBalancerClass, msg));
  }
  return errs;
}

/** ValidateNonSpecialIP (IPv4: tinykube's only family). */
function validateNonSpecialIP(ip: string, path: FieldPath): FieldError[] {
  const o = ip.split('.').map(Number);
  if (o.length !== 4) return [];
  if (o.every((x) => x === 0)) return [invalid(path, ip, 'may not be unspecified (0.0.0.0)')];
  if (o[0] === 127) return [invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if (o[0] === 169 && o[1] === 254) return [invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if (o[0] === 224 && o[1] === 0 && o[2] === 0) return [invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  return [];
}

/** ValidateServiceClusterIPsRelatedFields. */
export function validateClusterIPsRelatedFields(svc: Service): FieldError[] {
  const spec: Spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required(clusterIPsPath, ''));
    else if (ips[0] !== spec.clusterIP) errs.push(invalid(clusterIPsPath, goStrings(ips), 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(invalid(clusterIPsPath, goStrings(ips), 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!SUPPORTED_FAMILIES.includes(f)) errs.push(notSupported(familiesPath.index(i), f, SUPPORTED_FAMILIES));
    if (seen.has(f)) errs.push(duplicate(familiesPath.index(i), f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy != null && !SUPPORTED_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported(policyPath, spec.ipFamilyPolicy, SUPPORTED_FAMILY_POLICIES));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        badIPs = true;
        errs.push(invalid(clusterIPsPath, goStrings(ips), "'None' must be the first and only value"));
      }
      return;
    }
    for (const msg of isValidIP(ip)) {
      badIPs = true;
      errs.push(invalid(clusterIPsPath.index(i), ip, msg));
    }
  });
  if (ips.length > 2) errs.push(invalid(clusterIPsPath, goStrings(ips), 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && parseIPSloppy(ips[0]) === parseIPSloppy(ips[1])) {
    errs.push(invalid(clusterIPsPath, goStrings(ips), 'may specify no more than one IP for each IP family'));
  }
  const families = spec.ipFamilies ?? [];
  if (!isHeadless(spec)) {
    ips.forEach((ip, i) => {
      if (i >= families.length) return;
      const v6 = parseIPSloppy(ip) === 6;
      if (families[i] === 'IPv4' && v6) errs.push(invalid(clusterIPsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !v6) errs.push(invalid(clusterIPsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

/**
 * What kube-apiserver's allocator refuses on a cluster configured with one IPv4 Service range
 * (initIPFamilyFields), with its messages: IPv6 addresses and families are "not configured on this
 * cluster", RequireDualStack is "not configured for dual-stack services". Headless Services without
 * a selector are exempt, as in Kubernetes (they get no address).
 */
function validateSingleStackFamilies(spec: Spec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  const families = spec.ipFamilies ?? [];
  if (spec.ipFamilyPolicy === 'SingleStack') {
    if (ips.length === 2) errs.push(invalid(policyPath, spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
    if (families.length === 2) errs.push(invalid(policyPath, spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
  }
  ips.forEach((ip, i) => {
    if (ip === 'None' || i < families.length) return;
    if (parseIPSloppy(ip) === 6) errs.push(invalid(clusterIPsPath.index(i), goStrings(ips), 'IPv6 is not configured on this cluster'));
  });
  if (errs.length) return errs;
  const selectorless = Object.keys(spec.selector ?? {}).length === 0;
  if (isHeadless(spec) && selectorless) return errs;
  if (spec.ipFamilyPolicy === 'RequireDualStack') errs.push(invalid(policyPath, spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  families.forEach((f, i) => {
    if (f !== 'IPv4') errs.push(invalid(familiesPath.index(i), f, 'not configured on this cluster'));
  });
  return errs;
}

/** ValidateServiceUpdate: what may not change, then everything ValidateService checks. */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  const spec: Spec = svc.spec ?? {};
  const was: Spec = old.spec ?? {};
  errs.push(...validateUpgradeDowngradeClusterIPs(was, spec));
  errs.push(...validateUpgradeDowngradeFamilies(was, spec));
  errs.push(...validateLoadBalancerClass(was, spec));
  if (needsHealthCheck(was) && needsHealthCheck(spec) && (spec.healthCheckNodePort ?? 0) !== (was.healthCheckNodePort ?? 0)) {
    errs.push(forbiddenField(specPath.child('healthCheckNodePort'), 'field is immutable'));
  }
  errs.push(...validateService(svc));
  return errs;
}

function validateUpgradeDowngradeClusterIPs(old: Spec, spec: Spec): FieldError[] {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) && isHeadless(spec)) return [];
  const errs: FieldError[] = [];
  const was = old.clusterIPs ?? [];
  const now = spec.clusterIPs ?? [];
  const changed = () => invalid(clusterIPsPath.index(0), goStrings(spec.clusterIPs), 'may not change once set');
  if (was.length === now.length) {
    was.forEach((ip, i) => {
      if (ip !== now[i]) errs.push(invalid(clusterIPsPath.index(i), goStrings(spec.clusterIPs), 'may not change once set'));
    });
  } else if (was.length > now.length) {
    if (now.length === 0) errs.push(invalid(clusterIPsPath.index(0), goStrings(spec.clusterIPs), 'primary clusterIP can not be unset'));
    if (was.length > 0 && now.length > 0 && now[0] !== was[0]) errs.push(changed());
    if (now.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalid(policyPath, spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (was.length > 0 && now[0] !== was[0]) {
    errs.push(changed());
  }
  return errs;
}

function validateUpgradeDowngradeFamilies(old: Spec, spec: Spec): FieldError[] {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) || isHeadless(spec)) return [];
  const errs: FieldError[] = [];
  const was = old.ipFamilies ?? [];
  const now = spec.ipFamilies ?? [];
  if (was.length === now.length) {
    was.forEach((f, i) => {
      if (f !== now[i]) errs.push(invalid(familiesPath.index(0), goStrings(now), 'may not change once set'));
    });
  } else if (was.length > now.length) {
    if (now.length === 0) errs.push(invalid(familiesPath.index(0), goStrings(now), 'primary ipFamily can not be unset'));
    if (was.length > 0 && now.length > 0 && now[0] !== was[0]) errs.push(invalid(familiesPath.index(0), goStrings(now), 'may not change once set'));
  } else if (was.length > 0 && now[0] !== was[0]) {
    errs.push(invalid(familiesPath.index(0), goStrings(now), 'may not change once set'));
  }
  return errs;
}

/** ValidateServiceStatusUpdate: the load balancer's ingress entries. */
export function validateServiceStatusUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  const path = new FieldPath('status').child('loadBalancer').child('ingress');
  const isLB = svc.spec?.type === 'LoadBalancer';
  (svc.status?.loadBalancer?.ingress ?? []).forEach((ing, i) => {
    const p = path.index(i);
    if (ing.ip) for (const msg of isValidIP(ing.ip)) errs.push(invalid(p.child('ip'), ing.ip, msg));
    if (ing.ipMode != null) {
      if (!ing.ip) errs.push(forbiddenField(p.child('ipMode'), 'may not be specified when `ip` is not set'));
      else if (!['Proxy', 'VIP'].includes(ing.ipMode)) errs.push(notSupported(p.child('ipMode'), ing.ipMode, ['Proxy', 'VIP']));
    } else if (ing.ip && isLB) {
      errs.push(required(p.child('ipMode'), 'must be specified when `ip` is set'));
    }
    if (ing.hostname) {
      for (const msg of isDNS1123Subdomain(ing.hostname)) errs.push(invalid(p.child('hostname'), ing.hostname, msg));
      if (parseIPSloppy(ing.hostname)) errs.push(invalid(p.child('hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
