// VolumeBinding's writes, through the API (kube-scheduler's volume binder's bindAPIUpdate): a static
// volume's claimRef (marked bound-by-controller, so the PV controller may undo it if the claim ends up
// elsewhere), and the selected-node annotation on a claim to provision. Both are updates of the
// object as the scheduler last saw it (its resourceVersion a precondition): a conflict fails the
// binding cycle and the pod is scheduled again with fresh caches, unless the claim already names the
// same node (another pod sharing the claim, placed there a moment before, wrote it first).
import type { PersistentVolume, PersistentVolumeClaim } from '../api/types.ts';
import { ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE } from '../api/volumes/binding.ts';
import type { ApiClient, HasMetadata } from '../client/client.ts';
import { isConflict } from '../client/errors.ts';
import { PersistentVolumeClaims, PersistentVolumes } from '../client/resources.ts';
import type { Clock } from '../util/clock.ts';
import type { VolumeWriter } from './framework/interfaces.ts';

export class ApiVolumeWriter implements VolumeWriter {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #signal: AbortSignal;
  readonly #waiters = new Set<() => void>();

  constructor(client: ApiClient, clock: Clock, signal: AbortSignal) {
    this.#client = client;
    this.#clock = clock;
    this.#signal = signal;
  }

  /** Called by the scheduler's claim informer on every add or update. */
  claimChanged(): void {
    for (const w of [...this.#waiters]) w();
  }

  async bindVolume(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const ref = pv.spec?.claimRef;
    if (ref?.uid === claim.metadata?.uid && ref?.name === claim.metadata?.name && ref?.namespace === claim.metadata?.namespace) return;
    const body: PersistentVolume & HasMetadata = {
      ...pv,
      metadata: { ...pv.metadata, annotations: { ...pv.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' } },
      spec: {
        ...pv.spec,
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata?.namespace, name: claim.metadata?.name, uid: claim.metadata?.uid, resourceVersion: claim.metadata?.resourceVersion },
      },
    };
    await this.#client.update(PersistentVolumes, undefined, body);
  }

  async selectNode(claim: PersistentVolumeClaim, nodeName: string): Promise<string | undefined> {
    if (claim.metadata?.annotations?.[ANN_SELECTED_NODE] === nodeName) return claim.metadata?.resourceVersion;
    const body: PersistentVolumeClaim & HasMetadata = { ...claim, metadata: { ...claim.metadata, annotations: { ...claim.metadata?.annotations, [ANN_SELECTED_NODE]: nodeName } } };
    try {
      const out = await this.#client.update(PersistentVolumeClaims, claim.metadata?.namespace, body);
      return out.metadata?.resourceVersion;
    } catch (err) {
      if (!isConflict(err)) throw err;
      const cur = await this.#client.get<PersistentVolumeClaim & HasMetadata>(PersistentVolumeClaims, claim.metadata?.namespace, claim.metadata?.name ?? '');
      if (cur.metadata?.uid !== claim.metadata?.uid || cur.metadata?.annotations?.[ANN_SELECTED_NODE] !== nodeName) throw err;
      return cur.metadata?.resourceVersion;
    }
  }

  now(): number {
    return this.#clock.now();
  }

  claimChange(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#signal.aborted) return reject(this.#signal.reason);
      const done = () => {
        this.#waiters.delete(done);
        timer.cancel();
        this.#signal.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        done();
        reject(this.#signal.reason);
      };
      const timer = this.#clock.setTimeout(done, ms);
      this.#waiters.add(done);
      this.#signal.addEventListener('abort', aborted, { once: true });
    });
  }
}
