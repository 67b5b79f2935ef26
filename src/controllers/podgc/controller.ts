// The pod garbage collector: one pass every `periodMs` over the cached pods and nodes (./plan.ts), plus
// a pass soon after a node is deleted (once its quarantine has run out), so the pods of a removed node
// do not linger for a whole period.
//
// Removal is a force delete (grace 0, UID precondition), as Kubernetes' PodGC does: these pods have no
// agent left to confirm a graceful deletion. Pods that are not terminal first get phase Failed and the
// DisruptionTarget condition (reason DeletionByPodGC), best effort.

import type { ApiClient } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { Nodes, Pods } from '../../client/resources.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { realClock, rfc3339 } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { POD_BY_NODE } from '../informers.ts';
import { isTerminated, missingNodes, outOfServiceTerminating, terminatedOverThreshold, unscheduledTerminating } from './plan.ts';
import type { PodRef } from './plan.ts';

export interface PodGCOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  /** Terminated pods kept at most (default 12,500, as kube-controller-manager; 0 disables). */
  terminatedPodThreshold?: number;
  /** Time between passes (default 20 s). */
  periodMs?: number;
  /** How long a node must be missing before its pods are removed (default 40 s). */
  quarantineMs?: number;
  onError?: (err: unknown) => void;
}

export class PodGarbageCollector {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #period: number;
  readonly #quarantine: number;
  readonly #onError: (err: unknown) => void;
  /** Node name → when we first saw pods bound to it while it was missing. */
  readonly #missingSince = new Map<string, number>();
  #timer: Timer | undefined;
  #soon: Timer | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #unsubscribe: (() => void) | undefined;
  /** Completed passes (tests wait on it). */
  passes = 0;

  constructor(o: PodGCOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#threshold = o.terminatedPodThreshold ?? 12_500;
    this.#period = o.periodMs ?? 20_000;
    this.#quarantine = o.quarantineMs ?? 40_000;
    this.#onError = o.onError ?? ((err) => console.error(`tinykube: pod gc: ${(err as Error).message}`));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#informers.pods();
    this.#unsubscribe = this.#informers.nodes().addEventHandler({
      onDelete: () => {
        if (this.#stopped) return;
        this.#soon?.cancel();
        this.#soon = this.#clock.setTimeout(() => this.#pass(), this.#quarantine + 1);
      },
    });
    this.#informers.start();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#soon?.cancel();
    this.#unsubscribe?.();
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#pass();
      this.#schedule();
    }, this.#period);
  }

  #pass(): void {
    if (this.#stopped || this.#running) return;
    this.#running = this.runOnce()
      .catch((err: unknown) => this.#onError(err))
      .finally(() => {
        this.#running = undefined;
        this.passes++;
      });
  }

  /** One pass; does nothing until the pod and node caches are filled. */
  async runOnce(): Promise<void> {
    const pods = this.#informers.pods();
    const nodes = this.#informers.nodes();
    if (!pods.hasSynced() || !nodes.hasSynced()) return;
    const all = pods.store.list();
    const now = this.#clock.now();
    const victims: PodRef[] = [];

    victims.push(...terminatedOverThreshold(all, this.#threshold));

    const missing = missingNodes(all, (n) => nodes.store.get(undefined, n) !== undefined);
    for (const n of [...this.#missingSince.keys()]) if (!missing.has(n)) this.#missingSince.delete(n);
    for (const n of missing) {
      const since = this.#missingSince.get(n) ?? now;
      this.#missingSince.set(n, since);
      if (now - since < this.#quarantine) continue;
      if (await this.#nodeExists(n)) {
        this.#missingSince.delete(n);
        continue;
      }
      for (const p of pods.store.byIndex(POD_BY_NODE, n)) {
        victims.push({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '', reason: 'orphaned', setFailed: !isTerminated(p) });
      }
    }

    victims.push(...unscheduledTerminating(pods.store.byIndex(POD_BY_NODE, '')));
    for (const node of nodes.store.values()) {
      if (!(node.spec?.taints ?? []).length) continue;
      victims.push(...outOfServiceTerminating(pods.store.byIndex(POD_BY_NODE, node.metadata?.name ?? ''), node));
    }

    const seen = new Set<string>();
    for (const v of victims) {
      if (seen.has(v.uid)) continue;
      seen.add(v.uid);
      await this.#remove(v, now);
    }
  }

  async #nodeExists(name: string): Promise<boolean> {
    try {
      await this.#client.get(Nodes, undefined, name);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async #remove(v: PodRef, now: number): Promise<void> {
    if (v.setFailed && v.reason !== 'terminated') {
      const message = v.reason === 'orphaned' ? 'PodGC: node no longer exists' : 'PodGC: node is out of service';
      try {
        await this.#client.patch(Pods, v.namespace, v.name, 'strategic', {
          status: { phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message, lastTransitionTime: rfc3339(now) }] },
        }, { subresource: 'status' });
      } catch (err) {
        // Informative only; the deletion below is what counts.
        if (!isNotFound(err) && !isConflict(err)) this.#onError(err);
      }
    }
    try {
      await this.#client.delete(Pods, v.namespace, v.name, { gracePeriodSeconds: 0, preconditions: { uid: v.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) this.#onError(err);
    }
  }
}
