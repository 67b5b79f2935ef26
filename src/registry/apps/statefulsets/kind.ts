// StatefulSets (apps/v1): pods with stable names and storage, kept by the statefulset controller;
// scaled through the scale subresource (kubectl scale, autoscalers).

import type { Mutable, PersistentVolumeClaim, StatefulSet } from '../../../api/types.ts';
import { canonicalizeResourceList, defaultPodSpec } from '../../../api/defaults/pod.ts';
import { fromLabelSelector } from '../../../api/labels.ts';
import { validateStatefulSet, validateStatefulSetStatusUpdate, validateStatefulSetUpdate } from '../../../api/validation/statefulsets.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, specReplicasScale, statusOnly } from '../../rules.ts';
import { statefulSetPrinter } from './printer.ts';

/**
 * The defaults a claim template gets as an embedded PersistentVolumeClaim (SetDefaults_PersistentVolumeClaim
 * and its spec's): typed, Filesystem volume mode, quantities canonical, and a Pending status, as
 * `kubectl get sts -o yaml` shows them.
 */
function defaultClaimTemplate(pvc: Mutable<PersistentVolumeClaim>): void {
  pvc.apiVersion ??= 'v1';
  pvc.kind ??= 'PersistentVolumeClaim';
  pvc.spec ??= {};
  pvc.spec.volumeMode ??= 'Filesystem';
  canonicalizeResourceList(pvc.spec.resources?.requests);
  canonicalizeResourceList(pvc.spec.resources?.limits);
  pvc.status ??= {};
  pvc.status.phase ??= 'Pending';
}

/**
 * SetDefaults_StatefulSet (apps/v1, Kubernetes 1.32): OrderedReady, RollingUpdate from partition 0,
 * claims retained, one replica, ten revisions kept; the template's pod spec as every pod spec.
 * maxUnavailable is not defaulted (the MaxUnavailableStatefulSet gate is off by default in 1.32);
 * when given it is kept and honoured.
 */
export function defaultStatefulSet(set: StatefulSet): void {
  set.spec ??= { selector: {}, template: {}, serviceName: '' };
  const s = set.spec;
  if (!s.podManagementPolicy) s.podManagementPolicy = 'OrderedReady';
  s.updateStrategy ??= {};
  if (!s.updateStrategy.type) {
    s.updateStrategy.type = 'RollingUpdate';
    s.updateStrategy.rollingUpdate ??= {};
  }
  if (s.updateStrategy.type === 'RollingUpdate' && s.updateStrategy.rollingUpdate) s.updateStrategy.rollingUpdate.partition ??= 0;
  s.persistentVolumeClaimRetentionPolicy ??= {};
  if (!s.persistentVolumeClaimRetentionPolicy.whenDeleted) s.persistentVolumeClaimRetentionPolicy.whenDeleted = 'Retain';
  if (!s.persistentVolumeClaimRetentionPolicy.whenScaled) s.persistentVolumeClaimRetentionPolicy.whenScaled = 'Retain';
  if (s.replicas == null) s.replicas = 1;
  if (s.revisionHistoryLimit == null) s.revisionHistoryLimit = 10;
  if (s.template?.spec && typeof s.template.spec === 'object') defaultPodSpec(s.template.spec);
  for (const pvc of s.volumeClaimTemplates ?? []) if (pvc && typeof pvc === 'object') defaultClaimTemplate(pvc);
}

/** The Scale's selector as a string (kubectl and autoscalers read it). */
function selectorString(set: StatefulSet): string | undefined {
  try {
    return fromLabelSelector(set.spec?.selector).toString();
  } catch {
    return undefined;
  }
}

export const statefulSets = defineKind<StatefulSet>({
  identity: { group: 'apps', version: 'v1', resource: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', namespaced: true, shortNames: ['sts'], categories: ['all'] },
  strategy: {
    defaults: defaultStatefulSet,
    prepareForCreate: (set) => {
      set.status = { replicas: 0, availableReplicas: 0 };
    },
    validate: validateStatefulSet,
    prepareForUpdate: keepStatus,
    validateUpdate: validateStatefulSetUpdate,
  },
  printer: statefulSetPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validateStatefulSetStatusUpdate } },
    scale: specReplicasScale(validateStatefulSetUpdate, selectorString),
  },
});
