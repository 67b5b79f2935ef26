// DaemonSets (apps/v1): one pod per eligible node, kept by src/controllers/daemonset/. The status
// subresource is the controller's; a main-resource update keeps status.

import type { DaemonSet } from '../../../api/types.ts';
import { defineKind } from '../../kind.ts';
import { statusOnly } from '../../rules.ts';
import { daemonSetPrinter } from './printer.ts';
import * as rules from './strategy.ts';

export const daemonSets = defineKind<DaemonSet>({
  identity: { group: 'apps', version: 'v1', resource: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], categories: ['all'] },
  strategy: {
    defaults: rules.defaults,
    prepareForCreate: rules.prepareForCreate,
    validate: rules.validate,
    prepareForUpdate: rules.prepareForUpdate,
    validateUpdate: rules.validateUpdate,
  },
  printer: daemonSetPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: rules.validateStatusUpdate } },
  },
});
