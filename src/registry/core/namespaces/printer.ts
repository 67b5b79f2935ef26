// Namespace rows (printNamespace): NAME STATUS AGE, STATUS being status.phase as stored.

import type { KubeObject, Namespace } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printNamespace(ns: Namespace, now: number): PrintedRow {
  return { cells: [ns.metadata?.name ?? '', ns.status?.phase ?? '', timestampSince(ns.metadata?.creationTimestamp, now)] };
}

export const namespacePrinter: TablePrinter = {
  columns: [nameColumn(), column('Status', 'The status of the namespace'), ageColumn()],
  print: (obj: KubeObject, now: number) => printNamespace(obj as Namespace, now),
};
