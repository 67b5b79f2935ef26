// The serviceaccount controller (kube-controller-manager's "serviceaccount-controller"): every active
// namespace has a `default` ServiceAccount; one that is deleted is made again.

import type { ServiceAccount } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { ServiceAccounts } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop, isActiveNamespace, lostCreateRace } from '../keyloop.ts';

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
  readonly #loop: KeyLoop;

  constructor(o: ServiceAccountControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: serviceaccount controller: ${(err as Error).message}`)) });
  }

  start(): void {
    const q = this.#loop.queue;
    this.#loop.start(this.#informers, () => [
      this.#informers.namespaces().addEventHandler({ onAdd: (ns) => q.add(ns.metadata!.name!), onUpdate: (_o, ns) => q.add(ns.metadata!.name!) }),
      this.#informers.serviceAccounts().addEventHandler({
        onDelete: (sa) => {
          if (sa.metadata?.name === DEFAULT_SERVICE_ACCOUNT) q.add(sa.metadata.namespace!);
        },
      }),
    ], (ns) => this.sync(ns));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(namespace: string): Promise<void> {
    if (!isActiveNamespace(this.#informers.namespaces().store.get(undefined, namespace))) return;
    if (this.#informers.serviceAccounts().store.get(namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    try {
      await this.#client.create<ServiceAccount>(ServiceAccounts, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } });
    } catch (err) {
      if (!lostCreateRace(err)) throw err;
    }
  }
}
