// coordination.k8s.io Lease rows (printLease): HOLDER is spec.holderIdentity, an empty cell (not
// <none>) when nobody holds the lease, as upstream prints it.

import type { KubeObject, Lease } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printLease(lease: Lease, now: number): PrintedRow {
  return { cells: [lease.metadata?.name ?? '', lease.spec?.holderIdentity ?? '', timestampSince(lease.metadata?.creationTimestamp, now)] };
}

export const leasePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Holder', 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.'),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number) => printLease(obj as Lease, now),
};
