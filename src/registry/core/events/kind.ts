// Events (core/v1). They expire --event-ttl after their last write (event-ttl.ts).

import type { Event } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import { eventFieldSelectors } from './fields.ts';
import { eventPrinter } from './printer.ts';

export const events = defineKind<Event>({
  identity: { group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  strategy: { validate: v.validateEvent, validateUpdate: v.validateEventUpdate },
  printer: eventPrinter,
  fields: eventFieldSelectors,
});
