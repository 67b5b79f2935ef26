// The `-o wide` cells Job and CronJob rows share (kube-apiserver's printers.go: layoutContainerCells
// and metav1.FormatLabelSelector).

import { fromLabelSelector, LabelSelectorError } from '../../api/labels.ts';
import type { LabelSelector, PodTemplateSpec } from '../../api/types.ts';
import { column } from '../printing/columns.ts';
import type { TableColumnDefinition } from '../printing/types.ts';

export const JOB_SELECTOR_DESCRIPTION =
  'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';

export const wideColumns = (): TableColumnDefinition[] => [
  column('Containers', 'Names of each container in the template.', { priority: 1 }),
  column('Images', 'Images referenced by each container in the template.', { priority: 1 }),
  column('Selector', JOB_SELECTOR_DESCRIPTION, { priority: 1 }),
];

/** CONTAINERS, IMAGES and SELECTOR of a template and selector. */
export function wideCells(t: PodTemplateSpec | undefined, selector: LabelSelector | undefined): [string, string, string] {
  const cs = t?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(','), formatLabelSelector(selector)];
}

/** metav1.FormatLabelSelector: `<none>` for nil or empty, `<error>` for a bad selector. */
export function formatLabelSelector(ls: LabelSelector | undefined): string {
  try {
    return fromLabelSelector(ls).toString() || '<none>';
  } catch (err) {
    if (err instanceof LabelSelectorError) return '<error>';
    throw err;
  }
}
