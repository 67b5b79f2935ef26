// The node's part of the pod network between nodes (flannel's vxlan and host-gw backends, see
// model.ts): publishes this node's overlay facts on its own Node, watches every Node, and keeps the
// kernel's entries equal to what the other nodes' facts ask for: read what the kernel has, diff,
// run only the difference. A sync runs after every change of a node's overlay facts (coalesced, one
// at a time), after a failure with back-off, and every resync period to repair drift.
//
// Lifecycle: start() after the agent knows its podCIDR and node IP (it resolves once the first sync is
// done); stop() ends the loop, and with deleteDevice removes the device (its routes, neighbours and
// fdb entries go with it) or, for host-gw, the overlay's routes. Restarting adopts a device whose
// settings match. stop() is idempotent.
import { release } from 'node:os';
import type { Node } from '../api/types.ts';
import type { ApiClient } from '../client/client.ts';
import { Informer, listWatch, type ListerWatcher } from '../client/informer.ts';
import { Nodes } from '../client/resources.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { CommandExec, type NetExec } from './exec.ts';
import { Kernel } from './kernel.ts';
import {
  BACKEND_TYPE_ANNOTATION,
  deviceSpec,
  desiredState,
  diffState,
  isPublished,
  peersFromNodes,
  PUBLIC_IP_ANNOTATION,
  publishedAnnotations,
  VTEP_MAC_ANNOTATION,
  VXLAN_DEVICE,
  VXLAN_OVERHEAD,
  vtepAddress,
  txChecksumOffloadOn,
  type Backend,
  type ChecksumOffload,
  type Command,
  type Exclusion,
  type Self,
} from './model.ts';

export interface OverlayOptions {
  /** The node's client (system:node:<name>): patches its own Node, lists and watches all Nodes. */
  client: Pick<ApiClient, 'patch'> & Partial<Pick<ApiClient, 'list' | 'watch'>>;
  /** Where Nodes come from (default: list/watch through `client`). */
  nodes?: ListerWatcher<Node>;
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
  backend: Backend;
  /** Where commands run (default: this process's network namespace). */
  exec?: NetExec;
  clock?: Clock;
  /** Full resync period (default 60 s). */
  resyncMs?: number;
  /** First retry after a failed sync (default 1 s, doubling to 30 s). */
  retryMs?: number;
  /** A node refused (its podCIDR overlaps, another backend...): said once per new reason. */
  onRefused?(node: string, reason: string): void;
  /** TX checksum offload on the VXLAN device (default auto: on, except on kernels before 5.7). */
  txChecksumOffload?: ChecksumOffload;
  /** The kernel's release, for `auto` (default os.release()). */
  kernelRelease?: string;
  /**
   * Whether this node's pod network works, when that changes: up after a sync that changed the kernel
   * as it should, down (with why) after one that failed. The agent posts it as the Node's
   * NetworkUnavailable condition.
   */
  onState?(up: boolean, message: string): void;
  /** Things that did not work but need no action from the caller (ethtool missing). */
  onWarning?(message: string): void;
  onError?(err: unknown, context: string): void;
  /** Each finished sync: the commands it ran and their failures (tests, logs). */
  onSync?(r: SyncResult): void;
}

export interface SyncResult {
  readonly commands: readonly Command[];
  readonly failures: readonly string[];
  readonly peers: readonly string[];
  readonly refused: readonly Exclusion[];
}

const MAX_RETRY_MS = 30_000;

export class Overlay {
  readonly #o: OverlayOptions;
  readonly #kernel: Kernel;
  readonly #clock: Clock;
  readonly #self: Self;
  readonly #informer: Informer<Node>;
  #removeHandler: (() => void) | undefined;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #stopped = true;
  #retryMs: number;
  #refused = new Map<string, string>();
  #mac: string | undefined;
  #deviceChecked = false;
  #stopping: Promise<void> | undefined;
  #said: { up: boolean; message: string } | undefined;

  constructor(o: OverlayOptions) {
    this.#o = o;
    this.#kernel = new Kernel(o.exec ?? new CommandExec());
    this.#clock = o.clock ?? realClock;
    this.#self = { name: o.nodeName, podCIDR: o.podCIDR, publicIP: o.nodeIP, backend: o.backend };
    this.#retryMs = o.retryMs ?? 1000;
    let lw = o.nodes;
    if (!lw) {
      if (!o.client.list || !o.client.watch) throw new TypeError('Overlay: pass `nodes` or a client that can list and watch');
      lw = listWatch<Node>(o.client as ApiClient, Nodes);
    }
    this.#informer = new Informer<Node>(lw, { clock: this.#clock, onError: (err) => o.onError?.(err, 'overlay node informer') });
  }

  get backend(): Backend {
    return this.#self.backend;
  }

  /** Sets the node up, publishes its facts, and resolves after the first sync against all Nodes (failed or not: failures are retried). */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    const forwarding = await this.#kernel.sysctl('net.ipv4.ip_forward', '1');
    if (forwarding) this.#o.onError?.(new Error(forwarding), 'overlay');
    // A failure here (the node IP on no link yet, the API away) is retried by the sync loop, which
    // makes the device and publishes too: the agent runs on, its pods on this node unaffected.
    await this.#ensureDevice()
      .then(() => this.#publish())
      .catch((err: unknown) => this.#o.onError?.(err, 'overlay start'));
    this.#removeHandler = this.#informer.addEventHandler({
      onAdd: () => this.#kick(),
      onUpdate: (a, b) => {
        if (overlayFacts(a) !== overlayFacts(b)) this.#kick();
      },
      onDelete: () => this.#kick(),
    });
    this.#informer.start();
    await this.#informer.waitForSync();
    this.#kick();
    await this.#idle();
  }

  /** Runs a sync now and resolves when no sync is pending (tests). */
  async syncNow(): Promise<void> {
    this.#kick();
    await this.#idle();
  }

  async stop(o: { deleteDevice?: boolean } = {}): Promise<void> {
    this.#stopping ??= this.#stop(Boolean(o.deleteDevice));
    return this.#stopping;
  }

  async #stop(deleteDevice: boolean): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#removeHandler?.();
    await this.#informer.stop();
    await this.#running;
    if (!deleteDevice) return;
    if (this.#self.backend === 'vxlan') await this.#kernel.deleteLink(VXLAN_DEVICE);
    const left = await this.#kernel.read(undefined);
    await this.#kernel.apply(diffState({ routes: [], neighs: [], fdb: [] }, left));
  }

  async #idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #ensureDevice(): Promise<void> {
    if (this.#self.backend === 'host-gw') {
      // A node switched from vxlan keeps no device: removed once (every sync spawned an `ip` for it).
      if (this.#deviceChecked) return;
      await this.#kernel.deleteLink(VXLAN_DEVICE);
      this.#deviceChecked = true;
      return;
    }
    const parent = await this.#kernel.parentOf(this.#self.publicIP);
    const spec = deviceSpec(this.#self.name, this.#self.publicIP, parent);
    const r = await this.#kernel.ensureVxlan(spec, vtepAddress(this.#self.podCIDR));
    if (r.recreated) this.#o.onWarning?.(`${VXLAN_DEVICE} was made again: ${r.recreated}`);
    if (r.created || !this.#deviceChecked) {
      // Set either way: a device an older agent made has it off.
      const on = txChecksumOffloadOn(this.#o.txChecksumOffload ?? 'auto', this.#o.kernelRelease ?? release());
      const warning = await this.#kernel.setTxChecksumOffload(VXLAN_DEVICE, on);
      if (warning) this.#o.onWarning?.(warning);
    }
    this.#mac = spec.mac;
    this.#deviceChecked = true;
  }

  async #publish(): Promise<void> {
    const want = publishedAnnotations(this.#self, this.#mac);
    const own = this.#informer.hasSynced() ? this.#informer.store.get(undefined, this.#self.name) : undefined;
    if (own && isPublished(own, want)) return;
    await this.#o.client.patch<Node>(Nodes, undefined, this.#self.name, 'merge', { metadata: { annotations: want } });
  }

  #kick(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    if (this.#running) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      let next = this.#o.resyncMs ?? 60_000;
      try {
        const r = await this.#syncOnce();
        if (r.failures.length) {
          const message = `${r.failures.length} kernel change(s) failed: ${r.failures.join('; ')}`;
          this.#o.onError?.(new Error(`overlay: ${message}`), 'overlay sync');
          this.#state(false, message);
          next = this.#backoff();
        } else {
          this.#retryMs = this.#o.retryMs ?? 1000;
          this.#state(true, `the ${this.#self.backend} pod network is up on this node (${r.peers.length} other node${r.peers.length === 1 ? '' : 's'})`);
        }
        this.#o.onSync?.(r);
      } catch (err) {
        this.#o.onError?.(err, 'overlay sync');
        this.#state(false, err instanceof Error ? err.message : String(err));
        next = this.#backoff();
      }
      if (!this.#dirty && !this.#stopped) this.#timer = this.#clock.setTimeout(() => this.#kick(), next);
    }
  }

  #state(up: boolean, message: string): void {
    if (this.#said?.up === up && this.#said.message === message) return;
    this.#said = { up, message };
    this.#o.onState?.(up, message);
  }

  #backoff(): number {
    const ms = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    return ms;
  }

  async #syncOnce(): Promise<SyncResult> {
    // A device deleted or changed behind the agent's back is made again (this also repairs drift).
    await this.#ensureDevice();
    await this.#publish();
    const set = peersFromNodes(this.#informer.store.list(), this.#self);
    this.#report(set.refused);
    const device = this.#self.backend === 'vxlan' ? VXLAN_DEVICE : undefined;
    const actual = await this.#kernel.read(device);
    const commands = diffState(desiredState(this.#self.backend, set.peers), actual);
    const failures = await this.#kernel.apply(commands);
    return { commands, failures, peers: set.peers.map((p) => p.name), refused: set.refused };
  }

  #report(refused: readonly Exclusion[]): void {
    const now = new Map(refused.map((r) => [r.node, r.reason]));
    for (const [node, reason] of now) {
      if (this.#refused.get(node) !== reason) this.#o.onRefused?.(node, reason);
    }
    this.#refused = now;
  }
}

/** What of a Node the overlay reads: a change elsewhere (status heartbeats) needs no sync. */
function overlayFacts(n: Node): string {
  const a = n.metadata?.annotations ?? {};
  return JSON.stringify([n.spec?.podCIDR, a[BACKEND_TYPE_ANNOTATION], a[PUBLIC_IP_ANNOTATION], a[VTEP_MAC_ANNOTATION], n.metadata?.creationTimestamp]);
}



/**
 * The MTU pods on this node should use (flannel's FLANNEL_MTU): the node IP's link's, less the VXLAN
 * headers with that backend. Undefined when no link holds the IP (then the CNI plugin's default).
 */
export async function podMTU(backend: Backend, nodeIP: string, exec: NetExec = new CommandExec()): Promise<number | undefined> {
  try {
    const parent = await new Kernel(exec).parentOf(nodeIP);
    return backend === 'vxlan' ? parent.mtu - VXLAN_OVERHEAD : parent.mtu;
  } catch {
    return undefined;
  }
}
