// The local-path provisioner's API half (the node agent's LocalPathDeleter is the other): for each
// claim the PV controller handed to LOCAL_PATH_PROVISIONER, a hostPath PersistentVolume named
// `pvc-<claim uid>` under the chosen node's storage root, pinned to that node by node affinity and
// pre-bound to the claim (the PV controller then binds both). The directory itself is made by the
// node's agent when the first pod mounts the volume (hostPath type DirectoryOrCreate), so provisioning
// needs no helper pod and no access to the node.
//
// Which node: WaitForFirstConsumer (the local-path class's mode) takes the scheduler's choice from the
// claim's volume.kubernetes.io/selected-node; Immediate picks the Ready node with the most free storage.
// A node's storage is its ephemeral-storage capacity; the local-path volumes already pinned to it are
// subtracted, and a claim that does not fit is refused (ProvisioningFailed), never over-committed.
// When a WaitForFirstConsumer claim cannot be provisioned on the selected node, the annotation is
// removed so the scheduler picks again, as Kubernetes' external provisioners do.
//
// Events as the external-provisioner library writes them: Provisioning, ProvisioningSucceeded,
// ProvisioningFailed ("failed to provision volume with StorageClass ..."); a failure is said once
// until its message changes.
import { ANN_DYNAMICALLY_PROVISIONED, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, claimClass } from '../../api/volumes/binding.ts';
import { ANN_LOCAL_PATH_ROOT, claimDirectory, localPathUnsupported, hostnameOf, HOSTNAME_LABEL, LOCAL_PATH_PROVISIONER, localPathFreeBytes, localPathRoot } from '../../api/volumes/localpath.ts';
import { formatQuantity, quantityOf, tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../api/types.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { Informer } from '../../client/informer.ts';
import { PersistentVolumeClaims, PersistentVolumes, StorageClasses } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { coreTarget, OnceEvents, type EventSink } from '../events.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';

export const LOCAL_PATH_COMPONENT = LOCAL_PATH_PROVISIONER;

type Claim = PersistentVolumeClaim & HasMetadata;
type Volume = PersistentVolume & HasMetadata;
type Class = StorageClass & HasMetadata;

export interface LocalPathProvisionerOptions {
  client: ApiClient;
  informers: SharedInformers;
  events: EventSink;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

/** A provisioning attempt that cannot succeed as things stand (said in an event, not retried in a loop). */
class ProvisionRefused extends Error {}

function isReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export class LocalPathProvisioner {
  readonly #client: ApiClient;
  readonly #events: EventSink;
  readonly #loop: KeyLoop;
  readonly #informers: SharedInformers;
  readonly #claims: Informer<Claim>;
  readonly #volumes: Informer<Volume>;
  readonly #classes: Informer<Class>;
  readonly #nodes: Informer<Node & HasMetadata>;
  readonly #once: OnceEvents;

  constructor(o: LocalPathProvisionerOptions) {
    this.#client = o.client;
    this.#events = o.events;
    this.#once = new OnceEvents(o.events);
    this.#informers = o.informers;
    this.#claims = o.informers.resource<Claim>(PersistentVolumeClaims);
    this.#volumes = o.informers.resource<Volume>(PersistentVolumes);
    this.#classes = o.informers.resource<Class>(StorageClasses);
    this.#nodes = o.informers.nodes() as Informer<Node & HasMetadata>;
    this.#loop = new KeyLoop({ clock: o.clock, onError: o.onError ?? ((err) => console.error(`tinykube: local-path provisioner: ${(err as Error).message}`)) });
  }

  get queue(): KeyLoop['queue'] {
    return this.#loop.queue;
  }

  start(): void {
    const q = this.#loop.queue;
    const key = (c: Claim) => `${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`;
    const enqueue = (c: Claim) => {
      if (this.#wants(c)) q.add(key(c));
    };
    const enqueuePending = () => {
      for (const c of this.#claims.store.list()) enqueue(c);
    };
    this.#loop.start(this.#informers, () => [
      this.#claims.addEventHandler({ onAdd: enqueue, onUpdate: (_a, c) => enqueue(c), onDelete: (c) => this.#once.forget(coreTarget('PersistentVolumeClaim', c)) }),
      // A node that joins or grows can take claims that did not fit; a volume removed frees room.
      this.#nodes.addEventHandler({ onAdd: enqueuePending, onUpdate: () => undefined }),
      this.#volumes.addEventHandler({ onAdd: () => undefined, onUpdate: () => undefined, onDelete: enqueuePending }),
    ], (k) => this.sync(k));
    void Promise.all([this.#claims.waitForSync(), this.#volumes.waitForSync(), this.#classes.waitForSync(), this.#nodes.waitForSync()]).then(enqueuePending, () => undefined);
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** A claim handed to us and not bound yet. */
  #wants(c: Claim): boolean {
    return c.metadata?.annotations?.[ANN_STORAGE_PROVISIONER] === LOCAL_PATH_PROVISIONER && !c.spec?.volumeName && !c.metadata?.deletionTimestamp;
  }

  async sync(key: string): Promise<void> {
    if (!this.#claims.hasSynced() || !this.#volumes.hasSynced() || !this.#nodes.hasSynced() || !this.#classes.hasSynced()) return;
    const i = key.indexOf('/');
    const claim = this.#claims.store.get(key.slice(0, i), key.slice(i + 1));
    if (!claim || !this.#wants(claim)) return;
    const pvName = `pvc-${claim.metadata?.uid ?? ''}`;
    if (this.#volumes.store.get(undefined, pvName)) return;
    const clsName = claimClass(claim);
    const cls = this.#classes.store.get(undefined, clsName);
    if (!cls || cls.provisioner !== LOCAL_PATH_PROVISIONER) return;
    const delayed = cls.volumeBindingMode === 'WaitForFirstConsumer';
    const selected = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
    // A claim no local-path volume can serve is said at once (the scheduler never selects a node for it).
    const unsupported = localPathUnsupported(claim);
    if (unsupported) {
      this.#refused(claim, clsName, unsupported);
      return;
    }
    if (delayed && !selected) return;
    try {
      const node = delayed ? this.#selectedNode(selected ?? '') : this.#pickNode();
      const pv = this.#volumeFor(claim, cls, node, pvName);
      this.#event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`);
      try {
        await this.#client.create(PersistentVolumes, undefined, pv);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      this.#once.forget(coreTarget('PersistentVolumeClaim', claim));
      this.#event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
    } catch (err) {
      if (!(err instanceof ProvisionRefused)) throw err;
      this.#refused(claim, clsName, err.message);
      // Let the scheduler choose again (it also filters nodes by the same free-storage figure).
      if (delayed && selected) await this.#unselect(claim);
    }
  }

  #refused(claim: Claim, clsName: string, why: string): void {
    this.#once.say(coreTarget('PersistentVolumeClaim', claim), 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass ${JSON.stringify(clsName)}: ${why}`);
  }

  #selectedNode(name: string): Node {
    const node = this.#nodes.store.get(undefined, name);
    if (!node) throw new ProvisionRefused(`failed to get target node: node ${JSON.stringify(name)} not found`);
    return node;
  }

  /** Immediate binding: the Ready node with a storage root and the most free storage. */
  #pickNode(): Node {
    let best: Node | undefined;
    let bestFree = -1;
    for (const n of this.#nodes.store.list()) {
      if (!isReady(n) || !localPathRoot(n)) continue;
      const free = localPathFreeBytes(n, this.#volumes.store.list());
      if (free > bestFree) {
        best = n;
        bestFree = free;
      }
    }
    if (!best) throw new ProvisionRefused('no Ready node publishes a local-path storage directory');
    return best;
  }

  #volumeFor(claim: Claim, cls: Class, node: Node, pvName: string): Volume {
    const nodeName = node.metadata?.name ?? '';
    const root = localPathRoot(node);
    if (!root) throw new ProvisionRefused(`node ${JSON.stringify(nodeName)} publishes no local-path storage directory (annotation ${ANN_LOCAL_PATH_ROOT})`);
    const request = tryParseQuantity(claim.spec?.resources?.requests?.storage);
    const want = request ? quantityValue(request) : 0;
    const free = localPathFreeBytes(node, this.#volumes.store.list());
    if (want > free) {
      throw new ProvisionRefused(`node ${JSON.stringify(nodeName)} has not enough free storage: requested ${formatQuantity(request ?? quantityOf(0, 'BinarySI'))}, free ${formatQuantity(quantityOf(Math.max(0, free), 'BinarySI'))}`);
    }
    const ns = claim.metadata?.namespace ?? '';
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName, annotations: { [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER } },
      spec: {
        capacity: { storage: request ? formatQuantity(request) : '0' },
        accessModes: claim.spec?.accessModes,
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
        storageClassName: cls.metadata?.name,
        volumeMode: 'Filesystem',
        mountOptions: cls.mountOptions,
        hostPath: { path: claimDirectory(root, claim), type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostnameOf(node)] }] }] } },
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name: claim.metadata?.name, uid: claim.metadata?.uid, resourceVersion: claim.metadata?.resourceVersion },
      },
    };
  }

  async #unselect(claim: Claim): Promise<void> {
    try {
      await this.#client.patch(PersistentVolumeClaims, claim.metadata?.namespace, claim.metadata?.name ?? '', 'json', [
        { op: 'test', path: '/metadata/uid', value: claim.metadata?.uid },
        { op: 'remove', path: `/metadata/annotations/${ANN_SELECTED_NODE.replace(/~/g, '~0').replace(/\//g, '~1')}` },
      ]);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  #event(claim: Claim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#events.event(coreTarget('PersistentVolumeClaim', claim), type, reason, message);
  }
}
