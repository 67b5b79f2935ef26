// Secret rows (printSecret): TYPE as stored, DATA the number of data keys (an integer cell).
// stringData never reaches storage (it is merged into data on write), so it is not counted.

import type { KubeObject, Secret } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printSecret(secret: Secret, now: number): PrintedRow {
  return {
    cells: [
      secret.metadata?.name ?? '',
      secret.type ?? '',
      Object.keys(secret.data ?? {}).length,
      timestampSince(secret.metadata?.creationTimestamp, now),
    ],
  };
}

export const secretPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Type', 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types'),
    column('Data', "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number) => printSecret(obj as Secret, now),
};
