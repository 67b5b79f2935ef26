// Volume expansion for local-path claims (what kube's external-resizer does for a CSI driver): when a
// bound claim's storage request grows past its status capacity (the PersistentVolumeClaimResize
// admission has checked that the class allows it), the volume's capacity is raised if its node has
// the room, and the claim's status follows. A directory needs no file-system resize on the node, so
// there is no NodeResizePending step.
//
// Status as Kubernetes 1.32 writes it: allocatedResources is the size being resized to;
// allocatedResourceStatuses[storage] says ControllerResizeInProgress while the volume is changed and
// ControllerResizeInfeasible when the node cannot give the room (the claim then keeps its capacity,
// and a smaller request is accepted again); both are cleared once status.capacity is the new size.
// Events: Resizing, VolumeResizeSuccessful, VolumeResizeFailed (once per message).
import { capacityBytes, requestedBytes } from '../../api/volumes/binding.ts';
import { LOCAL_PATH_PROVISIONER, localPathFreeBytes, localPathNode } from '../../api/volumes/localpath.ts';
import { formatQuantity, quantityOf, tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';
import { ANN_DYNAMICALLY_PROVISIONED } from '../../api/volumes/binding.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import type { Informer } from '../../client/informer.ts';
import { PersistentVolumeClaims, PersistentVolumes } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { coreTarget, OnceEvents, type EventSink } from '../events.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';

type Claim = PersistentVolumeClaim & HasMetadata;
type Volume = PersistentVolume & HasMetadata;

export interface LocalPathResizerOptions {
  client: ApiClient;
  informers: SharedInformers;
  events: EventSink;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

export class LocalPathResizer {
  readonly #client: ApiClient;
  readonly #events: EventSink;
  readonly #loop: KeyLoop;
  readonly #informers: SharedInformers;
  readonly #claims: Informer<Claim>;
  readonly #volumes: Informer<Volume>;
  readonly #nodes: Informer<Node & HasMetadata>;
  readonly #once: OnceEvents;

  constructor(o: LocalPathResizerOptions) {
    this.#client = o.client;
    this.#events = o.events;
    this.#once = new OnceEvents(o.events);
    this.#informers = o.informers;
    this.#claims = o.informers.resource<Claim>(PersistentVolumeClaims);
    this.#volumes = o.informers.resource<Volume>(PersistentVolumes);
    this.#nodes = o.informers.nodes() as Informer<Node & HasMetadata>;
    this.#loop = new KeyLoop({ clock: o.clock, onError: o.onError ?? ((err) => console.error(`tinykube: local-path resizer: ${(err as Error).message}`)) });
  }

  get queue(): KeyLoop['queue'] {
    return this.#loop.queue;
  }

  start(): void {
    const q = this.#loop.queue;
    const key = (c: Claim) => `${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`;
    const enqueue = (c: Claim) => {
      if (this.#wantsResize(c)) q.add(key(c));
    };
    this.#loop.start(this.#informers, () => [
      this.#claims.addEventHandler({ onAdd: enqueue, onUpdate: (_a, c) => enqueue(c), onDelete: (c) => this.#once.forget(coreTarget('PersistentVolumeClaim', c)) }),
    ], (k) => this.sync(k));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Bound, and asking for more than it has (and not already refused at this size). */
  #wantsResize(c: Claim): boolean {
    if (c.status?.phase !== 'Bound' || !c.spec?.volumeName) return false;
    const cap = tryParseQuantity(c.status?.capacity?.storage);
    return cap !== undefined && requestedBytes(c) > quantityValue(cap);
  }

  async sync(key: string): Promise<void> {
    if (!this.#claims.hasSynced() || !this.#volumes.hasSynced() || !this.#nodes.hasSynced()) {
      this.#loop.queue.addAfter(key, 500);
      return;
    }
    const i = key.indexOf('/');
    const claim = this.#claims.store.get(key.slice(0, i), key.slice(i + 1));
    if (!claim || !this.#wantsResize(claim)) return;
    const pv = this.#volumes.store.get(undefined, claim.spec?.volumeName ?? '');
    if (!pv || pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== LOCAL_PATH_PROVISIONER) return;
    const want = requestedBytes(claim);
    const wantText = claim.spec?.resources?.requests?.storage ?? '';
    if (claim.status?.allocatedResourceStatuses?.storage === 'ControllerResizeInfeasible' && claim.status?.allocatedResources?.storage === wantText) return;

    const hostname = localPathNode(pv);
    const node = this.#nodes.store.list().find((n) => (n.metadata?.labels?.['kubernetes.io/hostname'] ?? n.metadata?.name) === hostname);
    const growth = want - capacityBytes(pv);
    const free = node ? localPathFreeBytes(node, this.#volumes.store.list()) : 0;
    if (!node || growth > free) {
      const message = node
        ? `resize volume "${pv.metadata?.name ?? ''}" by resizer "${LOCAL_PATH_PROVISIONER}" failed: node ${JSON.stringify(node.metadata?.name ?? '')} has not enough free storage: ${formatQuantity(quantityOf(Math.max(0, growth), 'BinarySI'))} more wanted, ${formatQuantity(quantityOf(Math.max(0, free), 'BinarySI'))} free`
        : `resize volume "${pv.metadata?.name ?? ''}" by resizer "${LOCAL_PATH_PROVISIONER}" failed: its node ${JSON.stringify(hostname ?? '')} is gone`;
      await this.#status(claim, { allocatedResources: { ...claim.status?.allocatedResources, storage: wantText }, allocatedResourceStatuses: { ...claim.status?.allocatedResourceStatuses, storage: 'ControllerResizeInfeasible' } });
      this.#say(claim, 'Warning', 'VolumeResizeFailed', message);
      return;
    }
    this.#say(claim, 'Normal', 'Resizing', `External resizer is resizing volume ${pv.metadata?.name ?? ''}`);
    const inProgress = await this.#status(claim, { allocatedResources: { ...claim.status?.allocatedResources, storage: wantText }, allocatedResourceStatuses: { ...claim.status?.allocatedResourceStatuses, storage: 'ControllerResizeInProgress' } });
    if (!inProgress) return;
    if (capacityBytes(pv) < want) {
      await this.#client.update(PersistentVolumes, undefined, { ...pv, spec: { ...pv.spec, capacity: { ...pv.spec?.capacity, storage: wantText } } });
    }
    const statuses = { ...inProgress.status?.allocatedResourceStatuses };
    delete statuses.storage;
    await this.#status(inProgress, {
      capacity: { ...inProgress.status?.capacity, storage: wantText },
      allocatedResourceStatuses: Object.keys(statuses).length > 0 ? statuses : undefined,
    });
    this.#once.forget(coreTarget('PersistentVolumeClaim', claim));
    this.#events.event(coreTarget('PersistentVolumeClaim', claim), 'Normal', 'VolumeResizeSuccessful', 'Resize volume succeeded');
  }

  async #status(claim: Claim, patch: Partial<NonNullable<PersistentVolumeClaim['status']>>): Promise<Claim | undefined> {
    try {
      return await this.#client.updateStatus(PersistentVolumeClaims, claim.metadata?.namespace, { ...claim, status: { ...claim.status, ...patch } });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  #say(claim: Claim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#once.say(coreTarget('PersistentVolumeClaim', claim), type, reason, message);
  }
}
