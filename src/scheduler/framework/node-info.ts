// Node-level aggregate the plugins read (framework.NodeInfo): the node, its pods (assumed ones included),
// their summed requests, the host ports in use and the images present. Owned and mutated only by the
// scheduler cache, between scheduling cycles; plugins only read it. It is a FitNode, so the fit checks
// shared with the node agent (src/api/scheduling/fit.ts) read it directly.

import type { Node } from '../../api/types.ts';
import type { FitNode } from '../../api/scheduling/fit.ts';
import { HostPortInfo } from '../../api/scheduling/host-ports.ts';
import { addResource, emptyResource, resourceFromList } from '../../api/scheduling/resources.ts';
import type { Resource } from '../../api/scheduling/resources.ts';
import type { PodInfo } from './pod-info.ts';
import { hasAffinity } from './pod-info.ts';

/** An image known on some nodes; `numNodes` is cluster-wide, shared by every NodeInfo holding it. */
export interface ImageState {
  size: number;
  numNodes: number;
}

export class NodeInfo implements FitNode {
  readonly name: string;
  node: Node | undefined;
  /** Pods on the node by key (namespace/name), assumed ones included. */
  readonly pods = new Map<string, PodInfo>();
  /** Pods with any pod (anti-)affinity, and those with required anti-affinity (InterPodAffinity reads them). */
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  readonly requested: Resource = emptyResource();
  /** Requests with cpu/memory defaulted for containers that set none (spreads best-effort pods). */
  readonly nonZeroRequested: Resource = emptyResource();
  allocatable: Resource = emptyResource();
  readonly usedPorts = new HostPortInfo();
  /** Normalised image name → shared state; set by the cache from node.status.images. */
  imageStates = new Map<string, ImageState>();
  labels: Readonly<Record<string, string>> = {};
  /** Bumped on every change, for callers that memoise per node. */
  generation = 0;

  constructor(name: string, node?: Node) {
    this.name = name;
    if (node) this.setNode(node);
  }

  /** The pods on the node, for the fit checks (../../api/scheduling/fit.ts). */
  get podCount(): number {
    return this.pods.size;
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? {};
    this.allocatable = resourceFromList(node.status?.allocatable as Record<string, unknown> | undefined);
    this.generation++;
  }

  addPod(p: PodInfo): void {
    const old = this.pods.get(p.key);
    if (old) this.removePod(old.key);
    this.pods.set(p.key, p);
    addResource(this.requested, p.requests);
    addResource(this.nonZeroRequested, p.nonZeroRequests);
    for (const hp of p.hostPorts) this.usedPorts.add(hp);
    if (hasAffinity(p)) this.podsWithAffinity++;
    if (p.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity++;
    this.generation++;
  }

  /** Returns the removed pod, if it was there. */
  removePod(key: string): PodInfo | undefined {
    const p = this.pods.get(key);
    if (!p) return undefined;
    this.pods.delete(key);
    addResource(this.requested, p.requests, -1);
    addResource(this.nonZeroRequested, p.nonZeroRequests, -1);
    for (const hp of p.hostPorts) this.usedPorts.remove(hp);
    if (hasAffinity(p)) this.podsWithAffinity--;
    if (p.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity--;
    this.generation++;
    return p;
  }

  /** A detached copy with the same pods (preemption dry runs remove pods from it). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.allocatable = this.allocatable;
    c.imageStates = this.imageStates;
    for (const p of this.pods.values()) c.addPod(p);
    return c;
  }
}

/** Image names as the kubelet reports them: a name without a tag means ":latest" (normalizedImageName). */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}
