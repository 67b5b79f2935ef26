// The resources whose schemas and operations the OpenAPI documents describe. This is the one table
// to extend when the server grows a resource (apps/v1 later): the documents follow from it.
// Facts here (plurals, scopes, subresources, verbs) mirror the real apiserver's for these kinds.

export interface SubresourceSpec {
  name: string;
  /** Kind of the request/response body when it is not the parent's kind. */
  kind?: string;
  /** Group/version of that kind when it differs from the parent's (pods/eviction → policy/v1). */
  group?: string;
  version?: string;
  verbs: readonly ('get' | 'update' | 'patch' | 'create')[];
}

export interface ResourceSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: readonly ('get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'watch')[];
  subresources: readonly SubresourceSpec[];
}

const all = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export const servedResources: readonly ResourceSpec[] = [
  {
    group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, verbs: all,
    subresources: [
      { name: 'status', verbs: ['get', 'update', 'patch'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
    ],
  },
  {
    group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [
      { name: 'status', verbs: ['get', 'update', 'patch'] },
      { name: 'finalize', verbs: ['update'] },
    ],
  },
  {
    group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, verbs: all,
    subresources: [{ name: 'status', verbs: ['get', 'update', 'patch'] }],
  },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, verbs: all, subresources: [] },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, verbs: all, subresources: [] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, verbs: all, subresources: [] },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, verbs: all, subresources: [] },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true, verbs: all, subresources: [] },
  { group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, verbs: all, subresources: [] },
];

/** `api/v1`, `apis/coordination.k8s.io/v1`: the OpenAPI v3 index key of a group-version. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}
