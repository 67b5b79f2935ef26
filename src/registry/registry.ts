// All stores of one API server, one per kind in kinds.ts, and what the server makes at start: the
// namespaces every cluster has and the system PriorityClasses (kube-apiserver's post-start hooks).
// Work that spans kinds is not here: namespace termination and default service accounts are the
// controllers' (src/controllers/namespace, serviceaccount), admission is the API server's pipeline.

import type { Backend } from '../storage/backend.ts';
import type { KubeObject } from '../api/types.ts';
import { SYSTEM_PRIORITY_CLASS_OBJECTS } from '../api/validation/others.ts';
import { StatusError } from '../util/status.ts';
import { realClock, type Clock } from '../util/clock.ts';
import { Store } from './store.ts';
import type { KindDefinition } from './kind.ts';
import type { ResourceInfo } from './strategy.ts';
import { builtinKinds } from './kinds.ts';

export const bootstrapNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Registry {
  readonly #stores = new Map<string, Store>();
  readonly clock: Clock;
  readonly backend: Backend;

  constructor(backend: Backend, opts: { clock?: Clock; kinds?: readonly KindDefinition[] } = {}) {
    this.backend = backend;
    this.clock = opts.clock ?? realClock;
    for (const kind of opts.kinds ?? builtinKinds) this.#stores.set(`${kind.info.group}/${kind.info.resource}`, new Store(backend, kind, { clock: this.clock }));
  }

  lookup(group: string, version: string, resource: string): Store | undefined {
    const s = this.#stores.get(`${group}/${resource}`);
    return s && s.info.version === version ? s : undefined;
  }

  /** The store of a kind that must exist (a programming error otherwise). */
  store(resource: string, group = ''): Store {
    const s = this.#stores.get(`${group}/${resource}`);
    if (!s) throw new Error(`no store for ${group}/${resource}`);
    return s;
  }

  /** The store of a kind this registry may not serve (a registry built with fewer kinds). */
  tryStore(resource: string, group = ''): Store | undefined {
    return this.#stores.get(`${group}/${resource}`);
  }

  resources(): ResourceInfo[] {
    return [...this.#stores.values()].map((s) => s.info);
  }

  kinds(): KindDefinition[] {
    return [...this.#stores.values()].map((s) => s.kind);
  }

  stores(): Store[] {
    return [...this.#stores.values()];
  }

  /** Creates the namespaces every cluster has and the system PriorityClasses. Idempotent. */
  async bootstrap(): Promise<void> {
    const namespaces = this.tryStore('namespaces');
    if (namespaces) for (const name of bootstrapNamespaces) await createIfMissing(namespaces, { metadata: { name } });
    const classes = this.tryStore('priorityclasses', 'scheduling.k8s.io');
    if (classes) for (const sys of SYSTEM_PRIORITY_CLASS_OBJECTS) await createIfMissing(classes, structuredClone(sys) as unknown as KubeObject);
  }

  stop(): void {}
}

async function createIfMissing(store: Store, obj: KubeObject): Promise<void> {
  if (await store.tryGet(obj.metadata?.namespace, obj.metadata!.name!)) return;
  try {
    await store.create(obj.metadata?.namespace, obj);
  } catch (err) {
    // Another API server on the same etcd made it first.
    if (!(err instanceof StatusError && err.code === 409)) throw err;
  }
}

export type { KubeObject };
