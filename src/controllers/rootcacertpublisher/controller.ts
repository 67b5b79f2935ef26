// The root CA publisher (kube-controller-manager's "root-ca-cert-publisher"): every active namespace
// has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so programs in pods can verify
// the API server. A changed or deleted one is put back.

import type { ConfigMap, Namespace } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../../client/errors.ts';
import { ConfigMaps } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { WorkQueue, runWorkers } from '../workqueue.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCACertPublisherOptions {
  client: ApiClient;
  informers: SharedInformers;
  /** The cluster CA certificate, PEM. */
  rootCA: string;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

export class RootCACertPublisher {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #rootCA: string;
  readonly #workers: number;
  readonly #onError: (err: unknown) => void;
  readonly #queue: WorkQueue<string>;
  #unsubscribe: Array<() => void> = [];
  #loops: Promise<void> | undefined;

  constructor(o: RootCACertPublisherOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#rootCA = o.rootCA;
    this.#workers = o.workers ?? 1;
    this.#onError = o.onError ?? ((err) => console.error(`tinykube: root-ca-cert-publisher: ${(err as Error).message}`));
    this.#queue = new WorkQueue<string>({ clock: o.clock });
  }

  start(): void {
    if (this.#loops) return;
    const configMapChanged = (cm: ConfigMap) => this.#queue.add(cm.metadata!.namespace!);
    this.#unsubscribe = [
      this.#informers.namespaces().addEventHandler({ onAdd: (ns) => this.#queue.add(ns.metadata!.name!), onUpdate: (_o, ns) => this.#queue.add(ns.metadata!.name!) }),
      this.#informers.rootCAConfigMaps(ROOT_CA_CONFIGMAP).addEventHandler({ onUpdate: (_o, cm) => configMapChanged(cm), onDelete: configMapChanged }),
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
    const cm = this.#informers.rootCAConfigMaps(ROOT_CA_CONFIGMAP).store.get(namespace, ROOT_CA_CONFIGMAP);
    const data = { 'ca.crt': this.#rootCA };
    const annotations = { 'kubernetes.io/description': DESCRIPTION };
    try {
      if (!cm) {
        await this.#client.create<ConfigMap>(ConfigMaps, namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations }, data });
      } else if (cm.data?.['ca.crt'] !== this.#rootCA || Object.keys(cm.data ?? {}).length !== 1 || cm.metadata?.annotations?.['kubernetes.io/description'] !== DESCRIPTION) {
        await this.#client.update<ConfigMap>(ConfigMaps, namespace, { ...cm, metadata: { ...cm.metadata, annotations: { ...(cm.metadata?.annotations ?? {}), ...annotations } }, data, binaryData: undefined });
      }
    } catch (err) {
      if (isAlreadyExists(err) || isForbidden(err) || isNotFound(err)) return;
      throw err;
    }
  }
}
