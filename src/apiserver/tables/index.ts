// Server-side tables for `kubectl get`: the entry points the HTTP layer uses.
export { buildTable, parseIncludeObject, tableForObject, TableShapeError, WatchTableEncoder } from './table.ts';
export type { IncludeObjectPolicy, TableOptions } from './table.ts';
export { negotiateOutput, negotiateTable, parseAccept, wantsTable } from './negotiate.ts';
export type { AcceptClause, ConversionKind, OutputNegotiation } from './negotiate.ts';
export type { PartialObjectMetadata, Table, TableCell, TableColumnDefinition, TableListMeta, TablePrinter, TableRow, TableRowCondition, TableVersion } from '../../registry/printing/types.ts';
