// Builds meta.k8s.io Tables the way the real apiserver's TableConvertor + asTable do:
// columns are always the wide set (kubectl hides priority>0 unless -o wide); the Table's metadata
// carries the list's resourceVersion/continue/remainingItemCount (or, for a single object, that
// object's resourceVersion, which is what `kubectl get -w` watches from); each row's `object` is
// PartialObjectMetadata by default. Pure: the caller injects `now`.

import type { KubeObject } from '../../api/types.ts';
import { badRequest } from '../../util/status.ts';
import { genericPrinter } from '../../registry/printing/generic.ts';
import type { TablePrinter } from '../../registry/printing/types.ts';
import type { PartialObjectMetadata, Table, TableListMeta, TableRow, TableVersion } from '../../registry/printing/types.ts';

/** Value of the `includeObject` query parameter. */
export type IncludeObjectPolicy = 'None' | 'Object' | 'Metadata';

export interface TableOptions {
  /** Default Metadata (PartialObjectMetadata), as upstream when the parameter is absent. */
  includeObject?: IncludeObjectPolicy;
  /** Omit column definitions (sent as null): every watch event after the first. */
  noHeaders?: boolean;
  /** Epoch milliseconds that AGE-like cells are measured from. */
  now: number;
  /** The negotiated meta.k8s.io version; v1 by default. kubectl asks for v1 first. */
  version?: TableVersion;
  /**
   * With includeObject=Object, objects lacking kind/apiVersion get these (list items from storage
   * may omit them; the real server always encodes them on embedded objects).
   */
  objectType?: { apiVersion: string; kind: string };
}

/** Parses `?includeObject=`; a bad value is a 400 with upstream's message. */
export function parseIncludeObject(value: string | null | undefined): IncludeObjectPolicy {
  if (value === undefined || value === null || value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'None' || value === 'Object') return value;
  throw badRequest(`unrecognized includeObject value: "${value}"`);
}

function rowObject(obj: KubeObject, opts: TableOptions): TableRow['object'] {
  switch (opts.includeObject ?? 'Metadata') {
    case 'None':
      return undefined;
    case 'Object':
      if (opts.objectType && (!obj.kind || !obj.apiVersion)) {
        return { apiVersion: opts.objectType.apiVersion, kind: opts.objectType.kind, ...obj };
      }
      return obj;
    case 'Metadata': {
      const partial: PartialObjectMetadata = {
        kind: 'PartialObjectMetadata',
        apiVersion: `meta.k8s.io/${opts.version ?? 'v1'}`,
        metadata: { ...(obj.metadata ?? {}) },
      };
      return partial;
    }
  }
}

/**
 * A Table for a list response (or a watch event / single GET: one object and the object's
 * resourceVersion in `listMeta`, see tableForObject). `resource` is the plural, optionally
 * group-qualified ("pods", "leases", "leases.coordination.k8s.io").
 */
export function buildTable(resource: string, kindPrinter: TablePrinter | undefined, objects: readonly KubeObject[], listMeta: TableListMeta, opts: TableOptions): Table {
  const printer = kindPrinter ?? genericPrinter;
  const width = printer.columns.length;
  const rows: TableRow[] = objects.map((obj) => {
    const printed = printer.print(obj, opts.now);
    if (printed.cells.length !== width) {
      // A printer bug would make kubectl misalign every column; fail loudly in tests instead.
      throw new TableShapeError(resource, width, printed.cells.length);
    }
    const row: TableRow = { cells: printed.cells };
    if (printed.conditions) row.conditions = printed.conditions;
    const object = rowObject(obj, opts);
    if (object !== undefined) row.object = object;
    return row;
  });

  const metadata: TableListMeta = {};
  if (listMeta.resourceVersion) metadata.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue) metadata.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined && listMeta.remainingItemCount !== null) {
    metadata.remainingItemCount = listMeta.remainingItemCount;
  }

  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version ?? 'v1'}`,
    metadata,
    columnDefinitions: opts.noHeaders ? null : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}

/** A one-row Table for `GET .../pods/x` or one watch event: metadata.resourceVersion is the object's. */
export function tableForObject(resource: string, printer: TablePrinter | undefined, obj: KubeObject, opts: TableOptions): Table {
  return buildTable(resource, printer, [obj], { resourceVersion: obj.metadata?.resourceVersion }, opts);
}

/**
 * Encodes the objects of one Table watch: the first event carries the column definitions and later
 * ones do not (as the real server's watch encoder flips NoHeaders after its first event, whatever
 * that event was). Status objects (ERROR events) pass through untransformed. One per watch; not
 * for concurrent use.
 */
export class WatchTableEncoder {
  readonly #resource: string;
  readonly #printer: TablePrinter | undefined;
  readonly #opts: Omit<TableOptions, 'now' | 'noHeaders'>;
  #sentFirst = false;

  constructor(resource: string, printer: TablePrinter | undefined, opts: Omit<TableOptions, 'now' | 'noHeaders'>) {
    this.#resource = resource;
    this.#printer = printer;
    this.#opts = opts;
  }

  encode(obj: KubeObject, now: number): Table | KubeObject {
    const noHeaders = this.#sentFirst;
    this.#sentFirst = true;
    if (obj.kind === 'Status') return obj;
    return tableForObject(this.#resource, this.#printer, obj, { ...this.#opts, now, noHeaders });
  }
}

/** A printer returned a row whose width differs from its column definitions. */
export class TableShapeError extends Error {
  readonly code = 'ERR_TABLE_SHAPE';
  constructor(resource: string, columns: number, cells: number) {
    super(`table printer for ${resource} produced ${cells} cells for ${columns} columns`);
    this.name = 'TableShapeError';
  }
}
