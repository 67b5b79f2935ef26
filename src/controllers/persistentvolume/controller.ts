// The PersistentVolume controller (kube-controller-manager's persistentvolume-binder): binds claims to
// volumes and keeps both phases true.
//
// Claims: an unbound claim takes a volume pre-bound to it, else the smallest available one that fits
// (Immediate classes; a WaitForFirstConsumer claim is bound by the scheduler, which pre-binds a volume
// or names the node in volume.kubernetes.io/selected-node). With no volume: a claim without a class
// gets the default class; a claim with a class is handed to that class's provisioner (the
// storage-provisioner annotations and an ExternalProvisioning event: every provisioner here is
// "external" to this controller, as CSI drivers are to kube's; an in-tree "kubernetes.io/" name matches
// no plugin, as in a kube-controller-manager without in-tree provisioners). A bound claim whose volume went away
// is Lost. Binding writes the volume first (claimRef, phase Bound), then the claim (volumeName,
// bind-completed, phase Bound with the volume's capacity and access modes), as kube does, so a crash
// between the writes is finished by the next sync.
//
// Volumes: Available without a claim, Bound with one; when the claim is gone, Released and the
// reclaim policy applies: Retain keeps the volume (and its data) for an administrator; Delete of a
// provisioned volume is its provisioner's (the local-path deleter on the volume's node); Delete or
// Recycle of anything else fails with kube's event, since no in-tree deleter exists here.
//
// Work: one key loop for both kinds ("claim:<ns>/<name>", "volume:<name>"), started after the caches
// have synced; everything is enqueued again every resyncMs (kube: 15 s), which is how a claim waiting
// for a volume finds one created later. Events are said once per change of what they say, not on
// every resync.
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  defaultClass,
  findMatchingVolume,
  isDefaultClass,
  isDelayBinding,
  volumeBoundToClaim,
  volumeSatisfiesClaim,
} from '../../api/volumes/binding.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import type { Informer } from '../../client/informer.ts';
import { PersistentVolumeClaims, PersistentVolumes, StorageClasses } from '../../client/resources.ts';
import { realClock, type Clock, type Timer } from '../../util/clock.ts';
import { coreTarget, OnceEvents, type EventSink } from '../events.ts';
import { POD_BY_CLAIM, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';

export const PV_CONTROLLER_COMPONENT = 'persistentvolume-controller';

type Claim = PersistentVolumeClaim & HasMetadata;
type Volume = PersistentVolume & HasMetadata;
type Class = StorageClass & HasMetadata;

export interface PersistentVolumeControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  events: EventSink;
  clock?: Clock;
  /** How often every claim and volume is synced again (kube: 15 s). */
  resyncMs?: number;
  onError?: (err: unknown) => void;
}

const CLAIM = 'claim:';
const IN_TREE_PREFIX = 'kubernetes.io/';
const VOLUME = 'volume:';

function isTerminated(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

export class PersistentVolumeController {
  readonly #client: ApiClient;
  readonly #events: EventSink;
  readonly #clock: Clock;
  readonly #resyncMs: number;
  readonly #loop: KeyLoop;
  readonly #claims: Informer<Claim>;
  readonly #volumes: Informer<Volume>;
  readonly #classes: Informer<Class>;
  readonly #pods: Informer<Pod & HasMetadata>;
  readonly #informers: SharedInformers;
  /** Object key → the last event said about it (reason + message), so a resync does not repeat it. */
  readonly #once: OnceEvents;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(o: PersistentVolumeControllerOptions) {
    this.#client = o.client;
    this.#events = o.events;
    this.#clock = o.clock ?? realClock;
    this.#resyncMs = o.resyncMs ?? 15_000;
    this.#informers = o.informers;
    this.#once = new OnceEvents(o.events);
    this.#claims = o.informers.resource<Claim>(PersistentVolumeClaims);
    this.#volumes = o.informers.resource<Volume>(PersistentVolumes);
    this.#classes = o.informers.resource<Class>(StorageClasses);
    this.#pods = o.informers.pods() as Informer<Pod & HasMetadata>;
    this.#loop = new KeyLoop({ clock: o.clock, onError: o.onError ?? ((err) => console.error(`tinykube: persistentvolume controller: ${(err as Error).message}`)) });
  }

  get queue(): KeyLoop['queue'] {
    return this.#loop.queue;
  }

  start(): void {
    const q = this.#loop.queue;
    const claimKey = (c: Claim) => `${CLAIM}${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`;
    const volumeKey = (v: Volume) => `${VOLUME}${v.metadata?.name ?? ''}`;
    const synced = Promise.all([this.#claims.waitForSync(), this.#volumes.waitForSync(), this.#classes.waitForSync(), this.#pods.waitForSync()]);
    let ready = false;
    this.#loop.start(this.#informers, () => [
      this.#claims.addEventHandler({
        onAdd: (c) => ready && q.add(claimKey(c)),
        onUpdate: (_a, c) => ready && q.add(claimKey(c)),
        onDelete: (c) => {
          this.#once.forget(coreTarget('PersistentVolumeClaim', c));
          // Its volume is Released now.
          const v = c.spec?.volumeName;
          if (ready && v) q.add(`${VOLUME}${v}`);
          for (const pv of this.#volumes.store.list()) if (ready && pv.spec?.claimRef?.uid === c.metadata?.uid) q.add(volumeKey(pv));
        },
      }),
      this.#volumes.addEventHandler({
        onAdd: (v) => ready && q.add(volumeKey(v)),
        onUpdate: (_a, v) => ready && q.add(volumeKey(v)),
        onDelete: (v) => {
          this.#once.forget(coreTarget('PersistentVolume', v));
          const ref = v.spec?.claimRef;
          if (ready && ref) q.add(`${CLAIM}${ref.namespace ?? ''}/${ref.name ?? ''}`);
        },
      }),
      // A new default class (or one just marked default) can serve the claims that had none, now
      // rather than at the next resync.
      this.#classes.addEventHandler({
        onAdd: () => ready && this.#enqueueAll(),
        onUpdate: (old, sc) => ready && !isDefaultClass(old) && isDefaultClass(sc) && this.#enqueueAll(),
      }),
    ], (key) => this.sync(key));
    void synced.then(() => {
      if (this.#stopped) return;
      ready = true;
      this.#resync();
    }, () => undefined);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#loop.stop();
  }

  #resync(): void {
    if (this.#stopped) return;
    this.#enqueueAll();
    this.#timer = this.#clock.setTimeout(() => this.#resync(), this.#resyncMs);
  }

  #enqueueAll(): void {
    for (const c of this.#claims.store.list()) this.#loop.queue.add(`${CLAIM}${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`);
    for (const v of this.#volumes.store.list()) this.#loop.queue.add(`${VOLUME}${v.metadata?.name ?? ''}`);
  }

  async sync(key: string): Promise<void> {
    if (key.startsWith(CLAIM)) {
      const rest = key.slice(CLAIM.length);
      const i = rest.indexOf('/');
      const claim = this.#claims.store.get(rest.slice(0, i), rest.slice(i + 1));
      if (claim) await this.#syncClaim(claim);
      return;
    }
    const volume = this.#volumes.store.get(undefined, key.slice(VOLUME.length));
    if (volume) await this.#syncVolume(volume);
  }

  // --- claims ------------------------------------------------------------------------------------

  async #syncClaim(claim: Claim): Promise<void> {
    if (claim.metadata?.annotations?.[ANN_BIND_COMPLETED] === undefined) return this.#syncUnboundClaim(claim);
    return this.#syncBoundClaim(claim);
  }

  async #syncUnboundClaim(claim: Claim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) {
      const delay = isDelayBinding(claim, (n) => this.#classes.store.get(undefined, n));
      const volume = findMatchingVolume(claim, this.#volumes.store.list(), { delayBinding: delay });
      if (volume) return this.#bind(volume, claim);
      if (await this.#assignDefaultClass(claim)) return;
      const cls = claimClass(claim);
      if (delay && !claim.metadata?.annotations?.[ANN_SELECTED_NODE]) {
        this.#eventForDelayBinding(claim);
      } else if (cls !== '') {
        await this.#provision(claim, cls);
        return;
      } else {
        this.#say(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      }
      await this.#claimStatus(claim, 'Pending', undefined);
      return;
    }
    const volume = this.#volumes.store.get(undefined, volumeName);
    if (!volume) {
      // Asked for a volume that does not exist (yet): Pending, tried again on the next sync.
      await this.#claimStatus(claim, 'Pending', undefined);
      return;
    }
    if (!volume.spec?.claimRef) {
      const why = volumeSatisfiesClaim(volume, claim);
      if (why) {
        this.#say(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume ${JSON.stringify(volume.metadata?.name ?? '')}: ${why}`);
        await this.#claimStatus(claim, 'Pending', undefined);
        return;
      }
      return this.#bind(volume, claim);
    }
    if (volumeBoundToClaim(volume, claim)) return this.#bind(volume, claim);
    this.#say(claim, 'Warning', 'FailedBinding', `volume ${JSON.stringify(volume.metadata?.name ?? '')} already bound to a different claim.`);
    await this.#claimStatus(claim, 'Pending', undefined);
  }

  async #syncBoundClaim(claim: Claim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) return this.#lose(claim, 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
    const volume = this.#volumes.store.get(undefined, volumeName);
    if (!volume) return this.#lose(claim, 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
    if (!volume.spec?.claimRef || volume.spec.claimRef.uid === claim.metadata?.uid) return this.#bind(volume, claim);
    return this.#lose(claim, 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  async #lose(claim: Claim, reason: string, message: string): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    await this.#claimStatus(claim, 'Lost', undefined);
    this.#event('PersistentVolumeClaim', claim, 'Warning', reason, message);
  }

  /** The retroactive default class: a claim created before a default existed gets it now. */
  async #assignDefaultClass(claim: Claim): Promise<boolean> {
    if (claim.spec?.storageClassName !== undefined && claim.spec.storageClassName !== null) return false;
    if (claim.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return false;
    const def = defaultClass(this.#classes.store.list());
    if (!def) return false;
    await this.#client.update(PersistentVolumeClaims, claim.metadata?.namespace, { ...claim, spec: { ...claim.spec, storageClassName: def.metadata?.name } });
    return true;
  }

  /** WaitForFirstConsumer, or WaitForPodScheduled while a pod that uses the claim is not placed yet. */
  #eventForDelayBinding(claim: Claim): void {
    const ns = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    const waiting = this.#pods.store
      .byIndex(POD_BY_CLAIM, `${ns}/${name}`)
      .filter((p) => !isTerminated(p) && !p.spec?.nodeName)
      .map((p) => p.metadata?.name ?? '');
    if (waiting.length === 0) this.#say(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    else this.#say(claim, 'Normal', 'WaitForPodScheduled', waiting.length === 1 ? `waiting for pod ${waiting[0]} to be scheduled` : `waiting for pods ${waiting.join(',')} to be scheduled`);
  }

  /** provisionClaimOperationExternal: name the class's provisioner on the claim, and say whom it waits for. */
  async #provision(claim: Claim, cls: string): Promise<void> {
    const sc = this.#classes.store.get(undefined, cls);
    if (!sc) {
      this.#say(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io ${JSON.stringify(cls)} not found`);
      await this.#claimStatus(claim, 'Pending', undefined);
      return;
    }
    const provisioner = sc.provisioner ?? '';
    // findProvisionablePlugin: a "kubernetes.io/" name is an in-tree plugin's, and none provisions here
    // (kubernetes.io/no-provisioner, the local volumes' class, is the usual one); every other name is an
    // external provisioner's.
    if (provisioner.startsWith(IN_TREE_PREFIX)) {
      this.#say(claim, 'Warning', 'ProvisioningFailed', `no volume plugin matched name: ${provisioner}`);
      await this.#claimStatus(claim, 'Pending', undefined);
      return;
    }
    const ann = claim.metadata?.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      await this.#client.update(PersistentVolumeClaims, claim.metadata?.namespace, {
        ...claim,
        metadata: { ...claim.metadata, annotations: { ...ann, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner } },
      });
      // The update's event syncs the claim again; its status is written then.
      return;
    }
    this.#say(
      claim,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
    await this.#claimStatus(claim, 'Pending', undefined);
  }

  /** bind: volume (claimRef, then phase Bound), then claim (volumeName + annotations, then status). */
  async #bind(volume: Volume, claim: Claim): Promise<void> {
    let pv = volume;
    const ref = pv.spec?.claimRef;
    const refOk = ref && ref.name === claim.metadata?.name && ref.namespace === claim.metadata?.namespace && ref.uid === claim.metadata?.uid;
    if (!refOk) {
      const annotations = { ...pv.metadata?.annotations };
      if (!ref) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      pv = await this.#client.update(PersistentVolumes, undefined, {
        ...pv,
        metadata: { ...pv.metadata, annotations },
        spec: {
          ...pv.spec,
          claimRef: {
            kind: 'PersistentVolumeClaim',
            namespace: claim.metadata?.namespace,
            name: claim.metadata?.name,
            uid: claim.metadata?.uid,
            apiVersion: 'v1',
            resourceVersion: claim.metadata?.resourceVersion,
          },
        },
      });
    }
    if (pv.status?.phase !== 'Bound') {
      pv = await this.#client.updateStatus(PersistentVolumes, undefined, { ...pv, status: { ...pv.status, phase: 'Bound', message: undefined } });
    }
    let pvc = claim;
    const ann = pvc.metadata?.annotations ?? {};
    const rebind = pvc.spec?.volumeName !== pv.metadata?.name;
    if (rebind || ann[ANN_BIND_COMPLETED] === undefined) {
      const annotations: Record<string, string> = { ...ann, [ANN_BIND_COMPLETED]: 'yes' };
      if (rebind && annotations[ANN_BOUND_BY_CONTROLLER] === undefined) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      pvc = await this.#client.update(PersistentVolumeClaims, pvc.metadata?.namespace, {
        ...pvc,
        metadata: { ...pvc.metadata, annotations },
        spec: { ...pvc.spec, volumeName: pv.metadata?.name },
      });
    }
    await this.#claimStatus(pvc, 'Bound', pv);
  }

  /** updateClaimStatus: phase, and the volume's access modes and (when becoming Bound) capacity. */
  async #claimStatus(claim: Claim, phase: string, volume: Volume | undefined): Promise<void> {
    const status = { ...claim.status };
    let dirty = false;
    if (status.phase !== phase) {
      status.phase = phase;
      dirty = true;
    }
    if (!volume) {
      if (status.accessModes !== undefined || status.capacity !== undefined) {
        delete status.accessModes;
        delete status.capacity;
        dirty = true;
      }
    } else {
      if (JSON.stringify(status.accessModes ?? null) !== JSON.stringify(volume.spec?.accessModes ?? null)) {
        status.accessModes = volume.spec?.accessModes;
        dirty = true;
      }
      if (claim.status?.phase !== phase && status.capacity?.storage !== volume.spec?.capacity?.storage) {
        status.capacity = volume.spec?.capacity;
        dirty = true;
      }
    }
    if (!dirty) return;
    try {
      await this.#client.updateStatus(PersistentVolumeClaims, claim.metadata?.namespace, { ...claim, status });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // --- volumes -----------------------------------------------------------------------------------

  async #syncVolume(volume: Volume): Promise<void> {
    const ref = volume.spec?.claimRef;
    if (!ref || !ref.uid) {
      await this.#volumePhase(volume, 'Available');
      return;
    }
    let claim = this.#claims.store.get(ref.namespace, ref.name ?? '');
    const phase = volume.status?.phase;
    if (!claim && phase !== 'Released' && phase !== 'Failed') {
      // Not in our cache yet (a volume a provisioner or the scheduler bound just now): ask the API
      // before releasing anything.
      claim = await this.#fetchClaim(ref.namespace, ref.name ?? '');
    }
    if (claim && claim.metadata?.uid !== ref.uid) {
      const fresh = await this.#fetchClaim(ref.namespace, ref.name ?? '');
      claim = fresh && fresh.metadata?.uid === ref.uid ? fresh : undefined;
    }
    if (!claim) {
      let pv = volume;
      if (phase !== 'Released' && phase !== 'Failed') pv = (await this.#volumePhase(volume, 'Released')) ?? volume;
      return this.#reclaim(pv);
    }
    if (!claim.spec?.volumeName) {
      // Pre-bound or half-bound: the claim's sync finishes it.
      this.#loop.queue.add(`${CLAIM}${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`);
      return;
    }
    if (claim.spec.volumeName === volume.metadata?.name) {
      await this.#volumePhase(volume, 'Bound');
      return;
    }
    // The claim got bound to another volume.
    if (volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] && volume.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      let pv = volume;
      if (phase !== 'Released' && phase !== 'Failed') pv = (await this.#volumePhase(volume, 'Released')) ?? volume;
      return this.#reclaim(pv);
    }
    await this.#unbind(volume);
  }

  async #fetchClaim(namespace: string | undefined, name: string): Promise<Claim | undefined> {
    try {
      return await this.#client.get<Claim>(PersistentVolumeClaims, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** unbindVolume: a controller's binding is undone; a user's pre-binding keeps its name, loses the uid. */
  async #unbind(volume: Volume): Promise<void> {
    const annotations = { ...volume.metadata?.annotations };
    let claimRef = volume.spec?.claimRef;
    if (annotations[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      claimRef = undefined;
    } else if (claimRef) {
      claimRef = { ...claimRef, uid: undefined };
    }
    const pv = await this.#client.update(PersistentVolumes, undefined, { ...volume, metadata: { ...volume.metadata, annotations }, spec: { ...volume.spec, claimRef } });
    await this.#volumePhase(pv, 'Available');
  }

  /** reclaimVolume: Retain keeps it; Delete of a provisioned volume is its provisioner's; the rest fail as in kube. */
  async #reclaim(volume: Volume): Promise<void> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    const name = volume.metadata?.name ?? '';
    if (policy === 'Retain') return;
    if (policy === 'Delete') {
      if (volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED]) return;
      await this.#volumeFailed(volume, 'VolumeFailedDelete', `error getting deleter volume plugin for volume ${JSON.stringify(name)}: no deletable volume plugin matched`);
      return;
    }
    if (policy === 'Recycle') {
      await this.#volumeFailed(volume, 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      return;
    }
    await this.#volumeFailed(volume, 'VolumeUnknownReclaimPolicy', 'Volume has unrecognized PersistentVolumeReclaimPolicy');
  }

  async #volumeFailed(volume: Volume, reason: string, message: string): Promise<void> {
    if (volume.status?.phase === 'Failed') return;
    await this.#volumePhase(volume, 'Failed', message);
    this.#event('PersistentVolume', volume, 'Warning', reason, message);
  }

  async #volumePhase(volume: Volume, phase: string, message?: string): Promise<Volume | undefined> {
    if (volume.status?.phase === phase) return volume;
    try {
      return await this.#client.updateStatus(PersistentVolumes, undefined, { ...volume, status: { ...volume.status, phase, message } });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  // --- events ------------------------------------------------------------------------------------

  #event(kind: 'PersistentVolumeClaim' | 'PersistentVolume', obj: Claim | Volume, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#events.event(coreTarget(kind, obj), type, reason, message);
  }

  /** An event about a claim, said once until what it says changes (resyncs would repeat it). */
  #say(claim: Claim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#once.say(coreTarget('PersistentVolumeClaim', claim), type, reason, message);
  }
}
