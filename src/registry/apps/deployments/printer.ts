// Deployment rows (printDeployment): NAME READY UP-TO-DATE AVAILABLE AGE, and with -o wide
// CONTAINERS IMAGES SELECTOR. READY is "ready/desired".

import type { Deployment, KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';
import { containersColumn, imagesColumn, selectorCell, selectorColumn, templateCells } from '../../printing/workloads.ts';

export function printDeployment(d: Deployment, now: number): PrintedRow {
  const st = d.status ?? {};
  return {
    cells: [
      d.metadata?.name ?? '',
      `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      st.updatedReplicas ?? 0,
      st.availableReplicas ?? 0,
      timestampSince(d.metadata?.creationTimestamp, now),
      ...templateCells(d.spec?.template),
      selectorCell(d.spec?.selector),
    ],
  };
}

export const deploymentPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Ready', 'Number of the pod with ready state'),
    column('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn(),
  ],
  print: (obj: KubeObject, now: number) => printDeployment(obj as Deployment, now),
};
