// The kinds tinykube serves, in discovery order. Adding a kind is adding its folder and a line here:
// discovery, OpenAPI, tables, routing and the stores follow from this list.

import type { KindDefinition } from './kind.ts';
import { configMaps } from './core/configmaps/kind.ts';
import { events } from './core/events/kind.ts';
import { namespaces } from './core/namespaces/kind.ts';
import { nodes } from './core/nodes/kind.ts';
import { pods } from './core/pods/kind.ts';
import { secrets } from './core/secrets/kind.ts';
import { serviceAccounts } from './core/serviceaccounts/kind.ts';
import { services } from './core/services/kind.ts';
import { eventsV1 } from './events/events/kind.ts';
import { leases } from './coordination/leases/kind.ts';
import { priorityClasses } from './scheduling/priorityclasses/kind.ts';
import { customResourceDefinitions } from './apiextensions/customresourcedefinitions/kind.ts';
import { replicaSets } from './apps/replicasets/kind.ts';
import { statefulSets } from './apps/statefulsets/kind.ts';
import { deployments } from './apps/deployments/kind.ts';
import { replicationControllers } from './core/replicationcontrollers/kind.ts';
import { podTemplates } from './core/podtemplates/kind.ts';
import { persistentVolumeClaims } from './core/persistentvolumeclaims/kind.ts';
import { persistentVolumes } from './core/persistentvolumes/kind.ts';
import { storageClasses } from './storage/storageclasses/kind.ts';
import { podDisruptionBudgets } from './policy/poddisruptionbudgets/kind.ts';
import { selfSubjectReviews } from './authentication/selfsubjectreviews/kind.ts';
import { tokenReviews } from './authentication/tokenreviews/kind.ts';
import { localSubjectAccessReviews } from './authorization/localsubjectaccessreviews/kind.ts';
import { selfSubjectAccessReviews } from './authorization/selfsubjectaccessreviews/kind.ts';
import { selfSubjectRulesReviews } from './authorization/selfsubjectrulesreviews/kind.ts';
import { subjectAccessReviews } from './authorization/subjectaccessreviews/kind.ts';
import { controllerRevisions } from './apps/controllerrevisions/kind.ts';
import { daemonSets } from './apps/daemonsets/kind.ts';
import { cronJobs } from './batch/cronjobs/kind.ts';
import { jobs } from './batch/jobs/kind.ts';
import { endpoints } from './core/endpoints/kind.ts';
import { endpointSlices } from './discovery/endpointslices/kind.ts';
import { clusterRoleBindings } from './rbac/clusterrolebindings/kind.ts';
import { clusterRoles } from './rbac/clusterroles/kind.ts';
import { roleBindings } from './rbac/rolebindings/kind.ts';
import { roles } from './rbac/roles/kind.ts';

// Groups in kube-apiserver's discovery order (apps, events.k8s.io, authentication.k8s.io, authorization.k8s.io, batch, policy,
// rbac.authorization.k8s.io, storage.k8s.io, apiextensions.k8s.io, scheduling.k8s.io, coordination.k8s.io, discovery.k8s.io): `kubectl api-resources` lists them so.
export const builtinKinds: readonly KindDefinition[] = [
  pods, namespaces, nodes, events, configMaps, secrets, serviceAccounts, services, replicationControllers, podTemplates, persistentVolumes, persistentVolumeClaims, endpoints,
  deployments, replicaSets, statefulSets, daemonSets, controllerRevisions,
  eventsV1,
  selfSubjectReviews, tokenReviews,
  localSubjectAccessReviews, selfSubjectAccessReviews, selfSubjectRulesReviews, subjectAccessReviews,
  jobs, cronJobs,
  podDisruptionBudgets,
  clusterRoleBindings, clusterRoles, roleBindings, roles,
  storageClasses,
  customResourceDefinitions,
  priorityClasses,
  leases,
  endpointSlices,
];
