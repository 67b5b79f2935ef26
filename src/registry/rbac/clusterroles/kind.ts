// ClusterRoles (rbac.authorization.k8s.io/v1): cluster-wide sets of rules, or with an
// aggregationRule the union of the ClusterRoles its selectors match (kept by the clusterrole
// aggregation controller).

import type { ClusterRole } from '../../../api/rbac/types.ts';
import { validateClusterRole, validateClusterRoleUpdate } from '../../../api/validation/rbac.ts';
import { defineKind } from '../../kind.ts';
import { rolePrinter } from '../printers.ts';

export const clusterRoles = defineKind<ClusterRole>({
  identity: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false },
  strategy: { validate: validateClusterRole, validateUpdate: validateClusterRoleUpdate },
  printer: rolePrinter,
});
