// ControllerRevisions (apps/v1): immutable snapshots of a DaemonSet's or StatefulSet's template, the
// history `kubectl rollout history|undo` reads. Written by those controllers (src/controllers/history/).

import type { ControllerRevision } from '../../../api/types.ts';
import { defineKind } from '../../kind.ts';
import { controllerRevisionPrinter } from './printer.ts';
import { validateControllerRevision, validateControllerRevisionUpdate } from './strategy.ts';

export const controllerRevisions = defineKind<ControllerRevision>({
  identity: { group: 'apps', version: 'v1', resource: 'controllerrevisions', singular: 'controllerrevision', kind: 'ControllerRevision', namespaced: true },
  strategy: {
    defaults(cr) {
      // revision is a plain int64 upstream: always present, 0 when not sent.
      if (cr.revision === undefined || cr.revision === null) cr.revision = 0;
    },
    validate: validateControllerRevision,
    validateUpdate: validateControllerRevisionUpdate,
  },
  printer: controllerRevisionPrinter,
});
