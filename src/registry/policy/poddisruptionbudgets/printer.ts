// PodDisruptionBudget rows (printPodDisruptionBudget): NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED
// DISRUPTIONS AGE; an unset bound prints "N/A". There are no -o wide columns.

import type { KubeObject, PodDisruptionBudget } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

/** intstr.IntOrString's String(): the number or the percentage as written. */
const bound = (v: number | string | undefined): string => (v == null ? 'N/A' : String(v));

export function printPodDisruptionBudget(pdb: PodDisruptionBudget, now: number): PrintedRow {
  return {
    cells: [pdb.metadata?.name ?? '', bound(pdb.spec?.minAvailable), bound(pdb.spec?.maxUnavailable), pdb.status?.disruptionsAllowed ?? 0, timestampSince(pdb.metadata?.creationTimestamp, now)],
  };
}

export const podDisruptionBudgetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Min Available', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', { type: 'integer' }),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number) => printPodDisruptionBudget(obj as unknown as PodDisruptionBudget, now),
};
