// Field selectors of Nodes: the labels kube-apiserver's conversion function accepts, and each object's values.

import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { Node } from '../../../api/types.ts';
import type { FieldSelectors } from '../../kind.ts';

export const nodeFieldLabels: FieldLabelSet = { supported: new Set(['metadata.name', 'spec.unschedulable']), unsupported: notSupported };

export function nodeFields(node: Node): Record<string, string> {
  return { ...objectMetaFields(node.metadata, false), 'spec.unschedulable': String(node.spec?.unschedulable === true) };
}

export const nodeFieldSelectors: FieldSelectors<Node> = { labels: nodeFieldLabels, of: nodeFields };
