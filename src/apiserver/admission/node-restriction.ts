// NodeRestriction (kube's plugin/pkg/admission/noderestriction): what the Node authorizer lets a
// node user (system:node:<name>) do to pods, nodes, claims, service-account tokens and leases, this
// plugin limits to what is the node's own:
// - pods: create only mirror pods bound to itself, owned by its Node and referencing nothing else;
//   delete, evict and update the status of only pods bound to itself;
// - nodes: only its own Node; at creation no configSource and no restricted labels; on update no
//   change to taints, configSource or restricted labels (node-restriction.kubernetes.io/, and
//   kubernetes.io / k8s.io labels other than the kubelet's own);
// - persistentvolumeclaims: status capacity and conditions only;
// - serviceaccounts/token: only tokens bound to a pod (with its uid) scheduled on the node;
// - leases: only its own, in kube-node-lease.
// Messages are kube's, word for word. Other users are not this plugin's concern.
//
// Creates and updates are checked in the mutating phase, as kube's plugin (an Admit) is, after
// ServiceAccount; deletes in the validating phase, which is where tinykube admits deletes.
// Pods and Nodes the request does not carry are read from the store: only node requests that name
// another object (a delete, an eviction, a token, a mirror pod) need them, so a watched copy of
// every pod would cost more than it saves.

import type { KubeObject, Lease, Node, PersistentVolumeClaim, Pod } from '../../api/types.ts';
import { semanticDeepEqual as deepEqual } from '../../api/equality.ts';
import type { Registry } from '../../registry/registry.ts';
import { forbidden, notFound, type StatusError } from '../../util/status.ts';
import { nodeIdentity } from '../auth/node/identity.ts';
import { podConfigMapNames, podSecretNames } from '../auth/node/graph.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const NODE_RESTRICTION_LABEL_NAMESPACE = 'node-restriction.kubernetes.io';

/** Label keys a kubelet may set on its own Node (k8s.io/kubelet's KubeletLabels). */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
/** Label namespaces a kubelet may use on its own Node (KubeletLabelNamespaces). */
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/** Reads of single objects the plugin needs; by default the registry's stores. */
export interface NodeRestrictionLookups {
  pod(namespace: string, name: string): Promise<Pod | null>;
  node(name: string): Promise<Node | null>;
}

export class NodeRestriction implements AdmissionPlugin {
  readonly name = 'NodeRestriction';
  readonly #lookups: NodeRestrictionLookups;

  constructor(registry: Registry, lookups?: NodeRestrictionLookups) {
    this.#lookups = lookups ?? {
      pod: async (ns, name) => (await registry.store('pods').tryGet(ns, name)) as Pod | null,
      node: async (name) => (await registry.store('nodes').tryGet(undefined, name)) as Node | null,
    };
  }

  async admit(a: AdmissionAttributes, obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    await this.#check(a, obj, old);
  }

  async validate(a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void> {
    if (a.operation === 'DELETE') await this.#check(a, obj, old);
  }

  async #check(a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void> {
    // kube's plugin handles CREATE, UPDATE and DELETE; connect requests (exec, attach...) are not its concern.
    if (a.operation === 'CONNECT') return;
    const { isNode, nodeName } = nodeIdentity(a.user);
    if (!isNode) return;
    if (!nodeName) throw refuse(a, obj, `could not determine node from user ${JSON.stringify(a.user.name)}`);
    switch (`${a.resource.group}/${a.resource.resource}`) {
      case '/pods':
        switch (a.subresource) {
          case '':
            return this.#admitPod(nodeName, a, obj);
          case 'status':
            return admitPodStatus(nodeName, a, obj, old);
          case 'eviction':
            return this.#admitPodEviction(nodeName, a, obj);
          default:
            throw refuse(a, obj, `unexpected pod subresource ${JSON.stringify(a.subresource)}, only 'status' and 'eviction' are allowed`);
        }
      case '/nodes':
        return admitNode(nodeName, a, obj, old);
      case '/persistentvolumeclaims':
        if (a.subresource !== 'status') throw refuse(a, obj, 'may only update PVC status');
        return admitPVCStatus(nodeName, a, obj, old);
      case '/serviceaccounts':
        return this.#admitServiceAccount(nodeName, a, obj);
      case 'coordination.k8s.io/leases':
        return admitLease(a, obj, nodeName);
      case 'storage.k8s.io/csinodes': {
        const name = a.operation === 'CREATE' ? (obj?.metadata?.name ?? '') : a.name;
        if (name !== nodeName) throw refuse(a, obj, 'can only access CSINode with the same name as the requesting node');
        return;
      }
    }
  }

  async #admitPod(node: string, a: AdmissionAttributes, obj: KubeObject | undefined): Promise<void> {
    if (a.operation === 'CREATE') return this.#admitPodCreate(node, a, obj as Pod);
    if (a.operation === 'DELETE') {
      const existing = await this.#lookups.pod(a.namespace ?? '', a.name);
      if (!existing) throw notFound('pods', a.name);
      if (existing.spec?.nodeName !== node) throw refuse(a, obj, `node ${JSON.stringify(node)} can only delete pods with spec.nodeName set to itself`);
      return;
    }
    throw refuse(a, obj, `unexpected operation ${JSON.stringify(a.operation)}, node ${JSON.stringify(node)} can only create and delete mirror pods`);
  }

  async #admitPodCreate(node: string, a: AdmissionAttributes, pod: Pod): Promise<void> {
    const q = JSON.stringify(node);
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) {
      throw refuse(a, pod, `pod does not have ${JSON.stringify(MIRROR_POD_ANNOTATION)} annotation, node ${q} can only create mirror pods`);
    }
    if (pod.spec?.nodeName !== node) throw refuse(a, pod, `node ${q} can only create pods with spec.nodeName set to itself`);
    const owners = pod.metadata?.ownerReferences ?? [];
    if (owners.length > 1) throw refuse(a, pod, `node ${q} can only create pods with a single owner reference set to itself`);
    if (owners.length === 0) throw refuse(a, pod, `node ${q} can only create pods with an owner reference set to itself`);
    const owner = owners[0];
    if (!owner || owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node) {
      throw refuse(a, pod, `node ${q} can only create pods with an owner reference set to itself`);
    }
    if (owner.controller !== true) throw refuse(a, pod, `node ${q} can only create pods with a controller owner reference set to itself`);
    if (owner.blockOwnerDeletion === true) throw refuse(a, pod, `node ${q} must not set blockOwnerDeletion on an owner reference`);
    const nodeObj = await this.#lookups.node(node);
    if (!nodeObj) throw notFound('nodes', node);
    if (owner.uid !== nodeObj.metadata?.uid) throw refuse(a, pod, `node ${node} UID mismatch: expected ${owner.uid} got ${nodeObj.metadata?.uid ?? ''}`);
    // A mirror pod must not reference other objects: it would give the node access to them.
    if (pod.spec?.serviceAccountName) throw refuse(a, pod, `node ${q} can not create pods that reference a service account`);
    if (podSecretNames(pod).length) throw refuse(a, pod, `node ${q} can not create pods that reference secrets`);
    if (podConfigMapNames(pod).length) throw refuse(a, pod, `node ${q} can not create pods that reference configmaps`);
    const volumes = Array.isArray(pod.spec?.volumes) ? pod.spec.volumes : [];
    for (const v of volumes) {
      for (const src of Array.isArray(v?.projected?.sources) ? v.projected.sources : []) {
        if ((src as { clusterTrustBundle?: unknown } | null)?.clusterTrustBundle) throw refuse(a, pod, `node ${q} can not create pods that reference clustertrustbundles`);
      }
    }
    if (volumes.some((v) => v?.persistentVolumeClaim)) throw refuse(a, pod, `node ${q} can not create pods that reference persistentvolumeclaims`);
  }

  async #admitPodEviction(node: string, a: AdmissionAttributes, obj: KubeObject | undefined): Promise<void> {
    if (a.operation !== 'CREATE') throw refuse(a, obj, `unexpected operation ${a.operation}`);
    // The pod named by the URL, else by the Eviction.
    const podName = a.name || (obj?.metadata?.name ?? '');
    if (!podName) throw refuse(a, obj, 'could not determine pod from request data');
    const existing = await this.#lookups.pod(a.namespace ?? '', podName);
    if (!existing) throw notFound('pods', podName);
    if (existing.spec?.nodeName !== node) throw refuse(a, obj, `node ${node} can only evict pods with spec.nodeName set to itself`);
  }

  async #admitServiceAccount(node: string, a: AdmissionAttributes, obj: KubeObject | undefined): Promise<void> {
    if (a.operation !== 'CREATE' || a.subresource !== 'token') return;
    // A node's tokens must be bound to a pod scheduled on it: that is what the kubelet mounts.
    const ref = (obj as { spec?: { boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string } | null } } | undefined)?.spec?.boundObjectRef;
    if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) throw refuse(a, obj, 'node requested token not bound to a pod');
    if (!ref.uid) throw refuse(a, obj, 'node requested token with a pod binding without a uid');
    const pod = await this.#lookups.pod(a.namespace ?? '', ref.name);
    if (!pod) throw notFound('pods', ref.name);
    if (ref.uid !== pod.metadata?.uid) {
      throw refuse(a, obj, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    if (pod.spec?.nodeName !== node) throw refuse(a, obj, 'node requested token bound to a pod scheduled on a different node');
  }
}

function admitPodStatus(node: string, a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): void {
  if (a.operation !== 'UPDATE') throw refuse(a, obj, `unexpected operation ${JSON.stringify(a.operation)}`);
  const oldPod = old as Pod | undefined;
  if (oldPod?.spec?.nodeName !== node) throw refuse(a, obj, `node ${JSON.stringify(node)} can only update pod status for pods with spec.nodeName set to itself`);
  const newPod = obj as Pod;
  if (!deepEqual(oldPod.metadata?.labels ?? {}, newPod.metadata?.labels ?? {})) throw refuse(a, obj, `node ${JSON.stringify(node)} cannot update labels through pod status`);
  if (!resourceClaimStatusesEqual(oldPod.status?.resourceClaimStatuses, newPod.status?.resourceClaimStatuses)) {
    throw refuse(a, obj, `node ${JSON.stringify(node)} cannot update resource claim statues`);
  }
}

type ClaimStatuses = NonNullable<Pod['status']>['resourceClaimStatuses'];

function resourceClaimStatusesEqual(x: ClaimStatuses, y: ClaimStatuses): boolean {
  const xs = x ?? [];
  const ys = y ?? [];
  return xs.length === ys.length && xs.every((s, i) => s.name === ys[i]!.name && (s.resourceClaimName ?? null) === (ys[i]!.resourceClaimName ?? null));
}

function admitNode(node: string, a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): void {
  const requested = a.name || (a.operation === 'CREATE' ? (obj?.metadata?.name ?? '') : '');
  if (requested !== node) throw refuse(a, obj, `node ${JSON.stringify(node)} is not allowed to modify node ${JSON.stringify(requested)}`);
  const q = JSON.stringify(node);
  if (a.operation === 'CREATE') {
    const n = obj as Node;
    // configSource would let the node name objects it may then read (a view escalation).
    if ((n.spec as { configSource?: unknown } | undefined)?.configSource) throw refuse(a, obj, `node ${q} is not allowed to create pods with a non-nil configSource`);
    const bad = forbiddenLabels(modifiedLabels(n.metadata?.labels, undefined));
    if (bad.length) throw refuse(a, obj, `node ${q} is not allowed to set the following labels: ${bad.join(', ')}`);
  }
  if (a.operation === 'UPDATE') {
    const n = obj as Node;
    const o = old as Node | undefined;
    const source = (n.spec as { configSource?: unknown } | undefined)?.configSource;
    if (source && !deepEqual(source, (o?.spec as { configSource?: unknown } | undefined)?.configSource)) {
      throw refuse(a, obj, `node ${q} is not allowed to update configSource to a new non-nil configSource`);
    }
    // Taints and labels steer workloads: a node must not steer them to itself.
    if (!deepEqual(n.spec?.taints ?? [], o?.spec?.taints ?? [])) throw refuse(a, obj, `node ${q} is not allowed to modify taints`);
    const bad = forbiddenLabels(modifiedLabels(n.metadata?.labels, o?.metadata?.labels));
    if (bad.length) throw refuse(a, obj, `is not allowed to modify labels: ${bad.join(', ')}`);
  }
}

function admitPVCStatus(node: string, a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): void {
  if (a.operation !== 'UPDATE') throw refuse(a, obj, `unexpected operation ${JSON.stringify(a.operation)}`);
  // Everything but status capacity, conditions and the expansion-recovery fields must stay as it was.
  const strip = (pvc: PersistentVolumeClaim | undefined) => {
    const { resourceVersion: _rv, managedFields: _mf, ...meta } = pvc?.metadata ?? {};
    const { capacity: _c, conditions: _cond, allocatedResources: _ar, allocatedResourceStatuses: _ars, ...status } = pvc?.status ?? {};
    return { ...pvc, metadata: meta, status };
  };
  if (!deepEqual(strip(old as PersistentVolumeClaim), strip(obj as PersistentVolumeClaim))) {
    throw refuse(a, obj, `node ${JSON.stringify(node)} is not allowed to update fields other than status.capacity and status.conditions`);
  }
}

function admitLease(a: AdmissionAttributes, obj: KubeObject | undefined, node: string): void {
  if (a.namespace !== NODE_LEASE_NAMESPACE) throw refuse(a, obj, `can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`);
  const name = a.operation === 'CREATE' ? ((obj as Lease | undefined)?.metadata?.name ?? '') : a.name;
  if (name !== node) throw refuse(a, obj, 'can only access node lease with the same name as the requesting node');
}

/** Label keys added, removed or changed between two label sets. */
function modifiedLabels(now: Record<string, string> | undefined, before: Record<string, string> | undefined): string[] {
  const a = now ?? {};
  const b = before ?? {};
  const out = new Set<string>();
  for (const [k, v] of Object.entries(a)) if (b[k] !== v) out.add(k);
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) out.add(k);
  return [...out];
}

/** The keys a node may not set, sorted (kube lists them from a sorted set). */
function forbiddenLabels(keys: string[]): string[] {
  return keys.filter((k) => {
    const ns = labelNamespace(k);
    if (ns === NODE_RESTRICTION_LABEL_NAMESPACE || ns.endsWith(`.${NODE_RESTRICTION_LABEL_NAMESPACE}`)) return true;
    return isKubernetesLabel(ns) && !isKubeletLabel(k, ns);
  }).sort();
}

function labelNamespace(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

function isKubernetesLabel(ns: string): boolean {
  return ns === 'kubernetes.io' || ns.endsWith('.kubernetes.io') || ns === 'k8s.io' || ns.endsWith('.k8s.io');
}

function isKubeletLabel(key: string, ns: string): boolean {
  return KUBELET_LABELS.has(key) || KUBELET_LABEL_NAMESPACES.some((allowed) => ns === allowed || ns.endsWith(`.${allowed}`));
}

/**
 * admission.NewForbidden: `<resource> "<name>" is forbidden: <why>`, the name from the request or
 * else the object, the resource without its subresource.
 */
function refuse(a: AdmissionAttributes, obj: KubeObject | undefined, why: string): StatusError {
  const resource = a.resource.group ? `${a.resource.resource}.${a.resource.group}` : a.resource.resource;
  return forbidden(resource, a.name || (obj?.metadata?.name ?? ''), why);
}
