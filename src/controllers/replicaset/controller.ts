// The ReplicaSet controller (kube-controller-manager's "replicaset-controller", and, through the same
// code, "replication-controller"): each ReplicaSet keeps `replicas` active pods matching its selector.
//
// - Pods are claimed through controller references (adopting matching orphans, releasing pods that
//   stopped matching), never by labels alone.
// - Creations go in slow-start batches (1, 2, 4...), at most BURST_REPLICAS per sync; expectations
//   make a sync wait until the informer has seen the controller's own creations and deletions, so a
//   burst of watch events never creates or deletes twice.
// - Surplus pods go in Kubernetes' order (podcontrol/pods.ts deletionOrder).
// - A refused create or delete sets the ReplicaFailure condition and a FailedCreate/FailedDelete
//   event, and the key is retried with backoff (never a hot loop).
//
// Built by the manager with shared informers; start() and stop() once each.

import type { Pod } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { Pods } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import { ApiEventSink, type EventSink } from '../events.ts';
import { POD_BY_CONTROLLER, POD_BY_NAMESPACE, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { claim, controllerOf } from '../podcontrol/controllerref.ts';
import { Expectations } from '../podcontrol/expectations.ts';
import { availableIn, colocationRank, deletionOrder, isPodActive, isPodReady } from '../podcontrol/pods.ts';
import { slowStartBatch } from '../podcontrol/slowstart.ts';
import { podFromTemplate } from '../podcontrol/template.ts';
import type { Owner, ReplicatedKind } from './kinds.ts';
import { calculateStatus, statusChanged } from './status.ts';

/** kube-controller-manager's BurstReplicas: the most pods one sync creates or deletes. */
export const BURST_REPLICAS = 500;

export interface ReplicaSetControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  /** Concurrent syncs (kube-controller-manager's --concurrent-replicaset-syncs, default 5). */
  workers?: number;
  events?: EventSink;
  burstReplicas?: number;
  onError?: (err: unknown) => void;
}

/** A failure already reported as a condition and an event: retried with backoff, not logged again. */
class ReportedFailure extends Error {
  readonly code = 'ERR_CONTROLLER_REPORTED';
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class ReplicaSetController<T extends Owner> {
  readonly #k: ReplicatedKind<T>;
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #events: EventSink;
  /** Our own sink (no sink given): flushed on stop. */
  readonly #ownSink: ApiEventSink | undefined;
  readonly #burst: number;
  readonly #loop: KeyLoop;
  readonly expectations: Expectations;

  constructor(kind: ReplicatedKind<T>, o: ReplicaSetControllerOptions) {
    this.#k = kind;
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#ownSink = o.events ? undefined : new ApiEventSink(o.client, this.#clock, kind.component);
    this.#events = o.events ?? this.#ownSink!;
    this.#burst = o.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new Expectations(this.#clock);
    this.#loop = new KeyLoop({
      clock: o.clock,
      workers: o.workers ?? 5,
      onError: o.onError ?? ((err) => console.error(`tinykube: ${kind.component}: ${(err as Error).message}`)),
      quiet: (err) => isConflict(err) || err instanceof ReportedFailure,
    });
  }

  #owners() {
    return this.#informers.resource<T>(this.#k.ref);
  }

  start(): void {
    const q = this.#loop.queue;
    const owners = this.#owners();
    const pods = this.#informers.pods();
    this.#loop.start(this.#informers, () => [
      owners.addEventHandler({
        onAdd: (o) => q.add(keyOf(o)),
        onUpdate: (_old, o) => q.add(keyOf(o)),
        onDelete: (o) => {
          this.expectations.forget(keyOf(o));
          q.add(keyOf(o));
        },
      }),
      pods.addEventHandler({
        onAdd: (p) => this.#podAdded(p),
        onUpdate: (old, p) => this.#podUpdated(old, p),
        onDelete: (p) => this.#podDeleted(p),
      }),
    ], (key) => this.sync(key));
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#ownSink?.flush();
  }

  /** The owner a controller reference names, when it is one of ours (same uid). */
  #ownerOf(p: Pod): T | undefined {
    const ref = controllerOf(p);
    if (!ref || ref.kind !== this.#k.kind || ref.apiVersion?.split('/')[0] !== this.#k.apiVersion.split('/')[0]) return undefined;
    const owner = this.#owners().store.get(p.metadata?.namespace, ref.name);
    return owner && owner.metadata?.uid === ref.uid ? owner : undefined;
  }

  /** Owners in the pod's namespace whose selector matches it (for orphans). */
  #matchingOwners(p: Pod): T[] {
    const ns = p.metadata?.namespace;
    return this.#owners().store.list().filter((o) => o.metadata?.namespace === ns && !!this.#k.selector(o)?.matches(p.metadata?.labels ?? {}));
  }

  #podAdded(p: Pod): void {
    if (p.metadata?.deletionTimestamp) return this.#podDeleted(p);
    const owner = this.#ownerOf(p);
    if (owner) {
      this.expectations.creationObserved(keyOf(owner));
      this.#loop.queue.add(keyOf(owner));
      return;
    }
    if (!controllerOf(p)) for (const o of this.#matchingOwners(p)) this.#loop.queue.add(keyOf(o));
  }

  #podUpdated(old: Pod, p: Pod): void {
    if (old.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
    if (p.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
      // A terminating pod no longer counts: seeing it terminate satisfies the deletion we asked for.
      this.#podDeleted(p);
      return;
    }
    const oldOwner = this.#ownerOf(old);
    const owner = this.#ownerOf(p);
    if (oldOwner && oldOwner !== owner) this.#loop.queue.add(keyOf(oldOwner));
    if (owner) {
      this.#loop.queue.add(keyOf(owner));
      // Becoming Ready starts the minReadySeconds wait: look again once it has passed.
      if (!isPodReady(old) && isPodReady(p)) {
        const wait = availableIn(p, this.#k.minReadySeconds(owner), this.#clock.now());
        if (wait !== undefined) this.#loop.queue.addAfter(keyOf(owner), wait + 1);
      }
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(p.metadata?.labels ?? {});
    if (!controllerOf(p) && (labelsChanged || controllerOf(old))) for (const o of this.#matchingOwners(p)) this.#loop.queue.add(keyOf(o));
  }

  #podDeleted(p: Pod): void {
    const owner = this.#ownerOf(p);
    if (!owner) return;
    this.expectations.deletionObserved(keyOf(owner), p.metadata?.uid ?? '');
    this.#loop.queue.add(keyOf(owner));
  }

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const owner = this.#owners().store.get(namespace, name);
    if (!owner) {
      this.expectations.forget(key);
      return;
    }
    const selector = this.#k.selector(owner);
    // Validation refuses such selectors; one stored before that can never match anything.
    if (!selector) return;
    const satisfied = this.expectations.satisfied(key);
    const uid = owner.metadata?.uid ?? '';
    const deleting = !!owner.metadata?.deletionTimestamp;
    const podInformer = this.#informers.pods();
    // Owned pods come from the controller index; orphans from the namespace (only those without a controller).
    const candidates = new Map<string, Pod>();
    for (const p of podInformer.store.byIndex(POD_BY_CONTROLLER, uid)) if (isPodActive(p)) candidates.set(p.metadata?.uid ?? '', p);
    for (const p of podInformer.store.byIndex(POD_BY_NAMESPACE, namespace)) if (!controllerOf(p) && isPodActive(p)) candidates.set(p.metadata?.uid ?? '', p);
    const pods = await claim<Pod>({
      client: this.#client,
      ref: Pods,
      owner: { apiVersion: this.#k.apiVersion, kind: this.#k.kind, name, uid, deleting },
      matches: (p) => selector.matches(p.metadata?.labels ?? {}),
      candidates: [...candidates.values()],
      canAdopt: async () => {
        try {
          const fresh = await this.#client.get<T>(this.#k.ref, namespace, name);
          return fresh.metadata?.uid === uid && !fresh.metadata?.deletionTimestamp;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      },
    });
    let failure: { reason: 'FailedCreate' | 'FailedDelete'; message: string } | undefined;
    if (satisfied && !deleting) failure = await this.#manageReplicas(owner, key, pods);
    await this.#writeStatus(owner, pods, failure);
    const minReady = this.#k.minReadySeconds(owner);
    if (minReady > 0) {
      const now = this.#clock.now();
      const waits = pods.map((p) => availableIn(p, minReady, now)).filter((w): w is number => w !== undefined);
      if (waits.length) this.#loop.queue.addAfter(key, Math.min(...waits) + 1);
    }
    if (failure) throw new ReportedFailure(failure.message);
  }

  async #manageReplicas(owner: T, key: string, pods: Pod[]): Promise<{ reason: 'FailedCreate' | 'FailedDelete'; message: string } | undefined> {
    const diff = pods.length - this.#k.replicas(owner);
    const namespace = owner.metadata?.namespace ?? '';
    const target = { apiVersion: this.#k.apiVersion, kind: this.#k.kind, namespace, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid };
    if (diff < 0) {
      const n = Math.min(-diff, this.#burst);
      this.expectations.expect(key, n);
      const ownerId = { apiVersion: this.#k.apiVersion, kind: this.#k.kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '' };
      const template = this.#k.template(owner);
      const res = await slowStartBatch(n, async () => {
        try {
          const pod = await this.#client.create<Pod>(Pods, namespace, podFromTemplate(template, ownerId, namespace));
          this.#events.event(target, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
        } catch (err) {
          // This creation will never be observed.
          this.expectations.creationObserved(key);
          throw err;
        }
      });
      for (let i = 0; i < res.skipped; i++) this.expectations.creationObserved(key);
      if (res.error !== undefined) {
        const message = (res.error as Error).message ?? String(res.error);
        this.#events.event(target, 'Warning', 'FailedCreate', `Error creating: ${message}`);
        return { reason: 'FailedCreate', message };
      }
      return undefined;
    }
    if (diff > 0) {
      const n = Math.min(diff, this.#burst);
      const victims = deletionOrder(pods, colocationRank(pods)).slice(0, n);
      this.expectations.expect(key, 0, victims.map((p) => p.metadata?.uid ?? ''));
      let failed: unknown;
      await Promise.all(victims.map(async (p) => {
        try {
          await this.#client.delete(Pods, namespace, p.metadata?.name ?? '', { preconditions: { uid: p.metadata?.uid } });
          this.#events.event(target, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name ?? ''}`);
        } catch (err) {
          this.expectations.deletionObserved(key, p.metadata?.uid ?? '');
          if (isNotFound(err) || isConflict(err)) return;
          failed ??= err;
        }
      }));
      if (failed !== undefined) {
        const message = (failed as Error).message ?? String(failed);
        this.#events.event(target, 'Warning', 'FailedDelete', `Error deleting: ${message}`);
        return { reason: 'FailedDelete', message };
      }
    }
    return undefined;
  }

  async #writeStatus(owner: T, pods: Pod[], failure: { reason: 'FailedCreate' | 'FailedDelete'; message: string } | undefined): Promise<void> {
    const previous = this.#k.status(owner);
    const next = calculateStatus({
      pods,
      templateLabels: this.#k.template(owner)?.metadata?.labels ?? {},
      minReadySeconds: this.#k.minReadySeconds(owner),
      generation: owner.metadata?.generation,
      previous,
      failure,
      now: this.#clock.now(),
    });
    if (!statusChanged(previous, next)) return;
    try {
      await this.#client.updateStatus<T>(this.#k.ref, owner.metadata?.namespace, { ...owner, status: next });
    } catch (err) {
      // Gone meanwhile: nothing to report. A conflict means our cache is behind: the update event requeues.
      if (isNotFound(err)) return;
      throw err;
    }
  }
}
