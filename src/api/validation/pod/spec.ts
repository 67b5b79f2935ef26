// ValidatePodSpec: the pod-level fields, and the walk over the spec's sections in Kubernetes' order.
// Also used for pod templates (apps/v1 later), hence its own entry point.

import { duplicate, FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../../field.ts';
import type { Container, ObjectMeta, PodSpec } from '../../types.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidIP, nameIsDNSSubdomain, inclusiveRangeError } from '../names.ts';
import { validateLabels } from '../meta.ts';
import { validateVolumes } from './volumes.ts';
import { validateContainers, validateInitContainers, validateEphemeralContainers } from './containers.ts';
import { validateResourceRequirements } from './resources.ts';
import { validatePodSecurityContext } from './security.ts';
import { validateTolerations, validateAffinity, validateTopologySpreadConstraints } from './scheduling.ts';
import { MAX_INT32, specPath, rec, isRecord, arr, list, str, validateEnum } from './helpers.ts';

export interface PodSpecValidationOptions {
  /** The spec belongs to a Pod (not a template): with hostNetwork, hostPort must equal containerPort. */
  resourceIsPod?: boolean;
}

/** ValidatePodSpec; exported for pod templates (apps/v1 later). */
export function validatePodSpec(spec: PodSpec, meta: ObjectMeta | undefined, path: FieldPath = specPath, opts: PodSpecValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const grace = spec.terminationGracePeriodSeconds;
  if (grace === undefined || grace === null) errs.push(required(path.child('terminationGracePeriodSeconds')));
  const hostUsers = rec(spec).hostUsers !== false;
  const { volumes, errs: vErrs } = validateVolumes(arr(spec.volumes), meta, path.child('volumes'));
  errs.push(...vErrs);
  const claimNames = new Set(arr(rec(spec).resourceClaims as { name?: string }[]).map((c) => c.name ?? '').filter(Boolean));
  errs.push(...validateContainers(spec.containers, volumes, claimNames, grace, path.child('containers'), spec.restartPolicy, hostUsers));
  errs.push(...validateInitContainers(arr(spec.initContainers), arr(spec.containers), volumes, claimNames, grace, path.child('initContainers'), spec.restartPolicy, hostUsers));
  errs.push(...validateEphemeralContainers(spec, volumes, claimNames, path.child('ephemeralContainers'), hostUsers));
  errs.push(...validateHostNetworkDeps(spec, path, opts));
  errs.push(...validateEnum(spec.restartPolicy, path.child('restartPolicy'), ['Always', 'OnFailure', 'Never']));
  errs.push(...validateEnum(spec.dnsPolicy, path.child('dnsPolicy'), ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  errs.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  errs.push(...validatePodSecurityContext(spec.securityContext, spec, path.child('securityContext')));
  arr(spec.imagePullSecrets).forEach((s, i) => {
    if (isRecord(s) && Object.keys(s).some((k) => k !== 'name')) errs.push(invalid(path.child('imagePullSecrets').index(i), s, 'only name may be set'));
  });
  errs.push(...validateAffinity(spec.affinity, path.child('affinity')));
  errs.push(...validateDNSConfig(spec, path.child('dnsConfig')));
  arr(spec.readinessGates).forEach((g, i) => {
    const p = path.child('readinessGates').index(i).child('conditionType');
    for (const msg of isQualifiedName(g.conditionType ?? '')) errs.push(invalid(p, g.conditionType ?? '', msg));
  });
  const gates = new Set<string>();
  arr(spec.schedulingGates).forEach((g, i) => {
    const p = path.child('schedulingGates').index(i);
    for (const msg of isQualifiedName(g.name ?? '')) errs.push(invalid(p, g.name ?? '', msg));
    if (gates.has(g.name)) errs.push(duplicate(p, g.name));
    gates.add(g.name);
  });
  errs.push(...validateTopologySpreadConstraints(arr(spec.topologySpreadConstraints), path.child('topologySpreadConstraints')));
  if (spec.serviceAccountName) {
    for (const msg of nameIsDNSSubdomain(spec.serviceAccountName, false)) errs.push(invalid(path.child('serviceAccountName'), spec.serviceAccountName, msg));
  }
  if (spec.nodeName) for (const msg of nameIsDNSSubdomain(spec.nodeName, false)) errs.push(invalid(path.child('nodeName'), spec.nodeName, msg));
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && (ads < 1 || ads > MAX_INT32)) {
    errs.push(invalid(path.child('activeDeadlineSeconds'), ads, inclusiveRangeError(1, MAX_INT32)));
  }
  if (spec.hostname) for (const msg of isDNS1123Label(spec.hostname)) errs.push(invalid(path.child('hostname'), spec.hostname, msg));
  if (spec.subdomain) for (const msg of isDNS1123Label(spec.subdomain)) errs.push(invalid(path.child('subdomain'), spec.subdomain, msg));
  if (arr(spec.tolerations).length) errs.push(...validateTolerations(arr(spec.tolerations), path.child('tolerations')));
  arr(spec.hostAliases).forEach((h, i) => {
    for (const msg of isValidIP(h.ip ?? '')) errs.push(invalid(path.child('hostAliases').index(i).child('ip'), h.ip ?? '', msg));
    list(h.hostnames).map(str).forEach((hn, j) => {
      for (const msg of isDNS1123Subdomain(hn)) errs.push(invalid(path.child('hostAliases').index(i).child('hostnames').index(j), hn, msg));
    });
  });
  if (spec.priorityClassName) {
    for (const msg of nameIsDNSSubdomain(spec.priorityClassName, false)) errs.push(invalid(path.child('priorityClassName'), spec.priorityClassName, msg));
  }
  if (spec.runtimeClassName !== undefined && spec.runtimeClassName !== null) {
    for (const msg of nameIsDNSSubdomain(spec.runtimeClassName, false)) errs.push(invalid(path.child('runtimeClassName'), spec.runtimeClassName, msg));
  }
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null) {
    errs.push(...validateEnum(spec.preemptionPolicy, path.child('preemptionPolicy'), ['PreemptLowerPriority', 'Never']));
  }
  if (spec.overhead) errs.push(...validateResourceRequirements({ limits: spec.overhead }, new Set(), path.child('overhead')));
  if (spec.os) {
    const name = spec.os.name ?? '';
    if (name.length === 0) errs.push(required(path.child('os').child('name'), 'cannot be empty'));
    else if (name !== 'linux' && name !== 'windows') errs.push(notSupported(path.child('os'), name, ['linux', 'windows']));
    else if (name === 'linux') errs.push(...validateLinuxOnly(spec, path));
  }
  return errs;
}

function validateLinuxOnly(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.securityContext?.windowsOptions) {
    errs.push(forbiddenField(path.child('securityContext').child('windowsOptions'), 'windows options cannot be set for a linux pod'));
  }
  visitContainers(spec, path, (c, p) => {
    if (c.securityContext?.windowsOptions) {
      errs.push(forbiddenField(p.child('securityContext').child('windowsOptions'), 'windows options cannot be set for a linux pod'));
    }
  });
  return errs;
}

function visitContainers(spec: PodSpec, path: FieldPath, fn: (c: Container, p: FieldPath) => void): void {
  arr(spec.initContainers).forEach((c, i) => fn(c, path.child('initContainers').index(i)));
  arr(spec.containers).forEach((c, i) => fn(c, path.child('containers').index(i)));
  arr(spec.ephemeralContainers).forEach((c, i) => fn(c as Container, path.child('ephemeralContainers').index(i)));
}

function validateHostNetworkDeps(spec: PodSpec, path: FieldPath, opts: PodSpecValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.hostNetwork) return errs;
  arr(spec.containers).forEach((c, i) => {
    arr(c.ports).forEach((p, j) => {
      const hp = p.hostPort ?? 0;
      if ((opts.resourceIsPod || hp !== 0) && hp !== p.containerPort) {
        errs.push(invalid(path.child('containers').index(i).child('ports').index(j).child('hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
      }
    });
  });
  return errs;
}

function validateDNSConfig(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === 'None') {
    if (!cfg) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (list(cfg.nameservers).length === 0) return [required(path.child('nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!cfg) return errs;
  const ns = list(cfg.nameservers).map(str);
  if (ns.length > 3) errs.push(invalid(path.child('nameservers'), ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => {
    for (const m of isValidIP(n)) errs.push(invalid(path.child('nameservers').index(i), n, m));
  });
  const searches = list(cfg.searches).map(str);
  if (searches.length > 32) errs.push(invalid(path.child('searches'), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(invalid(path.child('searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => {
    const trimmed = s.endsWith('.') ? s.slice(0, -1) : s;
    for (const m of isDNS1123Subdomain(trimmed)) errs.push(invalid(path.child('searches').index(i), trimmed, m));
  });
  arr(cfg.options).forEach((o, i) => {
    if (!o.name) errs.push(required(path.child('options').index(i), 'must not be empty'));
  });
  return errs;
}

