// The PV protection controller (kube-controller-manager's "persistentvolume-protection-controller"):
// a PersistentVolume being deleted keeps its kubernetes.io/pv-protection finalizer, and so stays
// Terminating, while it is Bound to a claim (the PV controller sets the phase); then the finalizer is
// removed and the deletion completes. A volume not being deleted that lacks the finalizer gets it.
// Finalizers are written with an update of the cached volume; a conflict is retried through the queue.

import type { PersistentVolume } from '../../api/types.ts';
import { PV_PROTECTION_FINALIZER } from '../../api/volumes/binding.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { PersistentVolumes } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { isDeletionCandidate, needsFinalizer, withoutFinalizer } from '../pvcprotection/protection.ts';

export interface PVProtectionControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

type Volume = PersistentVolume & HasMetadata;

/** isBeingUsed: a volume is in use while its phase is Bound. */
export function volumeInUse(pv: PersistentVolume): boolean {
  return pv.status?.phase === 'Bound';
}

/** The finalizers a volume should have now, or undefined when they are right as they are. */
export function volumeFinalizers(pv: PersistentVolume): string[] | undefined {
  if (isDeletionCandidate(pv, PV_PROTECTION_FINALIZER)) return volumeInUse(pv) ? undefined : withoutFinalizer(pv.metadata?.finalizers, PV_PROTECTION_FINALIZER);
  if (needsFinalizer(pv, PV_PROTECTION_FINALIZER)) return [...(pv.metadata?.finalizers ?? []), PV_PROTECTION_FINALIZER];
  return undefined;
}

export class PVProtectionController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #loop: KeyLoop;

  constructor(o: PVProtectionControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: pv protection controller: ${(err as Error).message}`)) });
  }

  start(): void {
    const q = this.#loop.queue;
    const onVolume = (pv: Volume): void => {
      if (needsFinalizer(pv, PV_PROTECTION_FINALIZER) || isDeletionCandidate(pv, PV_PROTECTION_FINALIZER)) q.add(pv.metadata?.name ?? '');
    };
    const volumes = this.#informers.resource<Volume>(PersistentVolumes);
    this.#loop.start(this.#informers, () => [volumes.addEventHandler({ onAdd: onVolume, onUpdate: (_o, pv) => onVolume(pv) })], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(name: string): Promise<void> {
    const pv = this.#informers.resource<Volume>(PersistentVolumes).store.get(undefined, name);
    if (!pv) return;
    const finalizers = volumeFinalizers(pv);
    if (!finalizers) return; // a Bound volume: its update to Released or Available queues it again
    try {
      await this.#client.update<Volume>(PersistentVolumes, undefined, { ...pv, metadata: { ...pv.metadata, finalizers } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
