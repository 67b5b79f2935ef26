// ReplicaSets (apps/v1): kept at `replicas` pods by the ReplicaSet controller; scaled through the
// scale subresource (kubectl scale, Deployments' controller writes spec.replicas directly).

import type { ReplicaSet } from '../../../api/types.ts';
import { defaultPodSpec } from '../../../api/defaults/pod.ts';
import { fromLabelSelector } from '../../../api/labels.ts';
import { validateReplicaSet, validateReplicaSetStatus, validateReplicaSetUpdate } from '../../../api/validation/replicasets.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, specReplicasScale, statusOnly } from '../../rules.ts';
import { replicaSetPrinter } from './printer.ts';

/** SetDefaults_ReplicaSet (apps/v1): one replica; the template's pod spec as every pod spec. */
export function defaultReplicaSet(rs: ReplicaSet): void {
  rs.spec ??= { selector: {}, template: {} };
  if (rs.spec.replicas == null) rs.spec.replicas = 1;
  if (rs.spec.template?.spec && typeof rs.spec.template.spec === 'object') defaultPodSpec(rs.spec.template.spec);
}

/** A selector for the Scale's status (kubectl and autoscalers read it as a string). */
export function selectorString(rs: ReplicaSet): string | undefined {
  try {
    return fromLabelSelector(rs.spec?.selector).toString();
  } catch {
    return undefined;
  }
}

export const replicaSets = defineKind<ReplicaSet>({
  identity: { group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], categories: ['all'] },
  strategy: {
    defaults: defaultReplicaSet,
    prepareForCreate: (rs) => {
      rs.status = { replicas: 0 };
    },
    validate: validateReplicaSet,
    prepareForUpdate: keepStatus,
    validateUpdate: validateReplicaSetUpdate,
  },
  printer: replicaSetPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validateReplicaSetStatus } },
    scale: specReplicasScale(validateReplicaSetUpdate, selectorString),
  },
});
