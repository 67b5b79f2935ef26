// Events (events.k8s.io/v1): the same objects as core/v1 Events, kept at their keys and converted on
// every read and write (as kube-apiserver serves both from one storage). Printed by the core events
// printer, validated by the strict events.k8s.io rules on the core form.

import type { Event as CoreEvent, KubeObject } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import type { TablePrinter } from '../../printing/types.ts';
import { eventPrinter, printEvent } from '../../core/events/printer.ts';
import { fromCoreEvent, toCoreEvent, type EventV1 } from './convert.ts';
import { eventV1FieldSelectors } from './fields.ts';

const printer: TablePrinter = {
  columns: eventPrinter.columns,
  print: (obj: KubeObject, now: number) => printEvent(toCoreEvent(obj as EventV1), now),
};

export const eventsV1 = defineKind<EventV1>({
  identity: { group: 'events.k8s.io', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  strategy: {
    validate: (ev) => v.validateEventV1Create(toCoreEvent(ev)),
    validateUpdate: (ev, old) => v.validateEventV1Update(toCoreEvent(ev), toCoreEvent(old)),
  },
  printer,
  fields: eventV1FieldSelectors,
  storage: {
    group: '',
    version: 'v1',
    kind: 'Event',
    resource: 'events',
    toStorage: (ev) => toCoreEvent(ev) as unknown as KubeObject,
    fromStorage: (obj) => fromCoreEvent(obj as unknown as CoreEvent),
  },
});
