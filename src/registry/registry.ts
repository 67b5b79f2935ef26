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
import { DEFAULT_SERVICE_RANGES, type ServiceRanges } from '../api/network.ts';

export const bootstrapNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Registry {
  /** By "group/version/resource". */
  readonly #stores = new Map<string, Store>();
  /** By "group/resource": the stores of every served version, preferred first. */
  readonly #byResource = new Map<string, Store[]>();
  readonly #listeners = new Set<() => void>();
  readonly clock: Clock;
  readonly backend: Backend;
  /** Where Service ClusterIPs and node ports come from (kube-apiserver's --service-cluster-ip-range, --service-node-port-range). */
  readonly serviceRanges: ServiceRanges;
  #generation = 0;

  constructor(backend: Backend, opts: { clock?: Clock; kinds?: readonly KindDefinition[]; serviceRanges?: ServiceRanges } = {}) {
    this.backend = backend;
    this.clock = opts.clock ?? realClock;
    this.serviceRanges = opts.serviceRanges ?? DEFAULT_SERVICE_RANGES;
    for (const kind of opts.kinds ?? builtinKinds) this.#add(kind);
  }

  lookup(group: string, version: string, resource: string): Store | undefined {
    return this.#stores.get(`${group}/${version}/${resource}`);
  }

  /** The store (of the preferred version) of a kind that must exist (a programming error otherwise). */
  store(resource: string, group = ''): Store {
    const s = this.#byResource.get(`${group}/${resource}`)?.[0];
    if (!s) throw new Error(`no store for ${group}/${resource}`);
    return s;
  }

  /** The store (of the preferred version) of a kind this registry may not serve. */
  tryStore(resource: string, group = ''): Store | undefined {
    return this.#byResource.get(`${group}/${resource}`)?.[0];
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

  /** Counts changes of the served kinds (discovery and OpenAPI are rebuilt when it moves). */
  get generation(): number {
    return this.#generation;
  }

  /** Called after the served kinds change. Returns the removal. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Serves the versions of one resource defined at run time (a CustomResourceDefinition), preferred
   * version first, replacing whatever versions of it were served before.
   */
  setKinds(group: string, resource: string, kinds: readonly KindDefinition[]): void {
    this.#drop(group, resource);
    for (const k of kinds) this.#add(k);
    this.#changed();
  }

  /** Stops serving a resource defined at run time. */
  removeKinds(group: string, resource: string): void {
    if (this.#drop(group, resource)) this.#changed();
  }

  #add(kind: KindDefinition): void {
    const hooks = kind.writeHooks?.({ backend: this.backend, clock: this.clock, serviceRanges: this.serviceRanges });
    const store = new Store(this.backend, kind, { clock: this.clock, hooks });
    this.#stores.set(`${kind.info.group}/${kind.info.version}/${kind.info.resource}`, store);
    const key = `${kind.info.group}/${kind.info.resource}`;
    this.#byResource.set(key, [...(this.#byResource.get(key) ?? []), store]);
  }

  #drop(group: string, resource: string): boolean {
    const key = `${group}/${resource}`;
    const stores = this.#byResource.get(key);
    if (!stores) return false;
    for (const s of stores) this.#stores.delete(`${group}/${s.info.version}/${resource}`);
    this.#byResource.delete(key);
    return true;
  }

  #changed(): void {
    this.#generation++;
    for (const l of [...this.#listeners]) l();
  }

  /** Creates the namespaces every cluster has and the system PriorityClasses. Idempotent. */
  async bootstrap(): Promise<void> {
    const namespaces = this.tryStore('namespaces');
    if (namespaces) for (const name of bootstrapNamespaces) await createIfMissing(namespaces, { metadata: { name } });
    const classes = this.tryStore('priorityclasses', 'scheduling.k8s.io');
    if (classes) for (const sys of SYSTEM_PRIORITY_CLASS_OBJECTS) await createIfMissing(classes, structuredClone(sys) as unknown as KubeObject);
  }

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
