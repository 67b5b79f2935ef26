// Field selectors of events.k8s.io/v1 Events: kube-apiserver maps each label to the core event's
// selectable field (pkg/apis/events/v1 AddFieldLabelConversionsForEvent), so the values are the core
// event's, read under the events.k8s.io names.

import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { FieldSelectors } from '../../kind.ts';
import type { EventV1 } from './convert.ts';

export const eventV1FieldLabels: FieldLabelSet = {
  supported: new Set([
    'reason',
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
    'reportingController',
    'source',
    'type',
    'metadata.namespace',
    'metadata.name',
  ]),
  unsupported: notSupported,
};

export function eventV1Fields(ev: EventV1): Record<string, string> {
  const r = ev.regarding;
  return {
    ...objectMetaFields(ev.metadata, true),
    'regarding.kind': r?.kind ?? '',
    'regarding.namespace': r?.namespace ?? '',
    'regarding.name': r?.name ?? '',
    'regarding.uid': r?.uid ?? '',
    'regarding.apiVersion': r?.apiVersion ?? '',
    'regarding.resourceVersion': r?.resourceVersion ?? '',
    'regarding.fieldPath': r?.fieldPath ?? '',
    reason: ev.reason ?? '',
    reportingController: ev.reportingController ?? '',
    // The core event's "source": its source component, else the reporting controller.
    source: ev.deprecatedSource?.component || ev.reportingController || '',
    type: ev.type ?? '',
  };
}

export const eventV1FieldSelectors: FieldSelectors<EventV1> = { labels: eventV1FieldLabels, of: eventV1Fields };
