// scheduling.k8s.io PriorityClass rows (printPriorityClass): NAME, VALUE, GLOBAL-DEFAULT, AGE and
// PREEMPTIONPOLICY, in upstream's column order.

import type { KubeObject, PriorityClass } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printPriorityClass(pc: PriorityClass, now: number): PrintedRow {
  return {
    cells: [pc.metadata?.name ?? '', pc.value ?? 0, Boolean(pc.globalDefault), timestampSince(pc.metadata?.creationTimestamp, now), pc.preemptionPolicy ?? ''],
  };
}

export const priorityClassPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Value', 'The priority pods of this class get; higher values are scheduled first and may preempt lower ones.', { type: 'integer' }),
    column('Global-Default', 'Whether pods without a priorityClassName get this class.', { type: 'boolean' }),
    ageColumn(),
    column('PreemptionPolicy', 'Never, or PreemptLowerPriority: whether pods of this class may preempt lower-priority pods.'),
  ],
  print: (obj: KubeObject, now: number) => printPriorityClass(obj as unknown as PriorityClass, now),
};
