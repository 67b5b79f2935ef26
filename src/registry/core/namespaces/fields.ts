// Field selectors of Namespaces: the labels kube-apiserver's conversion function accepts, and each object's values.

import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { Namespace } from '../../../api/types.ts';
import type { FieldSelectors } from '../../kind.ts';

export const namespaceFieldLabels: FieldLabelSet = { supported: new Set(['metadata.name', 'status.phase']), unsupported: notSupported };

export function namespaceFields(ns: Namespace): Record<string, string> {
  return { ...objectMetaFields(ns.metadata, false), 'status.phase': ns.status?.phase ?? '' };
}

export const namespaceFieldSelectors: FieldSelectors<Namespace> = { labels: namespaceFieldLabels, of: namespaceFields };
