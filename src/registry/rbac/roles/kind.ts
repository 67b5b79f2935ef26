// Roles (rbac.authorization.k8s.io/v1): namespaced sets of rules. Creating or changing one whose
// rules its author does not hold is refused by the RBAC escalation admission (apiserver/auth/rbac).

import type { Role } from '../../../api/rbac/types.ts';
import { validateRole, validateRoleUpdate } from '../../../api/validation/rbac.ts';
import { defineKind } from '../../kind.ts';
import { rolePrinter } from '../printers.ts';

export const roles = defineKind<Role>({
  identity: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', singular: 'role', kind: 'Role', namespaced: true },
  strategy: { validate: validateRole, validateUpdate: validateRoleUpdate },
  printer: rolePrinter,
});
