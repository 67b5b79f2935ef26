// ClusterRoleBindings (rbac.authorization.k8s.io/v1): grant a ClusterRole's rules to subjects in
// every namespace and at the cluster scope. roleRef cannot change.

import type { ClusterRoleBinding } from '../../../api/rbac/types.ts';
import { validateClusterRoleBinding, validateClusterRoleBindingUpdate } from '../../../api/validation/rbac.ts';
import { defineKind } from '../../kind.ts';
import { roleBindingPrinter } from '../printers.ts';

export const clusterRoleBindings = defineKind<ClusterRoleBinding>({
  identity: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false },
  strategy: { validate: validateClusterRoleBinding, validateUpdate: validateClusterRoleBindingUpdate },
  printer: roleBindingPrinter,
});
