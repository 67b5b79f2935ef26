// The EndpointSlice controller (kube-controller-manager's "endpointslice-controller"): for every
// Service with a selector (not ExternalName), EndpointSlices named `<service>-<random>` that list its
// pods' addresses, ports and conditions (./reconcile.ts decides the writes). Services, pods, nodes and
// slices come from shared informers; a Service is synced once per burst of changes by the KeyLoop.
//
// Its own writes are remembered (./tracker.ts): a sync whose cache has not caught up with them is
// retried later rather than creating duplicates, and their echoes do not queue the Service again.
// A sync that fails is retried with backoff and says why in a FailedToUpdateEndpointSlices event.

import { ENDPOINTSLICE_CONTROLLER, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/network.ts';
import type { EndpointSlice } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { EndpointSlices } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { EventSink } from '../events.ts';
import { POD_BY_NAMESPACE, type SharedInformers } from '../informers.ts';
import { KeyLoop, isNamespaceTerminating } from '../keyloop.ts';
import { MAX_ENDPOINTS_PER_SLICE, reconcileSlices } from './reconcile.ts';
import { EndpointSliceTracker } from './tracker.ts';
import { podServiceHandler, servicesInformer, SLICE_BY_SERVICE, slicesInformer, type Slice } from './informers.ts';
import { keyOf, managesEndpoints, selects, splitKey, TriggerTimeTracker } from './util.ts';

export const ENDPOINTSLICE_COMPONENT = 'endpointslice-controller';

/** The cache does not yet hold this controller's own last writes for the Service: retry later. */
export class StaleInformerCacheError extends Error {
  readonly code = 'ERR_STALE_INFORMER_CACHE';
  constructor(key: string) {
    super(`EndpointSlice informer cache is out of date for Service ${key}`);
    this.name = 'StaleInformerCacheError';
  }
}

export interface EndpointSliceControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  events?: EventSink;
  workers?: number;
  /** --max-endpoints-per-slice (default 100). */
  maxEndpointsPerSlice?: number;
  onError?: (err: unknown) => void;
}

function managed(slice: EndpointSlice): boolean {
  return slice.metadata?.labels?.[LABEL_MANAGED_BY] === ENDPOINTSLICE_CONTROLLER && !!slice.metadata?.labels?.[LABEL_SERVICE_NAME];
}

function serviceKeyOf(slice: EndpointSlice): string {
  return keyOf(slice.metadata?.namespace, slice.metadata?.labels?.[LABEL_SERVICE_NAME]);
}

export class EndpointSliceController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #events: EventSink | undefined;
  readonly #max: number;
  readonly #loop: KeyLoop;
  readonly #tracker = new EndpointSliceTracker();
  readonly #triggers = new TriggerTimeTracker();

  constructor(o: EndpointSliceControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#events = o.events;
    this.#max = o.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.#loop = new KeyLoop({
      clock: o.clock,
      workers: o.workers,
      onError: o.onError ?? ((err) => console.error(`tinykube: endpointslice controller: ${(err as Error).message}`)),
      quiet: (err) => isConflict(err) || err instanceof StaleInformerCacheError,
    });
  }

  #services() {
    return servicesInformer(this.#informers);
  }

  #slices() {
    return slicesInformer(this.#informers);
  }

  start(): void {
    const q = this.#loop.queue;
    this.#loop.start(this.#informers, () => [
      this.#services().addEventHandler({
        onAdd: (s) => q.add(keyOf(s.metadata?.namespace, s.metadata?.name)),
        onUpdate: (_o, s) => q.add(keyOf(s.metadata?.namespace, s.metadata?.name)),
        onDelete: (s) => q.add(keyOf(s.metadata?.namespace, s.metadata?.name)),
      }),
      this.#informers.pods().addEventHandler(podServiceHandler(this.#services(), (key) => q.add(key))),
      this.#informers.nodes().addEventHandler({}),
      this.#slices().addEventHandler({
        onAdd: (s) => {
          if (managed(s) && this.#tracker.shouldSync(s)) q.add(serviceKeyOf(s));
        },
        onUpdate: (old, s) => {
          // A slice that moved between Services or managers concerns both; otherwise only news does.
          if (managed(old) && (!managed(s) || serviceKeyOf(old) !== serviceKeyOf(s))) q.add(serviceKeyOf(old));
          if (managed(s) && this.#tracker.shouldSync(s)) q.add(serviceKeyOf(s));
        },
        onDelete: (s) => {
          if (managed(s) && this.#tracker.has(s) && this.#tracker.handleDeletion(s)) q.add(serviceKeyOf(s));
        },
      }),
    ], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    const svc = this.#services().store.get(ns, name);
    if (!svc) {
      // Its slices carry an owner reference: the garbage collector removes them.
      this.#tracker.deleteService(key);
      this.#triggers.delete(key);
      return;
    }
    // ExternalName Services and Services without a selector get no slices from this controller
    // (the latter's are written by whoever manages them).
    if (!managesEndpoints(svc)) return;
    const pods = this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, ns).filter((p) => selects(svc, p));
    const existing = this.#slices().store.byIndex(SLICE_BY_SERVICE, key).filter(managed);
    if (this.#tracker.staleSlices(key, existing)) throw new StaleInformerCacheError(key);
    const nodes = this.#informers.nodes().store;
    const plan = reconcileSlices({
      service: svc,
      pods,
      node: (n) => nodes.get(undefined, n),
      existing,
      maxEndpointsPerSlice: this.#max,
      triggerTime: this.#triggers.compute(key, svc, pods),
    });
    try {
      await this.#write(ns, plan);
      if (plan.errors.length) throw new Error(plan.errors.length === 1 ? plan.errors[0] : `[${plan.errors.join(', ')}]`);
    } catch (err) {
      if (!isConflict(err)) {
        this.#events?.event({ kind: 'Service', namespace: ns, name, uid: svc.metadata?.uid }, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${ns}/${name}: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  async #write(ns: string, plan: ReturnType<typeof reconcileSlices>): Promise<void> {
    for (const s of plan.create) {
      try {
        this.#tracker.update(await this.#client.create<Slice>(EndpointSlices, ns, s as Slice));
      } catch (err) {
        // A terminating namespace refuses creates until it is gone: nothing left to do.
        if (isNamespaceTerminating(err)) return;
        throw new Error(`failed to create EndpointSlice for Service ${ns}/${s.metadata?.labels?.[LABEL_SERVICE_NAME]}: ${(err as Error).message}`, { cause: err });
      }
    }
    for (const s of plan.update) {
      try {
        this.#tracker.update(await this.#client.update<Slice>(EndpointSlices, ns, s as Slice));
      } catch (err) {
        if (isConflict(err)) throw err;
        throw new Error(`failed to update ${s.metadata?.name} EndpointSlice for Service ${ns}/${s.metadata?.labels?.[LABEL_SERVICE_NAME]}: ${(err as Error).message}`, { cause: err });
      }
    }
    for (const s of plan.delete) {
      try {
        await this.#client.delete(EndpointSlices, ns, s.metadata!.name!);
      } catch (err) {
        if (!isNotFound(err)) throw new Error(`failed to delete ${s.metadata?.name} EndpointSlice for Service ${ns}/${s.metadata?.labels?.[LABEL_SERVICE_NAME]}: ${(err as Error).message}`, { cause: err });
      }
      this.#tracker.expectDeletion(s);
    }
  }
}

export { isNamespaceTerminating };
