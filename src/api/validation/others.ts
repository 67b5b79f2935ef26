// Validation of the other resources tinykube serves — namespaces, nodes, configmaps, secrets,
// service accounts, core/v1 events, coordination.k8s.io/v1 leases and pod bindings — as
// Kubernetes 1.32 validates them. Pure and stateless; called by the strategies in src/registry.

import { duplicate, FieldPath, forbiddenField, invalid, notSupported, required, tooLong, type FieldError } from '../field.ts';
import type { Binding, ConfigMap, Event, Lease, Namespace, Node, PriorityClass, Secret, ServiceAccount } from '../types.ts';
import { semanticDeepEqual } from '../equality.ts';
import { SYSTEM_PRIORITY_CLASSES } from '../defaults/pod.ts';
import { isConfigMapKey, isDNS1123Subdomain, isQualifiedName, isValidCIDR, isValidLabelValue, nameIsDNSLabel, nameIsDNSSubdomain } from './names.ts';
import {
  validateImmutableField,
  validateKubeFinalizerName,
  validateLabelName,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.ts';
import { validateResourceQuantityValue } from './pod/resources.ts';
import { validateTaintEffect } from './pod/scheduling.ts';

/** ConfigMaps and Secrets may hold at most 1 MiB of data. */
export const MAX_SECRET_SIZE = 1024 * 1024;

/** A path from its first segments: fp('spec', 'podCIDRs'). */
const fp = (first: string, ...rest: string[]): FieldPath => (rest.length ? new FieldPath(first).child(rest[0], ...rest.slice(1)) : new FieldPath(first));
const arr = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v : []);
const entries = (m: unknown): [string, unknown][] => (m && typeof m === 'object' && !Array.isArray(m) ? Object.entries(m) : []);

// ---------------------------------------------------------------- namespaces

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, { namespaced: false, nameFn: nameIsDNSLabel });
  for (const f of arr(ns.spec?.finalizers)) errs.push(...validateKubeFinalizerName(f ?? '', fp('spec', 'finalizers')));
  return errs;
}

/** A namespace update through the main resource (spec and status are kept by the strategy). */
export function validateNamespaceUpdate(ns: Namespace, old: Namespace): FieldError[] {
  return validateObjectMetaUpdate(ns.metadata, old.metadata);
}

export function validateNamespaceStatusUpdate(ns: Namespace, old: Namespace): FieldError[] {
  const errs = validateObjectMetaUpdate(ns.metadata, old.metadata);
  const phase = ns.status?.phase ?? '';
  const p = fp('status', 'phase');
  if (!ns.metadata?.deletionTimestamp) {
    if (phase !== 'Active') errs.push(invalid(p, phase, "may only be 'Active' if `deletionTimestamp` is empty"));
  } else if (phase !== 'Terminating') {
    errs.push(invalid(p, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
  }
  return errs;
}

/** The finalize subresource: only spec.finalizers change, each must be a valid finalizer name. */
export function validateNamespaceFinalizeUpdate(ns: Namespace, old: Namespace): FieldError[] {
  const errs = validateObjectMetaUpdate(ns.metadata, old.metadata);
  arr(ns.spec?.finalizers).forEach((f, i) => errs.push(...validateKubeFinalizerName(f ?? '', fp('spec', 'finalizers').index(i))));
  return errs;
}

// ---------------------------------------------------------------- nodes

function validateNodeTaints(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  // Kubernetes reports node taints under "metadata.taints" (its path quirk, kept).
  const path = fp('metadata', 'taints');
  const seen = new Map<string, Set<string>>();
  arr(node.spec?.taints).forEach((taint, i) => {
    const t = taint ?? { key: '', effect: '' };
    const p = path.index(i);
    errs.push(...validateLabelName(t.key ?? '', p.child('key')));
    const ve = isValidLabelValue(t.value ?? '');
    if (ve.length) errs.push(invalid(p.child('value'), t.value ?? '', ve.join(';')));
    errs.push(...validateTaintEffect(t.effect, false, p.child('effect')));
    const keys = seen.get(t.effect ?? '') ?? new Set<string>();
    if (keys.has(t.key ?? '')) {
      errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
      return;
    }
    keys.add(t.key ?? '');
    seen.set(t.effect ?? '', keys);
  });
  return errs;
}

function validateNodeResources(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['capacity', 'allocatable'] as const) {
    for (const [k, v] of entries(node.status?.[field])) errs.push(...validateResourceQuantityValue(k, v, fp('status', field, k)).errs);
  }
  return errs;
}

function validatePodCIDRs(cidrs: string[]): FieldError[] {
  const errs: FieldError[] = [];
  const p = fp('spec', 'podCIDRs');
  cidrs.forEach((c, i) => {
    for (const m of isValidCIDR(c ?? '')) errs.push(invalid(p.index(i), c, m));
  });
  if (cidrs.length > 1) {
    const fam = cidrs.map((c) => ((c ?? '').includes(':') ? 6 : 4));
    if (cidrs.length > 2 || fam[0] === fam[1]) errs.push(invalid(p, cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(duplicate(p.index(i), c));
      seen.add(c);
    });
  }
  return errs;
}

export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain });
  if (arr(node.spec?.taints).length) errs.push(...validateNodeTaints(node));
  errs.push(...validateNodeResources(node));
  errs.push(...validatePodCIDRs(arr(node.spec?.podCIDRs)));
  return errs;
}

/** Node updates, main resource and status alike (Kubernetes uses one function for both). */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = validateObjectMetaUpdate(node.metadata, old.metadata);
  errs.push(...validateNodeResources(node));
  const seen: unknown[] = [];
  arr(node.status?.addresses).forEach((a, i) => {
    if (seen.some((s) => semanticDeepEqual(s, a))) errs.push(duplicate(fp('status', 'addresses').index(i), a));
    seen.push(a);
  });
  const oldCIDRs = arr(old.spec?.podCIDRs);
  const newCIDRs = arr(node.spec?.podCIDRs);
  if (oldCIDRs.length > 0) {
    const msg = 'node updates may not change podCIDR except from "" to valid';
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbiddenField(fp('spec', 'podCIDRs'), msg));
    else oldCIDRs.forEach((c, i) => c !== newCIDRs[i] && errs.push(forbiddenField(fp('spec', 'podCIDRs'), msg)));
  } else {
    errs.push(...validatePodCIDRs(newCIDRs));
  }
  if (old.spec?.providerID && old.spec.providerID !== node.spec?.providerID) {
    errs.push(forbiddenField(fp('spec', 'providerID'), 'node updates may not change providerID except from "" to valid'));
  }
  if (arr(node.spec?.taints).length) errs.push(...validateNodeTaints(node));
  if ((node.spec?.externalID ?? '') !== (old.spec?.externalID ?? '')) errs.push(forbiddenField(fp('spec', 'externalID'), 'may not be updated'));
  return errs;
}

// ---------------------------------------------------------------- configmaps and secrets

/** Decoded size of a base64 value, as the apiserver counts []byte data. */
function base64Size(v: unknown): number {
  if (typeof v !== 'string') return 0;
  const s = v.replace(/[\r\n]/g, '');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((s.length * 3) / 4) - pad);
}

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  let total = 0;
  const binary = cm.binaryData ?? {};
  for (const [k, v] of entries(cm.data)) {
    const p = new FieldPath('data').key(k);
    for (const m of isConfigMapKey(k)) errs.push(invalid(p, k, m));
    if (Object.hasOwn(binary, k)) errs.push(invalid(p, k, 'duplicate of key present in binaryData'));
    total += typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0;
  }
  for (const [k, v] of entries(cm.binaryData)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(new FieldPath('binaryData').key(k), k, m));
    total += base64Size(v);
  }
  // Kubernetes reports the size error on the whole object (an empty field path).
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(new FieldPath(''), '', MAX_SECRET_SIZE));
  return errs;
}

function immutableDataErrors(isImmutable: boolean | undefined, wasImmutable: boolean | undefined, pairs: [string, unknown, unknown][]): FieldError[] {
  const errs: FieldError[] = [];
  if (wasImmutable !== true) return errs;
  const msg = 'field is immutable when `immutable` is set';
  if (isImmutable !== true) errs.push(forbiddenField(new FieldPath('immutable'), msg));
  for (const [field, a, b] of pairs) if (!semanticDeepEqual(a, b)) errs.push(forbiddenField(new FieldPath(field), msg));
  return errs;
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs = validateObjectMetaUpdate(cm.metadata, old.metadata);
  errs.push(
    ...immutableDataErrors(cm.immutable, old.immutable, [
      ['data', cm.data, old.data],
      ['binaryData', cm.binaryData, old.binaryData],
    ]),
  );
  errs.push(...validateConfigMap(cm).filter((e) => !e.field.startsWith('metadata.')));
  return errs;
}

const dataKeyPath = (k: string): FieldPath => new FieldPath('data').key(k);

function decodeJSONData(v: unknown): string | undefined {
  try {
    JSON.parse(Buffer.from(typeof v === 'string' ? v : '', 'base64').toString('utf8'));
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function validateSecretData(secret: Secret): FieldError[] {
  const errs: FieldError[] = [];
  const data = (secret.data ?? {}) as Record<string, unknown>;
  let total = 0;
  for (const [k, v] of entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(dataKeyPath(k), k, m));
    total += base64Size(v);
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(new FieldPath('data'), '', MAX_SECRET_SIZE));
  const has = (k: string): boolean => Object.hasOwn(data, k);
  switch (secret.type ?? '') {
    case 'kubernetes.io/service-account-token':
      if (!secret.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(required(fp('metadata', 'annotations').key('kubernetes.io/service-account.name')));
      }
      break;
    case 'Opaque':
    case '':
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = secret.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) {
        errs.push(required(dataKeyPath(key)));
        break;
      }
      const bad = decodeJSONData(data[key]);
      if (bad) errs.push(invalid(dataKeyPath(key), '<secret contents redacted>', bad));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required(dataKeyPath('username')), required(dataKeyPath('password')));
      break;
    case 'kubernetes.io/ssh-auth':
      if (base64Size(data['ssh-privatekey']) === 0) errs.push(required(dataKeyPath('ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required(dataKeyPath('tls.crt')));
      if (!has('tls.key')) errs.push(required(dataKeyPath('tls.key')));
      break;
    default:
      break;
  }
  return errs;
}

export function validateSecret(secret: Secret): FieldError[] {
  const errs = validateObjectMeta(secret.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  errs.push(...validateSecretData(secret));
  return errs;
}

export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs = validateObjectMetaUpdate(secret.metadata, old.metadata);
  errs.push(...validateImmutableField(secret.type, old.type, new FieldPath('type')));
  errs.push(...immutableDataErrors(secret.immutable, old.immutable, [['data', secret.data, old.data]]));
  errs.push(...validateSecretData(secret));
  return errs;
}

// ---------------------------------------------------------------- service accounts

export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  return validateObjectMeta(sa.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
}

export function validateServiceAccountUpdate(sa: ServiceAccount, old: ServiceAccount): FieldError[] {
  return validateObjectMetaUpdate(sa.metadata, old.metadata);
}

// ---------------------------------------------------------------- events (core/v1)

/**
 * core/v1 Events get only Kubernetes' "legacy" event validation (no ObjectMeta checks): the
 * involved object's namespace must match the event's, and new-style events (eventTime set) need
 * their reporting fields.
 */
export function validateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const ns = ev.metadata?.namespace ?? '';
  const ioNs = ev.involvedObject?.namespace ?? '';
  const ioPath = fp('involvedObject', 'namespace');
  if (!ev.eventTime) {
    if (ioNs.length === 0) {
      if (ns !== '' && ns !== 'default') errs.push(invalid(ioPath, ioNs, 'does not match event.namespace'));
    } else if (ns !== ioNs) {
      errs.push(invalid(ioPath, ioNs, 'does not match event.namespace'));
    }
  } else {
    if (ioNs.length === 0 && ns !== 'default' && ns !== 'kube-system') errs.push(invalid(ioPath, ioNs, 'does not match event.namespace'));
    const rc = ev.reportingComponent ?? '';
    if (!rc) errs.push(required(new FieldPath('reportingController')));
    for (const m of isQualifiedName(rc)) errs.push(invalid(new FieldPath('reportingController'), rc, m));
    const ri = ev.reportingInstance ?? '';
    if (!ri) errs.push(required(new FieldPath('reportingInstance')));
    if (ri.length > 128) errs.push(invalid(new FieldPath('reportingInstance'), '', 'can have at most 128 characters'));
    const action = ev.action ?? '';
    if (!action) errs.push(required(new FieldPath('action')));
    if (action.length > 128) errs.push(invalid(new FieldPath('action'), '', 'can have at most 128 characters'));
    const reason = ev.reason ?? '';
    if (!reason) errs.push(required(new FieldPath('reason')));
    if (reason.length > 128) errs.push(invalid(new FieldPath('reason'), '', 'can have at most 128 characters'));
    if ((ev.message ?? '').length > 1024) errs.push(invalid(new FieldPath('message'), '', 'can have at most 1024 characters'));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalid(new FieldPath('namespace'), ns, m));
  return errs;
}

/** core/v1 event updates are validated like creates (Kubernetes keeps them mutable for compatibility). */
export function validateEventUpdate(ev: Event, _old: Event): FieldError[] {
  return validateEvent(ev);
}

/**
 * Events created through events.k8s.io/v1, validated in their core/v1 form (so field paths are the
 * core names, as kube-apiserver validates the internal type): the legacy rules plus the strict ones
 * of ValidateEventCreate for events.k8s.io/v1 and newer.
 */
export function validateEventV1Create(ev: Event): FieldError[] {
  const errs = validateEvent(ev);
  errs.push(...validateObjectMeta(ev.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain, kubeFinalizers: false }));
  errs.push(...validateEventSeries(ev));
  if (!ev.eventTime) errs.push(required(new FieldPath('eventTime')));
  if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(invalid(new FieldPath('type'), '', `has invalid value: ${ev.type ?? ''}`));
  if (ev.firstTimestamp) errs.push(invalid(new FieldPath('firstTimestamp'), '', 'needs to be unset'));
  if (ev.lastTimestamp) errs.push(invalid(new FieldPath('lastTimestamp'), '', 'needs to be unset'));
  if (ev.count) errs.push(invalid(new FieldPath('count'), '', 'needs to be unset'));
  if (ev.source?.component || ev.source?.host) errs.push(invalid(new FieldPath('source'), '', 'needs to be unset'));
  return errs;
}

/** Updates through events.k8s.io/v1: everything but metadata and a changed series is immutable. */
export function validateEventV1Update(ev: Event, old: Event): FieldError[] {
  const errs = validateEvent(ev);
  errs.push(...validateObjectMetaUpdate(ev.metadata, old.metadata, { kubeFinalizers: false }));
  if (!semanticDeepEqual(ev.series, old.series)) errs.push(...validateEventSeries(ev));
  const immutable = ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'action', 'related', 'reportingComponent', 'reportingInstance'] as const;
  for (const f of immutable) {
    // The internal field of reportingComponent is ReportingController, and its error names it so.
    errs.push(...validateImmutableField(ev[f], old[f], new FieldPath(f === 'reportingComponent' ? 'reportingController' : f)));
  }
  return errs;
}

function validateEventSeries(ev: Event): FieldError[] {
  if (!ev.series) return [];
  const errs: FieldError[] = [];
  if ((ev.series.count ?? 0) < 2) errs.push(invalid(new FieldPath('series.count'), '', 'should be at least 2'));
  if (!ev.series.lastObservedTime) errs.push(required(new FieldPath('series.lastObservedTime')));
  return errs;
}

// ---------------------------------------------------------------- leases (coordination.k8s.io/v1)

function validateLeaseSpec(lease: Lease): FieldError[] {
  const errs: FieldError[] = [];
  const spec = (lease.spec ?? {}) as NonNullable<Lease['spec']> & { strategy?: string; preferredHolder?: string };
  const p = new FieldPath('spec');
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errs.push(invalid(p.child('leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errs.push(invalid(p.child('leaseTransitions'), spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  if (spec.strategy !== undefined && spec.strategy !== null) {
    if (spec.strategy === '') errs.push(required(p.child('strategy'), 'must be specified'));
    else if (spec.strategy !== 'OldestEmulationVersion') {
      const parts = spec.strategy.split('/');
      if (parts.length !== 2 || !parts[1]) errs.push(invalid(p.child('strategy'), spec.strategy, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    }
  }
  if (spec.preferredHolder && !spec.strategy) errs.push(forbiddenField(p.child('preferredHolder'), 'may only be specified if `strategy` is defined'));
  return errs;
}

export function validateLease(lease: Lease): FieldError[] {
  const errs = validateObjectMeta(lease.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain, kubeFinalizers: false });
  errs.push(...validateLeaseSpec(lease));
  return errs;
}

export function validateLeaseUpdate(lease: Lease, old: Lease): FieldError[] {
  const errs = validateObjectMetaUpdate(lease.metadata, old.metadata, { kubeFinalizers: false });
  errs.push(...validateLeaseSpec(lease));
  return errs;
}

// ---------------------------------------------------------------- priorityclasses (scheduling.k8s.io)

/** The classes every cluster has, bootstrapped by the API server (scheduling.k8s.io's SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASS_OBJECTS: readonly PriorityClass[] = [
  {
    metadata: { name: 'system-node-critical' },
    value: SYSTEM_PRIORITY_CLASSES['system-node-critical']!,
    description: 'Used for system critical pods that must not be moved from their current node.',
    preemptionPolicy: 'PreemptLowerPriority',
  },
  {
    metadata: { name: 'system-cluster-critical' },
    value: SYSTEM_PRIORITY_CLASSES['system-cluster-critical']!,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
    preemptionPolicy: 'PreemptLowerPriority',
  },
];

/** The highest value a class not named system-* may have. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;

function knownSystemClassError(pc: PriorityClass): string | undefined {
  const sys = SYSTEM_PRIORITY_CLASS_OBJECTS.find((c) => c.metadata?.name === pc.metadata?.name);
  if (!sys) return `${pc.metadata?.name} is not a known system priority class`;
  if (sys.value !== pc.value) return `value of ${pc.metadata?.name} PriorityClass must be ${sys.value}`;
  if (Boolean(sys.globalDefault) !== Boolean(pc.globalDefault)) return `globalDefault of ${pc.metadata?.name} PriorityClass must be ${Boolean(sys.globalDefault)}`;
  return undefined;
}

export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(pc.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain, kubeFinalizers: false });
  const name = pc.metadata?.name ?? '';
  if (name.startsWith('system-')) {
    const why = knownSystemClassError(pc);
    if (why) errs.push(forbiddenField(fp('metadata', 'name'), `priority class names with 'system-' prefix are reserved for system use only. error: ${why}`));
  } else if (typeof pc.value === 'number' && pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbiddenField(fp('value'), `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.preemptionPolicy !== undefined && pc.preemptionPolicy !== null && pc.preemptionPolicy !== 'PreemptLowerPriority' && pc.preemptionPolicy !== 'Never') {
    errs.push(notSupported(fp('preemptionPolicy'), pc.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  }
  return errs;
}

export function validatePriorityClassUpdate(pc: PriorityClass, old: PriorityClass): FieldError[] {
  const errs = validateObjectMetaUpdate(pc.metadata, old.metadata, { kubeFinalizers: false });
  if (pc.value !== old.value) errs.push(forbiddenField(fp('value'), 'may not be changed in an update.'));
  errs.push(...validateImmutableField(pc.preemptionPolicy, old.preemptionPolicy, fp('preemptionPolicy')));
  return errs;
}

// ---------------------------------------------------------------- pods/binding

/** A Binding posted to pods/{name}/binding by the scheduler. */
export function validatePodBinding(binding: Binding): FieldError[] {
  const errs: FieldError[] = [];
  const kind = binding.target?.kind ?? '';
  if (kind.length !== 0 && kind !== 'Node') errs.push(notSupported(fp('target', 'kind'), kind, ['Node', '<empty>']));
  if (!binding.target?.name) errs.push(required(fp('target', 'name')));
  return errs;
}
