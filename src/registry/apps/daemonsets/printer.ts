// apps/v1 DaemonSet rows (printDaemonSet): NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE
// NODE SELECTOR AGE, and with -o wide CONTAINERS IMAGES SELECTOR.

import type { DaemonSet, KubeObject } from '../../../api/types.ts';
import { labelsCell, wideTemplateCells, wideTemplateColumns } from '../../printing/workloads.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printDaemonSet(ds: DaemonSet, now: number): PrintedRow {
  const st = ds.status;
  return {
    cells: [
      ds.metadata?.name ?? '',
      st?.desiredNumberScheduled ?? 0,
      st?.currentNumberScheduled ?? 0,
      st?.numberReady ?? 0,
      st?.updatedNumberScheduled ?? 0,
      st?.numberAvailable ?? 0,
      labelsCell(ds.spec?.template?.spec?.nodeSelector),
      timestampSince(ds.metadata?.creationTimestamp, now),
      ...wideTemplateCells(ds.spec?.template, ds.spec?.selector),
    ],
  };
}

export const daemonSetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Desired', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/', { type: 'integer' }),
    column('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/', { type: 'integer' }),
    column('Ready', 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.', { type: 'integer' }),
    column('Up-to-date', 'The total number of nodes that are running updated daemon pod', { type: 'integer' }),
    column('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', { type: 'integer' }),
    column('Node Selector', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
    ageColumn(),
    ...wideTemplateColumns("A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"),
  ],
  print: (obj: KubeObject, now: number) => printDaemonSet(obj as unknown as DaemonSet, now),
};
