// The serviceaccount controller (kube-controller-manager's "serviceaccount-controller"): every active
// namespace has a `default` ServiceAccount; one that is deleted is made again.

import type { Namespace, ServiceAccount } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../../client/errors.ts';
import { ServiceAccounts } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { WorkQueue, runWorkers } from '../workqueue.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export interface ServiceAccountControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

export class ServiceAccountController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #workers: number;
  readonly #onError: (err: unknown) => void;
  readonly #queue: WorkQueue<string>;
  #unsubscribe: Array<() => void> = [];
  #loops: Promise<void> | undefined;

  constructor(o: ServiceAccountControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#workers = o.workers ?? 1;
    this.#onError = o.onError ?? ((err) => console.error(`tinykube: serviceaccount controller: ${(err as Error).message}`));
    this.#queue = new WorkQueue<string>({ clock: o.clock });
  }

  start(): void {
    if (this.#loops) return;
    this.#unsubscribe = [
      this.#informers.namespaces().addEventHandler({ onAdd: (ns) => this.#queue.add(ns.metadata!.name!), onUpdate: (_o, ns) => this.#queue.add(ns.metadata!.name!) }),
      this.#informers.serviceAccounts().addEventHandler({
        onDelete: (sa) => {
          if (sa.metadata?.name === DEFAULT_SERVICE_ACCOUNT) this.#queue.add(sa.metadata.namespace!);
        },
      }),
    ];
    this.#informers.start();
    this.#loops = runWorkers(this.#queue, this.#workers, (ns) => this.sync(ns), (err) => {
      if (!isConflict(err)) this.#onError(err);
    });
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#queue.shutDown();
    await this.#loops;
    this.#loops = undefined;
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.#informers.namespaces().store.get(undefined, namespace) as Namespace | undefined;
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    if (this.#informers.serviceAccounts().store.get(namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    try {
      await this.#client.create<ServiceAccount>(ServiceAccounts, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } });
    } catch (err) {
      // Made meanwhile, or the namespace started terminating or went away: nothing to do.
      if (isAlreadyExists(err) || isForbidden(err) || isNotFound(err)) return;
      throw err;
    }
  }
}
