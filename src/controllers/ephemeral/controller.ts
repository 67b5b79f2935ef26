// The ephemeral-volume controller (kube-controller-manager's "ephemeral-volume-controller"): each
// generic ephemeral volume of a pod gets its claim `<pod>-<volume>`, made from the volume's template and
// controlled by the pod, so the garbage collector deletes it with the pod.
//
// As Kubernetes: pods are queued when added (a pod's spec is immutable, so updates change nothing) and
// when a claim one of them names is deleted (it is made again); pods being deleted are skipped. A claim
// of that name that the pod does not control is reported on the pod as a FailedBinding event. Unlike
// Kubernetes, which retries such a pod with backoff (and reports again each time), it is not retried:
// nothing but the claim's deletion can change the outcome, and that requeues the pod; the scheduler
// keeps reporting the pod as unschedulable meanwhile. A failed create is reported and retried with backoff.

import type { PersistentVolumeClaim, Pod } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isAlreadyExists, isConflict } from '../../client/errors.ts';
import { PersistentVolumeClaims } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { EventSink } from '../events.ts';
import { POD_BY_CLAIM, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { hasEphemeralVolume, planPod } from './claim.ts';

/** The events' source component, as Kubernetes names it. */
export const EPHEMERAL_COMPONENT = 'ephemeral_volume';
/** events.FailedBinding, the reason Kubernetes gives every failure of this controller. */
export const REASON_FAILED_BINDING = 'FailedBinding';

export interface EphemeralVolumeControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  events: EventSink;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

type Claim = PersistentVolumeClaim & HasMetadata;

export class EphemeralVolumeController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #events: EventSink;
  readonly #loop: KeyLoop;

  constructor(o: EphemeralVolumeControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#events = o.events;
    this.#loop = new KeyLoop({
      clock: o.clock,
      workers: o.workers,
      // A create that found the claim made meanwhile: the retry reads it from the cache.
      quiet: (err) => isConflict(err) || isAlreadyExists(err),
      onError: o.onError ?? ((err) => console.error(`tinykube: ephemeral volume controller: ${(err as Error).message}`)),
    });
  }

  start(): void {
    const q = this.#loop.queue;
    const pods = this.#informers.pods();
    const claims = this.#informers.resource<Claim>(PersistentVolumeClaims);
    const enqueue = (p: Pod): void => {
      if (!p.metadata?.deletionTimestamp && hasEphemeralVolume(p)) q.add(`${p.metadata?.namespace}/${p.metadata?.name}`);
    };
    this.#loop.start(this.#informers, () => [
      pods.addEventHandler({ onAdd: enqueue }),
      claims.addEventHandler({
        onDelete: (c) => {
          for (const p of pods.store.byIndex(POD_BY_CLAIM, `${c.metadata?.namespace}/${c.metadata?.name}`)) enqueue(p);
        },
      }),
    ], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const pod = this.#informers.pods().store.get(ns, name);
    if (!pod) return;
    const claims = this.#informers.resource<Claim>(PersistentVolumeClaims).store;
    const target = { kind: 'Pod', namespace: ns, name, uid: pod.metadata?.uid };
    let failure: unknown;
    for (const step of planPod(pod, (claim) => claims.get(ns, claim))) {
      if (step.action === 'conflict') {
        this.#events.event(target, 'Warning', REASON_FAILED_BINDING, `ephemeral volume ${step.volume}: ${step.message}`);
      } else if (step.action === 'create') {
        try {
          await this.#client.create(PersistentVolumeClaims, ns, step.claim as Claim);
        } catch (err) {
          if (isAlreadyExists(err)) {
            failure ??= err;
            continue;
          }
          this.#events.event(target, 'Warning', REASON_FAILED_BINDING, `ephemeral volume ${step.volume}: create PVC ${step.claim.metadata?.name}: ${(err as Error).message}`);
          failure ??= err;
        }
      }
    }
    if (failure !== undefined) throw failure;
  }
}
