// The Node authorizer (kube's plugin/pkg/auth/authorizer/node/node_authorizer.go, with the
// AuthorizeNodeWithSelectors behaviour kube 1.32 has on by default). For a user system:node:<name>:
// - secrets, configmaps: get, and list/watch of one object by name (a metadata.name field
//   selector), only when a pod bound to the node uses the object;
// - persistentvolumeclaims, persistentvolumes: get of the node's pods' claims and their volumes;
//   pvc status updates likewise;
// - serviceaccounts/token: create for the service account of a pod on the node (NodeRestriction
//   then checks the token is bound to that pod);
// - leases: its own in kube-node-lease; csinodes: its own;
// - nodes: read its own; create/update/patch and status updates go on to NodeRestriction;
// - pods: get of its pods, list/watch with spec.nodeName=<node>; create/delete (mirror pods),
//   status updates and evictions go on to NodeRestriction;
// - everything else: the system:node role's rules, evaluated here without RBAC (events, services,
//   endpoints, CSRs, reviews...).
// Anything not allowed is "no opinion" with kube's reason, so a later authorizer (RBAC) may still
// allow it. Users that are not nodes get no opinion at all.
//
// authorize() is called concurrently for many requests and only reads the graph.

import type { FieldRequirement } from '../../../api/fields.ts';
import type { Registry } from '../../../registry/registry.ts';
import type { Clock } from '../../../util/clock.ts';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer, RuleResolver } from '../authorizer.ts';
import type { User } from '../user.ts';
import { NodeGraph, type VertexType } from './graph.ts';
import { nodeIdentity } from './identity.ts';
import { GraphPopulator } from './populator.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const ALLOW: AuthorizationResult = { decision: 'allow', reason: '' };
const noOpinion = (reason = ''): AuthorizationResult => ({ decision: 'noOpinion', reason });

/** A policy rule without wildcards or resource names (the only shape the node rules need). */
interface NodeRule {
  verbs: readonly string[];
  apiGroups: readonly string[];
  resources: readonly string[];
}

const READ = ['get', 'list', 'watch'];

/**
 * bootstrappolicy.NodeRules() of kube 1.32 (the system:node ClusterRole), for the resources the
 * graph does not subdivide. Rules for kinds tinykube does not serve are kept: they only match
 * requests that would be 404s.
 */
export const NODE_RULES: readonly NodeRule[] = [
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'] },
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'localsubjectaccessreviews'] },
  { verbs: READ, apiGroups: [''], resources: ['services'] },
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes/status'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['create', 'update', 'patch'], apiGroups: [''], resources: ['events'] },
  { verbs: READ, apiGroups: [''], resources: ['pods'] },
  { verbs: ['create', 'delete'], apiGroups: [''], resources: ['pods'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['pods/status'] },
  { verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] },
  { verbs: READ, apiGroups: [''], resources: ['secrets', 'configmaps'] },
  { verbs: ['get'], apiGroups: [''], resources: ['persistentvolumeclaims', 'persistentvolumes'] },
  { verbs: ['get'], apiGroups: [''], resources: ['endpoints'] },
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] },
  { verbs: ['get', 'create', 'update', 'patch', 'delete'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  { verbs: ['get'], apiGroups: ['storage.k8s.io'], resources: ['volumeattachments'] },
  { verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] },
  { verbs: ['get', 'update', 'patch'], apiGroups: [''], resources: ['persistentvolumeclaims/status'] },
  { verbs: ['get', 'watch', 'list'], apiGroups: ['storage.k8s.io'], resources: ['csidrivers'] },
  { verbs: ['get', 'create', 'update', 'patch', 'delete'], apiGroups: ['storage.k8s.io'], resources: ['csinodes'] },
  { verbs: READ, apiGroups: ['node.k8s.io'], resources: ['runtimeclasses'] },
];

function rulesAllow(a: AuthorizationAttributes, rules: readonly NodeRule[]): boolean {
  if (!a.isResourceRequest) return false;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return rules.some((r) => r.verbs.includes(a.verb) && r.apiGroups.includes(a.apiGroup) && r.resources.includes(resource));
}

function hasRequirement(reqs: readonly FieldRequirement[] | undefined, field: string, value: string): boolean {
  return (reqs ?? []).some((r) => r.field === field && r.operator === '=' && r.value === value);
}

export class NodeAuthorizer implements Authorizer, RuleResolver {
  readonly graph: NodeGraph;
  readonly #populator: GraphPopulator | undefined;

  /** With a registry, start() fills the graph from the stored pods and PVs; without one, tests fill `graph`. */
  constructor(opts: { graph?: NodeGraph; registry?: Registry; clock?: Clock } = {}) {
    this.graph = opts.graph ?? new NodeGraph();
    this.#populator = opts.registry
      ? new GraphPopulator(this.graph, { pods: opts.registry.store('pods'), persistentVolumes: opts.registry.store('persistentvolumes') }, opts.clock)
      : undefined;
  }

  #synced: Promise<void> = Promise.resolve();

  /** Fills the graph; node requests wait for this first sync (kube serves once its informers have synced). */
  start(): Promise<void> {
    const synced = this.#populator?.start() ?? Promise.resolve();
    this.#synced = synced.catch(() => undefined);
    return synced;
  }

  stop(): void {
    this.#populator?.stop();
  }

  /** A node's permissions depend on its pods, so they are not listed: incomplete, as kube says. */
  async rulesFor(user: User): ReturnType<RuleResolver['rulesFor']> {
    if (nodeIdentity(user).isNode) return { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'node authorizer does not support user rule resolution' };
    return { resourceRules: [], nonResourceRules: [], incomplete: false };
  }

  authorize(a: AuthorizationAttributes): AuthorizationResult | Promise<AuthorizationResult> {
    const { isNode, nodeName } = nodeIdentity(a.user);
    if (!isNode) return noOpinion();
    if (!nodeName) return noOpinion(`unknown node for user ${JSON.stringify(a.user.name)}`);
    return this.#synced.then(() => this.#decide(nodeName, a));
  }

  #decide(nodeName: string, a: AuthorizationAttributes): AuthorizationResult {
    if (a.isResourceRequest) {
      switch (`${a.apiGroup}/${a.resource}`) {
        case '/secrets':
          return this.#readNamespacedObject(nodeName, 'secret', a);
        case '/configmaps':
          return this.#readNamespacedObject(nodeName, 'configmap', a);
        case '/persistentvolumeclaims':
          return a.subresource === 'status' ? this.#statusUpdate(nodeName, 'pvc', a) : this.#get(nodeName, 'pvc', a);
        case '/persistentvolumes':
          return this.#get(nodeName, 'pv', a);
        case 'storage.k8s.io/volumeattachments':
          // tinykube has no VolumeAttachments (no CSI attach): none is related to a node.
          return a.verb !== 'get' ? noOpinion('can only get individual resources of this type') : this.#authorizeNamed(nodeName, undefined, a);
        case '/serviceaccounts':
          return this.#createToken(nodeName, a);
        case 'coordination.k8s.io/leases':
          return authorizeLease(nodeName, a);
        case 'storage.k8s.io/csinodes':
          return authorizeCSINode(nodeName, a);
        case '/nodes':
          return authorizeNode(nodeName, a);
        case '/pods':
          return this.#authorizePod(nodeName, a);
      }
    }
    return rulesAllow(a, NODE_RULES) ? ALLOW : noOpinion();
  }

  #statusUpdate(node: string, type: VertexType, a: AuthorizationAttributes): AuthorizationResult {
    if (a.verb !== 'update' && a.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    if (a.subresource !== 'status') return noOpinion('can only update status subresource');
    return this.#authorizeNamed(node, type, a);
  }

  #get(node: string, type: VertexType, a: AuthorizationAttributes): AuthorizationResult {
    if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (a.subresource) return noOpinion('cannot get subresource');
    return this.#authorizeNamed(node, type, a);
  }

  #readNamespacedObject(node: string, type: VertexType, a: AuthorizationAttributes): AuthorizationResult {
    if (!READ.includes(a.verb)) return noOpinion('can only read resources of this type');
    if (a.subresource) return noOpinion('cannot read subresource');
    if (!a.namespace) return noOpinion('can only read namespaced object of this type');
    return this.#authorizeNamed(node, type, a);
  }

  /** A named object related to the node through the graph; `type` undefined = a kind the graph never holds. */
  #authorizeNamed(node: string, type: VertexType | undefined, a: AuthorizationAttributes): AuthorizationResult {
    if (!a.name) return noOpinion('No Object name found');
    if (type && this.graph.related(node, type, a.namespace, a.name)) return ALLOW;
    return noOpinion(`no relationship found between node '${node}' and this object`);
  }

  #createToken(node: string, a: AuthorizationAttributes): AuthorizationResult {
    if (a.verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    if (this.graph.related(node, 'serviceaccount', a.namespace, a.name)) return ALLOW;
    return noOpinion(`no relationship found between node '${node}' and this object`);
  }

  #authorizePod(node: string, a: AuthorizationAttributes): AuthorizationResult {
    switch (a.subresource) {
      case '':
        switch (a.verb) {
          case 'get':
            return this.#get(node, 'pod', a);
          case 'list':
          case 'watch':
            if (hasRequirement(a.fieldSelector, 'spec.nodeName', node)) return ALLOW;
            // A read of one pod known to be the node's (a metadata.name field selector).
            if (a.name) return this.#authorizeNamed(node, 'pod', a);
            return noOpinion('can only list/watch pods with spec.nodeName field selector');
          case 'create':
          case 'delete':
            // Mirror pods: NodeRestriction limits them to pods bound to the node.
            return ALLOW;
        }
        break;
      case 'status':
        // NodeRestriction limits status updates to pods bound to the node.
        if (a.verb === 'update' || a.verb === 'patch') return ALLOW;
        break;
      case 'eviction':
        if (a.verb === 'create') return ALLOW;
        break;
    }
    return noOpinion();
  }
}

function authorizeLease(node: string, a: AuthorizationAttributes): AuthorizationResult {
  if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
  if (a.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`);
  // The name of a create is in the body: NodeRestriction checks it.
  if (a.verb !== 'create' && a.name !== node) return noOpinion('can only access node lease with the same name as the requesting node');
  return ALLOW;
}

function authorizeCSINode(node: string, a: AuthorizationAttributes): AuthorizationResult {
  if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion('can only get, create, update, patch, or delete a CSINode');
  if (a.subresource) return noOpinion('cannot authorize CSINode subresources');
  if (a.verb !== 'create' && a.name !== node) return noOpinion('can only access CSINode with the same name as the requesting node');
  return ALLOW;
}

function authorizeNode(node: string, a: AuthorizationAttributes): AuthorizationResult {
  if (a.subresource === '') {
    switch (a.verb) {
      case 'create':
      case 'update':
      case 'patch':
        // NodeRestriction limits a node to its own Node object.
        return ALLOW;
      case 'get':
      case 'list':
      case 'watch':
        // By name rather than through the graph, so a node can read its Node before creating it.
        if (a.name === node) return ALLOW;
        if (!a.name) return noOpinion(`node '${node}' cannot read all nodes, only its own Node object`);
        return noOpinion(`node '${node}' cannot read '${a.name}', only its own Node object`);
    }
  } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) {
    return ALLOW;
  }
  return noOpinion();
}

/** The Node authorizer of a control plane, its graph kept from `registry` once started. */
export function createNodeAuthorizer(registry: Registry, clock?: Clock): NodeAuthorizer {
  return new NodeAuthorizer({ registry, clock });
}
