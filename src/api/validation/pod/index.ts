// Pod validation as Kubernetes 1.32 does it (pkg/apis/core/validation), on create, update and
// status update. kubectl users read these messages verbatim, so paths, order and wording follow the
// apiserver — including its known quirks (noted where they look like bugs). Validation runs after
// defaulting: fields Kubernetes always defaults are reported as Required when missing.
//
// Callers: the pod strategy (src/registry), synchronously, once per write; pure and stateless.
// This file holds the entry points; the spec's sections are the other files of this folder
// (spec.ts walks them: volumes, containers, resources, probes, security, scheduling).

import { duplicate, FieldPath, forbiddenField, invalid, required, type FieldError } from '../../field.ts';
import { diffPaths, semanticDeepEqual } from '../../equality.ts';
import type { Container, Pod, PodSpec, Toleration } from '../../types.ts';
import { isQualifiedName, isValidIP, nameIsDNSSubdomain, inclusiveRangeError } from '../names.ts';
import { validateImmutableField, validateObjectMetaUpdate } from '../meta.ts';
import { validatePodMetadataAndSpec, validatePodSpecificAnnotationUpdates } from './metadata.ts';
import { validateTolerations } from './scheduling.ts';
import { MAX_INT32, specPath, metaPath, rec, arr, str, type AnyRecord } from './helpers.ts';

export const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

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

export { validatePodEphemeralContainersUpdate } from './ephemeral.ts';
