// apps/v1 ControllerRevision rows (printControllerRevision): NAME, CONTROLLER, REVISION, AGE. The
// controller is printed as kube-apiserver's formatResourceName does it: lower-case "kind.group/name"
// ("daemonset.apps/web"), or <none> for an orphan.

import type { ControllerRevision, KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function controllerName(cr: ControllerRevision): string {
  const ref = cr.metadata?.ownerReferences?.find((r) => r?.controller === true);
  if (!ref) return '<none>';
  const apiVersion = ref.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind = ref.kind ?? '';
  if (!kind && !group) return ref.name ?? '';
  return `${(group ? `${kind}.${group}` : kind).toLowerCase()}/${ref.name ?? ''}`;
}

export function printControllerRevision(cr: ControllerRevision, now: number): PrintedRow {
  return { cells: [cr.metadata?.name ?? '', controllerName(cr), cr.revision ?? 0, timestampSince(cr.metadata?.creationTimestamp, now)] };
}

export const controllerRevisionPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Controller', 'Controller of the object'),
    column('Revision', 'Revision indicates the revision of the state represented by Data.'),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number) => printControllerRevision(obj as unknown as ControllerRevision, now),
};
