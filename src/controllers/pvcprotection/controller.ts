// The PVC protection controller (kube-controller-manager's "persistentvolumeclaim-protection-controller"):
// a claim being deleted keeps its kubernetes.io/pvc-protection finalizer, and so stays Terminating,
// while a pod uses it (protection.ts says which pods do); once none does, the finalizer is removed and
// the deletion completes. A claim not being deleted that lacks the finalizer gets it.
//
// As Kubernetes: claims are queued when added or updated if they need either change, and pod events
// queue the claims of pods that may have let them go (deleted, terminated, unscheduled). A claim the
// pod cache says is unused is checked again against a live list of its namespace's pods, since a pod
// just created may not be cached yet. Finalizers are written with an update of the cached claim (its
// resourceVersion guards against a stale copy); a conflict is retried through the queue.

import type { PersistentVolumeClaim, Pod } from '../../api/types.ts';
import { PVC_PROTECTION_FINALIZER } from '../../api/volumes/binding.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { PersistentVolumeClaims, Pods } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { POD_BY_CLAIM, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { claimKeysToCheck, isDeletionCandidate, needsFinalizer, podUsesClaim, withoutFinalizer } from './protection.ts';

export interface PVCProtectionControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

type Claim = PersistentVolumeClaim & HasMetadata;

export class PVCProtectionController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #loop: KeyLoop;

  constructor(o: PVCProtectionControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: pvc protection controller: ${(err as Error).message}`)) });
  }

  start(): void {
    const q = this.#loop.queue;
    const claims = this.#informers.resource<Claim>(PersistentVolumeClaims);
    const onClaim = (c: Claim): void => {
      if (needsFinalizer(c, PVC_PROTECTION_FINALIZER) || isDeletionCandidate(c, PVC_PROTECTION_FINALIZER)) q.add(`${c.metadata?.namespace}/${c.metadata?.name}`);
    };
    const onPod = (p: Pod, deleted: boolean): void => {
      for (const key of claimKeysToCheck(p, deleted)) q.add(key);
    };
    this.#loop.start(this.#informers, () => [
      claims.addEventHandler({ onAdd: onClaim, onUpdate: (_o, c) => onClaim(c) }),
      this.#informers.pods().addEventHandler({
        onAdd: (p) => onPod(p, false),
        onUpdate: (old, p) => {
          onPod(p, false);
          // An update may hide the deletion of a pod and the creation of another of the same name:
          // the claims of the one that went may be free now.
          if (old.metadata?.uid !== p.metadata?.uid) onPod(old, true);
        },
        onDelete: (p) => onPod(p, true),
      }),
    ], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const claim = this.#informers.resource<Claim>(PersistentVolumeClaims).store.get(ns, name);
    if (!claim) return;
    if (isDeletionCandidate(claim, PVC_PROTECTION_FINALIZER)) {
      if (await this.#inUse(claim)) return; // the pod's deletion or termination queues the claim again
      await this.#setFinalizers(claim, withoutFinalizer(claim.metadata?.finalizers, PVC_PROTECTION_FINALIZER));
      return;
    }
    if (needsFinalizer(claim, PVC_PROTECTION_FINALIZER)) await this.#setFinalizers(claim, [...(claim.metadata?.finalizers ?? []), PVC_PROTECTION_FINALIZER]);
  }

  /** isBeingUsed: the pod cache first; a claim it finds unused is confirmed by a live list. */
  async #inUse(claim: Claim): Promise<boolean> {
    const ns = claim.metadata?.namespace ?? '';
    if (this.#informers.pods().store.byIndex(POD_BY_CLAIM, `${ns}/${claim.metadata?.name}`).some((p) => podUsesClaim(p, claim))) return true;
    const live = await this.#client.list<Pod>(Pods, ns);
    return live.items.some((p) => podUsesClaim(p, claim));
  }

  async #setFinalizers(claim: Claim, finalizers: string[]): Promise<void> {
    try {
      await this.#client.update<Claim>(PersistentVolumeClaims, claim.metadata?.namespace, { ...claim, metadata: { ...claim.metadata, finalizers } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
