// The Services every cluster has, made by the API server once it listens: `default/kubernetes` (the
// API server itself, first address of the Service range, as kube-apiserver's bootstrap controller
// keeps it) and `kube-system/kube-dns` (the cluster DNS, tenth address, as kubeadm and k3s create it).
// Their endpoints are not made here: the endpoints controller and the node agents publish them.

import type { KubeObject, Service } from '../../../api/types.ts';
import { clusterDNSIP, kubernetesServiceIP, LABEL_SERVICE_PROXY_NAME, NODE_DNS_PROXY_NAME, type ServiceRanges } from '../../../api/network.ts';
import { StatusError } from '../../../util/status.ts';
import type { Store } from '../../store.ts';
import type { Clock, Timer } from '../../../util/clock.ts';

/** kube-apiserver's bootstrap controller checks the `kubernetes` Service every 10 seconds. */
export const KUBERNETES_SERVICE_INTERVAL_MS = 10_000;

/** kube-apiserver's `kubernetes` Service: no selector, https 443 → the API server's secure port. */
export function kubernetesService(ranges: ServiceRanges, apiServerPort: number): Service {
  const ip = kubernetesServiceIP(ranges.serviceCidr);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      sessionAffinity: 'None',
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: apiServerPort }],
    },
  };
}

/**
 * The cluster DNS Service as k3s ships it for CoreDNS (dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP),
 * without a selector: every node's agent serves DNS and publishes its own endpoint. Local internal
 * traffic policy keeps a pod's queries on its own node.
 */
export function kubeDNSService(ranges: ServiceRanges): Service {
  const ip = clusterDNSIP(ranges.serviceCidr);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      // Served by each node's own DNS on this address (src/dns/node-address.ts), not through endpoints:
      // the service-proxy-name label keeps the node proxy and the EndpointSlice controller off it.
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS', [LABEL_SERVICE_PROXY_NAME]: NODE_DNS_PROXY_NAME },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      internalTrafficPolicy: 'Local',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  };
}

export interface BootstrapResult {
  /** What was created or corrected, as `namespace/name`. */
  changed: string[];
  /** What could not be made, with the API server's answer (an address taken by another Service). */
  failed: { service: string; reason: string }[];
}

/**
 * Creates both Services when missing. The `kubernetes` Service's ports follow the API server (its
 * port may differ after a restart), as kube-apiserver's reconciler corrects them; kube-dns is left as
 * the administrator may have changed it. Idempotent; safe with several API servers.
 */
export async function ensureBootstrapServices(store: Store, ranges: ServiceRanges, apiServerPort: number): Promise<BootstrapResult> {
  const out = await ensureKubernetesService(store, ranges, apiServerPort);
  await ensure(store, kubeDNSService(ranges), out, () => undefined);
  return out;
}

/** The `kubernetes` Service alone: made when missing (`kubectl delete all --all` removes it), its ports corrected. */
export async function ensureKubernetesService(store: Store, ranges: ServiceRanges, apiServerPort: number): Promise<BootstrapResult> {
  const out: BootstrapResult = { changed: [], failed: [] };
  const want = kubernetesService(ranges, apiServerPort);
  const portsOf = (svc: Service) => JSON.stringify(svc.spec?.ports?.map((p) => [p.name, p.port, p.protocol, p.targetPort]));
  await ensure(store, want, out, (cur) => (portsOf(cur as Service) === portsOf(want) ? undefined : ({ ...cur, spec: { ...(cur as Service).spec, ports: want.spec!.ports } } as KubeObject)));
  return out;
}

/**
 * Keeps the `kubernetes` Service, as kube-apiserver's bootstrap controller does: checked every 10
 * seconds, recreated when deleted. Failures are logged and tried again at the next tick.
 */
export class KubernetesServiceReconciler {
  readonly #store: Store;
  readonly #ranges: ServiceRanges;
  readonly #port: number;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(store: Store, ranges: ServiceRanges, apiServerPort: number, clock: Clock) {
    this.#store = store;
    this.#ranges = ranges;
    this.#port = apiServerPort;
    this.#clock = clock;
  }

  start(intervalMs = KUBERNETES_SERVICE_INTERVAL_MS): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#timer = this.#clock.setTimeout(() => {
        void ensureKubernetesService(this.#store, this.#ranges, this.#port)
          .then((r) => {
            for (const f of r.failed) console.error(`tinykube: could not create Service ${f.service}: ${f.reason}`);
          })
          .catch((err: unknown) => console.error(`tinykube: kubernetes Service: ${err instanceof Error ? err.message : String(err)}`))
          .finally(tick);
      }, intervalMs);
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }
}

async function ensure(store: Store, svc: Service, out: BootstrapResult, correct: (cur: KubeObject) => KubeObject | undefined): Promise<void> {
  const ns = svc.metadata!.namespace!;
  const name = svc.metadata!.name!;
  const id = `${ns}/${name}`;
  try {
    const cur = await store.tryGet(ns, name);
    if (!cur) {
      await store.create(ns, structuredClone(svc) as KubeObject);
      out.changed.push(id);
      return;
    }
    if (!correct(cur)) return;
    await store.guaranteedUpdate(ns, name, (fresh) => correct(fresh) ?? fresh);
    out.changed.push(id);
  } catch (err) {
    // Another API server made it first: nothing to do.
    if (err instanceof StatusError && err.code === 409) return;
    if (err instanceof StatusError) out.failed.push({ service: id, reason: err.message });
    else throw err;
  }
}
