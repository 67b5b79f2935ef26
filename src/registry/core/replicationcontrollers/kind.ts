// ReplicationControllers (core/v1): the ReplicaSet's predecessor, with a map selector that defaults
// to the template's labels. Kept by the ReplicaSet controller's code (src/controllers/replicaset).

import type { ReplicationController } from '../../../api/types.ts';
import { defaultPodSpec } from '../../../api/defaults/pod.ts';
import { selectorFromSet } from '../../../api/labels.ts';
import { validateReplicaSetStatus, validateReplicationController, validateReplicationControllerUpdate } from '../../../api/validation/replicasets.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, specReplicasScale, statusOnly } from '../../rules.ts';
import { replicationControllerPrinter } from '../../apps/replicasets/printer.ts';

/** SetDefaults_ReplicationController: selector and labels from the template's labels; one replica. */
export function defaultReplicationController(rc: ReplicationController): void {
  rc.spec ??= {};
  const labels = rc.spec.template?.metadata?.labels;
  if (labels && Object.keys(labels).length) {
    if (!rc.spec.selector || Object.keys(rc.spec.selector).length === 0) rc.spec.selector = { ...labels };
    if (rc.metadata && (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0)) rc.metadata.labels = { ...labels };
  }
  if (rc.spec.replicas == null) rc.spec.replicas = 1;
  if (rc.spec.template?.spec && typeof rc.spec.template.spec === 'object') defaultPodSpec(rc.spec.template.spec);
}

export const replicationControllers = defineKind<ReplicationController>({
  identity: { group: '', version: 'v1', resource: 'replicationcontrollers', singular: 'replicationcontroller', kind: 'ReplicationController', namespaced: true, shortNames: ['rc'], categories: ['all'] },
  strategy: {
    defaults: defaultReplicationController,
    prepareForCreate: (rc) => {
      rc.status = { replicas: 0 };
    },
    validate: validateReplicationController,
    prepareForUpdate: keepStatus,
    validateUpdate: validateReplicationControllerUpdate,
  },
  printer: replicationControllerPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validateReplicaSetStatus } },
    scale: specReplicasScale(validateReplicationControllerUpdate, (rc) => selectorFromSet(rc.spec?.selector ?? {}).toString()),
  },
});
