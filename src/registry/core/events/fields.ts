// Field selectors of Events: the labels kube-apiserver's conversion function accepts, and each object's values.

import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { Event } from '../../../api/types.ts';
import type { FieldSelectors } from '../../kind.ts';

export const eventFieldLabels: FieldLabelSet = {
  supported: new Set([
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
    'metadata.namespace',
    'metadata.name',
  ]),
  unsupported: notSupported,
};

export function eventFields(ev: Event): Record<string, string> {
  const io = ev.involvedObject;
  return {
    ...objectMetaFields(ev.metadata, true),
    'involvedObject.kind': io?.kind ?? '',
    'involvedObject.namespace': io?.namespace ?? '',
    'involvedObject.name': io?.name ?? '',
    'involvedObject.uid': io?.uid ?? '',
    'involvedObject.apiVersion': io?.apiVersion ?? '',
    'involvedObject.resourceVersion': io?.resourceVersion ?? '',
    'involvedObject.fieldPath': io?.fieldPath ?? '',
    reason: ev.reason ?? '',
    reportingComponent: ev.reportingComponent ?? '',
    source: ev.source?.component ?? '',
    type: ev.type ?? '',
  };
}

export const eventFieldSelectors: FieldSelectors<Event> = { labels: eventFieldLabels, of: eventFields };
