// Which REST collection a call addresses, and the URL paths Kubernetes gives it. The typed refs
// below mirror the built-in kinds of src/registry/kinds.ts, which the client may not import (it sits
// below the registry): test/integration/client-resources.test.ts fails when the two lists differ.

/** `apiVersion` is `v1` for the core group, else `<group>/<version>`; `resource` is the plural. */
export interface ResourceRef {
  readonly apiVersion: string;
  readonly resource: string;
}

export const Pods: ResourceRef = { apiVersion: 'v1', resource: 'pods' };
export const Nodes: ResourceRef = { apiVersion: 'v1', resource: 'nodes' };
export const Namespaces: ResourceRef = { apiVersion: 'v1', resource: 'namespaces' };
export const Events: ResourceRef = { apiVersion: 'v1', resource: 'events' };
export const PriorityClasses: ResourceRef = { apiVersion: 'scheduling.k8s.io/v1', resource: 'priorityclasses' };
export const ConfigMaps: ResourceRef = { apiVersion: 'v1', resource: 'configmaps' };
export const Secrets: ResourceRef = { apiVersion: 'v1', resource: 'secrets' };
export const ServiceAccounts: ResourceRef = { apiVersion: 'v1', resource: 'serviceaccounts' };
export const Services: ResourceRef = { apiVersion: 'v1', resource: 'services' };
export const Leases: ResourceRef = { apiVersion: 'coordination.k8s.io/v1', resource: 'leases' };
export const CustomResourceDefinitions: ResourceRef = { apiVersion: 'apiextensions.k8s.io/v1', resource: 'customresourcedefinitions' };
export const EventsV1: ResourceRef = { apiVersion: 'events.k8s.io/v1', resource: 'events' };
export const ReplicaSets: ResourceRef = { apiVersion: 'apps/v1', resource: 'replicasets' };
export const StatefulSets: ResourceRef = { apiVersion: 'apps/v1', resource: 'statefulsets' };
export const Deployments: ResourceRef = { apiVersion: 'apps/v1', resource: 'deployments' };
export const ReplicationControllers: ResourceRef = { apiVersion: 'v1', resource: 'replicationcontrollers' };
export const PodTemplates: ResourceRef = { apiVersion: 'v1', resource: 'podtemplates' };
export const PersistentVolumeClaims: ResourceRef = { apiVersion: 'v1', resource: 'persistentvolumeclaims' };
export const PersistentVolumes: ResourceRef = { apiVersion: 'v1', resource: 'persistentvolumes' };
export const StorageClasses: ResourceRef = { apiVersion: 'storage.k8s.io/v1', resource: 'storageclasses' };
export const PodDisruptionBudgets: ResourceRef = { apiVersion: 'policy/v1', resource: 'poddisruptionbudgets' };
export const SelfSubjectReviews: ResourceRef = { apiVersion: 'authentication.k8s.io/v1', resource: 'selfsubjectreviews' };
export const TokenReviews: ResourceRef = { apiVersion: 'authentication.k8s.io/v1', resource: 'tokenreviews' };
export const SubjectAccessReviews: ResourceRef = { apiVersion: 'authorization.k8s.io/v1', resource: 'subjectaccessreviews' };
export const LocalSubjectAccessReviews: ResourceRef = { apiVersion: 'authorization.k8s.io/v1', resource: 'localsubjectaccessreviews' };
export const SelfSubjectAccessReviews: ResourceRef = { apiVersion: 'authorization.k8s.io/v1', resource: 'selfsubjectaccessreviews' };
export const SelfSubjectRulesReviews: ResourceRef = { apiVersion: 'authorization.k8s.io/v1', resource: 'selfsubjectrulesreviews' };
export const ControllerRevisions: ResourceRef = { apiVersion: 'apps/v1', resource: 'controllerrevisions' };
export const DaemonSets: ResourceRef = { apiVersion: 'apps/v1', resource: 'daemonsets' };
export const Jobs: ResourceRef = { apiVersion: 'batch/v1', resource: 'jobs' };
export const CronJobs: ResourceRef = { apiVersion: 'batch/v1', resource: 'cronjobs' };
export const EndpointsRef: ResourceRef = { apiVersion: 'v1', resource: 'endpoints' };
export const EndpointSlices: ResourceRef = { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices' };
export const ClusterRoleBindings: ResourceRef = { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterrolebindings' };
export const ClusterRoles: ResourceRef = { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterroles' };
export const RoleBindings: ResourceRef = { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'rolebindings' };
export const Roles: ResourceRef = { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'roles' };

/** Collection path: `/api/v1/namespaces/default/pods`, `/apis/coordination.k8s.io/v1/leases` (namespace undefined or '' = cluster scope or all namespaces). */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  const root = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${ns}/${ref.resource}`;
}

/** Object path, optionally with a subresource: `/api/v1/namespaces/default/pods/web/status`. */
export function objectPath(ref: ResourceRef, namespace: string | undefined, name: string, subresource?: string): string {
  const p = `${collectionPath(ref, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${p}/${subresource}` : p;
}
