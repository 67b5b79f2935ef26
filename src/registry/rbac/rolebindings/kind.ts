// RoleBindings (rbac.authorization.k8s.io/v1): grant a Role or ClusterRole's rules to subjects
// within one namespace. roleRef cannot change.

import type { RoleBinding } from '../../../api/rbac/types.ts';
import { validateRoleBinding, validateRoleBindingUpdate } from '../../../api/validation/rbac.ts';
import { defineKind } from '../../kind.ts';
import { roleBindingPrinter } from '../printers.ts';

export const roleBindings = defineKind<RoleBinding>({
  identity: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true },
  strategy: { validate: validateRoleBinding, validateUpdate: validateRoleBindingUpdate },
  printer: roleBindingPrinter,
});
