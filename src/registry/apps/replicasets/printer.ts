// ReplicaSet and ReplicationController rows (printReplicaSet, printReplicationController):
// NAME DESIRED CURRENT READY AGE, and with -o wide CONTAINERS IMAGES SELECTOR.

import type { KubeObject, ReplicaSet, ReplicationController } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TableCell, TablePrinter } from '../../printing/types.ts';
import { mapSelectorCell, templateCells, wideTemplateCells, wideTemplateColumns } from '../../printing/workloads.ts';

const columns = (selectorDescription: string) => [
  nameColumn(),
  column('Desired', 'Number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1.', { type: 'integer' }),
  column('Current', 'Replicas is the most recently observed number of replicas.', { type: 'integer' }),
  column('Ready', 'The number of ready replicas for this replica set.', { type: 'integer' }),
  ageColumn(),
  ...wideTemplateColumns(selectorDescription),
];

export function printReplicaSet(rs: ReplicaSet, now: number): PrintedRow {
  const cells: TableCell[] = [rs.metadata?.name ?? '', rs.spec?.replicas ?? 0, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, timestampSince(rs.metadata?.creationTimestamp, now)];
  cells.push(...wideTemplateCells(rs.spec?.template, rs.spec?.selector));
  return { cells };
}

export function printReplicationController(rc: ReplicationController, now: number): PrintedRow {
  const cells: TableCell[] = [rc.metadata?.name ?? '', rc.spec?.replicas ?? 0, rc.status?.replicas ?? 0, rc.status?.readyReplicas ?? 0, timestampSince(rc.metadata?.creationTimestamp, now)];
  cells.push(...templateCells(rc.spec?.template), mapSelectorCell(rc.spec?.selector));
  return { cells };
}

export const replicaSetPrinter: TablePrinter = {
  columns: columns('Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template\'s labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
  print: (obj: KubeObject, now: number) => printReplicaSet(obj as ReplicaSet, now),
};

export const replicationControllerPrinter: TablePrinter = {
  columns: columns('Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
  print: (obj: KubeObject, now: number) => printReplicationController(obj as ReplicationController, now),
};
