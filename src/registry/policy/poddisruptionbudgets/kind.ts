// PodDisruptionBudgets (policy/v1): how many of an application's pods voluntary disruptions may take
// down at once. The disruption controller writes the status; pods/eviction reads and spends it.

import type { PodDisruptionBudget } from '../../../api/types.ts';
import { validatePodDisruptionBudget, validatePodDisruptionBudgetStatus, validatePodDisruptionBudgetUpdate } from '../../../api/validation/poddisruptionbudgets.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, statusOnly } from '../../rules.ts';
import { podDisruptionBudgetPrinter } from './printer.ts';

export const podDisruptionBudgets = defineKind<PodDisruptionBudget>({
  identity: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', namespaced: true, shortNames: ['pdb'] },
  strategy: {
    // Create cannot set status (the controller fills it in); the counts are plain int32s upstream.
    prepareForCreate: (pdb) => {
      pdb.status = { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
    },
    validate: validatePodDisruptionBudget,
    prepareForUpdate: keepStatus,
    validateUpdate: validatePodDisruptionBudgetUpdate,
  },
  printer: podDisruptionBudgetPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validatePodDisruptionBudgetStatus } },
  },
  // kube-apiserver's PodDisruptionBudget strategy does not create on PUT.
  createOnUpdate: false,
});
