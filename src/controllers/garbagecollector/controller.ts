// The garbage collector: ownerReferences with background, foreground and orphan propagation, across
// every resource the server serves (found by discovery, re-read every `discoveryPeriodMs`).
//
//  - Background: an object whose owners are all gone is deleted (with the propagation its own
//    finalizers ask for); one that still has an owner only loses the references to the gone ones.
//  - Foreground: `DELETE ?propagationPolicy=Foreground` makes the API server set deletionTimestamp and
//    the `foregroundDeletion` finalizer on the owner; we delete its dependents (in the foreground too
//    when they have dependents of their own) and remove the finalizer once no dependent with
//    blockOwnerDeletion is left, which lets the server remove the owner.
//  - Orphan: `propagationPolicy=Orphan` sets the `orphan` finalizer; we remove the references to the
//    owner from its dependents, then the finalizer.
//
// Decisions are made on the informers' graph (./graph.ts) and confirmed on live data before acting: the
// dependent is re-read, and an owner missing from the graph is looked up with a GET (404 or another
// UID = gone), as Kubernetes' collector does, so a lagging watch never deletes anything. An owner of a
// kind the server does not serve is left alone (never treated as gone); its dependents are looked at
// again when discovery finds the kind. Deletions carry a UID precondition.

import type { KubeObject, OwnerReference } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { EventHandler, Informer } from '../../client/informer.ts';
import { listWatch } from '../../client/informer.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { WorkQueue, runWorkers } from '../workqueue.ts';
import { decideDeletingOwner, decideDependent } from './decide.ts';
import type { ClassifiedOwner, OwnerState } from './decide.ts';
import { KindMap, discoverResources, groupOf } from './discovery.ts';
import type { CollectedResource } from './discovery.ts';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, ObjectGraph, deletingDependents, hasFinalizer, ownersChanged } from './graph.ts';
import type { GraphNode, ObjectMetaView } from './graph.ts';
import { metadataOnly } from './metadata.ts';

export interface GarbageCollectorOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  workers?: number;
  /** How often discovery is re-read for newly served resources (default 30 s). */
  discoveryPeriodMs?: number;
  /**
   * "group/resource" entries never watched ("" group for core). Default DEFAULT_IGNORED_RESOURCES:
   * events, as kube-controller-manager's GC ignores them.
   */
  ignoredResources?: readonly string[];
  /** Discovery source (tests); default: the server's discovery documents. */
  discover?: () => Promise<CollectedResource[]>;
  onError?: (err: unknown) => void;
}

/**
 * kube-controller-manager's default GC ignore list: Events, which nothing owns, are the most written
 * resource of a busy cluster (one per scheduled pod, more per started container); watching them only
 * filled the graph (150,000 nodes after a 150k-pod burst) and parsed every one of them.
 */
export const DEFAULT_IGNORED_RESOURCES: readonly string[] = ['/events', 'events.k8s.io/events'];

/** An owner reference whose kind the server does not serve. */
export class UnresolvableOwnerError extends Error {
  readonly code = 'ERR_GC_UNRESOLVABLE_OWNER';
  constructor(ref: OwnerReference) {
    super(`owner kind ${ref.kind} of ${ref.apiVersion} is not served`);
    this.name = 'UnresolvableOwnerError';
  }
}

const ABSENT_CACHE_SIZE = 1000;

export class GarbageCollector {
  readonly graph = new ObjectGraph();
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #workers: number;
  readonly #discoveryPeriod: number;
  readonly #ignored: Set<string>;
  readonly #discover: () => Promise<CollectedResource[]>;
  readonly #onError: (err: unknown) => void;
  readonly #queue: WorkQueue<string>;
  #kinds = new KindMap();
  readonly #watched = new Map<string, Informer<HasMetadata>>();
  /** Owners known to be gone (seen deleted or confirmed by GET), most recent last. */
  readonly #absent = new Set<string>();
  /** Dependents waiting for their owner's kind to be served: "group/kind" → dependent UIDs. */
  readonly #parked = new Map<string, Set<string>>();
  #unsubscribe: Array<() => void> = [];
  #abort: AbortController | undefined;
  #main: Promise<void> | undefined;
  #timer: Timer | undefined;
  #synced: Promise<void>;
  #resolveSynced: () => void = () => {};

  constructor(o: GarbageCollectorOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#workers = o.workers ?? 4;
    this.#discoveryPeriod = o.discoveryPeriodMs ?? 30_000;
    this.#ignored = new Set(o.ignoredResources ?? DEFAULT_IGNORED_RESOURCES);
    this.#discover = o.discover ?? (() => discoverResources(this.#client));
    this.#onError = o.onError ?? ((err) => console.error(`tinykube: garbage collector: ${(err as Error).message}`));
    this.#queue = new WorkQueue<string>({ clock: this.#clock });
    this.#synced = new Promise((r) => (this.#resolveSynced = r));
  }

  start(): void {
    if (this.#main) return;
    this.#abort = new AbortController();
    this.#main = this.#run(this.#abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#timer?.cancel();
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#queue.shutDown();
    await this.#main;
    this.#main = undefined;
  }

  /** Resolves once the first discovery is done and every watched resource is listed. */
  synced(): Promise<void> {
    return this.#synced;
  }

  async #run(signal: AbortSignal): Promise<void> {
    // First discovery: retry until the server answers (it may be starting beside us).
    for (let delay = 200; !signal.aborted; delay = Math.min(delay * 2, 10_000)) {
      try {
        this.#register(await this.#discover());
        break;
      } catch (err) {
        this.#onError(err);
        try {
          await this.#clock.sleep(delay, signal);
        } catch {
          return;
        }
      }
    }
    if (signal.aborted) return;
    this.#informers.start();
    try {
      await Promise.all([...this.#watched.values()].map((i) => i.waitForSync(signal)));
    } catch {
      return;
    }
    this.#resolveSynced();
    this.#scheduleDiscovery(signal);
    // A conflict means our view was behind: the key is retried on fresh data, nothing to report.
    await runWorkers(this.#queue, this.#workers, (uid) => this.process(uid), (err) => {
      if (!isConflict(err)) this.#onError(err);
    });
  }

  #scheduleDiscovery(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.#discover()
        .then((rs) => this.#register(rs))
        .catch((err: unknown) => this.#onError(err))
        .finally(() => this.#scheduleDiscovery(signal));
    }, this.#discoveryPeriod);
  }

  /** Watches the resources not watched yet; wakes dependents parked on kinds that are now served. */
  #register(resources: readonly CollectedResource[]): void {
    const kinds = new KindMap();
    for (const r of resources) {
      kinds.add(r);
      const id = `${r.group}/${r.ref.resource}`;
      if (this.#ignored.has(id) || this.#watched.has(id)) continue;
      const inf = this.#informerFor(r);
      this.#watched.set(id, inf);
      const handler: EventHandler<HasMetadata> = {
        onAdd: (obj) => this.#observed(r, obj as ObjectMetaView),
        onUpdate: (_old, obj) => this.#observed(r, obj as ObjectMetaView),
        onDelete: (obj) => this.#removed(obj as ObjectMetaView),
      };
      this.#unsubscribe.push(inf.addEventHandler(handler));
    }
    this.#kinds = kinds;
    for (const [kind, uids] of this.#parked) {
      const slash = kind.indexOf('/');
      if (!kinds.resolveGroupKind(kind.slice(0, slash), kind.slice(slash + 1))) continue;
      this.#parked.delete(kind);
      for (const uid of uids) this.#queue.add(uid);
    }
  }

  // A resource the other controllers already watch whole (pods, nodes, and those they list and watch
  // plainly: replica sets, secrets, service accounts…) is read from their informer, as kube's collector
  // takes the typed shared informer before a metadata one (ObjectOrMetadataInformerFactory). Its own
  // metadata watch of each was a second list and watch of ~20 resources while the cluster starts. On
  // `up --nodes 3`, the server without the collector spent ~0.2 s less CPU on the way to Ready nodes
  // with those watches, ~0.1 s less with the shared ones (medians of 7-8 runs; a noisy machine).
  #informerFor(r: CollectedResource): Informer<HasMetadata> {
    if (r.group === '' && r.ref.resource === 'pods') return this.#informers.pods() as unknown as Informer<HasMetadata>;
    if (r.group === '' && r.ref.resource === 'nodes') return this.#informers.nodes() as unknown as Informer<HasMetadata>;
    const shared = this.#informers.existing<HasMetadata>(r.ref);
    if (shared) return shared;
    return this.#informers.custom<ObjectMetaView & HasMetadata>(`gc:${r.ref.apiVersion}/${r.ref.resource}`, () => metadataOnly(listWatch<KubeObject>(this.#client, r.ref))) as unknown as Informer<HasMetadata>;
  }

  #observed(r: CollectedResource, obj: ObjectMetaView): void {
    const change = this.graph.upsert(r.ref, { ...obj, apiVersion: obj.apiVersion ?? r.ref.apiVersion, kind: obj.kind ?? r.kind });
    if (!change) return;
    const { node, previous } = change;
    this.#absent.delete(node.uid);
    if (node.owners.length > 0) {
      // A new object whose owners are all known and alive needs nothing; changed references do.
      if (previous === undefined ? node.owners.some((o) => this.#needsLook(o)) : ownersChanged(previous.owners, node.owners)) this.#queue.add(node.uid);
    }
    if (node.deleting && (hasFinalizer(node, FINALIZER_ORPHAN) || hasFinalizer(node, FINALIZER_FOREGROUND))) {
      this.#queue.add(node.uid);
      if (deletingDependents(node) && !(previous && deletingDependents(previous))) {
        for (const d of this.graph.dependents(node.uid)) this.#queue.add(d);
      }
    }
    // An owner deleting in the foreground waits on its dependents: tell it when one changes.
    for (const o of [...(previous?.owners ?? []), ...node.owners]) this.#wakeForegroundOwner(o.uid);
  }

  #removed(obj: ObjectMetaView): void {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    const node = this.graph.remove(uid);
    this.#rememberAbsent(uid);
    for (const d of this.graph.dependents(uid)) this.#queue.add(d);
    for (const o of node?.owners ?? []) this.#wakeForegroundOwner(o.uid);
  }

  #needsLook(o: OwnerReference): boolean {
    const g = this.graph.get(o.uid);
    return g === undefined || deletingDependents(g);
  }

  #wakeForegroundOwner(uid: string): void {
    const g = this.graph.get(uid);
    if (g && deletingDependents(g)) this.#queue.add(g.uid);
  }

  #rememberAbsent(uid: string): void {
    this.#absent.delete(uid);
    this.#absent.add(uid);
    if (this.#absent.size > ABSENT_CACHE_SIZE) this.#absent.delete(this.#absent.values().next().value!);
  }

  /** Handles one object (exported for tests driving the collector by hand). */
  async process(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (!node) return;
    if (node.deleting) {
      if (hasFinalizer(node, FINALIZER_ORPHAN) || hasFinalizer(node, FINALIZER_FOREGROUND)) await this.#processDeletingOwner(node);
      return;
    }
    if (node.owners.length === 0) return;
    for (const ref of node.owners) {
      if (!this.#kinds.resolve(ref.apiVersion, ref.kind)) {
        this.#park(ref, uid);
        return;
      }
    }
    // Cheap check on the graph first: all owners present and not deleting in the foreground → nothing.
    if (node.owners.every((o) => { const g = this.graph.get(o.uid); return g !== undefined && !deletingDependents(g); })) return;

    const live = await this.#getLive(node);
    if (!live || live.metadata?.deletionTimestamp) return;
    const refs = live.metadata?.ownerReferences ?? [];
    const owners: ClassifiedOwner[] = [];
    for (const ref of refs) {
      if (!this.#kinds.resolve(ref.apiVersion, ref.kind)) {
        this.#park(ref, uid);
        return;
      }
      owners.push({ uid: ref.uid, state: await this.#ownerState(node.namespace, ref) });
    }
    const action = decideDependent(live.metadata?.finalizers ?? [], owners, this.graph.hasDependents(uid));
    if (action.type === 'removeOwnerRefs') await this.#removeOwnerRefs(node, live, new Set(action.uids));
    else if (action.type === 'delete') {
      try {
        await this.#client.delete(node.resource, node.namespace, node.name, { propagationPolicy: action.policy, preconditions: { uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  #park(ref: OwnerReference, uid: string): void {
    const key = `${groupOf(ref.apiVersion)}/${ref.kind}`;
    let set = this.#parked.get(key);
    if (!set) this.#parked.set(key, (set = new Set()));
    set.add(uid);
  }

  async #ownerState(dependentNamespace: string | undefined, ref: OwnerReference): Promise<OwnerState> {
    const res = this.#kinds.resolve(ref.apiVersion, ref.kind)!;
    // A cluster-scoped object cannot be owned by a namespaced one: that reference never resolves.
    if (res.namespaced && !dependentNamespace) return 'dangling';
    const ns = res.namespaced ? dependentNamespace : undefined;
    const g = this.graph.get(ref.uid);
    if (g && g.name === ref.name && g.namespace === ns) return deletingDependents(g) ? 'waiting' : 'solid';
    if (this.#absent.has(ref.uid)) return 'dangling';
    let owner: KubeObject;
    try {
      owner = await this.#client.get<KubeObject>(res.ref, ns, ref.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.#rememberAbsent(ref.uid);
      return 'dangling';
    }
    if (owner.metadata?.uid !== ref.uid) {
      this.#rememberAbsent(ref.uid);
      return 'dangling';
    }
    return owner.metadata?.deletionTimestamp && owner.metadata.finalizers?.includes(FINALIZER_FOREGROUND) ? 'waiting' : 'solid';
  }

  async #getLive(node: GraphNode): Promise<KubeObject | undefined> {
    try {
      const live = await this.#client.get<KubeObject>(node.resource, node.namespace, node.name);
      return live.metadata?.uid === node.uid ? live : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #removeOwnerRefs(node: GraphNode, live: KubeObject, uids: ReadonlySet<string>): Promise<void> {
    const refs = (live.metadata?.ownerReferences ?? []).filter((r) => !uids.has(r.uid));
    if (refs.length === (live.metadata?.ownerReferences ?? []).length) return;
    try {
      // resourceVersion makes the patch conditional: refs added meanwhile are not lost (409 → retried).
      await this.#client.patch(node.resource, node.namespace, node.name, 'merge', {
        metadata: { resourceVersion: live.metadata?.resourceVersion, ownerReferences: refs.length ? refs : null },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #processDeletingOwner(owner: GraphNode): Promise<void> {
    const deps = this.graph.dependents(owner.uid).map((d) => this.graph.get(d)).filter((d): d is GraphNode => d !== undefined);
    const action = decideDeletingOwner(owner.finalizers, deps.map((d) => ({
      uid: d.uid,
      blocking: d.owners.some((o) => o.uid === owner.uid && o.blockOwnerDeletion === true),
      deleting: d.deleting,
    })));
    switch (action.type) {
      case 'orphan':
        for (const uid of action.dependents) {
          const dep = this.graph.get(uid);
          if (!dep) continue;
          const live = await this.#getLive(dep);
          if (live) await this.#removeOwnerRefs(dep, live, new Set([owner.uid]));
        }
        await this.#removeFinalizer(owner, FINALIZER_ORPHAN);
        return;
      case 'removeFinalizer':
        await this.#removeFinalizer(owner, action.finalizer);
        return;
      case 'deleteDependents':
        for (const uid of action.dependents) this.#queue.add(uid);
        return;
      case 'none':
        return;
    }
  }

  async #removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const live = await this.#getLive(node);
    const finalizers = live?.metadata?.finalizers ?? [];
    if (!live || !finalizers.includes(finalizer)) return;
    try {
      await this.#client.patch(node.resource, node.namespace, node.name, 'merge', {
        metadata: { resourceVersion: live.metadata?.resourceVersion, finalizers: finalizers.filter((f) => f !== finalizer) },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
