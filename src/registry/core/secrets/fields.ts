// Field selectors of Secrets: the labels kube-apiserver's conversion function accepts, and each object's values.

import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { Secret } from '../../../api/types.ts';
import type { FieldSelectors } from '../../kind.ts';

export const secretFieldLabels: FieldLabelSet = { supported: new Set(['type', 'metadata.namespace', 'metadata.name']), unsupported: notSupported };

export function secretFields(secret: Secret): Record<string, string> {
  return { ...objectMetaFields(secret.metadata, true), type: secret.type ?? '' };
}

export const secretFieldSelectors: FieldSelectors<Secret> = { labels: secretFieldLabels, of: secretFields };
