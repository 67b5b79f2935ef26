// All stores of one API server, plus the rules that span resources: namespace admission (no new
// content in a missing or terminating namespace), namespace termination, the bootstrap namespaces.

import type { Backend } from '../storage/backend.ts';
import type { KubeObject, Pod, PriorityClass } from '../api/types.ts';
import { forbidden, notFound, StatusError } from '../util/status.ts';
import { realClock, type Clock } from '../util/clock.ts';
import { Store, type DeletionPolicy, type StoreAdmission } from './store.ts';
import { PriorityAdmission } from './priority.ts';
import type { ResourceInfo, Strategy } from './strategy.ts';
import { resourceTable } from './resources.ts';

/** Pods bound to a node wait for it (graceful); unbound or finished pods go at once. */
const podDeletion: DeletionPolicy = {
  gracePeriod(obj, requested) {
    const spec = (obj.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = requested ?? spec.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  },
};

/** A namespace is held by spec.finalizers until its content is gone. */
const namespaceDeletion: DeletionPolicy = {
  gracePeriod: () => 0,
  holds: (obj) => (((obj.spec as { finalizers?: string[] } | undefined)?.finalizers?.length) ?? 0) > 0,
  onDeleting(obj) {
    obj.status = { ...((obj.status as object | undefined) ?? {}), phase: 'Terminating' };
  },
};

const deletionPolicies: Record<string, DeletionPolicy> = { pods: podDeletion, namespaces: namespaceDeletion };

export const bootstrapNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Registry {
  readonly #stores = new Map<string, Store>();
  readonly clock: Clock;
  readonly backend: Backend;
  #stopped = false;
  #nsWork = new Set<string>();
  #priority: PriorityAdmission | undefined;

  constructor(backend: Backend, opts: { clock?: Clock; strategies?: Strategy[] } = {}) {
    this.backend = backend;
    this.clock = opts.clock ?? realClock;
    const strategies = opts.strategies ?? resourceTable;
    const classes = strategies.find((s) => s.info.group === 'scheduling.k8s.io' && s.info.resource === 'priorityclasses');
    const admission: Record<string, StoreAdmission> = {};
    if (classes) {
      admission['/pods'] = { create: (o) => this.#priority!.admitPod(o as Pod) };
      admission['scheduling.k8s.io/priorityclasses'] = {
        create: (o) => this.#priority!.admitClass(o as unknown as PriorityClass, undefined),
        update: (o, old) => this.#priority!.admitClass(o as unknown as PriorityClass, old as unknown as PriorityClass),
      };
    }
    for (const s of strategies) {
      const id = `${s.info.group}/${s.info.resource}`;
      this.#stores.set(id, new Store(backend, s, { clock: this.clock, deletion: deletionPolicies[s.info.resource], admission: admission[id] }));
    }
    if (classes) this.#priority = new PriorityAdmission(this.store('priorityclasses', 'scheduling.k8s.io'));
  }

  lookup(group: string, version: string, resource: string): Store | undefined {
    const s = this.#stores.get(`${group}/${resource}`);
    return s && s.info.version === version ? s : undefined;
  }

  store(resource: string, group = ''): Store {
    const s = this.#stores.get(`${group}/${resource}`);
    if (!s) throw new Error(`no store for ${group}/${resource}`);
    return s;
  }

  resources(): ResourceInfo[] {
    return [...this.#stores.values()].map((s) => s.info);
  }

  /** Creates the namespaces every cluster has, and their default service accounts. Idempotent. */
  async bootstrap(): Promise<void> {
    for (const name of bootstrapNamespaces) {
      if (!(await this.store('namespaces').tryGet(undefined, name))) {
        try {
          await this.store('namespaces').create(undefined, { metadata: { name } });
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 409)) throw err;
        }
      }
      await this.ensureDefaultServiceAccount(name);
    }
    await this.#priority?.start();
    // Resume terminations that were in progress when the server stopped.
    const all = await this.store('namespaces').list({});
    for (const ns of all.items) if (ns.metadata?.deletionTimestamp) this.finalizeNamespaceSoon(ns.metadata.name!);
  }

  /** Every namespace gets a `default` service account, as the serviceaccount controller makes. */
  async ensureDefaultServiceAccount(namespace: string): Promise<void> {
    const sa = this.store('serviceaccounts');
    if (await sa.tryGet(namespace, 'default')) return;
    try {
      await sa.create(namespace, { metadata: { name: 'default', namespace } });
    } catch (err) {
      if (!(err instanceof StatusError && (err.code === 409 || err.code === 403))) throw err;
    }
  }

  /** Namespace admission for creating `resource` in `namespace`. */
  async admitCreate(store: Store, namespace: string | undefined, name: string): Promise<void> {
    if (!store.info.namespaced || !namespace) return;
    const ns = await this.store('namespaces').tryGet(undefined, namespace);
    if (!ns) throw notFound('namespaces', namespace);
    if (ns.metadata?.deletionTimestamp || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating') {
      throw forbidden(store.qualifiedResource, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${namespace} is terminating`, field: 'metadata.namespace' },
      ]);
    }
  }

  /**
   * Empties a terminating namespace and then releases it (what the namespace controller does).
   * Runs in the background; pods bound to nodes are deleted gracefully, so this waits for them:
   * `podGone` is re-checked whenever the store changes.
   */
  finalizeNamespaceSoon(name: string): void {
    if (this.#nsWork.has(name) || this.#stopped) return;
    this.#nsWork.add(name);
    void this.#finalizeNamespace(name).finally(() => this.#nsWork.delete(name));
  }

  async #finalizeNamespace(name: string): Promise<void> {
    const nsStore = this.store('namespaces');
    for (let round = 0; !this.#stopped; round++) {
      let remaining = 0;
      for (const store of this.#stores.values()) {
        if (!store.info.namespaced) continue;
        const list = await store.list({ namespace: name });
        for (const obj of list.items) {
          remaining++;
          if (obj.metadata?.deletionTimestamp) continue;
          try {
            await store.delete(name, obj.metadata!.name!, {});
          } catch (err) {
            if (!(err instanceof StatusError && err.code === 404)) console.error(`tinykube: namespace ${name}: deleting ${store.info.resource}/${obj.metadata?.name}: ${(err as Error).message}`);
          }
        }
      }
      if (remaining === 0 || (await this.#namespaceEmpty(name))) break;
      await this.#waitForChange(name, round);
    }
    if (this.#stopped) return;
    try {
      await nsStore.guaranteedUpdate(undefined, name, (ns) => {
        const spec = (ns.spec ?? {}) as { finalizers?: string[] };
        spec.finalizers = (spec.finalizers ?? []).filter((f) => f !== 'kubernetes');
        ns.spec = spec;
        return ns;
      }, { subresource: 'finalize' });
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 404)) throw err;
    }
  }

  async #namespaceEmpty(name: string): Promise<boolean> {
    for (const store of this.#stores.values()) {
      if (store.info.namespaced && (await store.count(name)) > 0) return false;
    }
    return true;
  }

  /** Waits until something in the namespace changes (or a short poll interval passes, as a safety net). */
  #waitForChange(name: string, round: number): Promise<void> {
    return new Promise((resolve) => {
      const watches: { close(): void }[] = [];
      const timer = this.clock.setTimeout(done, Math.min(1000 * 2 ** Math.min(round, 4), 10_000));
      let finished = false;
      function done() {
        if (finished) return;
        finished = true;
        timer.cancel();
        for (const w of watches) w.close();
        resolve();
      }
      void (async () => {
        const rev = String(await this.backend.currentRevision());
        for (const store of this.#stores.values()) {
          if (!store.info.namespaced || finished) continue;
          watches.push(await store.watch({ namespace: name, resourceVersion: rev, onEvent: done, onError: done }));
        }
        if (finished) for (const w of watches) w.close();
      })();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#priority?.stop();
  }
}

export type { KubeObject };
