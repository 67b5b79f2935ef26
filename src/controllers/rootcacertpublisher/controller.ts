// The root CA publisher (kube-controller-manager's "root-ca-cert-publisher"): every active namespace
// has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so programs in pods can verify
// the API server. A changed or deleted one is put back.

import type { ConfigMap } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { ConfigMaps } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop, isActiveNamespace, lostCreateRace } from '../keyloop.ts';

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
  readonly #loop: KeyLoop;

  constructor(o: RootCACertPublisherOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#rootCA = o.rootCA;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: root-ca-cert-publisher: ${(err as Error).message}`)) });
  }

  start(): void {
    const q = this.#loop.queue;
    const configMapChanged = (cm: ConfigMap) => q.add(cm.metadata!.namespace!);
    this.#loop.start(this.#informers, () => [
      this.#informers.namespaces().addEventHandler({ onAdd: (ns) => q.add(ns.metadata!.name!), onUpdate: (_o, ns) => q.add(ns.metadata!.name!) }),
      this.#informers.rootCAConfigMaps(ROOT_CA_CONFIGMAP).addEventHandler({ onUpdate: (_o, cm) => configMapChanged(cm), onDelete: configMapChanged }),
    ], (ns) => this.sync(ns));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(namespace: string): Promise<void> {
    if (!isActiveNamespace(this.#informers.namespaces().store.get(undefined, namespace))) return;
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
      if (!lostCreateRace(err)) throw err;
    }
  }
}
