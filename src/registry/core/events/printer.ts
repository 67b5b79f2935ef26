// core/v1 Event rows as the real server prints them (printEvent). Times fall back in upstream's
// order: FIRST SEEN from firstTimestamp, else eventTime (events.k8s.io-style events), else <unknown>;
// LAST SEEN from lastTimestamp, else FIRST SEEN; a series overrides LAST SEEN and COUNT; a count of 0
// on a singleton new-style event prints 1. SOURCE prefers the legacy source fields and falls back
// to reportingComponent/reportingInstance.

import type { Event, KubeObject } from '../../../api/types.ts';
import { column, NAME_DESCRIPTION } from '../../printing/columns.ts';
import { parseTime, timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function eventSource(ev: Event): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

export function printEvent(ev: Event, now: number): PrintedRow {
  const firstSeen = parseTime(ev.firstTimestamp) !== undefined
    ? timestampSince(ev.firstTimestamp, now)
    : timestampSince(ev.eventTime, now);
  let lastSeen = parseTime(ev.lastTimestamp) !== undefined ? timestampSince(ev.lastTimestamp, now) : firstSeen;

  let count = ev.count ?? 0;
  if (ev.series) {
    lastSeen = timestampSince(ev.series.lastObservedTime, now);
    count = ev.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }

  const kind = (ev.involvedObject?.kind ?? '').toLowerCase();
  const name = ev.involvedObject?.name ?? '';
  const target = name ? `${kind}/${name}` : kind;

  return {
    cells: [
      lastSeen,
      ev.type ?? '',
      ev.reason ?? '',
      target,
      ev.involvedObject?.fieldPath ?? '',
      eventSource(ev),
      (ev.message ?? '').trim(),
      firstSeen,
      count,
      ev.metadata?.name ?? '',
    ],
  };
}

export const eventPrinter: TablePrinter = {
  columns: [
    column('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
    column('Reason', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    column('Object', 'The object that this event is about.'),
    column('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.', { priority: 1 }),
    column('Source', 'The component reporting this event. Should be a short machine understandable string.', { priority: 1 }),
    column('Message', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', { priority: 1 }),
    column('Count', 'The number of times this event has occurred.', { priority: 1 }),
    column('Name', NAME_DESCRIPTION, { priority: 1, format: 'name' }),
  ],
  // Stored events always carry involvedObject; printEvent still tolerates its absence.
  print: (obj: KubeObject, now: number) => printEvent(obj as unknown as Event, now),
};
