// Turns labelSelector/fieldSelector query parameters into an object filter for a store, with the
// apiserver's 400 errors for bad selectors and unsupported field labels.

import type { KubeObject } from '../api/types.ts';
import type { Store, ObjectFilter } from '../registry/store.ts';
import { badRequest } from '../util/status.ts';
import { LabelSelectorError, parseLabelSelector, selectorMatches, type LabelSelectorValue } from '../api/labels.ts';
import { convertFieldSelector, defaultFieldLabels, FieldSelectorError, objectMetaFields, parseFieldSelector, type FieldSelectorValue } from '../api/fields.ts';

export function buildFilter(store: Store, labelSelector: string | null, fieldSelector: string | null): ObjectFilter | undefined {
  let labels: LabelSelectorValue | undefined;
  let fields: FieldSelectorValue | undefined;
  try {
    labels = labelSelector ? parseLabelSelector(labelSelector) : undefined;
    if (fieldSelector) {
      fields = convertFieldSelector(parseFieldSelector(fieldSelector), store.strategy.fieldLabels ?? defaultFieldLabels);
      if (fields.empty()) fields = undefined;
    }
  } catch (err) {
    if (err instanceof LabelSelectorError || err instanceof FieldSelectorError) throw badRequest(err.message);
    throw err;
  }
  if (!labels && !fields) return undefined;
  const fieldsOf = store.strategy.fieldsOf;
  const namespaced = store.info.namespaced;
  return (obj: KubeObject) => {
    if (labels && !selectorMatches(labels, obj.metadata?.labels ?? {})) return false;
    if (fields && !fields.matches(fieldsOf ? fieldsOf(obj) : objectMetaFields(obj.metadata, namespaced))) return false;
    return true;
  };
}
