// The scheduler's view of the cluster (Kubernetes' scheduler cache): NodeInfo per node, built from the
// node and pod informers, plus *assumed* pods, those the scheduler has decided to place and is binding.
// An assumed pod counts on its node at once, so the next cycle, a few microseconds later, already sees
// the node's resources as used: a burst of pods never overcommits a node while bindings are in flight.
// When the informer later delivers the bound pod, the assumption is confirmed; if binding fails, forget().
//
// Called from the scheduler's single thread only (informer handlers, the cycle, bind completions).
// It implements NodeInfoLister, the read-only view plugins get.

import type { Node, Pod } from '../../api/types.ts';
import type { NodeInfoLister } from './interfaces.ts';
import { NodeInfo, normalizedImageName } from './node-info.ts';
import type { ImageState } from './node-info.ts';
import { hasAffinity, newPodInfo, podKey } from './pod-info.ts';
import type { PodInfo } from './pod-info.ts';

export class SchedulerCache implements NodeInfoLister {
  readonly #nodes = new Map<string, NodeInfo>();
  /** Pod key → the node it is counted on. */
  readonly #podNode = new Map<string, string>();
  readonly #assumed = new Set<string>();
  readonly #images = new Map<string, ImageState>();
  readonly #byOwner = new Map<string, Map<string, number>>();
  #list: NodeInfo[] | undefined;
  #withAffinity: NodeInfo[] | undefined;
  #withAntiAffinity: NodeInfo[] | undefined;

  // --- NodeInfoLister ----------------------------------------------------------------------------

  list(): readonly NodeInfo[] {
    if (!this.#list) {
      this.#list = [];
      for (const ni of this.#nodes.values()) if (ni.node) this.#list.push(ni);
    }
    return this.#list;
  }

  get(name: string): NodeInfo | undefined {
    const ni = this.#nodes.get(name);
    return ni?.node ? ni : undefined;
  }

  havePodsWithAffinity(): readonly NodeInfo[] {
    this.#withAffinity ??= this.list().filter((n) => n.podsWithAffinity > 0);
    return this.#withAffinity;
  }

  podsByOwner(ownerUid: string): ReadonlyMap<string, number> | undefined {
    return this.#byOwner.get(ownerUid);
  }

  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    this.#withAntiAffinity ??= this.list().filter((n) => n.podsWithRequiredAntiAffinity > 0);
    return this.#withAntiAffinity;
  }

  // --- nodes -------------------------------------------------------------------------------------

  addOrUpdateNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    let ni = this.#nodes.get(name);
    if (!ni) {
      ni = new NodeInfo(name);
      this.#nodes.set(name, ni);
      this.#list = undefined;
    } else if (!ni.node) {
      this.#list = undefined;
    } else {
      this.#removeImages(ni);
    }
    ni.setNode(node);
    this.#addImages(ni, node);
    this.#affinityChanged();
  }

  removeNode(name: string): void {
    const ni = this.#nodes.get(name);
    if (!ni) return;
    this.#removeImages(ni);
    this.#list = undefined;
    this.#affinityChanged();
    // Pods still bound to a deleted node keep being counted (they are still running somewhere until
    // deleted), on a NodeInfo without a node, as Kubernetes keeps "imaginary" nodes.
    if (ni.pods.size > 0) {
      ni.node = undefined;
      ni.imageStates = new Map();
    } else {
      this.#nodes.delete(name);
    }
  }

  // --- pods --------------------------------------------------------------------------------------

  /** An assigned pod from the informer: counts it (or confirms an assumed pod). */
  addOrUpdatePod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const key = podKey(pod);
    const prev = this.#podNode.get(key);
    const info = newPodInfo(pod, prev === undefined ? undefined : this.#nodes.get(prev)?.pods.get(key));
    if (prev !== undefined) this.#removeFrom(prev, info.key);
    this.#assumed.delete(info.key);
    this.#addTo(nodeName, info);
    this.#podNode.set(info.key, nodeName);
  }

  removePod(pod: Pod): void {
    this.#removeKey(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
  }

  /** Counts a pod on the chosen node before it is bound. */
  assume(info: PodInfo, nodeName: string): void {
    const prev = this.#podNode.get(info.key);
    if (prev !== undefined) this.#removeFrom(prev, info.key);
    this.#addTo(nodeName, info);
    this.#podNode.set(info.key, nodeName);
    this.#assumed.add(info.key);
  }

  /** Binding failed: stop counting the pod, unless the informer has meanwhile confirmed it. */
  forget(key: string): void {
    if (!this.#assumed.has(key)) return;
    this.#assumed.delete(key);
    this.#removeKey(key);
  }

  isAssumed(key: string): boolean {
    return this.#assumed.has(key);
  }

  /** The node a pod is counted on, assumed or confirmed. */
  nodeOf(key: string): string | undefined {
    return this.#podNode.get(key);
  }

  get podCount(): number {
    return this.#podNode.size;
  }

  #removeKey(key: string): void {
    const nodeName = this.#podNode.get(key);
    if (nodeName === undefined) return;
    this.#podNode.delete(key);
    this.#assumed.delete(key);
    const ni = this.#nodes.get(nodeName);
    if (!ni) return;
    this.#removeFrom(nodeName, key);
    if (!ni.node && ni.pods.size === 0) this.#nodes.delete(nodeName);
  }

  #addTo(nodeName: string, info: PodInfo): void {
    this.#nodeInfo(nodeName).addPod(info);
    if (info.ownerUid && !info.pod.metadata?.deletionTimestamp) this.#bumpOwner(info.ownerUid, nodeName, 1);
    if (hasAffinity(info)) this.#affinityChanged();
  }

  #removeFrom(nodeName: string, key: string): void {
    const removed = this.#nodes.get(nodeName)?.removePod(key);
    if (!removed) return;
    if (removed.ownerUid && !removed.pod.metadata?.deletionTimestamp) this.#bumpOwner(removed.ownerUid, nodeName, -1);
    if (hasAffinity(removed)) this.#affinityChanged();
  }

  #bumpOwner(owner: string, nodeName: string, delta: number): void {
    let m = this.#byOwner.get(owner);
    if (!m) this.#byOwner.set(owner, (m = new Map()));
    const v = (m.get(nodeName) ?? 0) + delta;
    if (v > 0) m.set(nodeName, v);
    else m.delete(nodeName);
    if (m.size === 0) this.#byOwner.delete(owner);
  }

  #nodeInfo(name: string): NodeInfo {
    let ni = this.#nodes.get(name);
    if (!ni) {
      ni = new NodeInfo(name);
      this.#nodes.set(name, ni);
    }
    return ni;
  }

  #affinityChanged(): void {
    this.#withAffinity = undefined;
    this.#withAntiAffinity = undefined;
  }

  // Image states are shared objects: numNodes is how many nodes hold the image (ImageLocality spreads by it).
  #addImages(ni: NodeInfo, node: Node): void {
    const states = new Map<string, ImageState>();
    for (const img of node.status?.images ?? []) {
      for (const raw of img.names ?? []) {
        const name = normalizedImageName(raw);
        if (states.has(name)) continue;
        let st = this.#images.get(name);
        if (!st) this.#images.set(name, (st = { size: img.sizeBytes ?? 0, numNodes: 0 }));
        st.size = img.sizeBytes ?? st.size;
        st.numNodes++;
        states.set(name, st);
      }
    }
    ni.imageStates = states;
  }

  #removeImages(ni: NodeInfo): void {
    for (const [name, st] of ni.imageStates) {
      st.numNodes--;
      if (st.numNodes <= 0) this.#images.delete(name);
    }
    ni.imageStates = new Map();
  }
}
