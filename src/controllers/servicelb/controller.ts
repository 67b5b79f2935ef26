// ServiceLB, k3s' built-in LoadBalancer implementation without its svclb pods: every node's proxy
// already serves a LoadBalancer's ports on the node's addresses, so "provisioning" is publishing those
// addresses. For each Service of type LoadBalancer without a loadBalancerClass, status.loadBalancer
// is kept equal to ./ingress.ts's answer for the current nodes (and, with externalTrafficPolicy
// Local, the current EndpointSlices); the status is written only when it differs.
//
// Events as k3s writes them: UpdatedLoadBalancer ("Updated LoadBalancer with new IPs: [] -> [..]")
// after a change, UnAvailableLoadBalancer when no node qualifies (the Service keeps an empty ingress,
// which kubectl shows as EXTERNAL-IP <pending>); the latter once per spell, not on every resync. A
// Service that stops being a LoadBalancer has its ingress cleared, as the cloud service controller
// does. A failed write is retried with backoff by the key loop.
//
// EndpointSlices are watched only once a Local LoadBalancer shows up. Single worker by default; the
// handlers only enqueue keys.
import type { EndpointSlice, Node, Service } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import type { Informer } from '../../client/informer.ts';
import { EndpointSlices, Services } from '../../client/resources.ts';
import { LABEL_SERVICE_NAME } from '../../api/network.ts';
import type { Clock } from '../../util/clock.ts';
import type { EventSink } from '../events.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { ingressEqual, ingressText, loadBalancerIngress, slicesOf, wantsLoadBalancer, type Ingress } from './ingress.ts';

/** The component its Events are from (k3s' ServiceLB's). */
export const SERVICELB_COMPONENT = 'service-lb-controller';


type Svc = Service & HasMetadata;
type Slice = EndpointSlice & HasMetadata;

/** The caches ServiceLB reads; fromShared() takes them from the process's SharedInformers. */
export interface ServiceLBInformers {
  services: Informer<Svc>;
  nodes: Informer<Node>;
  /**
   * The EndpointSlices, asked for only once a Local LoadBalancer exists (Cluster ones never need
   * them); must return the same started informer on every call.
   */
  endpointSlices(): Informer<Slice>;
  /** Starts the informers above (idempotent). */
  start(): void;
  /** Resolves once the Services and Nodes have their first list (the workers wait for it). */
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export function fromShared(informers: SharedInformers): ServiceLBInformers {
  return {
    services: informers.resource<Svc>(Services),
    nodes: informers.nodes(),
    endpointSlices: () => informers.resource<Slice>(EndpointSlices),
    start: () => informers.start(),
    waitForSync: async (signal) => {
      await Promise.all([informers.resource<Svc>(Services).waitForSync(signal), informers.nodes().waitForSync(signal)]);
    },
  };
}

/** Writes a Service's status (the controller's only write). Called by its worker, one Service at a time. */
export interface ServiceStatusWriter {
  writeStatus(svc: Svc): Promise<void>;
}

export class ApiServiceStatusWriter implements ServiceStatusWriter {
  readonly #client: ApiClient;
  constructor(client: ApiClient) {
    this.#client = client;
  }
  async writeStatus(svc: Svc): Promise<void> {
    try {
      await this.#client.updateStatus(Services, svc.metadata?.namespace, svc);
    } catch (err) {
      // Deleted meanwhile: nothing left to publish.
      if (!isNotFound(err)) throw err;
    }
  }
}

export interface ServiceLBControllerOptions {
  informers: ServiceLBInformers;
  writer: ServiceStatusWriter;
  events: EventSink;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

const keyOf = (ns: string | undefined, name: string | undefined) => `${ns ?? ''}/${name ?? ''}`;

/** What about a Node changes which addresses a LoadBalancer gets. */
function nodeFacts(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  return JSON.stringify([ready, n.spec?.unschedulable ?? false, n.metadata?.labels ?? {}, n.status?.addresses ?? []]);
}

export class ServiceLBController {
  readonly #inf: ServiceLBInformers;
  readonly #writer: ServiceStatusWriter;
  readonly #events: EventSink;
  readonly #loop: KeyLoop;
  /** Services last reported as having no node, so the warning is said once per spell. */
  readonly #unavailable = new Set<string>();
  /** Set once a Local LoadBalancer made the controller watch EndpointSlices. */
  #slices: Informer<Slice> | undefined;
  #unsubscribeSlices: (() => void) | undefined;
  #stopped = false;

  constructor(o: ServiceLBControllerOptions) {
    this.#inf = o.informers;
    this.#writer = o.writer;
    this.#events = o.events;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: servicelb controller: ${(err as Error).message}`)) });
  }

  /** The work queue (tests wait for it to drain). */
  get queue(): KeyLoop['queue'] {
    return this.#loop.queue;
  }

  start(): void {
    const q = this.#loop.queue;
    const { services, nodes } = this.#inf;
    const enqueueService = (s: Svc) => {
      if (wantsLoadBalancer(s) || (s.status?.loadBalancer?.ingress?.length ?? 0) > 0) q.add(keyOf(s.metadata?.namespace, s.metadata?.name));
    };
    this.#loop.start(this.#inf, () => [
      services.addEventHandler({
        onAdd: enqueueService,
        onUpdate: (_o, s) => enqueueService(s),
        onDelete: (s) => this.#unavailable.delete(keyOf(s.metadata?.namespace, s.metadata?.name)),
      }),
      nodes.addEventHandler({
        onAdd: () => this.#enqueueAll(),
        onUpdate: (a, b) => {
          if (nodeFacts(a) !== nodeFacts(b)) this.#enqueueAll();
        },
        onDelete: () => this.#enqueueAll(),
      }),
    ], (key) => this.sync(key));
    void nodes.waitForSync().then(() => this.#enqueueAll());
  }

  stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribeSlices?.();
    return this.#loop.stop();
  }

  #enqueueAll(): void {
    for (const s of this.#inf.services.store.list()) if (wantsLoadBalancer(s)) this.#loop.queue.add(keyOf(s.metadata?.namespace, s.metadata?.name));
  }

  /** The EndpointSlice cache, subscribed on first use; its first list enqueues every LoadBalancer again. */
  #endpointSlices(): Informer<Slice> {
    if (this.#slices) return this.#slices;
    const slices = (this.#slices = this.#inf.endpointSlices());
    const changed = (e: Slice) => {
      const name = e.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (!name) return;
      const s = this.#inf.services.store.get(e.metadata?.namespace, name);
      if (s && wantsLoadBalancer(s) && s.spec?.externalTrafficPolicy === 'Local') this.#loop.queue.add(keyOf(e.metadata?.namespace, name));
    };
    if (!this.#stopped) this.#unsubscribeSlices = slices.addEventHandler({ onAdd: changed, onUpdate: (_o, e) => changed(e), onDelete: changed });
    void slices.waitForSync().then(() => this.#enqueueAll());
    return slices;
  }

  async sync(key: string): Promise<void> {
    const i = key.indexOf('/');
    const svc = this.#inf.services.store.get(key.slice(0, i), key.slice(i + 1));
    if (!svc) return;
    // An answer from incomplete caches could take addresses away (after a restart): wait for the
    // first lists; their sync enqueues every LoadBalancer again (start()).
    if (!this.#inf.nodes.hasSynced()) return;
    const local = svc.spec?.externalTrafficPolicy === 'Local';
    if (local && wantsLoadBalancer(svc) && !this.#endpointSlices().hasSynced()) return;
    if (!wantsLoadBalancer(svc)) {
      // No longer a LoadBalancer: nothing of ours may stay published. Another class's status is its own.
      if (svc.spec?.type !== 'LoadBalancer' && (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0) {
        await this.#writer.writeStatus({ ...svc, status: { ...svc.status, loadBalancer: {} } });
      }
      this.#unavailable.delete(key);
      return;
    }
    const want = loadBalancerIngress(svc, this.#inf.nodes.store.list(), local ? slicesOf(svc, this.#endpointSlices().store.list()) : []);
    const previous = svc.status?.loadBalancer?.ingress ?? [];
    if (!ingressEqual(svc.status, want)) {
      await this.#writer.writeStatus({ ...svc, status: { ...svc.status, loadBalancer: want.length > 0 ? { ingress: want.map((x): Ingress => ({ ...x })) } : {} } });
      if (want.length > 0) this.#event(svc, 'Normal', 'UpdatedLoadBalancer', `Updated LoadBalancer with new IPs: ${ingressText(previous)} -> ${ingressText(want)}`);
    }
    if (want.length === 0) {
      if (!this.#unavailable.has(key)) this.#event(svc, 'Warning', 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
      this.#unavailable.add(key);
    } else this.#unavailable.delete(key);
  }

  #event(svc: Svc, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#events.event({ apiVersion: 'v1', kind: 'Service', namespace: svc.metadata?.namespace, name: svc.metadata?.name ?? '', uid: svc.metadata?.uid }, type, reason, message);
  }
}
