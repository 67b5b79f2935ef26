// Informers shared by the controllers of one process, so pods and nodes are listed and watched once
// however many controllers read them (client-go's SharedInformerFactory, reduced to what we use).
//
// Built by the manager (or a test), handed to each controller's constructor; controllers add their
// handlers in start(). start() here starts every informer created so far and is idempotent; an informer
// asked for after start() is started at once. Single-threaded use only.

import type { ConfigMap, Namespace, Node, Pod, ServiceAccount } from '../api/types.ts';
import type { Lease } from '../api/types.ts';
import type { ApiClient, HasMetadata } from '../client/client.ts';
import { Informer, listWatch, transformListWatch } from '../client/informer.ts';
import { trimPodForCache } from '../client/trim.ts';
import { podClaimNames } from '../api/volumes/ephemeral.ts';
import type { ListerWatcher } from '../client/informer.ts';
import type { IndexFunc } from '../client/cache.ts';
import { ConfigMaps, Leases, Namespaces, Nodes, Pods, ServiceAccounts } from '../client/resources.ts';
import type { ResourceRef } from '../client/resources.ts';
import type { Clock } from '../util/clock.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Pod index: spec.nodeName ("" for unbound pods). */
export const POD_BY_NODE = 'nodeName';

/** Pod index: metadata.namespace (workload controllers look for orphans in their namespace). */
export const POD_BY_NAMESPACE = 'namespace';
/** Pod index: the uid of the controlling owner (none for pods without one). */
export const POD_BY_CONTROLLER = 'controller';
/** Pod index: `<namespace>/<claim>` of each claim its volumes name, ephemeral ones included (kube's PodPVCIndex). */
export const POD_BY_CLAIM = 'claim';

const podByNode: IndexFunc<Pod> = (p) => [p.spec?.nodeName ?? ''];
const podByNamespace: IndexFunc<Pod> = (p) => [p.metadata?.namespace ?? ''];
const podByClaim: IndexFunc<Pod> = (p) => podClaimNames(p).map((c) => `${p.metadata?.namespace ?? ''}/${c}`);
const podByController: IndexFunc<Pod> = (p) => {
  const ref = p.metadata?.ownerReferences?.find((r) => r?.controller === true);
  return ref?.uid ? [ref.uid] : [];
};

export class SharedInformers {
  readonly client: ApiClient;
  readonly #clock: Clock | undefined;
  readonly #onError: (err: unknown) => void;
  readonly #informers = new Map<string, Informer<HasMetadata>>();
  #started = false;

  constructor(client: ApiClient, options: { clock?: Clock; onError?: (err: unknown) => void } = {}) {
    this.client = client;
    this.#clock = options.clock;
    this.#onError = options.onError ?? (() => {});
  }

  /** All pods, indexed by POD_BY_NODE, POD_BY_NAMESPACE, POD_BY_CONTROLLER and POD_BY_CLAIM. */
  pods(): Informer<Pod> {
    // Cached trimmed (client/trim.ts): the controllers read metadata, nodeName, tolerations and phase.
    return this.#get('pods', () => new Informer<Pod>(transformListWatch(listWatch<Pod>(this.client, Pods), trimPodForCache), { clock: this.#clock, onError: this.#onError, indexers: { [POD_BY_NODE]: podByNode, [POD_BY_NAMESPACE]: podByNamespace, [POD_BY_CONTROLLER]: podByController, [POD_BY_CLAIM]: podByClaim } }));
  }

  nodes(): Informer<Node> {
    return this.#get('nodes', () => new Informer<Node>(listWatch<Node>(this.client, Nodes), { clock: this.#clock, onError: this.#onError }));
  }

  /** Node heartbeats: the Leases in kube-node-lease. */
  nodeLeases(): Informer<Lease & HasMetadata> {
    return this.#get('nodeLeases', () => new Informer<Lease & HasMetadata>(listWatch<Lease & HasMetadata>(this.client, Leases, NODE_LEASE_NAMESPACE), { clock: this.#clock, onError: this.#onError }));
  }

  namespaces(): Informer<Namespace & HasMetadata> {
    return this.resource<Namespace & HasMetadata>(Namespaces);
  }

  serviceAccounts(): Informer<ServiceAccount & HasMetadata> {
    return this.resource<ServiceAccount & HasMetadata>(ServiceAccounts);
  }

  /** The ConfigMaps of one name in every namespace (the root CA publisher's: it needs no others). */
  rootCAConfigMaps(name: string): Informer<ConfigMap & HasMetadata> {
    return this.#get(`configmaps:${name}`, () => new Informer<ConfigMap & HasMetadata>(listWatch<ConfigMap & HasMetadata>(this.client, ConfigMaps, undefined, { fieldSelector: `metadata.name=${name}` }), { clock: this.#clock, onError: this.#onError }));
  }

  /** Any resource through a caller-built ListerWatcher (the garbage collector's metadata views). */
  custom<T extends HasMetadata>(key: string, make: () => ListerWatcher<T>, indexers?: Record<string, IndexFunc<T>>): Informer<T> {
    return this.#get(`custom:${key}`, () => new Informer<T>(make(), { clock: this.#clock, onError: this.#onError, indexers }));
  }

  /** A plain list/watch of `ref` (all namespaces). */
  resource<T extends HasMetadata>(ref: ResourceRef): Informer<T> {
    return this.#get(`ref:${ref.apiVersion}/${ref.resource}`, () => new Informer<T>(listWatch<T>(this.client, ref), { clock: this.#clock, onError: this.#onError }));
  }

  /** The plain informer of `ref` (see resource()) if a controller has asked for one, without making one. */
  existing<T extends HasMetadata>(ref: ResourceRef): Informer<T> | undefined {
    return this.#informers.get(`ref:${ref.apiVersion}/${ref.resource}`) as Informer<T> | undefined;
  }

  start(): void {
    this.#started = true;
    for (const inf of this.#informers.values()) inf.start();
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }

  /** Resolves once every informer created so far has its first list. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(signal)));
  }

  #get<T extends HasMetadata>(key: string, make: () => Informer<T>): Informer<T> {
    let inf = this.#informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      inf = make();
      this.#informers.set(key, inf as unknown as Informer<HasMetadata>);
      if (this.#started) inf.start();
    }
    return inf;
  }
}
