// Wire shapes of meta.k8s.io/v1 Table (identical in v1beta1) and the seam every resource printer fills.
// Field order in these interfaces follows the Go structs, so JSON.stringify emits what the real
// server emits (kubectl does not care, but byte-for-byte comparisons in tests and tools do).

import type { KubeObject } from '../../api/types.ts';

export type TableVersion = 'v1' | 'v1beta1';

export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type of the cells ("string", "integer", "date"...). Cells may still be numbers under "string", as upstream does. */
  type: string;
  /** "name" marks the column kubectl uses for `-o name`-like needs; "" otherwise. */
  format: string;
  description: string;
  /** 0 = shown by default; 1 = shown only with `-o wide`. */
  priority: number;
}

/** JSON values upstream printers put in cells: strings, int64s, floats, booleans, and null for a custom resource column that finds nothing. */
export type TableCell = string | number | boolean | null;

export interface TableRowCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: `meta.k8s.io/${TableVersion}`;
  metadata: NonNullable<KubeObject['metadata']>;
}

export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  /** PartialObjectMetadata (default), the full object (includeObject=Object), or absent (includeObject=None). */
  object?: PartialObjectMetadata | KubeObject;
}

export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface Table {
  kind: 'Table';
  apiVersion: `meta.k8s.io/${TableVersion}`;
  metadata: TableListMeta;
  /** null when headers were suppressed (every watch event after the first), as the real server sends. */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

/** What one printer computes for one object; the object itself is attached by buildTable. */
export interface PrintedRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
}

/**
 * One resource's server-side printer (pkg/printers/internalversion in Kubernetes).
 * Called by buildTable, synchronously, possibly concurrently for different requests; pure and
 * stateless: `now` is the only clock. Must return exactly one cell per column, in column order,
 * always the wide set (the real server generates tables with Wide: true; kubectl hides priority>0).
 */
export interface TablePrinter {
  readonly columns: readonly TableColumnDefinition[];
  print(obj: KubeObject, now: number): PrintedRow;
}
