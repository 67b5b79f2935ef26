// ServiceAccount rows (printServiceAccount): SECRETS is the number of listed secrets (an integer cell),
// 0 for every modern service account since token secrets are no longer auto-created.

import type { KubeObject, ServiceAccount } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printServiceAccount(sa: ServiceAccount, now: number): PrintedRow {
  return { cells: [sa.metadata?.name ?? '', (sa.secrets ?? []).length, timestampSince(sa.metadata?.creationTimestamp, now)] };
}

export const serviceAccountPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret'),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number) => printServiceAccount(obj as ServiceAccount, now),
};
