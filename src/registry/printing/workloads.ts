// Cells and columns the workload printers share (kube-apiserver's printers.go): the `-o wide`
// CONTAINERS, IMAGES and SELECTOR of anything with a pod template.

import type { LabelSelector, PodTemplateSpec } from '../../api/types.ts';
import { fromLabelSelector, LabelSelectorError, selectorFromSet } from '../../api/labels.ts';
import { column } from './columns.ts';
import type { TableCell, TableColumnDefinition } from './types.ts';

export const containersColumn = (): TableColumnDefinition => column('Containers', 'Names of each container in the template.', { priority: 1 });
export const imagesColumn = (): TableColumnDefinition => column('Images', 'Images referenced by each container in the template.', { priority: 1 });
export const selectorColumn = (description = 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'): TableColumnDefinition =>
  column('Selector', description, { priority: 1 });

/** CONTAINERS and IMAGES of a template, comma-joined as kubectl shows them. */
export function templateCells(t: PodTemplateSpec | undefined): [TableCell, TableCell] {
  const cs = t?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** metav1.FormatLabelSelector: `app=web,tier in (a,b)`; `<none>` for a nil or empty selector, `<error>` for a bad one. */
export function selectorCell(ls: LabelSelector | undefined | null): string {
  try {
    return fromLabelSelector(ls).toString() || '<none>';
  } catch (err) {
    if (err instanceof LabelSelectorError) return '<error>';
    throw err;
  }
}

/** The three `-o wide` columns of a kind with a template and a selector, in kubectl's order. */
export const wideTemplateColumns = (selectorDescription: string): TableColumnDefinition[] => [containersColumn(), imagesColumn(), selectorColumn(selectorDescription)];

/** CONTAINERS, IMAGES and SELECTOR cells of a template and its selector. */
export function wideTemplateCells(t: PodTemplateSpec | undefined, selector: LabelSelector | undefined | null): TableCell[] {
  return [...templateCells(t), selectorCell(selector)];
}

/** labels.FormatLabels: sorted `k=v` pairs, or `<none>`. */
export function labelsCell(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${m?.[k]}`).join(',') : '<none>';
}

/** A map selector (ReplicationController, Service) as a string; empty shows `<none>`. */
export function mapSelectorCell(m: Record<string, string> | undefined): string {
  const s = selectorFromSet(m ?? {}).toString();
  return s === '' ? '<none>' : s;
}
