// Pod validation as Kubernetes 1.32 does it (pkg/apis/core/validation), on create, update and
// status update. kubectl users read these messages verbatim, so paths, order and wording follow the
// apiserver — including its known quirks (noted where they look like bugs). Validation runs after
// defaulting: fields Kubernetes always defaults are reported as Required when missing.
//
// Callers: the pod strategy (src/registry), synchronously, once per write; pure and stateless.

import {
  duplicate,
  fieldNotFound,
  FieldPath,
  forbiddenField,
  invalid,
  notSupported,
  required,
  type FieldError,
} from '../field.ts';
import { diffPaths, semanticDeepEqual } from '../equality.ts';
import { cmpQuantity, formatQuantity, parseWireQuantity, QuantityError, valueBig, type Quantity } from '../quantity.ts';
import type {
  Affinity,
  Container,
  ContainerPort,
  EnvFromSource,
  EnvVar,
  LabelSelector,
  NodeSelector,
  NodeSelectorTerm,
  ObjectMeta,
  Pod,
  PodAffinityTerm,
  PodSecurityContext,
  PodSpec,
  Probe,
  ResourceRequirements,
  SecurityContext,
  Toleration,
  TopologySpreadConstraint,
  Volume,
  VolumeMount,
} from '../types.ts';
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isHTTPHeaderName,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidGroupID,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  isValidUserID,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  inclusiveRangeError,
} from './names.ts';
import {
  validateImmutableField,
  validateLabelName,
  validateLabels,
  validateLabelSelector,
  validateNonnegativeField,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.ts';

const MAX_INT32 = 2147483647;
const FILE_MODE_MESSAGE = 'must be a number between 0 and 0777 (octal), both inclusive';
const NOT_POSITIVE_MESSAGE = 'must be greater than zero';
const NOT_INTEGER_MESSAGE = 'must be an integer';

export const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

const specPath = new FieldPath('spec');
const metaPath = new FieldPath('metadata');

type AnyRecord = Record<string, unknown>;
/** Loose view of a typed object, for fields newer than our kubernetes-types version. */
const rec = (v: object): AnyRecord => v as unknown as AnyRecord;
const isRecord = (v: unknown): v is AnyRecord => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * A list of objects, null-safe: Go decodes a null (or otherwise empty) list element into the zero
 * struct, so non-object elements are seen as {} here rather than crashing validation.
 */
const arr = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v.map((x) => (isRecord(x) ? x : ({} as T))) : []);
/** A list of scalars as given (strings, numbers). */
const list = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v : []);
/** A string field; anything else reads as "" (the decoder rejects wrong types before validation). */
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

// ---------------------------------------------------------------- entry points

/** ValidatePodCreate: a new pod, after defaulting and name generation. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validatePodMetadataAndSpec(pod);
  const spec = pod.spec ?? ({} as PodSpec);
  if (arr(spec.ephemeralContainers).length > 0) errs.push(forbiddenField(specPath.child('ephemeralContainers'), 'cannot be set on create'));
  if (spec.nodeName && arr(spec.schedulingGates).length > 0) {
    errs.push(forbiddenField(specPath.child('nodeName'), 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

/** ValidatePodUpdate: what an update through the main resource may change (almost nothing in spec). */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  errs.push(...validatePodMetadataAndSpec(pod));
  errs.push(...validatePodSpecificAnnotationUpdates(pod, old));
  const spec = pod.spec ?? ({} as PodSpec);
  const oldSpec = old.spec ?? ({} as PodSpec);

  for (const [list, oldList, name] of [
    [spec.containers, oldSpec.containers, 'containers'],
    [spec.initContainers, oldSpec.initContainers, 'initContainers'],
  ] as const) {
    const { errs: cErrs, stop } = validateContainerUpdates(arr(list), arr(oldList), specPath.child(name));
    errs.push(...cErrs);
    if (stop) return errs;
  }

  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (ads < 0 || ads > MAX_INT32) {
      errs.push(invalid(specPath.child('activeDeadlineSeconds'), ads, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    const oldAds = oldSpec.activeDeadlineSeconds;
    if (oldAds !== undefined && oldAds !== null && oldAds < ads) {
      errs.push(invalid(specPath.child('activeDeadlineSeconds'), ads, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (oldSpec.activeDeadlineSeconds !== undefined && oldSpec.activeDeadlineSeconds !== null) {
    errs.push(invalid(specPath.child('activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'));
  }

  errs.push(...validateOnlyAddedTolerations(arr(spec.tolerations), arr(oldSpec.tolerations), specPath.child('tolerations')));
  errs.push(...validateOnlyDeletedSchedulingGates(arr(spec.schedulingGates), arr(oldSpec.schedulingGates), specPath.child('schedulingGates')));

  if (semanticDeepEqual(spec, oldSpec)) return errs;

  // Put back what may change, then anything still different is forbidden.
  const munged = structuredClone(spec) as PodSpec & AnyRecord;
  arr(munged.containers).forEach((c, i) => (c.image = arr(oldSpec.containers)[i]?.image));
  arr(munged.initContainers).forEach((c, i) => (c.image = arr(oldSpec.initContainers)[i]?.image));
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (oldGrace !== undefined && oldGrace !== null && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  if (arr(oldSpec.schedulingGates).length > 0 && !semanticDeepEqual(munged.nodeSelector, oldSpec.nodeSelector)) {
    // Gated pods may gain node selector terms (not lose or change them).
    const oldSel = oldSpec.nodeSelector ?? {};
    const newSel = munged.nodeSelector ?? {};
    if (Object.entries(oldSel).some(([k, v]) => newSel[k] !== v)) {
      errs.push(invalid(specPath.child('nodeSelector'), newSel, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
    }
    munged.nodeSelector = oldSpec.nodeSelector;
  }
  if (!semanticDeepEqual(munged, oldSpec)) {
    errs.push(forbiddenField(specPath, `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specChangeSummary(oldSpec, munged)}`));
  }
  return errs;
}

// Kubernetes appends a go-cmp diff of the specs; a short list of changed fields says the same.
function specChangeSummary(oldSpec: PodSpec, newSpec: PodSpec): string {
  const changes = diffPaths(oldSpec, newSpec, 'spec', 10);
  const show = (v: unknown): string => (v === undefined ? '<unset>' : JSON.stringify(v));
  return changes.map((c) => `  ${c.path}: ${show(c.from)} -> ${show(c.to)}`).join('\n');
}

/** ValidatePodStatusUpdate: what the node agent and controllers may write through pods/status. */
export function validatePodStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  errs.push(...validatePodSpecificAnnotationUpdates(pod, old));
  const status = pod.status ?? {};
  const oldStatus = old.status ?? {};
  // Kubernetes validates conditions under "metadata.conditions" (its path bug, kept for fidelity).
  const system = new Set(['PodScheduled', 'Ready', 'Initialized']);
  arr(status.conditions).forEach((c, i) => {
    if (system.has(c.type)) return;
    for (const msg of isQualifiedName(c.type ?? '')) errs.push(invalid(metaPath.child('conditions').index(i).child('Type'), c.type ?? '', msg));
  });
  const statusPath = new FieldPath('status');
  if ((pod.spec?.nodeName ?? '') !== (old.spec?.nodeName ?? '')) errs.push(forbiddenField(statusPath.child('nodeName'), 'may not be changed directly'));
  if (status.nominatedNodeName && status.nominatedNodeName !== oldStatus.nominatedNodeName) {
    for (const msg of nameIsDNSSubdomain(status.nominatedNodeName, false)) {
      errs.push(invalid(statusPath.child('nominatedNodeName'), status.nominatedNodeName, msg));
    }
  }
  errs.push(...validateImmutableField(status.qosClass, oldStatus.qosClass, statusPath.child('qosClass')));
  const restart = old.spec?.restartPolicy ?? 'Always';
  errs.push(...validateContainerStateTransition(arr(status.containerStatuses), arr(oldStatus.containerStatuses), statusPath.child('containerStatuses'), restart));
  const restartableInit = new Set(arr(old.spec?.initContainers).filter((c) => rec(c).restartPolicy === 'Always').map((c) => c.name));
  errs.push(
    ...validateContainerStateTransition(
      arr(status.initContainerStatuses).filter(() => true),
      arr(oldStatus.initContainerStatuses).filter((s) => !restartableInit.has(s.name)),
      statusPath.child('initContainerStatuses'),
      restart,
    ),
  );
  errs.push(
    ...validateContainerStateTransition(arr(status.ephemeralContainerStatuses), arr(oldStatus.ephemeralContainerStatuses), statusPath.child('ephemeralContainerStatuses'), 'Never'),
  );
  errs.push(...validateIPList(arr(status.podIPs), statusPath.child('podIPs')));
  const hostIPs = arr(status.hostIPs);
  if (hostIPs.length > 0) {
    if ((status.hostIP ?? '') !== (hostIPs[0].ip ?? '')) {
      errs.push(invalid(statusPath.child('hostIPs').index(0).child('ip'), hostIPs[0].ip ?? '', 'must be equal to `hostIP`'));
    }
    errs.push(...validateIPList(hostIPs, statusPath.child('hostIPs')));
  }
  return errs;
}

function validateIPList(ips: { ip?: string }[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  ips.forEach((p, i) => {
    for (const msg of isValidIP(p.ip ?? '')) errs.push(invalid(path.index(i), p.ip ?? '', msg));
  });
  if (ips.length > 1) {
    const families = ips.map((p) => ((p.ip ?? '').includes(':') ? 6 : 4));
    if (ips.length > 2 || families[0] === families[1]) errs.push(invalid(path, ips, 'may specify no more than one IP for each IP family'));
    const seen = new Set<string>();
    ips.forEach((p, i) => {
      if (seen.has(p.ip ?? '')) errs.push(duplicate(path.index(i), p));
      seen.add(p.ip ?? '');
    });
  }
  return errs;
}

function validateContainerStateTransition(
  statuses: { name: string; state?: { terminated?: { exitCode?: number } } }[],
  oldStatuses: { name: string; state?: { terminated?: { exitCode?: number } } }[],
  path: FieldPath,
  restartPolicy: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (restartPolicy === 'Always') return errs;
  oldStatuses.forEach((o, i) => {
    const term = o.state?.terminated;
    if (!term) return;
    if ((term.exitCode ?? 0) !== 0 && restartPolicy === 'OnFailure') return;
    for (const n of statuses) {
      if (n.name === o.name && !n.state?.terminated) errs.push(forbiddenField(path.index(i).child('state'), 'may not be transitioned to non-terminated state'));
    }
  });
  return errs;
}

function validateContainerUpdates(list: Container[], oldList: Container[], path: FieldPath): { errs: FieldError[]; stop: boolean } {
  if (list.length !== oldList.length) return { errs: [forbiddenField(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  list.forEach((c, i) => {
    const image = str(c.image);
    if (image.length === 0) errs.push(required(path.index(i).child('image')));
    if (image.trim().length !== image.length) errs.push(invalid(path.index(i).child('image'), image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

function validateOnlyAddedTolerations(tols: Toleration[], oldTols: Toleration[], path: FieldPath): FieldError[] {
  for (const old of oldTols) {
    const found = tols.some((t) => semanticDeepEqual({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found) return [forbiddenField(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(tols, path);
}

function validateOnlyDeletedSchedulingGates(gates: { name: string }[], oldGates: { name: string }[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (gates.length === 0) return errs;
  const old = new Set(oldGates.map((g) => g.name));
  gates.forEach((g, i) => {
    if (!old.has(g.name)) errs.push(forbiddenField(path.index(i).child('name'), `only deletion is allowed, but found new scheduling gate '${g.name}'`));
  });
  return errs;
}

// ---------------------------------------------------------------- metadata and annotations

function validatePodMetadataAndSpec(pod: Pod): FieldError[] {
  const spec = pod.spec ?? ({} as PodSpec);
  const errs = validateObjectMeta(pod.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  errs.push(...validatePodSpecificAnnotations(pod.metadata?.annotations, spec, metaPath.child('annotations')));
  errs.push(...validatePodSpec(spec, pod.metadata, specPath, { resourceIsPod: true }));
  if (!spec.serviceAccountName) {
    arr(spec.volumes).forEach((v, vi) => {
      arr(v.projected?.sources).forEach((s, si) => {
        if (s.serviceAccountToken) {
          errs.push(
            forbiddenField(
              specPath.child('volumes').index(vi).child('projected').child('sources').index(si).child('serviceAccountToken'),
              'must not be specified when serviceAccountName is not set',
            ),
          );
        }
      });
    });
  }
  for (const [list, name] of [
    [spec.containers, 'containers'],
    [spec.initContainers, 'initContainers'],
  ] as const) {
    arr(list).forEach((c, i) => {
      const image = typeof c?.image === 'string' ? c.image : '';
      if (image.length !== image.trim().length) errs.push(invalid(specPath.child(name).index(i).child('image'), image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_CONTAINER_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function validateSeccompProfileAnnotation(p: string, path: FieldPath): FieldError[] {
  if (p === 'runtime/default' || p === 'docker/default' || p === 'unconfined') return [];
  if (p.startsWith('localhost/')) return validateLocalDescendingPath(p.slice('localhost/'.length), path);
  return [invalid(path, p, 'must be a valid seccomp profile')];
}

function allContainers(spec: PodSpec): Container[] {
  return [...arr(spec.initContainers), ...arr(spec.containers), ...(arr(spec.ephemeralContainers) as Container[])];
}

function validatePodSpecificAnnotations(annotations: Record<string, string> | undefined, spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const a = annotations ?? {};
  if (Object.hasOwn(a, MIRROR_POD_ANNOTATION) && !spec.nodeName) {
    errs.push(invalid(path.key(MIRROR_POD_ANNOTATION), a[MIRROR_POD_ANNOTATION], 'must set spec.nodeName if mirror pod annotation is set'));
  }
  if (Object.hasOwn(a, POD_DELETION_COST)) {
    const v = str(a[POD_DELETION_COST]);
    const n = /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n > MAX_INT32 || n < -MAX_INT32 - 1) errs.push(invalid(path.key(POD_DELETION_COST), v, 'must be a 32bit integer'));
  }
  if (Object.hasOwn(a, SECCOMP_POD_ANNOTATION)) errs.push(...validateSeccompProfileAnnotation(str(a[SECCOMP_POD_ANNOTATION]), path.child(SECCOMP_POD_ANNOTATION)));
  for (const [k, v] of Object.entries(a)) {
    if (k.startsWith(SECCOMP_CONTAINER_PREFIX)) errs.push(...validateSeccompProfileAnnotation(str(v), path.child(k)));
  }
  for (const [k, raw] of Object.entries(a)) {
    const v = str(raw);
    if (!k.startsWith(APPARMOR_CONTAINER_PREFIX)) continue;
    const name = k.slice(APPARMOR_CONTAINER_PREFIX.length);
    if (!allContainers(spec).some((c) => c?.name === name)) errs.push(invalid(path.key(k), name, 'container not found'));
    if (v !== '' && v !== 'runtime/default' && v !== 'unconfined' && !v.startsWith('localhost/')) {
      errs.push(invalid(path.key(k), v, `invalid AppArmor profile name: ${JSON.stringify(v)}`));
    }
  }
  return errs;
}

function validatePodSpecificAnnotationUpdates(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const path = metaPath.child('annotations');
  const a = pod.metadata?.annotations ?? {};
  const o = old.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(o)) {
    if (Object.hasOwn(a, k) && a[k] === v) continue;
    if (k.startsWith(APPARMOR_CONTAINER_PREFIX)) errs.push(forbiddenField(path.key(k), 'may not remove or update AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbiddenField(path.key(k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(a)) {
    if (Object.hasOwn(o, k)) continue;
    if (k.startsWith(APPARMOR_CONTAINER_PREFIX)) errs.push(forbiddenField(path.key(k), 'may not add AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbiddenField(path.key(k), 'may not add mirror pod annotation'));
  }
  errs.push(...validatePodSpecificAnnotations(a, pod.spec ?? ({} as PodSpec), path));
  return errs;
}

// ---------------------------------------------------------------- the spec

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

/** A required enum with Kubernetes' Required / Unsupported value errors. */
function validateEnum(v: string | undefined, path: FieldPath, valid: string[]): FieldError[] {
  if (v === undefined || v === null || v === '') return [required(path)];
  return valid.includes(v) ? [] : [notSupported(path, v, valid)];
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

// ---------------------------------------------------------------- volumes

/** Sources in the order Kubernetes checks them; the second name is its path for the "more than 1" error. */
const volumeSources: [string, string][] = [
  ['emptyDir', 'emptyDir'],
  ['hostPath', 'hostPath'],
  ['gitRepo', 'gitRepo'],
  ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['secret', 'secret'],
  ['nfs', 'nfs'],
  ['iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs'],
  ['flocker', 'flocker'],
  ['persistentVolumeClaim', 'persistentVolumeClaim'],
  ['rbd', 'rbd'],
  ['cinder', 'cinder'],
  ['cephfs', 'cephFS'],
  ['quobyte', 'quobyte'],
  // Kubernetes misspells this path in the error ("downwarAPI"); kept as users see it.
  ['downwardAPI', 'downwarAPI'],
  ['fc', 'fc'],
  ['flexVolume', 'flexVolume'],
  ['configMap', 'configMap'],
  ['azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk'],
  ['storageos', 'storageos'],
  ['projected', 'projected'],
  ['scaleIO', 'scaleIO'],
  ['csi', 'csi'],
  ['ephemeral', 'ephemeral'],
  ['image', 'image'],
];

function validateVolumes(volumes: Volume[], meta: ObjectMeta | undefined, path: FieldPath): { volumes: Map<string, Volume>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const valid = new Map<string, Volume>();
  const names = new Set<string>();
  const createdPVCs = new Set<string>();
  if (meta?.name) for (const v of volumes) if (v?.ephemeral) createdPVCs.add(`${meta.name}-${v.name}`);
  volumes.forEach((vol, i) => {
    const idx = path.index(i);
    if (!isRecord(vol)) {
      errs.push(required(idx.child('name')));
      return;
    }
    const el = validateVolumeSource(vol, idx, meta);
    const name = vol.name ?? '';
    if (name.length === 0) el.push(required(idx.child('name')));
    else for (const msg of isDNS1123Label(name)) el.push(invalid(idx.child('name'), name, msg));
    if (names.has(name)) el.push(duplicate(idx.child('name'), name));
    if (el.length === 0) {
      names.add(name);
      valid.set(name, vol);
    } else {
      errs.push(...el);
    }
    const claim = vol.persistentVolumeClaim?.claimName;
    if (claim && createdPVCs.has(claim)) {
      errs.push(invalid(idx.child('persistentVolumeClaim').child('claimName'), claim, 'must not reference a PVC that gets created for an ephemeral volume'));
    }
  });
  return { volumes: valid, errs };
}

function validateVolumeSource(vol: Volume, path: FieldPath, meta: ObjectMeta | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const src = vol as unknown as AnyRecord;
  let count = 0;
  for (const [key, errName] of volumeSources) {
    const s = src[key];
    if (s === undefined || s === null) continue;
    if (count > 0) {
      errs.push(forbiddenField(path.child(errName), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateOneVolumeSource(key, isRecord(s) ? s : {}, path, vol.name ?? '', meta));
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

const fileModeErrors = (mode: unknown, path: FieldPath): FieldError[] =>
  typeof mode === 'number' && (mode > 0o777 || mode < 0) ? [invalid(path, mode, FILE_MODE_MESSAGE)] : [];

function validateOneVolumeSource(key: string, s: AnyRecord, path: FieldPath, volName: string, meta: ObjectMeta | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const str = (k: string): string => (typeof s[k] === 'string' ? (s[k] as string) : '');
  const p = path.child(key);
  switch (key) {
    case 'emptyDir': {
      if (s.sizeLimit !== undefined && s.sizeLimit !== null) {
        const q = quantityOrError(s.sizeLimit, p.child('sizeLimit'), errs);
        if (q && q.nanos < 0n) errs.push(forbiddenField(p.child('sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      }
      // Kubernetes does not validate emptyDir.medium; the kubelet rejects unknown media at mount time.
      break;
    }
    case 'hostPath': {
      const hp = str('path');
      if (hp.length === 0) {
        errs.push(required(p.child('path')));
        break;
      }
      errs.push(...validatePathNoBacksteps(hp, p.child('path')));
      const t = s.type;
      const types = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
      if (t !== undefined && t !== null && !types.includes(String(t))) errs.push(notSupported(p.child('type'), t, types));
      break;
    }
    case 'secret':
      if (!str('secretName')) errs.push(required(p.child('secretName')));
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      arr(s.items as AnyRecord[]).forEach((kp, i) => errs.push(...validateKeyToPath(kp, p.child('items').index(i))));
      break;
    case 'configMap':
      if (!str('name')) errs.push(required(p.child('name')));
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      arr(s.items as AnyRecord[]).forEach((kp, i) => errs.push(...validateKeyToPath(kp, p.child('items').index(i))));
      break;
    case 'nfs': {
      if (!str('server')) errs.push(required(p.child('server')));
      const np = str('path');
      if (!np) errs.push(required(p.child('path')));
      if (!np.startsWith('/')) errs.push(invalid(p.child('path'), np, 'must be an absolute path'));
      break;
    }
    case 'persistentVolumeClaim':
      if (!str('claimName')) errs.push(required(p.child('claimName')));
      break;
    case 'downwardAPI':
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      for (const f of arr(s.items as AnyRecord[])) errs.push(...validateDownwardAPIVolumeFile(f, p));
      break;
    case 'projected':
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      errs.push(...validateProjectionSources(arr(s.sources as AnyRecord[]), p));
      break;
    case 'gitRepo':
      if (!str('repository')) errs.push(required(p.child('repository')));
      errs.push(...validateLocalDescendingPath(str('directory'), p.child('directory')));
      break;
    case 'csi':
      if (!str('driver')) errs.push(required(p.child('driver')));
      break;
    case 'ephemeral':
      if (!isRecord(s.volumeClaimTemplate)) errs.push(required(p.child('volumeClaimTemplate')));
      else if (meta?.name && volName) {
        for (const msg of nameIsDNSSubdomain(`${meta.name}-${volName}`, false)) {
          errs.push(invalid(path.child('name'), volName, `PVC name ${JSON.stringify(`${meta.name}-${volName}`)}: ${msg}`));
        }
      }
      break;
    case 'image':
      if (!str('reference')) errs.push(required(p.child('reference')));
      if (s.pullPolicy !== undefined && s.pullPolicy !== '') errs.push(...validateEnum(String(s.pullPolicy), p.child('pullPolicy'), ['Always', 'IfNotPresent', 'Never']));
      break;
    case 'iscsi':
      if (!str('targetPortal')) errs.push(required(p.child('targetPortal')));
      if (!str('iqn')) errs.push(required(p.child('iqn')));
      break;
    case 'rbd':
      if (list(s.monitors as string[]).length === 0) errs.push(required(p.child('monitors')));
      if (!str('image')) errs.push(required(p.child('image')));
      break;
    case 'cephfs':
      if (list(s.monitors as string[]).length === 0) errs.push(required(p.child('monitors')));
      break;
    case 'glusterfs':
      if (!str('endpoints')) errs.push(required(p.child('endpoints')));
      if (!str('path')) errs.push(required(p.child('path')));
      break;
    default:
      // Cloud and vendor sources: tinykube cannot mount them; only their presence is checked.
      break;
  }
  return errs;
}

function validateKeyToPath(kp: AnyRecord, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const key = typeof kp.key === 'string' ? kp.key : '';
  const p = typeof kp.path === 'string' ? kp.path : '';
  if (!key) errs.push(required(path.child('key')));
  if (!p) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(p, path.child('path')));
  errs.push(...fileModeErrors(kp.mode, path.child('mode')));
  return errs;
}

function validatePathNoBacksteps(target: string, path: FieldPath): FieldError[] {
  return target.split('/').includes('..') ? [invalid(path, target, "must not contain '..'")] : [];
}

function validateLocalDescendingPath(target: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalid(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

function validateLocalNonReservedPath(target: string, path: FieldPath): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

const volumeDownwardFieldPaths = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const envDownwardFieldPaths = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
const resourceFieldPaths = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

function validateDownwardAPIVolumeFile(f: AnyRecord, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const p = typeof f.path === 'string' ? f.path : '';
  if (!p) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(p, path.child('path')));
  if (isRecord(f.fieldRef)) {
    errs.push(...validateObjectFieldSelector(f.fieldRef, volumeDownwardFieldPaths, path.child('fieldRef')));
    if (isRecord(f.resourceFieldRef)) errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (isRecord(f.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(f.resourceFieldRef, path.child('resourceFieldRef'), true));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...fileModeErrors(f.mode, path.child('mode')));
  return errs;
}

function validateProjectionSources(sources: AnyRecord[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const allPaths = new Set<string>();
  const claim = (p: string, conflictValue: unknown): void => {
    if (!p) return;
    if (allPaths.has(p)) errs.push(invalid(path, conflictValue, 'conflicting duplicate paths'));
    else allPaths.add(p);
  };
  sources.forEach((src, i) => {
    let n = 0;
    const sp = path.child('sources').index(i);
    for (const kind of ['secret', 'configMap'] as const) {
      const s = src[kind];
      if (!isRecord(s)) continue;
      n++;
      const pp = sp.child(kind);
      if (!s.name) errs.push(required(pp.child('name')));
      arr(s.items as AnyRecord[]).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, pp.child('items').index(j)));
        claim(typeof kp.path === 'string' ? kp.path : '', s.name ?? '');
      });
    }
    if (isRecord(src.downwardAPI)) {
      n++;
      for (const f of arr(src.downwardAPI.items as AnyRecord[])) {
        errs.push(...validateDownwardAPIVolumeFile(f, sp.child('downwardAPI')));
        const fp = typeof f.path === 'string' ? f.path : '';
        claim(fp, fp);
      }
    }
    if (isRecord(src.serviceAccountToken)) {
      n++;
      const t = src.serviceAccountToken;
      const exp = typeof t.expirationSeconds === 'number' ? t.expirationSeconds : 0;
      const tp = sp.child('serviceAccountToken');
      if (exp < 600) errs.push(invalid(tp.child('expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(tp.child('expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      const tpath = typeof t.path === 'string' ? t.path : '';
      if (!tpath) errs.push(required(path.child('path')));
      else errs.push(...validateLocalNonReservedPath(tpath, path.child('path')));
    }
    if (isRecord(src.clusterTrustBundle)) {
      n++;
      const c = src.clusterTrustBundle;
      const cp = sp.child('clusterTrustBundle');
      if (c.name === undefined && c.signerName === undefined) errs.push(required(cp, 'either name or signerName must be specified'));
      if (c.name !== undefined && c.signerName !== undefined) errs.push(invalid(cp, c, 'only one of name and signerName may be used'));
      const ctp = typeof c.path === 'string' ? c.path : '';
      if (!ctp) errs.push(required(cp.child('path')));
      errs.push(...validateLocalNonReservedPath(ctp, cp.child('path')));
      claim(ctp, ctp);
    }
    if (n > 1) errs.push(forbiddenField(sp, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

/** Pod field labels the downward API's field label conversion accepts. */
const downwardConvertible = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/** downward API field references, with the apiserver's field label conversion. */
function validateObjectFieldSelector(fs: AnyRecord, expressions: string[], path: FieldPath): FieldError[] {
  const apiVersion = typeof fs.apiVersion === 'string' ? fs.apiVersion : '';
  const fieldPath = typeof fs.fieldPath === 'string' ? fs.fieldPath : '';
  if (!apiVersion) return [required(path.child('apiVersion'))];
  if (!fieldPath) return [required(path.child('fieldPath'))];
  if (apiVersion !== 'v1') return [invalid(path.child('fieldPath'), fieldPath, `error converting fieldPath: unsupported pod version: ${apiVersion}`)];
  const sub = /^(metadata\.(?:annotations|labels))\['(.*)'\]$/.exec(fieldPath);
  if (!sub && !downwardConvertible.has(fieldPath)) {
    return [invalid(path.child('fieldPath'), fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`)];
  }
  if (sub) {
    const [, p, key] = sub;
    return isQualifiedName(p === 'metadata.annotations' ? key.toLowerCase() : key).map((msg) => invalid(path, key, msg));
  }
  return expressions.includes(fieldPath) ? [] : [notSupported(path.child('fieldPath'), fieldPath, sorted(expressions))];
}

function validateResourceFieldSelector(fs: AnyRecord, path: FieldPath, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const resource = typeof fs.resource === 'string' ? fs.resource : '';
  if (volume && !fs.containerName) errs.push(required(path.child('containerName')));
  else if (!resource) errs.push(required(path.child('resource')));
  else if (!resourceFieldPaths.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
    errs.push(notSupported(path.child('resource'), resource, resourceFieldPaths));
  }
  if (fs.divisor !== undefined && fs.divisor !== null) {
    const q = quantityOrError(fs.divisor, path.child('divisor'), errs);
    if (q && q.nanos !== 0n) {
      const d = formatQuantity(q);
      const mem = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];
      const list = '1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei';
      if ((resource === 'limits.cpu' || resource === 'requests.cpu') && d !== '1m' && d !== '1') {
        errs.push(invalid(path.child('divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
      } else if ((resource === 'limits.memory' || resource === 'requests.memory') && !mem.includes(d)) {
        errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the memory resource`));
      } else if ((resource === 'limits.ephemeral-storage' || resource === 'requests.ephemeral-storage') && !mem.includes(d)) {
        errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the local ephemeral storage resource`));
      } else if ((resource.startsWith('requests.hugepages-') || resource.startsWith('limits.hugepages-')) && !mem.includes(d)) {
        errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the hugepages resource`));
      }
    }
  }
  return errs;
}

// ---------------------------------------------------------------- containers

function validateContainers(
  containers: Container[] | undefined,
  volumes: Map<string, Volume>,
  claims: Set<string>,
  grace: number | undefined,
  path: FieldPath,
  restartPolicy: string | undefined,
  hostUsers: boolean,
): FieldError[] {
  const list = arr(containers);
  if (list.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = path.index(i);
    if (!isRecord(c)) {
      errs.push(required(p.child('name')), required(p.child('image')));
      return;
    }
    errs.push(...validateContainerCommon(c, volumes, claims, p, restartPolicy, hostUsers));
    const name = c.name ?? '';
    if (names.has(name)) errs.push(duplicate(p.child('name'), name));
    else names.add(name);
    if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle as AnyRecord, grace, p.child('lifecycle')));
    errs.push(...validateProbe(c.livenessProbe, grace, p.child('livenessProbe'), 'liveness'));
    errs.push(...validateProbe(c.readinessProbe, grace, p.child('readinessProbe'), 'readiness'));
    errs.push(...validateProbe(c.startupProbe, grace, p.child('startupProbe'), 'startup'));
    if (rec(c).restartPolicy !== undefined) errs.push(forbiddenField(p.child('restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(list, path));
  return errs;
}

function validateInitContainers(
  list: Container[],
  regular: Container[],
  volumes: Map<string, Volume>,
  claims: Set<string>,
  grace: number | undefined,
  path: FieldPath,
  restartPolicy: string | undefined,
  hostUsers: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(regular.map((c) => c?.name));
  list.forEach((c, i) => {
    const p = path.index(i);
    if (!isRecord(c)) {
      errs.push(required(p.child('name')), required(p.child('image')));
      return;
    }
    errs.push(...validateContainerCommon(c, volumes, claims, p, restartPolicy, hostUsers));
    const rp = rec(c).restartPolicy;
    let restartAlways = false;
    if (rp !== undefined && rp !== null) {
      if (rp !== 'Always') errs.push(notSupported(p.child('restartPolicy'), rp, ['Always']));
      restartAlways = rp === 'Always';
    }
    const name = c.name ?? '';
    if (names.has(name)) errs.push(duplicate(p.child('name'), name));
    else if (name.length > 0) names.add(name);
    errs.push(...checkHostPortConflicts([c], path));
    if (restartAlways) {
      if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle as AnyRecord, grace, p.child('lifecycle')));
      errs.push(...validateProbe(c.livenessProbe, grace, p.child('livenessProbe'), 'liveness'));
      errs.push(...validateProbe(c.readinessProbe, grace, p.child('readinessProbe'), 'readiness'));
      errs.push(...validateProbe(c.startupProbe, grace, p.child('startupProbe'), 'startup'));
    } else {
      const why = 'may not be set for init containers without restartPolicy=Always';
      if (c.lifecycle) errs.push(forbiddenField(p.child('lifecycle'), why));
      if (c.livenessProbe) errs.push(forbiddenField(p.child('livenessProbe'), why));
      if (c.readinessProbe) errs.push(forbiddenField(p.child('readinessProbe'), why));
      if (c.startupProbe) errs.push(forbiddenField(p.child('startupProbe'), why));
    }
  });
  return errs;
}

const ephemeralForbidden = ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'];

function validateEphemeralContainers(spec: PodSpec, volumes: Map<string, Volume>, claims: Set<string>, path: FieldPath, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const list = arr(spec.ephemeralContainers);
  if (list.length === 0) return errs;
  const others = new Set([...arr(spec.containers), ...arr(spec.initContainers)].map((c) => c?.name));
  const all = new Set(others);
  list.forEach((ec, i) => {
    const p = path.index(i);
    const c = ec as Container & AnyRecord;
    errs.push(...validateContainerCommon(c, volumes, claims, p, spec.restartPolicy, hostUsers));
    const image = str(c.image);
    if (image.length !== image.trim().length) errs.push(invalid(p.child('image'), image, 'must not have leading or trailing whitespace'));
    if (all.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else all.add(c.name);
    const target = typeof c.targetContainerName === 'string' ? c.targetContainerName : '';
    if (target && !others.has(target)) errs.push(fieldNotFound(p.child('targetContainerName'), target));
    for (const f of ephemeralForbidden) {
      if (c[f] !== undefined && !semanticDeepEqual(c[f], undefined)) errs.push(forbiddenField(p.child(f), 'cannot be set for an Ephemeral Container'));
    }
    arr(c.volumeMounts).forEach((vm, j) => {
      if (vm.subPath) errs.push(forbiddenField(p.child('volumeMounts').index(j).child('subPath'), 'cannot be set for an Ephemeral Container'));
      if (vm.subPathExpr) errs.push(forbiddenField(p.child('volumeMounts').index(j).child('subPathExpr'), 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}

function validateContainerCommon(
  c: Container,
  volumes: Map<string, Volume>,
  claims: Set<string>,
  path: FieldPath,
  restartPolicy: string | undefined,
  hostUsers: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c.name);
  if (name.length === 0) errs.push(required(path.child('name')));
  else for (const msg of isDNS1123Label(name)) errs.push(invalid(path.child('name'), name, msg));
  if (!str(c.image)) errs.push(required(path.child('image')));
  const tmp = str(c.terminationMessagePolicy);
  if (!tmp) errs.push(required(path.child('terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(path.child('terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(arr(c.ports), path.child('ports')));
  errs.push(...validateEnv(arr(c.env), path.child('env')));
  errs.push(...validateEnvFrom(arr(c.envFrom), path.child('envFrom')));
  const devices = new Map(arr(c.volumeDevices).map((d) => [d.name, d.devicePath] as const));
  errs.push(...validateVolumeMounts(arr(c.volumeMounts), devices, volumes, c, path.child('volumeMounts')));
  errs.push(...validateVolumeDevices(arr(c.volumeDevices), arr(c.volumeMounts), volumes, path.child('volumeDevices')));
  const pull = str(c.imagePullPolicy);
  if (!pull) errs.push(required(path.child('imagePullPolicy')));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) errs.push(notSupported(path.child('imagePullPolicy'), pull, ['Always', 'IfNotPresent', 'Never']));
  errs.push(...validateResourceRequirements(c.resources ?? {}, claims, path.child('resources')));
  errs.push(...validateResizePolicy(arr(rec(c).resizePolicy as AnyRecord[]), path.child('resizePolicy'), restartPolicy));
  errs.push(...validateSecurityContext(c.securityContext, path.child('securityContext'), hostUsers));
  return errs;
}

function validateContainerPorts(ports: ContainerPort[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = path.index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(p.child('name'), port.name, m));
      else if (names.has(port.name)) errs.push(duplicate(p.child('name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(p.child('containerPort')));
    else for (const m of isValidPortNum(port.containerPort)) errs.push(invalid(p.child('containerPort'), port.containerPort, m));
    if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(invalid(p.child('hostPort'), port.hostPort, m));
    if (!port.protocol) errs.push(required(p.child('protocol')));
    else if (!['SCTP', 'TCP', 'UDP'].includes(port.protocol)) errs.push(notSupported(p.child('protocol'), port.protocol, ['SCTP', 'TCP', 'UDP']));
  });
  return errs;
}

function checkHostPortConflicts(containers: Container[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    arr(c?.ports).forEach((port, pi) => {
      if (!port.hostPort) return;
      const key = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(path.index(ci).child('ports').index(pi).child('hostPort'), key));
      else seen.add(key);
    });
  });
  return errs;
}

function validateEnv(vars: EnvVar[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  vars.forEach((ev, i) => {
    const p = path.index(i);
    const name = ev?.name ?? '';
    if (!name) errs.push(required(p.child('name')));
    else for (const m of isRelaxedEnvVarName(name)) errs.push(invalid(p.child('name'), name, m));
    if (ev?.valueFrom) errs.push(...validateEnvVarValueFrom(ev, p.child('valueFrom')));
  });
  return errs;
}

function validateEnvVarValueFrom(ev: EnvVar, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const vf = ev.valueFrom as AnyRecord;
  let n = 0;
  if (isRecord(vf.fieldRef)) {
    n++;
    errs.push(...validateObjectFieldSelector(vf.fieldRef, envDownwardFieldPaths, path.child('fieldRef')));
  }
  if (isRecord(vf.resourceFieldRef)) {
    n++;
    errs.push(...validateResourceFieldSelector(vf.resourceFieldRef, path.child('resourceFieldRef'), false));
  }
  for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
    const s = vf[kind];
    if (!isRecord(s)) continue;
    n++;
    const p = path.child(kind);
    const name = typeof s.name === 'string' ? s.name : '';
    for (const m of nameIsDNSSubdomain(name, false)) errs.push(invalid(p.child('name'), name, m));
    const key = typeof s.key === 'string' ? s.key : '';
    if (!key) errs.push(required(p.child('key')));
    else for (const m of isConfigMapKey(key)) errs.push(invalid(p.child('key'), key, m));
  }
  if (n === 0) errs.push(invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (ev.value) errs.push(invalid(path, '', 'may not be specified when `value` is not empty'));
  else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  return errs;
}

function validateEnvFrom(list: EnvFromSource[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  list.forEach((ev, i) => {
    const p = path.index(i);
    if (ev.prefix) for (const m of isRelaxedEnvVarName(ev.prefix)) errs.push(invalid(p.child('prefix'), ev.prefix, m));
    let n = 0;
    for (const kind of ['configMapRef', 'secretRef'] as const) {
      const s = rec(ev)[kind];
      if (!isRecord(s)) continue;
      n++;
      const name = typeof s.name === 'string' ? s.name : '';
      if (!name) errs.push(required(p.child(kind).child('name')));
      else for (const m of nameIsDNSSubdomain(name, true)) errs.push(invalid(p.child(kind).child('name'), name, m));
    }
    if (n === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: VolumeMount[], devices: Map<string, string>, volumes: Map<string, Volume>, c: Container, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  mounts.forEach((m, i) => {
    const p = path.index(i);
    const name = m?.name ?? '';
    const mountPath = m?.mountPath ?? '';
    if (!name) errs.push(required(p.child('name')));
    if (!volumes.has(name)) errs.push(fieldNotFound(p.child('name'), name));
    if (!mountPath) errs.push(required(p.child('mountPath')));
    if (mountPoints.has(mountPath)) errs.push(invalid(p.child('mountPath'), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    if (devices.has(name)) errs.push(invalid(p.child('name'), name, 'must not already exist in volumeDevices'));
    if ([...devices.values()].includes(mountPath)) errs.push(invalid(p.child('mountPath'), mountPath, 'must not already exist as a path in volumeDevices'));
    const vol = volumes.get(name) as AnyRecord | undefined;
    if (vol?.image) {
      if (m.subPath) errs.push(invalid(p.child('subPath'), m.subPath, 'not allowed in image volume sources'));
      if (m.subPathExpr) errs.push(invalid(p.child('subPathExpr'), m.subPathExpr, 'not allowed in image volume sources'));
    }
    // Kubernetes reports subPath problems on the list path, not the item (kept as is).
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, path.child('subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalid(p.child('subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, path.child('subPathExpr')));
    }
    if (m.mountPropagation) {
      const mp = path.child('mountPropagation');
      if (!['Bidirectional', 'HostToContainer', 'None'].includes(m.mountPropagation)) {
        errs.push(notSupported(mp, m.mountPropagation, ['Bidirectional', 'HostToContainer', 'None']));
      }
      if (m.mountPropagation === 'Bidirectional' && c.securityContext?.privileged !== true) {
        errs.push(forbiddenField(mp, 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    const rro = rec(m).recursiveReadOnly;
    if (rro !== undefined && rro !== null) {
      const rp = path.child('recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (!m.readOnly) errs.push(forbiddenField(rp, 'may only be specified when readOnly is true'));
        if (m.mountPropagation && m.mountPropagation !== 'None') errs.push(forbiddenField(rp, 'may only be specified when mountPropagation is None or not specified'));
      } else if (rro !== 'Disabled') {
        errs.push(notSupported(rp, rro, ['Disabled', 'Enabled', 'IfPossible']));
      }
    }
  });
  return errs;
}

function validateVolumeDevices(devices: { name: string; devicePath: string }[], mounts: VolumeMount[], volumes: Map<string, Volume>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  const mountByName = new Map(mounts.map((m) => [m.name, m.mountPath] as const));
  devices.forEach((d, i) => {
    const p = path.index(i);
    const vol = volumes.get(d.name);
    if (!d.name) errs.push(required(p.child('name')));
    if (names.has(d.name)) errs.push(invalid(p.child('name'), d.name, 'must be unique'));
    if (vol && !vol.persistentVolumeClaim && !vol.ephemeral) {
      errs.push(invalid(p.child('name'), d.name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    }
    if (!vol) errs.push(fieldNotFound(p.child('name'), d.name));
    if (!d.devicePath) errs.push(required(p.child('devicePath')));
    if (paths.has(d.devicePath)) errs.push(invalid(p.child('devicePath'), d.devicePath, 'must be unique'));
    if (d.devicePath && d.devicePath.split('/').includes('..')) errs.push(invalid(p.child('devicePath'), d.devicePath, "can not contain backsteps ('..')"));
    else paths.add(d.devicePath);
    if (mountByName.has(d.name)) errs.push(invalid(p.child('name'), d.name, 'must not already exist in volumeMounts'));
    if ([...mountByName.values()].includes(d.devicePath)) errs.push(invalid(p.child('devicePath'), d.devicePath, 'must not already exist as a path in volumeMounts'));
    if (d.name) names.add(d.name);
  });
  return errs;
}

// ---------------------------------------------------------------- resources

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);
const standardResources = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu',
  'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets',
  'configmaps', 'persistentvolumeclaims', 'storage', 'requests.storage', 'services.nodeports', 'services.loadbalancers',
]);
const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
const isExtendedResource = (name: string): boolean =>
  !isNativeResource(name) && !name.startsWith('requests.') && isQualifiedName(`requests.${name}`).length === 0;
const isOvercommitAllowed = (name: string): boolean => isNativeResource(name) && !isHugePages(name);

/** A resource name in a container's (or node's) resource list. */
export function validateContainerResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!standardResources.has(name) && !isHugePages(name)) errs.push(invalid(path, name, 'must be a standard resource type or fully qualified'));
    if (!standardContainerResources.has(name) && !isHugePages(name)) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResource(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

function quantityOrError(v: unknown, path: FieldPath, errs: FieldError[]): Quantity | undefined {
  try {
    return parseWireQuantity(v);
  } catch (err) {
    if (!(err instanceof QuantityError)) throw err;
    errs.push(invalid(path, typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v), err.message));
    return undefined;
  }
}

/** Non-negative, and whole numbers for extended resources (ValidateResourceQuantityValue). */
export function validateResourceQuantityValue(name: string, raw: unknown, path: FieldPath): { errs: FieldError[]; q?: Quantity } {
  const errs: FieldError[] = [];
  const q = quantityOrError(raw, path, errs);
  if (!q) return { errs };
  if (q.nanos < 0n) errs.push(invalid(path, formatQuantity(q), 'must be greater than or equal to 0'));
  if (isExtendedResource(name) && q.nanos % 1_000_000_000n !== 0n) errs.push(invalid(path, formatQuantity(q), NOT_INTEGER_MESSAGE));
  return { errs, q };
}

function hugePagesError(name: string, q: Quantity): string | undefined {
  const size = (() => {
    try {
      return parseWireQuantity(name.slice('hugepages-'.length));
    } catch {
      return undefined;
    }
  })();
  if (!size || size.nanos <= 0n || q.nanos < 0n || valueBig(q) % valueBig(size) !== 0n) return `${formatQuantity(q)} is not positive integer multiple of ${name}`;
  return undefined;
}

/** ValidateResourceRequirements (container resources, pod overhead). */
export function validateResourceRequirements(req: ResourceRequirements, claims: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = isRecord(req.limits) ? (req.limits as AnyRecord) : {};
  const requests = isRecord(req.requests) ? (req.requests as AnyRecord) : {};
  let limCpuMem = false;
  let reqCpuMem = false;
  let hugePages = false;
  const limitQ = new Map<string, Quantity>();
  for (const [name, raw] of Object.entries(limits)) {
    const p = limPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const { errs: qErrs, q } = validateResourceQuantityValue(name, raw, p);
    errs.push(...qErrs);
    if (q) limitQ.set(name, q);
    if (isHugePages(name)) {
      hugePages = true;
      const he = q && hugePagesError(name, q);
      if (he && q) errs.push(invalid(p, formatQuantity(q), he));
    }
    if (name === 'cpu' || name === 'memory') limCpuMem = true;
  }
  for (const [name, raw] of Object.entries(requests)) {
    const p = reqPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const { errs: qErrs, q } = validateResourceQuantityValue(name, raw, p);
    errs.push(...qErrs);
    const lim = limitQ.get(name);
    if (q && Object.hasOwn(limits, name)) {
      if (lim && cmpQuantity(q, lim) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(lim)}`));
      } else if (lim && cmpQuantity(q, lim) > 0) {
        errs.push(invalid(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
      }
    } else if (!Object.hasOwn(limits, name) && !isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePages(name)) {
      hugePages = true;
      const he = q && hugePagesError(name, q);
      if (he && q) errs.push(invalid(p, formatQuantity(q), he));
    }
    if (name === 'cpu' || name === 'memory') reqCpuMem = true;
  }
  if (!limCpuMem && !reqCpuMem && hugePages) errs.push(forbiddenField(path, 'HugePages require cpu or memory'));
  const seen = new Set<string>();
  arr(rec(req).claims as { name?: string }[]).forEach((c, i) => {
    const p = path.child('claims').index(i);
    const name = c?.name ?? '';
    if (!name) {
      errs.push(required(p));
      return;
    }
    if (seen.has(name)) errs.push(duplicate(p, name));
    else seen.add(name);
    if (!claims.has(name)) {
      const list = [...claims].sort();
      errs.push({
        type: 'FieldValueNotFound',
        field: String(p),
        badValue: name,
        detail: `must be one of the names in pod.spec.resourceClaims${list.length ? `: ${list.join(', ')}` : ' which is empty'}`,
      });
    }
  });
  return errs;
}

function validateResizePolicy(list: AnyRecord[], path: FieldPath, restartPolicy: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<unknown>();
  list.forEach((p, i) => {
    if (seen.has(p.resourceName)) errs.push(duplicate(path.index(i), p.resourceName));
    seen.add(p.resourceName);
    if (!p.resourceName) errs.push(required(path));
    else if (p.resourceName !== 'cpu' && p.resourceName !== 'memory') errs.push(notSupported(path, p.resourceName, ['cpu', 'memory']));
    if (!p.restartPolicy) errs.push(required(path));
    else if (p.restartPolicy !== 'NotRequired' && p.restartPolicy !== 'RestartContainer') {
      errs.push(notSupported(path, p.restartPolicy, ['NotRequired', 'RestartContainer']));
    }
    if (restartPolicy === 'Never' && p.restartPolicy !== 'NotRequired') {
      errs.push(invalid(path, p.restartPolicy ?? '', "must be 'NotRequired' when `restartPolicy` is 'Never'"));
    }
  });
  return errs;
}

// ---------------------------------------------------------------- probes and lifecycle

type ProbeKind = 'liveness' | 'readiness' | 'startup';

function validateProbe(probe: Probe | undefined, grace: number | undefined, path: FieldPath, kind: ProbeKind): FieldError[] {
  if (!probe) return [];
  const p = probe as Probe & AnyRecord;
  const errs = validateHandler({ exec: p.exec, httpGet: p.httpGet, tcpSocket: p.tcpSocket, grpc: p.grpc }, grace, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...validateNonnegativeField(typeof p[f] === 'number' ? (p[f] as number) : 0, path.child(f)));
  }
  const tgps = p.terminationGracePeriodSeconds;
  if (tgps !== undefined && tgps !== null && tgps <= 0) errs.push(invalid(path.child('terminationGracePeriodSeconds'), tgps, 'must be greater than 0'));
  if (kind === 'readiness') {
    if (tgps !== undefined && tgps !== null) errs.push(invalid(path.child('terminationGracePeriodSeconds'), tgps, 'must not be set for readinessProbes'));
  } else if (p.successThreshold !== 1) {
    errs.push(invalid(path.child('successThreshold'), p.successThreshold ?? 0, 'must be 1'));
  }
  return errs;
}

function validateLifecycle(lc: AnyRecord, grace: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const hook of ['postStart', 'preStop'] as const) {
    const h = lc[hook];
    if (isRecord(h)) errs.push(...validateHandler({ exec: h.exec, httpGet: h.httpGet, tcpSocket: h.tcpSocket, sleep: h.sleep }, grace, path.child(hook)));
  }
  return errs;
}

function validatePortNumOrName(port: unknown, path: FieldPath): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(path, port, m));
  return isValidPortNum(0).map((m) => invalid(path, 0, m));
}

function validateHandler(h: AnyRecord, grace: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const) {
    const a = h[kind];
    if (a === undefined || a === null) continue;
    const p = path.child(kind);
    if (n > 0) {
      errs.push(forbiddenField(p, 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    const act = isRecord(a) ? a : {};
    switch (kind) {
      case 'exec':
        if (list(act.command as string[]).length === 0) errs.push(required(p.child('command')));
        break;
      case 'httpGet': {
        if (!act.path) errs.push(required(p.child('path')));
        errs.push(...validatePortNumOrName(act.port, p.child('port')));
        const scheme = typeof act.scheme === 'string' ? act.scheme : '';
        if (scheme !== 'HTTP' && scheme !== 'HTTPS') errs.push(notSupported(p.child('scheme'), scheme, ['HTTP', 'HTTPS']));
        for (const hdr of arr(act.httpHeaders as { name?: string }[])) {
          for (const m of isHTTPHeaderName(hdr?.name ?? '')) errs.push(invalid(p.child('httpHeaders'), hdr?.name ?? '', m));
        }
        break;
      }
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(act.port, p.child('port')));
        break;
      case 'grpc':
        errs.push(...validatePortNumOrName(typeof act.port === 'number' ? act.port : 0, p.child('port')));
        break;
      case 'sleep': {
        const secs = typeof act.seconds === 'number' ? act.seconds : 0;
        if (grace !== undefined && grace !== null && (secs <= 0 || secs > grace)) {
          errs.push(
            invalid(
              p,
              secs,
              `must be greater than 0 and less than terminationGracePeriodSeconds (${grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
            ),
          );
        }
        break;
      }
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

// ---------------------------------------------------------------- security

function validateSeccompProfileField(sp: AnyRecord | undefined, path: FieldPath): FieldError[] {
  if (!sp) return [];
  const errs: FieldError[] = [];
  const t = sp.type;
  if (t === undefined || t === '') errs.push(required(path.child('type'), 'type is required when seccompProfile is set'));
  else if (t !== 'Localhost' && t !== 'RuntimeDefault' && t !== 'Unconfined') errs.push(notSupported(path.child('type'), t, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  if (t === 'Localhost') {
    if (typeof sp.localhostProfile !== 'string') errs.push(required(path.child('localhostProfile'), 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(sp.localhostProfile, path.child('localhostProfile')));
  } else if (sp.localhostProfile !== undefined && sp.localhostProfile !== null) {
    errs.push(invalid(path.child('localhostProfile'), sp, 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

function validateAppArmorProfileField(ap: AnyRecord | undefined, path: FieldPath): FieldError[] {
  if (!ap) return [];
  const errs: FieldError[] = [];
  switch (ap.type) {
    case 'Localhost': {
      const lp = ap.localhostProfile;
      if (typeof lp !== 'string') errs.push(required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      else if (lp.trim() !== lp) errs.push(invalid(path.child('localhostProfile'), lp, 'must not be padded with whitespace'));
      else if (lp === '') errs.push(required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      break;
    }
    case 'RuntimeDefault':
    case 'Unconfined':
      if (ap.localhostProfile !== undefined && ap.localhostProfile !== null) {
        errs.push(invalid(path.child('localhostProfile'), ap.localhostProfile, 'can only be set when AppArmor type is Localhost'));
      }
      break;
    case undefined:
    case '':
      errs.push(required(path.child('type'), 'type is required when appArmorProfile is set'));
      break;
    default:
      errs.push(notSupported(path.child('type'), ap.type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  }
  return errs;
}

const sysctlRe = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;

function validatePodSecurityContext(sc: PodSecurityContext | undefined, spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!sc) return errs;
  const s = sc as PodSecurityContext & AnyRecord;
  if (typeof s.fsGroup === 'number') for (const m of isValidGroupID(s.fsGroup)) errs.push(invalid(path.child('fsGroup'), s.fsGroup, m));
  if (typeof s.runAsUser === 'number') for (const m of isValidUserID(s.runAsUser)) errs.push(invalid(path.child('runAsUser'), s.runAsUser, m));
  if (typeof s.runAsGroup === 'number') for (const m of isValidGroupID(s.runAsGroup)) errs.push(invalid(path.child('runAsGroup'), s.runAsGroup, m));
  list(s.supplementalGroups).forEach((g, i) => {
    for (const m of isValidGroupID(g)) errs.push(invalid(path.child('supplementalGroups').index(i), g, m));
  });
  // In the internal API shareProcessNamespace lives in the security context; so does the error path.
  if (spec.shareProcessNamespace === true && spec.hostPID === true) {
    errs.push(invalid(path.child('shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  const names = new Set<string>();
  arr(s.sysctls).forEach((sy, i) => {
    const p = path.child('sysctls').index(i).child('name');
    const name = sy?.name ?? '';
    if (!name) errs.push(required(p));
    else if (name.length > 253 || !sysctlRe.test(name)) errs.push(invalid(p, name, `must have at most 253 characters and match regex ${sysctlRe.source}`));
    else if (names.has(name)) errs.push(duplicate(p, name));
    const netNs = name.startsWith('net.');
    const ipcNs = name === 'kernel.sem' || name.startsWith('kernel.shm') || name.startsWith('kernel.msg') || name.startsWith('fs.mqueue.');
    if (spec.hostNetwork && netNs) errs.push(invalid(p, name, "may not be specified when 'hostNetwork' is true"));
    else if (spec.hostIPC && ipcNs) errs.push(invalid(p, name, "may not be specified when 'hostIPC' is true"));
    names.add(name);
  });
  if (s.fsGroupChangePolicy !== undefined && s.fsGroupChangePolicy !== null && s.fsGroupChangePolicy !== 'Always' && s.fsGroupChangePolicy !== 'OnRootMismatch') {
    errs.push(notSupported(path.child('fsGroupChangePolicy'), s.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  }
  errs.push(...validateSeccompProfileField(s.seccompProfile as AnyRecord | undefined, path.child('seccompProfile')));
  errs.push(...validateAppArmorProfileField(s.appArmorProfile as AnyRecord | undefined, path.child('appArmorProfile')));
  if (s.supplementalGroupsPolicy !== undefined && s.supplementalGroupsPolicy !== 'Merge' && s.supplementalGroupsPolicy !== 'Strict') {
    errs.push(notSupported(path.child('supplementalGroupsPolicy'), s.supplementalGroupsPolicy, ['Merge', 'Strict']));
  }
  return errs;
}

function validateSecurityContext(sc: SecurityContext | undefined, path: FieldPath, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!sc || typeof sc !== 'object') return errs;
  // Privileged containers are allowed: tinykube runs as the apiserver's --allow-privileged=true.
  if (typeof sc.runAsUser === 'number') for (const m of isValidUserID(sc.runAsUser)) errs.push(invalid(path.child('runAsUser'), sc.runAsUser, m));
  if (typeof sc.runAsGroup === 'number') for (const m of isValidGroupID(sc.runAsGroup)) errs.push(invalid(path.child('runAsGroup'), sc.runAsGroup, m));
  if (sc.procMount !== undefined && sc.procMount !== null) {
    if (sc.procMount !== 'Default' && sc.procMount !== 'Unmasked') errs.push(notSupported(path.child('procMount'), sc.procMount, ['Default', 'Unmasked']));
    if (hostUsers && sc.procMount === 'Unmasked') errs.push(invalid(path.child('procMount'), sc.procMount, '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfileField(sc.seccompProfile as AnyRecord | undefined, path.child('seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    for (const cap of list(sc.capabilities?.add)) {
      if (cap === 'CAP_SYS_ADMIN') errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  errs.push(...validateAppArmorProfileField(rec(sc).appArmorProfile as AnyRecord | undefined, path.child('appArmorProfile')));
  return errs;
}

// ---------------------------------------------------------------- scheduling

/** ValidateTolerations: operator/effect/value rules for pod tolerations. */
export function validateTolerations(tols: Toleration[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  tols.forEach((t, i) => {
    const p = path.index(i);
    const key = t?.key ?? '';
    const op = t?.operator ?? '';
    const value = t?.value ?? '';
    if (key) errs.push(...validateLabelName(key, p.child('key')));
    if (!key && op !== 'Exists') errs.push(invalid(p.child('operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t?.tolerationSeconds !== undefined && t?.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(invalid(p.child('effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const ve = isValidLabelValue(value);
      if (ve.length) errs.push(invalid(p.child('operator'), value, ve.join(';')));
    } else if (op === 'Exists') {
      if (value.length > 0) errs.push(invalid(p.child('operator'), t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(p.child('operator'), op, ['Equal', 'Exists']));
    }
    if (t?.effect) errs.push(...validateTaintEffect(t.effect, true, p.child('effect')));
  });
  return errs;
}

/** Taint effects for tolerations (empty allowed) and node taints (required). */
export function validateTaintEffect(effect: string | undefined, allowEmpty: boolean, path: FieldPath): FieldError[] {
  if (!allowEmpty && !effect) return [required(path)];
  const valid = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
  return valid.includes(effect ?? '') ? [] : [notSupported(path, effect ?? '', valid)];
}

function validateNodeSelectorTerm(term: NodeSelectorTerm, allowInvalidValues: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  arr(term.matchExpressions).forEach((rq, j) => {
    const p = path.child('matchExpressions').index(j);
    const vals = list(rq.values).map(str);
    switch (rq.operator) {
      case 'In':
      case 'NotIn':
        if (vals.length === 0) errs.push(required(p.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (vals.length > 0) errs.push(forbiddenField(p.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      case 'Gt':
      case 'Lt':
        if (vals.length !== 1) errs.push(required(p.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        break;
      default:
        errs.push(invalid(p.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(rq.key ?? '', p.child('key')));
    if (!allowInvalidValues) {
      vals.forEach((v, k) => {
        for (const m of isValidLabelValue(v)) errs.push(invalid(p.child('values').index(k), v, m));
      });
    }
  });
  arr(term.matchFields).forEach((rq, j) => {
    const p = path.child('matchFields').index(j);
    const vals = list(rq.values).map(str);
    if (rq.operator === 'In' || rq.operator === 'NotIn') {
      if (vals.length !== 1) errs.push(required(p.child('values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else {
      errs.push(invalid(p.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
    }
    if (rq.key !== 'metadata.name') errs.push(invalid(p.child('key'), rq.key ?? '', 'not a valid field selector key'));
    else vals.forEach((v, k) => {
      for (const m of nameIsDNSSubdomain(v, false)) errs.push(invalid(p.child('values').index(k), v, m));
    });
  });
  return errs;
}

function validateNodeSelector(sel: NodeSelector, path: FieldPath): FieldError[] {
  const terms = arr(sel.nodeSelectorTerms);
  if (terms.length === 0) return [required(path.child('nodeSelectorTerms'), 'must have at least one node selector term')];
  const errs: FieldError[] = [];
  terms.forEach((t, i) => errs.push(...validateNodeSelectorTerm(t, false, path.child('nodeSelectorTerms').index(i))));
  return errs;
}

function validatePodAffinityTerm(term: PodAffinityTerm, path: FieldPath): FieldError[] {
  const errs = validateLabelSelector(term.labelSelector as LabelSelector | undefined, {}, path.child('labelSelector'));
  errs.push(...validateLabelSelector(term.namespaceSelector as LabelSelector | undefined, {}, path.child('namespaceSelector')));
  // Kubernetes reports bad namespaces under "namespace" (singular).
  for (const ns of list(term.namespaces).map(str)) for (const m of nameIsDNSLabel(ns, false)) errs.push(invalid(path.child('namespace'), ns, m));
  const tk = term.topologyKey ?? '';
  if (!tk) errs.push(required(path.child('topologyKey'), 'can not be empty'));
  errs.push(...validateLabelName(tk, path.child('topologyKey')));
  return errs;
}

function validatePodAffinityTerms(
  required_: PodAffinityTerm[] | undefined,
  preferred: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  arr(required_).forEach((t, i) => errs.push(...validatePodAffinityTerm(t, path.child('requiredDuringSchedulingIgnoredDuringExecution').index(i))));
  arr(preferred).forEach((w, j) => {
    const p = path.child('preferredDuringSchedulingIgnoredDuringExecution').index(j);
    if (!(w.weight > 0 && w.weight <= 100)) errs.push(invalid(p.child('weight'), w.weight ?? 0, 'must be in the range 1-100'));
    errs.push(...validatePodAffinityTerm(w.podAffinityTerm ?? ({} as PodAffinityTerm), p.child('podAffinityTerm')));
  });
  return errs;
}

function validateAffinity(a: Affinity | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!a) return errs;
  const na = a.nodeAffinity;
  if (na) {
    const np = path.child('nodeAffinity');
    if (na.requiredDuringSchedulingIgnoredDuringExecution) {
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, np.child('requiredDuringSchedulingIgnoredDuringExecution')));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const p = np.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      if (!(t.weight > 0 && t.weight <= 100)) errs.push(invalid(p.child('weight'), t.weight ?? 0, 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(t.preference ?? {}, true, p.child('preference')));
    });
  }
  if (a.podAffinity) {
    errs.push(
      ...validatePodAffinityTerms(
        a.podAffinity.requiredDuringSchedulingIgnoredDuringExecution,
        a.podAffinity.preferredDuringSchedulingIgnoredDuringExecution,
        path.child('podAffinity'),
      ),
    );
  }
  if (a.podAntiAffinity) {
    errs.push(
      ...validatePodAffinityTerms(
        a.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
        a.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution,
        path.child('podAntiAffinity'),
      ),
    );
  }
  return errs;
}

function validateTopologySpreadConstraints(constraints: TopologySpreadConstraint[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  constraints.forEach((c, i) => {
    const p = path.index(i);
    if (!(c.maxSkew > 0)) errs.push(invalid(p.child('maxSkew'), c.maxSkew ?? 0, NOT_POSITIVE_MESSAGE));
    if (!c.topologyKey) errs.push(required(p.child('topologyKey'), 'can not be empty'));
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
      errs.push(notSupported(p.child('whenUnsatisfiable'), c.whenUnsatisfiable ?? '', ['DoNotSchedule', 'ScheduleAnyway']));
    }
    if (constraints.slice(i + 1).some((o) => o.topologyKey === c.topologyKey && o.whenUnsatisfiable === c.whenUnsatisfiable)) {
      errs.push(duplicate(p.child('{topologyKey, whenUnsatisfiable}'), `{${c.topologyKey}, ${c.whenUnsatisfiable}}`));
    }
    const md = c.minDomains;
    if (md !== undefined && md !== null) {
      if (md <= 0) errs.push(invalid(p.child('minDomains'), md, NOT_POSITIVE_MESSAGE));
      if (c.whenUnsatisfiable !== 'DoNotSchedule') {
        errs.push(invalid(p.child('minDomains'), md, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${c.whenUnsatisfiable ?? ''}`));
      }
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy'] as const) {
      const v = c[f];
      if (v !== undefined && v !== null && v !== 'Honor' && v !== 'Ignore') errs.push(notSupported(p.child(f), v, ['Honor', 'Ignore']));
    }
    const keys = list(c.matchLabelKeys).map(str);
    if (keys.length && !c.labelSelector) errs.push(forbiddenField(p.child('matchLabelKeys'), 'must not be specified when labelSelector is not set'));
    keys.forEach((k, j) => errs.push(...validateLabelName(k, p.child('matchLabelKeys').index(j))));
    errs.push(...validateLabelSelector(c.labelSelector, {}, p.child('labelSelector')));
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

