// The Node authorizer's graph (kube's plugin/pkg/auth/authorizer/node/graph.go): which objects a
// node may read because a pod bound to it uses them. All relationships point towards nodes:
//
//   node <- pod                                  (spec.nodeName)
//   pod  <- secret, configmap, pvc, serviceaccount (what the pod's spec names)
//   pvc  <- pv                                   (the PV's claimRef)
//   pv   <- secret                               (secrets the kubelet uses to mount the PV)
//
// The graph is shallow, so it is kept as indexes rather than a general DAG: a pod's references,
// for each referenced object how many pods on each node reference it, the PVs bound to each claim
// and the PVs that name each secret. Called by the graph populator (one watch at a time, never concurrently) and read by the
// authorizer for every request of a node; JavaScript's single thread makes each update atomic.

import type { PersistentVolume, Pod } from '../../../api/types.ts';
import { podClaimNames } from '../../../api/volumes/ephemeral.ts';

/** The kinds of objects the graph relates to nodes (kube's vertex types, reduced to tinykube's kinds). */
export type VertexType = 'pod' | 'secret' | 'configmap' | 'serviceaccount' | 'pvc' | 'pv';

type PodRefType = 'secret' | 'configmap' | 'serviceaccount' | 'pvc';

/**
 * One object pods reference, with how many pods on each node reference it: the answer for a node
 * is one lookup however many pods share the object (every pod of a namespace mounts its
 * kube-root-ca.crt), as kube's destination-edge index makes it.
 */
interface RefEntry {
  /** `<type>:<namespace>/<name>`. */
  key: string;
  nodes: Map<string, number>;
}

interface PodEntry {
  node: string;
  refs: RefEntry[];
}

interface PVEntry {
  /** `pvc:<namespace>/<name>` of the bound claim. */
  claim: string;
  /** `secret:<namespace>/<name>` of each kubelet-visible secret. */
  secrets: string[];
}

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export class NodeGraph {
  readonly #pods = new Map<string, PodEntry>();
  readonly #refs = new Map<string, RefEntry>();
  /** Node names, shared by the entries of their pods. */
  readonly #nodeNames = new Map<string, string>();
  readonly #pvs = new Map<string, PVEntry>();
  readonly #pvsByRef = new Map<string, Set<string>>();

  /** Adds or replaces a pod; a pod not bound to a node relates nothing. */
  setPod(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.deletePod(ns, name);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    let node = this.#nodeNames.get(nodeName);
    if (node === undefined) this.#nodeNames.set(nodeName, (node = nodeName));
    // A mirror pod grants nothing beyond itself: a node must never be able to create a pod that
    // gives it access to other objects (NodeRestriction also refuses such pods).
    const keys = pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined ? [] : podReferences(pod);
    const refs: RefEntry[] = [];
    for (const k of keys) {
      let ref = this.#refs.get(k);
      if (!ref) this.#refs.set(k, (ref = { key: k, nodes: new Map() }));
      ref.nodes.set(node, (ref.nodes.get(node) ?? 0) + 1);
      refs.push(ref);
    }
    this.#pods.set(`${ns}/${name}`, { node, refs });
  }

  deletePod(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const entry = this.#pods.get(key);
    if (!entry) return;
    this.#pods.delete(key);
    for (const ref of entry.refs) {
      const n = (ref.nodes.get(entry.node) ?? 1) - 1;
      if (n > 0) ref.nodes.set(entry.node, n);
      else ref.nodes.delete(entry.node);
      if (ref.nodes.size === 0) this.#refs.delete(ref.key);
    }
  }

  /** Adds or replaces a PV; only a PV bound to a claim relates anything (kube's AddPV). */
  setPV(pv: PersistentVolume): void {
    const name = pv.metadata?.name ?? '';
    this.deletePV(name);
    const claim = pv.spec?.claimRef;
    if (!claim?.name) return;
    const entry: PVEntry = { claim: `pvc:${claim.namespace ?? ''}/${claim.name}`, secrets: pvSecretRefs(pv).map((s) => `secret:${s}`) };
    this.#pvs.set(name, entry);
    addTo(this.#pvsByRef, entry.claim, name);
    for (const s of entry.secrets) addTo(this.#pvsByRef, s, name);
  }

  deletePV(name: string): void {
    const entry = this.#pvs.get(name);
    if (!entry) return;
    this.#pvs.delete(name);
    removeFrom(this.#pvsByRef, entry.claim, name);
    for (const s of entry.secrets) removeFrom(this.#pvsByRef, s, name);
  }

  /** Forgets everything (before a re-list). */
  clear(): void {
    this.#pods.clear();
    this.#refs.clear();
    this.#nodeNames.clear();
    this.#pvs.clear();
    this.#pvsByRef.clear();
  }

  /** Whether a path leads from the object to the node (kube's hasPathFrom). */
  related(node: string, type: VertexType, namespace: string, name: string): boolean {
    switch (type) {
      case 'pod':
        return this.#pods.get(`${namespace}/${name}`)?.node === node;
      case 'pv':
        return this.#pvRelated(node, name);
      case 'secret':
        if (this.#referencedOnNode(node, `secret:${namespace}/${name}`)) return true;
        for (const pv of this.#pvsByRef.get(`secret:${namespace}/${name}`) ?? []) if (this.#pvRelated(node, pv)) return true;
        return false;
      default:
        return this.#referencedOnNode(node, `${type}:${namespace}/${name}`);
    }
  }

  #referencedOnNode(node: string, ref: string): boolean {
    return (this.#refs.get(ref)?.nodes.get(node) ?? 0) > 0;
  }

  #pvRelated(node: string, pv: string): boolean {
    const entry = this.#pvs.get(pv);
    return entry !== undefined && this.#referencedOnNode(node, entry.claim);
  }
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** Every object a pod references, as `<type>:<namespace>/<name>` (deduplicated). */
export function podReferences(pod: Pod): string[] {
  const ns = pod.metadata?.namespace ?? '';
  const out = new Set<string>();
  const add = (type: PodRefType, name: string | undefined) => {
    if (name) out.add(`${type}:${ns}/${name}`);
  };
  // The pod always gets its service account (kube grants it whether or not a token is mounted).
  add('serviceaccount', pod.spec?.serviceAccountName);
  for (const s of podSecretNames(pod)) add('secret', s);
  for (const c of podConfigMapNames(pod)) add('configmap', c);
  for (const c of podClaimNames(pod)) add('pvc', c);
  return [...out];
}

type AnyContainer = NonNullable<NonNullable<Pod['spec']>['containers']>[number];

// NodeRestriction reads pods a node sends before validation: list entries may be null there.
function entries<T>(list: readonly (T | null | undefined)[] | null | undefined): T[] {
  return Array.isArray(list) ? list.filter((x): x is T => x !== null && typeof x === 'object') : [];
}

function allContainers(pod: Pod): AnyContainer[] {
  const spec = pod.spec;
  return [...entries(spec?.initContainers), ...entries(spec?.containers), ...entries(spec?.ephemeralContainers as AnyContainer[] | undefined)];
}

/** The secrets a pod names (podutil.VisitPodSecretNames, all containers). */
export function podSecretNames(pod: Pod): string[] {
  const out: (string | undefined)[] = [];
  for (const s of entries(pod.spec?.imagePullSecrets)) out.push(s.name);
  for (const c of allContainers(pod)) {
    for (const e of entries(c.envFrom)) out.push(e.secretRef?.name);
    for (const e of entries(c.env)) out.push(e.valueFrom?.secretKeyRef?.name);
  }
  for (const v of entries(pod.spec?.volumes)) {
    out.push(
      v.secret?.secretName,
      v.azureFile?.secretName,
      v.cephfs?.secretRef?.name,
      v.cinder?.secretRef?.name,
      v.flexVolume?.secretRef?.name,
      v.rbd?.secretRef?.name,
      v.scaleIO?.secretRef?.name,
      v.iscsi?.secretRef?.name,
      v.storageos?.secretRef?.name,
      v.csi?.nodePublishSecretRef?.name,
    );
    for (const src of entries(v.projected?.sources)) out.push(src.secret?.name);
  }
  return out.filter((n): n is string => typeof n === 'string' && n !== '');
}

/** The configmaps a pod names (podutil.VisitPodConfigmapNames): kube-root-ca.crt comes through the kube-api-access projected volume. */
export function podConfigMapNames(pod: Pod): string[] {
  const out: (string | undefined)[] = [];
  for (const c of allContainers(pod)) {
    for (const e of entries(c.envFrom)) out.push(e.configMapRef?.name);
    for (const e of entries(c.env)) out.push(e.valueFrom?.configMapKeyRef?.name);
  }
  for (const v of entries(pod.spec?.volumes)) {
    out.push(v.configMap?.name);
    for (const src of entries(v.projected?.sources)) out.push(src.configMap?.name);
  }
  return out.filter((n): n is string => typeof n === 'string' && n !== '');
}

/**
 * The secrets the kubelet reads to mount a PV, as `<namespace>/<name>` (pvutil.VisitPVSecretNames,
 * kubelet-visible ones only: CSI's controller-publish and controller-expand secrets are not).
 * A reference without a namespace is in the bound claim's namespace.
 */
export function pvSecretRefs(pv: PersistentVolume): string[] {
  const spec = pv.spec;
  if (!spec) return [];
  const claimNs = spec.claimRef?.namespace ?? '';
  const out: string[] = [];
  const add = (namespace: string | undefined, name: string | undefined) => {
    if (name) out.push(`${namespace || claimNs}/${name}`);
  };
  if (spec.azureFile) add(spec.azureFile.secretNamespace, spec.azureFile.secretName);
  for (const ref of [spec.cephfs?.secretRef, spec.flexVolume?.secretRef, spec.rbd?.secretRef, spec.scaleIO?.secretRef, spec.iscsi?.secretRef]) {
    add(ref?.namespace, ref?.name);
  }
  // Cinder's and StorageOS' references are taken as written, without the claim's namespace.
  for (const ref of [spec.cinder?.secretRef, spec.storageos?.secretRef]) {
    if (ref?.name) out.push(`${ref.namespace ?? ''}/${ref.name}`);
  }
  for (const ref of [spec.csi?.nodePublishSecretRef, spec.csi?.nodeStageSecretRef, spec.csi?.nodeExpandSecretRef]) {
    if (ref?.name) out.push(`${ref.namespace ?? ''}/${ref.name}`);
  }
  return out;
}
