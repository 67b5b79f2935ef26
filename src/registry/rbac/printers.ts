// Rows of the four RBAC kinds, as kube-apiserver prints them (printRole, printRoleBinding...):
// roles show when they were created as an RFC 3339 time; bindings show the role they refer to as
// Kind/name and, with -o wide, their subjects by kind.

import type { KubeObject } from '../../api/types.ts';
import type { ClusterRoleBinding, RoleBinding } from '../../api/rbac/types.ts';
import { ageColumn, column, CREATION_TIMESTAMP_DESCRIPTION, nameColumn } from '../printing/columns.ts';
import { timestampSince } from '../printing/duration.ts';
import type { TablePrinter } from '../printing/types.ts';

/** metav1.Time's RFC 3339 form in UTC, seconds precision. */
function createdAt(ts: string | undefined): string {
  if (!ts) return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const rolePrinter: TablePrinter = {
  columns: [nameColumn(), column('Created At', CREATION_TIMESTAMP_DESCRIPTION, { type: 'date' })],
  print: (obj: KubeObject) => ({ cells: [obj.metadata?.name ?? '', createdAt(obj.metadata?.creationTimestamp)] }),
};

/** SubjectsStrings: users, groups, service accounts (namespace/name). */
export function subjectsStrings(b: RoleBinding | ClusterRoleBinding): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const out = { users: [] as string[], groups: [] as string[], serviceAccounts: [] as string[] };
  for (const s of b.subjects ?? []) {
    if (s.kind === 'ServiceAccount') out.serviceAccounts.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') out.users.push(s.name);
    else if (s.kind === 'Group') out.groups.push(s.name);
  }
  return out;
}

export const roleBindingPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Role', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.'),
    ageColumn(),
    column('Users', 'Users in the roleBinding', { priority: 1 }),
    column('Groups', 'Groups in the roleBinding', { priority: 1 }),
    column('ServiceAccounts', 'ServiceAccounts in the roleBinding', { priority: 1 }),
  ],
  print: (obj: KubeObject, now: number) => {
    const b = obj as unknown as RoleBinding;
    const s = subjectsStrings(b);
    return {
      cells: [b.metadata?.name ?? '', `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, timestampSince(b.metadata?.creationTimestamp, now), s.users.join(', '), s.groups.join(', '), s.serviceAccounts.join(', ')],
    };
  },
};
