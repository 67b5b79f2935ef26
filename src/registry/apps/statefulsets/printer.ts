// StatefulSet rows (printStatefulSet): NAME READY AGE, and with -o wide CONTAINERS IMAGES. READY is
// "ready/desired".

import type { KubeObject, StatefulSet } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';
import { containersColumn, imagesColumn, templateCells } from '../../printing/workloads.ts';

export function printStatefulSet(set: StatefulSet, now: number): PrintedRow {
  return {
    cells: [
      set.metadata?.name ?? '',
      `${set.status?.readyReplicas ?? 0}/${set.spec?.replicas ?? 0}`,
      timestampSince(set.metadata?.creationTimestamp, now),
      ...templateCells(set.spec?.template),
    ],
  };
}

export const statefulSetPrinter: TablePrinter = {
  columns: [nameColumn(), column('Ready', 'Number of the pod with ready state'), ageColumn(), containersColumn(), imagesColumn()],
  print: (obj: KubeObject, now: number) => printStatefulSet(obj as StatefulSet, now),
};
