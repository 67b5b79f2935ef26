// The garbage collector's picture of the cluster: every object of every watched resource by UID, with
// its owner references, and the reverse index owner UID → dependent UIDs. Owners that were never seen
// (deleted before we started, or of a kind we do not watch) simply have dependents and no node; the
// collector confirms their absence with a live GET before acting.
//
// Fed by informer handlers, read by the collector's workers; single-threaded. update() reports what
// changed so the caller can decide what to enqueue.

import type { OwnerReference } from '../../api/types.ts';
import type { ResourceRef } from '../../client/resources.ts';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

/** The metadata the collector keeps of an object (the informers strip everything else). */
export interface ObjectMetaView {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    deletionTimestamp?: string;
  };
}

export interface GraphNode {
  uid: string;
  resource: ResourceRef;
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
  owners: readonly OwnerReference[];
  finalizers: readonly string[];
  deleting: boolean;
}

export interface GraphChange {
  node: GraphNode;
  previous: GraphNode | undefined;
}

export function hasFinalizer(n: { finalizers: readonly string[] }, f: string): boolean {
  return n.finalizers.includes(f);
}

/** Being deleted and waiting for its blocking dependents to go first. */
export function deletingDependents(n: GraphNode): boolean {
  return n.deleting && hasFinalizer(n, FINALIZER_FOREGROUND);
}

export class ObjectGraph {
  readonly #nodes = new Map<string, GraphNode>();
  readonly #dependents = new Map<string, Set<string>>();

  get size(): number {
    return this.#nodes.size;
  }

  get(uid: string): GraphNode | undefined {
    return this.#nodes.get(uid);
  }

  /** UIDs of the objects that list `ownerUid` among their owners. */
  dependents(ownerUid: string): string[] {
    return [...(this.#dependents.get(ownerUid) ?? [])];
  }

  hasDependents(ownerUid: string): boolean {
    return (this.#dependents.get(ownerUid)?.size ?? 0) > 0;
  }

  /** Inserts or replaces the node of an observed object; undefined when it has no UID. */
  upsert(resource: ResourceRef, obj: ObjectMetaView): GraphChange | undefined {
    const m = obj.metadata;
    if (!m?.uid) return undefined;
    const node: GraphNode = {
      uid: m.uid,
      resource,
      apiVersion: obj.apiVersion ?? resource.apiVersion,
      kind: obj.kind ?? '',
      namespace: m.namespace || undefined,
      name: m.name ?? '',
      owners: m.ownerReferences ?? [],
      finalizers: m.finalizers ?? [],
      deleting: !!m.deletionTimestamp,
    };
    const previous = this.#nodes.get(node.uid);
    if (previous) this.#unindex(previous);
    this.#nodes.set(node.uid, node);
    for (const o of node.owners) {
      if (!o.uid) continue;
      let set = this.#dependents.get(o.uid);
      if (!set) this.#dependents.set(o.uid, (set = new Set()));
      set.add(node.uid);
    }
    return { node, previous };
  }

  /** Removes an object's node; returns it (its dependents index entry stays for its dependents). */
  remove(uid: string): GraphNode | undefined {
    const node = this.#nodes.get(uid);
    if (!node) return undefined;
    this.#unindex(node);
    this.#nodes.delete(uid);
    return node;
  }

  #unindex(node: GraphNode): void {
    for (const o of node.owners) {
      const set = this.#dependents.get(o.uid);
      if (!set) continue;
      set.delete(node.uid);
      if (set.size === 0) this.#dependents.delete(o.uid);
    }
  }
}

/** True when the owner references differ in a way the collector cares about. */
export function ownersChanged(a: readonly OwnerReference[], b: readonly OwnerReference[]): boolean {
  if (a.length !== b.length) return true;
  for (let i = 0; i < a.length; i++) {
    if (a[i].uid !== b[i].uid || !!a[i].blockOwnerDeletion !== !!b[i].blockOwnerDeletion) return true;
  }
  return false;
}
