// The Endpoints controller (kube-controller-manager's "endpoints-controller"): keeps a core/v1
// Endpoints object named after every Service with a selector (not ExternalName), listing its pods'
// addresses (./subsets.ts), for the readers that still use Endpoints (`kubectl describe service`).
// An Endpoints object whose Service is gone is deleted, including ones left from before a restart.
//
// Writes are skipped when nothing changed; a cached Endpoints at a resourceVersion this controller
// already replaced is waited out (retried), as kube's staleEndpointsTracker does. Failures are
// retried with backoff and reported as FailedToCreateEndpoint / FailedToUpdateEndpoint events.

import type { Endpoints } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../../client/errors.ts';
import { EndpointsRef } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { isNamespaceTerminating } from '../endpointslice/controller.ts';
import { podServiceHandler, servicesInformer } from '../endpointslice/informers.ts';
import { keyOf, managesEndpoints, selects, splitKey, TriggerTimeTracker } from '../endpointslice/util.ts';
import type { EventSink } from '../events.ts';
import { POD_BY_NAMESPACE, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { desiredEndpoints } from './subsets.ts';

export const ENDPOINTS_COMPONENT = 'endpoint-controller';
/** Endpoints used as a leader-election lock (old components) are not Service endpoints: never removed. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/** The cached Endpoints is older than one this controller already wrote. */
export class StaleEndpointsError extends Error {
  readonly code = 'ERR_STALE_ENDPOINTS';
  constructor(key: string, rv: string) {
    super(`endpoints informer cache is out of date, resource version ${rv} already processed for endpoints ${key}`);
    this.name = 'StaleEndpointsError';
  }
}

export interface EndpointsControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  events?: EventSink;
  workers?: number;
  onError?: (err: unknown) => void;
}

type Ep = Endpoints & HasMetadata;

export class EndpointsController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #events: EventSink | undefined;
  readonly #loop: KeyLoop;
  readonly #triggers = new TriggerTimeTracker();
  /** Endpoints key → the resourceVersion this controller replaced (staleEndpointsTracker). */
  readonly #replaced = new Map<string, string>();

  constructor(o: EndpointsControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#events = o.events;
    this.#loop = new KeyLoop({
      clock: o.clock,
      workers: o.workers,
      onError: o.onError ?? ((err) => console.error(`tinykube: endpoints controller: ${(err as Error).message}`)),
      // A create that finds the object made: our cache has not seen our own create yet; retried.
      quiet: (err) => isConflict(err) || isAlreadyExists(err) || err instanceof StaleEndpointsError,
    });
  }

  #services() {
    return servicesInformer(this.#informers);
  }

  #endpoints() {
    return this.#informers.resource<Ep>(EndpointsRef);
  }

  start(): void {
    const q = this.#loop.queue;
    const queueObj = (o: HasMetadata) => q.add(keyOf(o.metadata?.namespace, o.metadata?.name));
    this.#loop.start(this.#informers, () => [
      this.#services().addEventHandler({ onAdd: queueObj, onUpdate: (_o, s) => queueObj(s), onDelete: queueObj }),
      this.#informers.pods().addEventHandler(podServiceHandler(this.#services(), (key) => q.add(key))),
      // A Service's Endpoints deleted by someone else are made again.
      this.#endpoints().addEventHandler({ onDelete: queueObj }),
    ], (key) => this.sync(key));
    void this.#checkLeftoverEndpoints();
  }

  /** checkLeftoverEndpoints: once, at start, Endpoints whose Service is gone are queued (and so deleted). */
  async #checkLeftoverEndpoints(): Promise<void> {
    const signal = AbortSignal.timeout(600_000);
    try {
      await Promise.all([this.#services().waitForSync(signal), this.#endpoints().waitForSync(signal)]);
    } catch {
      return;
    }
    for (const ep of this.#endpoints().store.list()) {
      if (LEADER_ANNOTATION in (ep.metadata?.annotations ?? {})) continue;
      if (!this.#services().store.get(ep.metadata?.namespace, ep.metadata?.name ?? '')) this.#loop.queue.add(keyOf(ep.metadata?.namespace, ep.metadata?.name));
    }
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    if (!this.#services().hasSynced()) throw new StaleEndpointsError(key, '');
    const svc = this.#services().store.get(ns, name);
    if (!svc) {
      this.#triggers.delete(key);
      this.#replaced.delete(key);
      const cached = this.#endpoints().store.get(ns, name);
      if (cached && LEADER_ANNOTATION in (cached.metadata?.annotations ?? {})) return;
      try {
        await this.#client.delete(EndpointsRef, ns, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    if (!managesEndpoints(svc)) return;
    const current = this.#endpoints().store.get(ns, name);
    const rv = current?.metadata?.resourceVersion;
    if (rv && this.#replaced.get(key) === rv) throw new StaleEndpointsError(key, rv);
    const pods = this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, ns).filter((p) => selects(svc, p));
    const next = desiredEndpoints(svc, pods, current, this.#triggers.compute(key, svc, pods));
    if (!next) return;
    const create = !rv;
    try {
      if (create) await this.#client.create<Ep>(EndpointsRef, ns, next as Ep);
      else {
        const out = await this.#client.update<Ep>(EndpointsRef, ns, next as Ep);
        if (out.metadata?.resourceVersion !== rv) this.#replaced.set(key, rv);
      }
    } catch (err) {
      // A terminating namespace refuses creates until it is gone: nothing left to do.
      if (create && isForbidden(err) && isNamespaceTerminating(err)) return;
      if (isConflict(err) || isAlreadyExists(err)) throw err;
      const target = { kind: 'Endpoints', namespace: ns, name };
      const msg = (err as Error).message;
      if (create) this.#events?.event(target, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${ns}/${name}: ${msg}`);
      else this.#events?.event(target, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${ns}/${name}: ${msg}`);
      throw err;
    }
  }
}
