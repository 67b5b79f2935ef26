// Rows for resources without a dedicated printer. Upstream's rest.defaultTableConvertor prints
// "Name" and "Created At" (an RFC 3339 date); we print "Name" and "Age" instead, as the
// apiextensions server does for custom resources without printer columns, because that is what
// kubectl users expect to read (`NAME AGE`) and what kubectl shows for a plain list anyway.

import type { KubeObject } from '../../api/types.ts';
import { ageColumn, nameColumn } from './columns.ts';
import { timestampSince } from './duration.ts';
import type { PrintedRow, TablePrinter } from './types.ts';

export function printGeneric(obj: KubeObject, now: number): PrintedRow {
  return { cells: [obj.metadata?.name ?? '', timestampSince(obj.metadata?.creationTimestamp, now)] };
}

export const genericPrinter: TablePrinter = {
  columns: [nameColumn(), ageColumn()],
  print: printGeneric,
};
