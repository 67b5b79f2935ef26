// Deployments (apps/v1): rolled out through ReplicaSets by the deployment controller; scaled through
// the scale subresource (kubectl scale, autoscalers).

import type { Deployment } from '../../../api/types.ts';
import { defaultPodSpec } from '../../../api/defaults/pod.ts';
import { fromLabelSelector } from '../../../api/labels.ts';
import { validateDeployment, validateDeploymentStatusUpdate, validateDeploymentUpdate } from '../../../api/validation/deployments.ts';
import { semanticDeepEqual } from '../../../api/equality.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, specReplicasScale, statusOnly } from '../../rules.ts';
import { deploymentPrinter } from './printer.ts';

/**
 * SetDefaults_Deployment (apps/v1): one replica, RollingUpdate with 25% surge and unavailability,
 * ten old ReplicaSets kept, a 600 s progress deadline; the template's pod spec as every pod spec.
 */
export function defaultDeployment(d: Deployment): void {
  d.spec ??= { selector: {}, template: {} };
  const s = d.spec;
  if (s.replicas == null) s.replicas = 1;
  s.strategy ??= {};
  if (!s.strategy.type) s.strategy.type = 'RollingUpdate';
  if (s.strategy.type === 'RollingUpdate') {
    s.strategy.rollingUpdate ??= {};
    s.strategy.rollingUpdate.maxUnavailable ??= '25%';
    s.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  if (s.revisionHistoryLimit == null) s.revisionHistoryLimit = 10;
  if (s.progressDeadlineSeconds == null) s.progressDeadlineSeconds = 600;
  if (s.template?.spec && typeof s.template.spec === 'object') defaultPodSpec(s.template.spec);
}

function selectorString(d: Deployment): string | undefined {
  try {
    return fromLabelSelector(d.spec?.selector).toString();
  } catch {
    return undefined;
  }
}

export const deployments = defineKind<Deployment>({
  identity: { group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'] },
  strategy: {
    defaults: defaultDeployment,
    prepareForCreate: (d) => {
      d.status = {};
    },
    validate: validateDeployment,
    prepareForUpdate: (d, old) => {
      keepStatus(d, old);
      // Annotations are copied to the ReplicaSets, so changing them is a new generation too
      // (kube's deploymentStrategy.PrepareForUpdate); the store bumps it for spec changes.
      if (!semanticDeepEqual(d.metadata?.annotations ?? {}, old.metadata?.annotations ?? {}) && d.metadata) d.metadata.generation = (old.metadata?.generation ?? 1) + 1;
    },
    validateUpdate: validateDeploymentUpdate,
  },
  printer: deploymentPrinter,
  subresources: {
    status: {
      verbs: ['get', 'patch', 'update'],
      openapi: true,
      update: {
        // The controller writes its revision annotations through status (no new generation); labels stay.
        prepareForUpdate: (d, old) => {
          statusOnly(d, old);
          if (d.metadata) {
            if (old.metadata?.labels) d.metadata.labels = old.metadata.labels;
            else delete d.metadata.labels;
          }
        },
        validateUpdate: validateDeploymentStatusUpdate,
      },
    },
    scale: specReplicasScale(validateDeploymentUpdate, selectorString),
  },
});
