// PriorityClasses (scheduling.k8s.io/v1). The Priority admission plugin resolves pods' classes.

import type { PriorityClass } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import { priorityClassPrinter } from './printer.ts';

export const priorityClasses = defineKind<PriorityClass>({
  identity: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', singular: 'priorityclass', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] },
  strategy: {
    defaults(pc) {
      // value is a plain int32 upstream (always present, 0 when not sent).
      if (pc.value === undefined || pc.value === null) pc.value = 0;
      pc.preemptionPolicy ??= 'PreemptLowerPriority';
    },
    validate: v.validatePriorityClass,
    validateUpdate: v.validatePriorityClassUpdate,
  },
  printer: priorityClassPrinter,
});
