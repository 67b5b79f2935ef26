// ConfigMap rows (printConfigMap): DATA counts data and binaryData keys together, as an integer cell.

import type { ConfigMap, KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printConfigMap(cm: ConfigMap, now: number): PrintedRow {
  const keys = Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length;
  return { cells: [cm.metadata?.name ?? '', keys, timestampSince(cm.metadata?.creationTimestamp, now)] };
}

export const configMapPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Data', "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number) => printConfigMap(obj as ConfigMap, now),
};
