// The namespace controller (kube-controller-manager's): a namespace being deleted is emptied of every
// namespaced resource the server serves (found through discovery, so kinds added later are deleted
// too), and once nothing is left its `kubernetes` finalizer is removed through the finalize
// subresource, which lets the API server delete it. While content remains, the namespace's status says
// so in the conditions kube-controller-manager writes (NamespaceContentRemaining,
// NamespaceDeletionContentFailure, NamespaceFinalizersRemaining, NamespaceDeletionDiscoveryFailure).
//
// Pods that terminate gracefully hold their namespace until their node confirms them: a pod deletion in
// a terminating namespace queues the namespace again at once; otherwise it is retried with backoff.

import type { Namespace, NamespaceCondition, Pod } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { EventHandler } from '../../client/informer.ts';
import { Namespaces } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock, rfc3339 } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import type { WorkQueue } from '../workqueue.ts';
import { KeyLoop } from '../keyloop.ts';
import { namespacedResources, type NamespacedResource } from './discovery.ts';

export interface NamespaceControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

/** The finalizer the namespace controller owns (spec.finalizers). */
export const KUBERNETES_FINALIZER = 'kubernetes';

/** Thrown to requeue a namespace whose content is still going away (not a failure to report). */
class ContentRemaining extends Error {
  readonly code = 'ERR_NAMESPACE_CONTENT_REMAINING';
}

export class NamespaceController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #loop: KeyLoop;

  constructor(o: NamespaceControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    // Content that waits for a node or a finalizer is looked at again after 1 s, 2 s... at most 10 s.
    this.#loop = new KeyLoop({
      clock: this.#clock,
      workers: o.workers ?? 2,
      baseDelayMs: 1000,
      maxDelayMs: 10_000,
      onError: o.onError ?? ((err) => console.error(`tinykube: namespace controller: ${(err as Error).message}`)),
      quiet: (err) => err instanceof ContentRemaining || isConflict(err),
    });
  }

  start(): void {
    const q = this.#loop.queue;
    const nsHandler: EventHandler<Namespace> = {
      onAdd: (ns) => this.#changed(q, ns),
      onUpdate: (_o, ns) => this.#changed(q, ns),
    };
    const podHandler: EventHandler<Pod> = {
      onDelete: (p) => {
        const ns = this.#informers.namespaces().store.get(undefined, p.metadata?.namespace ?? '');
        if (ns?.metadata?.deletionTimestamp) q.add(ns.metadata.name!);
      },
    };
    this.#loop.start(this.#informers, () => [this.#informers.namespaces().addEventHandler(nsHandler), this.#informers.pods().addEventHandler(podHandler)], (name) => this.sync(name));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  #changed(q: WorkQueue<string>, ns: Namespace): void {
    if (ns.metadata?.deletionTimestamp) q.add(ns.metadata.name!);
  }

  /** One pass over a namespace: delete what is left, then release it. Throws to be retried. */
  async sync(name: string): Promise<void> {
    let ns: Namespace;
    try {
      ns = await this.#client.get<Namespace>(Namespaces, undefined, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(KUBERNETES_FINALIZER)) return;

    let resources: NamespacedResource[];
    try {
      resources = await namespacedResources(this.#client);
    } catch (err) {
      await this.#setConditions(ns, [condition('NamespaceDeletionDiscoveryFailure', 'True', 'DiscoveryFailed', `Discovery failed: ${(err as Error).message}`)]);
      throw err;
    }
    const failures: string[] = [];
    const remaining = new Map<string, number>();
    const finalizers = new Map<string, number>();
    for (const r of resources) {
      try {
        await this.#deleteAll(r, name);
        const left = await this.#client.list<{ metadata?: { finalizers?: string[] } }>(r.ref, name);
        if (left.items.length) {
          remaining.set(r.qualified, left.items.length);
          for (const o of left.items) for (const f of o.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
        }
      } catch (err) {
        if (!isNotFound(err)) failures.push(`${r.qualified}: ${(err as Error).message}`);
      }
    }
    const conds: NamespaceCondition[] = [
      condition('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'),
      failures.length
        ? condition('NamespaceDeletionContentFailure', 'True', 'ContentDeletionFailed', `Failed to delete all resource types, ${failures.length} remaining: ${failures.join(', ')}`)
        : condition('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'),
      remaining.size
        ? condition('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${[...remaining].sort().map(([r, n]) => `${r} has ${n} resource instances`).join(', ')}`)
        : condition('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed'),
      finalizers.size
        ? condition('NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${[...finalizers].sort().map(([f, n]) => `${f} in ${n} resource instances`).join(', ')}`)
        : condition('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'),
    ];
    ns = await this.#setConditions(ns, conds);
    if (failures.length) throw new Error(`namespace ${name}: ${failures.join('; ')}`);
    if (remaining.size) throw new ContentRemaining(`namespace ${name} has content remaining`);
    const spec = { ...(ns.spec ?? {}), finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== KUBERNETES_FINALIZER) };
    try {
      await this.#client.replaceSubresource(Namespaces, undefined, name, 'finalize', { ...ns, spec });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #deleteAll(r: NamespacedResource, namespace: string): Promise<void> {
    if (r.deleteCollection) {
      await this.#client.deleteCollection(r.ref, namespace);
      return;
    }
    const list = await this.#client.list<{ metadata?: { name?: string; deletionTimestamp?: string } }>(r.ref, namespace);
    for (const o of list.items) {
      if (o.metadata?.deletionTimestamp) continue;
      try {
        await this.#client.delete(r.ref, namespace, o.metadata!.name!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Writes the deletion conditions when they changed; returns the namespace as stored. */
  async #setConditions(ns: Namespace, conds: NamespaceCondition[]): Promise<Namespace> {
    const now = rfc3339(this.#clock.now());
    const old = ns.status?.conditions ?? [];
    const next = conds.map((c) => {
      const was = old.find((o) => o.type === c.type);
      return was && was.status === c.status && was.reason === c.reason && was.message === c.message ? was : { ...c, lastTransitionTime: was?.status === c.status ? was.lastTransitionTime : now };
    });
    const kept = old.filter((o) => !conds.some((c) => c.type === o.type));
    const all = [...kept, ...next];
    if (JSON.stringify(all) === JSON.stringify(old)) return ns;
    return this.#client.updateStatus<Namespace>(Namespaces, undefined, { ...ns, status: { ...(ns.status ?? {}), conditions: all } });
  }
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string): NamespaceCondition {
  return { type, status, reason, message };
}

