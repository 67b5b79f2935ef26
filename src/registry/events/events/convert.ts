// events.k8s.io/v1 Event <-> core/v1 Event, as kube-apiserver converts them through its internal
// type (pkg/apis/events/v1/conversion.go): regarding <-> involvedObject, note <-> message,
// deprecatedSource <-> source, deprecatedFirstTimestamp <-> firstTimestamp, deprecatedLastTimestamp <->
// lastTimestamp, deprecatedCount <-> count, reportingController <-> reportingComponent; eventTime,
// series, related, action, reason, type and reportingInstance keep their names. Both directions share
// the metadata object and nested values with their input (the store's SharedStorage contract).

import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import type { Event as CoreEvent, ObjectMeta } from '../../../api/types.ts';

/** An events.k8s.io/v1 Event as tinykube handles it (mutable metadata, like the other kinds' types). */
export type EventV1 = Omit<EventsV1Event, 'metadata' | 'apiVersion' | 'kind' | 'eventTime'> & {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  eventTime?: string;
};

/** Copies the defined values of `from` into `out` under the names `names` maps them to. */
function carry(out: Record<string, unknown>, from: Record<string, unknown>, names: Readonly<Record<string, string>>): void {
  for (const [src, dst] of Object.entries(names)) {
    const v = from[src];
    if (v !== undefined) out[dst] = v;
  }
}

const v1ToCore: Readonly<Record<string, string>> = {
  eventTime: 'eventTime',
  series: 'series',
  reportingController: 'reportingComponent',
  reportingInstance: 'reportingInstance',
  action: 'action',
  reason: 'reason',
  related: 'related',
  note: 'message',
  type: 'type',
  deprecatedSource: 'source',
  deprecatedFirstTimestamp: 'firstTimestamp',
  deprecatedLastTimestamp: 'lastTimestamp',
  deprecatedCount: 'count',
};
const coreToV1: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(v1ToCore).map(([a, b]) => [b, a]));

/** The core/v1 form of an events.k8s.io/v1 Event (involvedObject is a struct in Go: always present). */
export function toCoreEvent(ev: EventV1): CoreEvent {
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Event', metadata: ev.metadata, involvedObject: ev.regarding ?? {} };
  carry(out, ev as Record<string, unknown>, v1ToCore);
  return out as unknown as CoreEvent;
}

/** The events.k8s.io/v1 form of a core/v1 Event. */
export function fromCoreEvent(ev: CoreEvent): EventV1 {
  const out: Record<string, unknown> = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: ev.metadata, regarding: ev.involvedObject ?? {} };
  carry(out, ev as unknown as Record<string, unknown>, coreToV1);
  return out as EventV1;
}
