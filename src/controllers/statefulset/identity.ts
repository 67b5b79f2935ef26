// A StatefulSet pod's identity (kube-controller-manager's stateful_set_utils): its name `<set>-<ordinal>`,
// the labels that name it, its DNS identity (hostname = pod name, subdomain = the governing Service)
// and the claims of its volume claim templates, `<template>-<set>-<ordinal>`. Pure functions.

import type { Mutable, PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet, Volume } from '../../api/types.ts';
import type { OwnerIdentity } from '../podcontrol/controllerref.ts';
import { controllerRef } from '../podcontrol/controllerref.ts';
import { podFromTemplate } from '../podcontrol/template.ts';

/** apps/v1 StatefulSetPodNameLabel: lets a Service select one member. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** apps/v1 PodIndexLabel (PodIndexLabel feature, on by default since 1.28). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** apps/v1 ControllerRevisionHashLabelKey: for StatefulSets its value is the revision's name. */
export const REVISION_LABEL = 'controller-revision-hash';

const MAX_INT32 = 2 ** 31 - 1;

/** The parent name and ordinal a pod's name encodes (getParentNameAndOrdinal); ordinal -1 when none. */
export function parentAndOrdinal(podName: string): { parent: string; ordinal: number } {
  const m = /^(.*)-([0-9]+)$/.exec(podName);
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1], ordinal: Number.isSafeInteger(n) && n <= MAX_INT32 ? n : -1 };
}

export function ordinalOf(pod: Pod): number {
  return parentAndOrdinal(pod.metadata?.name ?? '').ordinal;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name ?? ''}-${ordinal}`;
}

/** spec.ordinals.start (StatefulSetStartOrdinal, GA in 1.31). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

/** The last ordinal a set of `replicas` keeps (start - 1 when it keeps none). */
export function endOrdinal(set: StatefulSet): number {
  return startOrdinal(set) + (set.spec?.replicas ?? 1) - 1;
}

/** Whether a pod's name says it belongs to the set (isMemberOf): claiming skips every other pod. */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentAndOrdinal(pod.metadata?.name ?? '').parent === set.metadata?.name;
}

export function claimName(set: StatefulSet, template: string, ordinal: number): string {
  return `${template}-${set.metadata?.name ?? ''}-${ordinal}`;
}

export function podRevision(pod: Pod): string {
  return pod.metadata?.labels?.[REVISION_LABEL] ?? '';
}

/** identityMatches: name, namespace and the pod-name label are the set's (the index label is not checked, as in kube). */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod.metadata?.name ?? '');
  return ordinal >= 0 && parent === set.metadata?.name && pod.metadata?.namespace === set.metadata?.namespace && pod.metadata?.labels?.[POD_NAME_LABEL] === pod.metadata?.name;
}

/** The labels updateIdentity puts on a member (pod name and index). */
export function identityLabels(pod: Pod): Record<string, string> {
  const name = pod.metadata?.name ?? '';
  return { [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(parentAndOrdinal(name).ordinal) };
}

/**
 * A new member at `ordinal` from `template` (newStatefulSetPod): the template's pod with the set's
 * controller reference, its identity labels, hostname and subdomain, a volume per claim template
 * (replacing a template volume of the same name) and the revision it was made from.
 */
export function newStatefulPod(set: StatefulSet, owner: OwnerIdentity, template: PodTemplateSpec | undefined, ordinal: number, revision: string): Pod {
  const name = podName(set, ordinal);
  const pod = podFromTemplate(template, owner, set.metadata?.namespace ?? '', { name });
  pod.metadata!.labels = { ...pod.metadata!.labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision };
  const spec = pod.spec!;
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = set.spec?.volumeClaimTemplates ?? [];
  if (claims.length > 0) {
    const claimed = new Set(claims.map((c) => c.metadata?.name ?? ''));
    const volumes: Volume[] = claims.map((c) => ({ name: c.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(set, c.metadata?.name ?? '', ordinal) } }));
    for (const v of spec.volumes ?? []) if (!claimed.has(v.name)) volumes.push(v);
    spec.volumes = volumes;
  }
  return pod;
}

/**
 * The claims of a member (getPersistentVolumeClaims): each template under the member's claim name,
 * labelled with the set's matchLabels. With whenDeleted: Delete the claim is owned by the set, so the
 * garbage collector removes it with the set (the retention policy's ownership, set at creation).
 */
export function claimsFor(set: StatefulSet, owner: OwnerIdentity, ordinal: number): PersistentVolumeClaim[] {
  const out: PersistentVolumeClaim[] = [];
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const c = structuredClone(t) as Mutable<PersistentVolumeClaim>;
    const meta = { ...c.metadata };
    meta.name = claimName(set, t.metadata?.name ?? '', ordinal);
    meta.namespace = set.metadata?.namespace;
    meta.labels = { ...meta.labels, ...set.spec?.selector?.matchLabels };
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete') meta.ownerReferences = [controllerRef(owner)];
    c.metadata = meta;
    c.apiVersion = 'v1';
    c.kind = 'PersistentVolumeClaim';
    delete c.status;
    out.push(c);
  }
  return out;
}
