// kube-apiserver's bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): the
// default ClusterRoles and ClusterRoleBindings, and the roles of the controllers tinykube runs,
// created at start and reconciled as the rbac/bootstrap-roles post-start hook does: a missing object
// is created; an existing one whose `rbac.authorization.kubernetes.io/autoupdate` annotation is not
// "false" gets the rules (subjects) it lacks, its missing labels and annotations, and the
// aggregation selectors it lacks. Rules are never removed.

import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../../api/rbac/types.ts';
import type { KubeObject } from '../../../api/types.ts';
import { covers } from '../../../api/rbac/rules.ts';
import { BOOTSTRAPPERS_GROUP as BOOTSTRAPPERS } from '../../../api/certificates/request.ts';
import { StatusError } from '../../../util/status.ts';
import type { Store } from '../../../registry/store.ts';

const GROUP = 'rbac.authorization.k8s.io';
export const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' } as const;
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const EVENTS: PolicyRule = { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] };

const r = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule => ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

function role(name: string, rules: PolicyRule[] | null, extra: { labels?: Record<string, string>; aggregateTo?: string } = {}): ClusterRole {
  const labels: Record<string, string> = { ...BOOTSTRAP_LABELS, ...extra.labels };
  const out: ClusterRole = { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: { name, labels, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } } };
  if (rules) out.rules = rules;
  if (extra.aggregateTo) out.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${extra.aggregateTo}`]: 'true' } }] };
  return out;
}

const aggregateTo = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [`rbac.authorization.k8s.io/aggregate-to-${n}`, 'true']));

/** ClusterRoles(): the default roles (system:heapster and kubelet-api-admin left out). */
export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    role('cluster-admin', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    role('admin', null, { aggregateTo: 'admin' }),
    role('edit', null, { aggregateTo: 'edit', labels: aggregateTo('admin') }),
    role('view', null, { aggregateTo: 'view', labels: aggregateTo('edit') }),
    role('system:aggregate-to-admin', [r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']), r([...READ, ...WRITE].sort(), [GROUP], ['rolebindings', 'roles'])], { labels: aggregateTo('admin') }),
    role('system:aggregate-to-edit', [
      r(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
      r(['impersonate'], [''], ['serviceaccounts']),
      r(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
      r(['create'], [''], ['pods/eviction']),
      r(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
      r(['create'], [''], ['serviceaccounts/token']),
      r(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
      r(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
      r(WRITE, ['batch'], ['cronjobs', 'jobs']),
      r(WRITE, ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
      r(WRITE, ['policy'], ['poddisruptionbudgets']),
      r(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
      r(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ['coordination.k8s.io'], ['leases']),
    ], { labels: aggregateTo('edit') }),
    role('system:aggregate-to-view', [
      r(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
      r(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
      r(READ, [''], ['namespaces']),
      r(READ, ['discovery.k8s.io'], ['endpointslices']),
      r(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
      r(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      r(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      r(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
      r(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      r(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
    ], { labels: aggregateTo('view') }),
    role('system:auth-delegator', [r(['create'], ['authentication.k8s.io'], ['tokenreviews']), r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])]),
    role('system:basic-user', [r(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), r(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])]),
    // The CSR approver asks a SubjectAccessReview for these virtual subresources (csrapproving).
    role('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])]),
    role('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])]),
    role('system:certificates.k8s.io:kube-apiserver-client-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client'])]),
    role('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet'])]),
    role('system:certificates.k8s.io:kubelet-serving-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kubelet-serving'])]),
    role('system:certificates.k8s.io:legacy-unknown-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/legacy-unknown'])]),
    role('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    role('system:kube-aggregator', [r(READ, [''], ['endpoints', 'services'])]),
    role('system:kube-controller-manager', [
      EVENTS,
      r(['create'], ['coordination.k8s.io'], ['leases']),
      r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
      r(['create'], [''], ['secrets', 'serviceaccounts']),
      r(['delete'], [''], ['secrets']),
      r(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      r(['update'], [''], ['secrets', 'serviceaccounts']),
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      r(['list', 'watch'], ['*'], ['*']),
      r(['create'], [''], ['serviceaccounts/token']),
    ]),
    role('system:kube-dns', [r(['list', 'watch'], [''], ['endpoints', 'services'])]),
    role('system:kube-scheduler', [
      EVENTS,
      r(['create'], ['coordination.k8s.io'], ['leases']),
      r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
      r(READ, [''], ['nodes']),
      r(['delete', 'get', 'list', 'watch'], [''], ['pods']),
      r(['create'], [''], ['bindings', 'pods/binding']),
      r(['patch', 'update'], [''], ['pods/status']),
      r(READ, [''], ['replicationcontrollers', 'services']),
      r(READ, ['apps', 'extensions'], ['replicasets']),
      r(READ, ['apps'], ['statefulsets']),
      r(READ, ['policy'], ['poddisruptionbudgets']),
      r(READ, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      r(READ, ['storage.k8s.io'], ['csinodes']),
      r(READ, [''], ['namespaces']),
      r(READ, ['storage.k8s.io'], ['csidrivers']),
      r(READ, ['storage.k8s.io'], ['csistoragecapacities']),
    ]),
    role('system:monitoring', [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])]),
    role('system:node', [
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
      r(READ, [''], ['services']),
      r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
      r(['patch', 'update'], [''], ['nodes/status']),
      r(['patch', 'update'], [''], ['nodes']),
      r(['create', 'patch', 'update'], [''], ['events']),
      r(READ, [''], ['pods']),
      r(['create', 'delete'], [''], ['pods']),
      r(['patch', 'update'], [''], ['pods/status']),
      r(['create'], [''], ['pods/eviction']),
      r(READ, [''], ['configmaps', 'secrets']),
      r(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
      r(['get'], [''], ['endpoints']),
      r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      r(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
      r(['get'], ['storage.k8s.io'], ['volumeattachments']),
      r(['create'], [''], ['serviceaccounts/token']),
      r(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
      r(READ, ['storage.k8s.io'], ['csidrivers']),
      r(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
      r(READ, ['node.k8s.io'], ['runtimeclasses']),
    ]),
    role('system:node-bootstrapper', [r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
    role('system:node-proxier', [r(['list', 'watch'], [''], ['endpoints', 'services']), r(READ, [''], ['nodes']), EVENTS, r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices'])]),
    role('system:persistent-volume-provisioner', [
      r(['create', 'delete', 'get', 'list', 'watch'], [''], ['persistentvolumes']),
      r(['get', 'list', 'update', 'watch'], [''], ['persistentvolumeclaims']),
      r(READ, ['storage.k8s.io'], ['storageclasses']),
      r(['watch'], [''], ['events']),
      EVENTS,
    ]),
    role('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    role('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks'])]),
    role('system:volume-scheduler', [r(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']), r(READ, ['storage.k8s.io'], ['storageclasses']), r(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims'])]),
    ...controllerRoles(),
    // Not Kubernetes': what a tinykube agent does as its node (system:node:<name>) beyond the Node
    // authorizer's rules, because it also runs what kube runs under identities of their own: the
    // service proxy (kube-proxy, system:node-proxier) and cluster DNS (CoreDNS's service account)
    // read Services, Endpoints and EndpointSlices; the local-path deleter (k3s' provisioner) removes
    // released volumes. Bound to the group system:nodes (nodes' certificates; the join token is not in it).
    role(AGENT_ROLE, [
      r(['list', 'watch'], [''], ['endpoints']),
      r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
      r(['delete', 'get', 'list', 'watch'], [''], ['persistentvolumes']),
      // All Nodes: the pod network (src/overlay) routes to every other node's pod CIDR, an agent
      // without node IPAM picks a free pod CIDR, and `tinykube simulate` (as its first node) picks
      // free address slots; the Node authorizer lets a node read only its own. The proxy and DNS read
      // Services.
      r(['list', 'watch'], [''], ['nodes', 'services']),
      EVENTS,
    ]),
  ];
}

/** What tinykube's agents need beyond the Node authorizer (see bootstrapClusterRoles). */
export const AGENT_ROLE = 'system:tinykube:agent';

/** controller_policy.go's roles, for the controllers tinykube has: name → rules. */
const CONTROLLERS: Record<string, PolicyRule[]> = {
  'certificate-controller': [
    r(['delete', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    r(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status']),
    r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
    r(['sign'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    EVENTS,
  ],
  'clusterrole-aggregation-controller': [r(['escalate', 'get', 'list', 'patch', 'update', 'watch'], [GROUP], ['clusterroles'])],
  'cronjob-controller': [r(['get', 'list', 'update', 'watch'], ['batch'], ['cronjobs']), r(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['batch'], ['jobs']), r(['update'], ['batch'], ['cronjobs/status']), r(['update'], ['batch'], ['cronjobs/finalizers']), r(['delete', 'list', 'watch'], [''], ['pods']), EVENTS],
  'daemon-set-controller': [r(READ, ['apps', 'extensions'], ['daemonsets']), r(['update'], ['apps', 'extensions'], ['daemonsets/status']), r(['update'], ['apps', 'extensions'], ['daemonsets/finalizers']), r(['list', 'watch'], [''], ['nodes']), r(['create', 'delete', 'list', 'patch', 'watch'], [''], ['pods']), r(['create'], [''], ['pods/binding']), r(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps'], ['controllerrevisions']), EVENTS],
  'deployment-controller': [r(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['deployments']), r(['update'], ['apps', 'extensions'], ['deployments/status']), r(['update'], ['apps', 'extensions'], ['deployments/finalizers']), r(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']), r(['get', 'list', 'update', 'watch'], [''], ['pods']), EVENTS],
  'disruption-controller': [r(READ, ['apps', 'extensions'], ['deployments']), r(READ, ['apps', 'extensions'], ['replicasets']), r(READ, [''], ['replicationcontrollers']), r(READ, ['policy'], ['poddisruptionbudgets']), r(READ, ['apps'], ['statefulsets']), r(['update'], ['policy'], ['poddisruptionbudgets/status']), r(['patch', 'update'], [''], ['pods/status']), r(['get'], ['*'], ['*/scale']), EVENTS],
  'endpoint-controller': [r(READ, [''], ['pods', 'services']), r(['create', 'delete', 'get', 'list', 'update', 'watch'], [''], ['endpoints']), r(['create'], [''], ['endpoints/restricted']), EVENTS],
  'endpointslice-controller': [r(READ, [''], ['nodes', 'pods', 'services']), r(['update'], [''], ['services/finalizers']), r(['create', 'delete', 'get', 'list', 'update', 'watch'], ['discovery.k8s.io'], ['endpointslices']), EVENTS],
  'ephemeral-volume-controller': [r(READ, [''], ['pods']), r(['update'], [''], ['pods/finalizers']), r(['create', 'get', 'list', 'watch'], [''], ['persistentvolumeclaims']), EVENTS],
  'expand-controller': [r(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']), r(['patch', 'update'], [''], ['persistentvolumeclaims/status']), r(READ, [''], ['persistentvolumeclaims']), EVENTS],
  'generic-garbage-collector': [r(['delete', 'get', 'list', 'patch', 'update', 'watch'], ['*'], ['*']), EVENTS],
  'job-controller': [r(['get', 'list', 'patch', 'update', 'watch'], ['batch'], ['jobs']), r(['update'], ['batch'], ['jobs/status']), r(['update'], ['batch'], ['jobs/finalizers']), r(['create', 'delete', 'list', 'patch', 'watch'], [''], ['pods']), EVENTS],
  'namespace-controller': [r(['delete', 'get', 'list', 'watch'], [''], ['namespaces']), r(['update'], [''], ['namespaces/finalize', 'namespaces/status']), r(['delete', 'deletecollection', 'get', 'list', 'watch'], ['*'], ['*'])],
  'node-controller': [r(['delete', 'get', 'list', 'patch', 'update', 'watch'], [''], ['nodes']), r(['patch', 'update'], [''], ['nodes/status']), r(['patch', 'update'], [''], ['pods/status']), r(['delete', 'get', 'list', 'watch'], [''], ['pods']), EVENTS],
  'persistent-volume-binder': [r(['create', 'delete', 'get', 'list', 'update', 'watch'], [''], ['persistentvolumes']), r(['update'], [''], ['persistentvolumes/status']), r(['get', 'list', 'update', 'watch'], [''], ['persistentvolumeclaims']), r(['update'], [''], ['persistentvolumeclaims/status']), r(['create', 'delete', 'get', 'list', 'watch'], [''], ['pods']), r(READ, ['storage.k8s.io'], ['storageclasses']), r(['list', 'watch'], [''], ['nodes']), EVENTS, r(['watch'], [''], ['events'])],
  'pod-garbage-collector': [r(['delete', 'list', 'watch'], [''], ['pods']), r(READ, [''], ['nodes']), r(['patch'], [''], ['pods/status'])],
  'pv-protection-controller': [r(['get', 'list', 'update', 'watch'], [''], ['persistentvolumes']), EVENTS],
  'pvc-protection-controller': [r(['get', 'list', 'update', 'watch'], [''], ['persistentvolumeclaims']), r(['update'], [''], ['persistentvolumeclaims/status']), r(READ, [''], ['pods']), EVENTS],
  'replicaset-controller': [r(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']), r(['update'], ['apps', 'extensions'], ['replicasets/status']), r(['update'], ['apps', 'extensions'], ['replicasets/finalizers']), r(['create', 'delete', 'list', 'patch', 'watch'], [''], ['pods']), EVENTS],
  'replication-controller': [r(['get', 'list', 'update', 'watch'], [''], ['replicationcontrollers']), r(['update'], [''], ['replicationcontrollers/status']), r(['update'], [''], ['replicationcontrollers/finalizers']), r(['create', 'delete', 'list', 'patch', 'watch'], [''], ['pods']), EVENTS],
  'root-ca-cert-publisher': [r(['create', 'update'], [''], ['configmaps']), EVENTS],
  'service-account-controller': [r(['create'], [''], ['serviceaccounts']), EVENTS],
  'service-controller': [r(READ, [''], ['services']), r(['patch', 'update'], [''], ['services/status']), r(['list', 'watch'], [''], ['nodes']), EVENTS],
  'statefulset-controller': [r(['list', 'watch'], [''], ['pods']), r(READ, ['apps'], ['statefulsets']), r(['update'], ['apps'], ['statefulsets/status']), r(['update'], ['apps'], ['statefulsets/finalizers']), r(['create', 'delete', 'get', 'patch', 'update'], [''], ['pods']), r(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps'], ['controllerrevisions']), r(['create', 'get', 'list', 'watch'], [''], ['persistentvolumeclaims']), r(['delete', 'update'], [''], ['persistentvolumeclaims']), r(['update'], [''], ['pods/finalizers']), EVENTS],
  'ttl-after-finished-controller': [r(['delete', 'get', 'list', 'watch'], ['batch'], ['jobs']), EVENTS],
};

/**
 * Not Kubernetes': the least each of tinykube's own controllers needs (they write through their own
 * kube-system accounts like kube's; shared informers read for them), named as kube names its controllers'.
 */
const TINYKUBE_CONTROLLERS: Record<string, PolicyRule[]> = {
  // k3s' ServiceLB: LoadBalancer Services get the nodes' addresses in their status.
  'service-lb-controller': [r(['update'], [''], ['services/status']), EVENTS],
  // Makes a hostPath volume for a claim and drops a selected node it cannot use.
  'local-path-provisioner': [r(['create'], [''], ['persistentvolumes']), r(['patch'], [''], ['persistentvolumeclaims']), EVENTS],
  // Grows local-path volumes (an expand-controller for the built-in provisioner).
  'local-path-resizer': [r(['update'], [''], ['persistentvolumes']), r(['update'], [''], ['persistentvolumeclaims/status']), EVENTS],
};

/** The account the CSR approver runs as also keeps k3s-style node passwords (kube-system Secrets) and reads the Nodes they belong to. */
const CERTIFICATE_CONTROLLER = 'certificate-controller';
const NODE_PASSWORDS_ROLE = 'system:tinykube:node-passwords';

function controllerRoles(): ClusterRole[] {
  return [
    ...Object.entries({ ...CONTROLLERS, ...TINYKUBE_CONTROLLERS }).map(([name, rules]) => role(`system:controller:${name}`, rules)),
    role(NODE_PASSWORDS_ROLE, [r(['get'], [''], ['nodes'])]),
  ];
}

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: GROUP, name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: GROUP, name });

function binding(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: roleName },
    ...(subjects.length ? { subjects } : {}),
  };
}

/**
 * Not Kubernetes': subjects earlier tinykube versions put in a default binding and no longer do,
 * removed from it at start (unless its autoupdate annotation is "false"), since reconciliation itself
 * only adds. system:node was bound to the group system:nodes, then to the join token's user, before
 * the Node authorizer and per-node certificates: kept, they would let every node bypass the Node
 * authorizer. Subjects an administrator added stay.
 */
export const RETIRED_SUBJECTS: Readonly<Record<string, readonly Subject[]>> = {
  'system:node': [group('system:nodes'), user('system:node-bootstrap')],
  // The join token's user before it was a bootstrap token's (system:bootstrap:<id> in system:bootstrappers).
  'system:node-bootstrapper': [user('system:node-bootstrap')],
  'system:tinykube:node-autoapprove-bootstrap': [user('system:node-bootstrap')],
};

/** ClusterRoleBindings() and the controllers' bindings to their kube-system service accounts. */
export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    binding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    binding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
    binding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    binding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    binding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    // Kubernetes keeps this binding with no subjects: the Node authorizer decides for system:node:<name>
    // users, limited to what their pods use; the join token's user only asks for a node's certificate.
    binding('system:node', 'system:node', []),
    binding(AGENT_ROLE, AGENT_ROLE, [group('system:nodes')]),
    // As kubeadm binds it (kubeadm:kubelet-bootstrap) for bootstrap tokens, which the join token is:
    // it may create and read CertificateSigningRequests, nothing else.
    binding('system:node-bootstrapper', 'system:node-bootstrapper', [group(BOOTSTRAPPERS)]),
    binding('system:node-proxier', 'system:node-proxier', [user('system:kube-proxy')]),
    // Not kube-apiserver's but what kubeadm makes at init (kubeadm:node-autoapprove-bootstrap and
    // kubeadm:node-autoapprove-certificate-rotation), so the CSR approver's SubjectAccessReviews allow
    // a joining node's client certificate (bootstrap tokens' group, the join token's)
    // and a node's renewal of its own. To stop automatic approval, set the autoupdate annotation to
    // "false" and remove the subjects.
    binding('system:tinykube:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [group(BOOTSTRAPPERS)]),
    binding('system:tinykube:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [group('system:nodes')]),
    binding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
    binding('system:kube-dns', 'system:kube-dns', [{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }]),
    binding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
    binding('system:volume-scheduler', 'system:volume-scheduler', [user('system:kube-scheduler')]),
    binding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    // Not Kubernetes' default (there an administrator binds the role for relying parties outside the
    // cluster): tinykube serves issuer discovery to anyone, as its design says, through this binding
    // an administrator may delete.
    binding('system:tinykube:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:authenticated'), group('system:unauthenticated')]),
    ...Object.keys({ ...CONTROLLERS, ...TINYKUBE_CONTROLLERS }).map((c) => binding(`system:controller:${c}`, `system:controller:${c}`, [{ kind: 'ServiceAccount', name: c, namespace: 'kube-system' }])),
    binding(NODE_PASSWORDS_ROLE, NODE_PASSWORDS_ROLE, [{ kind: 'ServiceAccount', name: CERTIFICATE_CONTROLLER, namespace: 'kube-system' }]),
  ];
}

const leaderLocking = [r(['create', 'get', 'list', 'update', 'watch'], ['coordination.k8s.io'], ['leases']), r(['create', 'get', 'list', 'update', 'watch'], ['coordination.k8s.io'], ['leasecandidates'])];

/** NamespaceRoles() in kube-system that tinykube's components can use (the bootstrap-signer, token-cleaner and cloud-provider ones are left out with their controllers). */
export function bootstrapNamespaceRoles(): Role[] {
  const nsRole = (name: string, rules: PolicyRule[]): Role => ({
    apiVersion: `${GROUP}/v1`,
    kind: 'Role',
    metadata: { name, namespace: 'kube-system', labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    rules,
  });
  return [
    nsRole('extension-apiserver-authentication-reader', [r(READ, [''], ['configmaps'], ['extension-apiserver-authentication'])]),
    nsRole('system::leader-locking-kube-controller-manager', leaderLocking),
    nsRole('system::leader-locking-kube-scheduler', leaderLocking),
    // Not Kubernetes': node passwords (see NODE_PASSWORDS_ROLE), only in kube-system.
    nsRole(NODE_PASSWORDS_ROLE, [r(['create', 'get', 'list', 'patch', 'update', 'watch'], [''], ['secrets'])]),
  ];
}

/** NamespaceRoleBindings() for those roles. */
export function bootstrapNamespaceRoleBindings(): RoleBinding[] {
  const nsBinding = (name: string, roleName: string, subjects: Subject[]): RoleBinding => ({
    apiVersion: `${GROUP}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace: 'kube-system', labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: GROUP, kind: 'Role', name: roleName },
    subjects,
  });
  const sa = (name: string): Subject => ({ kind: 'ServiceAccount', name, namespace: 'kube-system' });
  return [
    nsBinding('system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', [user('system:kube-controller-manager'), user('system:kube-scheduler')]),
    nsBinding('system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-controller-manager', [user('system:kube-controller-manager'), sa('kube-controller-manager'), sa('leader-election-controller')]),
    nsBinding('system::leader-locking-kube-scheduler', 'system::leader-locking-kube-scheduler', [user('system:kube-scheduler'), sa('kube-scheduler')]),
    nsBinding(NODE_PASSWORDS_ROLE, NODE_PASSWORDS_ROLE, [sa(CERTIFICATE_CONTROLLER)]),
  ];
}

/** ReconcileRole's result for one ClusterRole: the object to write, or null when it is as wanted. */
export function reconcileClusterRole<T extends ClusterRole | Role>(existing: T, expected: T): T | null {
  if (existing.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return null;
  const out: T = structuredClone(existing);
  let changed = mergeMeta(out, expected);
  const { missing } = covers(existing.rules ?? [], expected.rules ?? []);
  if (missing.length) {
    out.rules = [...(existing.rules ?? []), ...missing];
    changed = true;
  }
  const want = ('aggregationRule' in expected ? expected.aggregationRule?.clusterRoleSelectors : undefined) ?? [];
  if (want.length) {
    // Only ClusterRoles have selectors to want.
    const agg = out as ClusterRole;
    const have = agg.aggregationRule?.clusterRoleSelectors ?? [];
    const lacking = want.filter((w) => !have.some((h) => JSON.stringify(h) === JSON.stringify(w)));
    if (lacking.length) {
      agg.aggregationRule = { clusterRoleSelectors: [...have, ...lacking] };
      changed = true;
    }
  }
  return changed ? out : null;
}

/** ReconcileRoleBinding's result: the binding to write (null = as wanted), or `recreate` when roleRef differs. */
export function reconcileClusterRoleBinding<T extends ClusterRoleBinding | RoleBinding>(existing: T, expected: T): T | 'recreate' | null {
  if (existing.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return null;
  const a = existing.roleRef;
  const b = expected.roleRef;
  if (a.apiGroup !== b.apiGroup || a.kind !== b.kind || a.name !== b.name) return 'recreate';
  const out: T = structuredClone(existing);
  let changed = mergeMeta(out, expected);
  const key = (s: Subject) => `${s.kind}/${s.apiGroup ?? ''}/${s.namespace ?? ''}/${s.name}`;
  const retired = new Set((expected.kind === 'ClusterRoleBinding' ? (RETIRED_SUBJECTS[expected.metadata?.name ?? ''] ?? []) : []).map(key));
  if (retired.size && (out.subjects ?? []).some((s) => retired.has(key(s)))) {
    const kept = out.subjects!.filter((s) => !retired.has(key(s)));
    if (kept.length) out.subjects = kept;
    else delete out.subjects;
    changed = true;
  }
  const have = new Set((out.subjects ?? []).map(key));
  const lacking = (expected.subjects ?? []).filter((s) => !have.has(key(s)));
  if (lacking.length) {
    out.subjects = [...(out.subjects ?? []), ...lacking];
    changed = true;
  }
  return changed ? out : null;
}

/** Labels and annotations the expected object has and the existing one lacks (existing values win). */
function mergeMeta(out: ClusterRole | ClusterRoleBinding | Role | RoleBinding, expected: ClusterRole | ClusterRoleBinding | Role | RoleBinding): boolean {
  let changed = false;
  const meta = (out.metadata ??= {});
  for (const field of ['labels', 'annotations'] as const) {
    for (const [k, v] of Object.entries(expected.metadata?.[field] ?? {})) {
      const m = (meta[field] ??= {});
      if (!(k in m)) {
        m[k] = v;
        changed = true;
      }
    }
  }
  return changed;
}

export interface BootstrapOutcome {
  created: string[];
  updated: string[];
  failed: Array<{ name: string; reason: string }>;
}

export interface PolicyStores {
  clusterRoles: Store;
  clusterRoleBindings: Store;
  roles: Store;
  roleBindings: Store;
}

/** The post-start hook: every default ClusterRole and ClusterRoleBinding, then the kube-system Roles and RoleBindings, made or reconciled. */
export async function ensureBootstrapPolicy(stores: PolicyStores): Promise<BootstrapOutcome> {
  type Result = { created: string } | { updated: string } | { failed: { name: string; reason: string } } | null;
  const apply = async <T extends ClusterRole | ClusterRoleBinding | Role | RoleBinding>(store: Store, want: T, reconcile: (e: T, w: T) => T | 'recreate' | null): Promise<Result> => {
    const name = want.metadata!.name!;
    const ns = want.metadata!.namespace;
    const label = ns ? `${ns}/${name}` : name;
    try {
      const existing = (await store.tryGet(ns, name)) as T | null;
      if (!existing) {
        await store.create(ns, structuredClone(want) as KubeObject);
        return { created: label };
      }
      const next = reconcile(existing, want);
      if (next === null) return null;
      if (next === 'recreate') {
        await store.delete(ns, name);
        await store.create(ns, structuredClone(want) as KubeObject);
      } else {
        await store.update(ns, name, next as KubeObject);
      }
      return { updated: label };
    } catch (err) {
      // Another API server wrote it at the same moment: its write is as good as ours.
      if (err instanceof StatusError && err.code === 409) return null;
      return { failed: { name: label, reason: err instanceof Error ? err.message : String(err) } };
    }
  };
  // All at once: the store commits the writes of one turn together, with one fsync. One after the
  // other, the ~130 objects of a new cluster were as many commits, ~0.4-0.55 s of waiting (for 0.13 s
  // of CPU) before the API server could serve (measured on `up --nodes 3`). Each object is its own.
  const results = await Promise.all([
    ...bootstrapClusterRoles().map((r) => apply(stores.clusterRoles, r, reconcileClusterRole)),
    ...bootstrapClusterRoleBindings().map((b) => apply(stores.clusterRoleBindings, b, reconcileClusterRoleBinding)),
    ...bootstrapNamespaceRoles().map((r) => apply(stores.roles, r, reconcileClusterRole)),
    ...bootstrapNamespaceRoleBindings().map((b) => apply(stores.roleBindings, b, reconcileClusterRoleBinding)),
  ]);
  const out: BootstrapOutcome = { created: [], updated: [], failed: [] };
  for (const r of results) {
    if (r === null) continue;
    if ('created' in r) out.created.push(r.created);
    else if ('updated' in r) out.updated.push(r.updated);
    else out.failed.push(r.failed);
  }
  return out;
}
