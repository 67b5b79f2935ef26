// One simulated node: its Node object (registered and reported with the real agent's node status code,
// ../node/node-status.ts), its Lease (the real agent's NodeLease, renewed by the simulator's shared
// scheduler rather than a timer of its own), its StatusManager (the real agent's, one per node as on a
// real node, so writes of different nodes go out concurrently), and its pod IPs.
//
// Kept small: a simulator holds thousands. The Node object itself is not kept; the Lease is (NodeLease
// updates from the last one it wrote).
import { createHash } from 'node:crypto';
import type { ApiClient } from '../../client/client.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import { Nodes } from '../../client/resources.ts';
import type { Node, NodeCondition, NodeStatus } from '../../api/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { MachineInfo } from '../node/machine.ts';
import { NodeLease } from '../node/lease.ts';
import { buildNodeStatus, nodeLabels } from '../node/node-status.ts';
import { ANN_LOCAL_PATH_ROOT } from '../../api/volumes/localpath.ts';
import { ApiStatusWriter, StatusManager, type StatusWriter } from '../status/manager.ts';
import type { PodHost } from './pods.ts';
import { podIP, SIMULATED_LABEL, slotAddresses, type SimulatedNodeSpec } from './spec.ts';
import { SimulatedAdmission } from './admission.ts';
import { standInNode } from '../admission/predicates.ts';

export const SIMULATED_RUNTIME_VERSION = 'simulated://0.1.0';

export interface SimulatedNodeOptions {
  /** For the Node and its Lease. */
  client: ApiClient;
  /** For pod statuses (default: client). */
  podClient?: ApiClient;
  clock: Clock;
  name: string;
  /** Address slot (./spec.ts): the node's pod CIDR and InternalIP. */
  slot: number;
  spec: SimulatedNodeSpec;
  /** Shared by all nodes of a simulator: architecture, kernel, OS image, boot ID. */
  machine: MachineInfo;
  /** Default: writes through `client` (tests record instead). */
  statusWriter?: StatusWriter;
  onError?(err: unknown, context: string): void;
}

function uuidFrom(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export class SimulatedNode implements PodHost {
  readonly name: string;
  readonly slot: number;
  readonly hostIP: string;
  readonly podCIDR: string;
  /** Replaced when the node is restarted (a stopped StatusManager stays stopped). */
  status: StatusManager;
  readonly lease: NodeLease;
  readonly admission: SimulatedAdmission;
  readonly #o: SimulatedNodeOptions;
  readonly #podBase: number;
  /** Host numbers 2..254 of the /24 in use (index = last octet). */
  readonly #used = new Uint8Array(256);
  #nextHost = 2;
  #conditions: NodeCondition[] = [];
  #earlierWrites = 0;
  /** A lease renewal or status post is running (they never overlap for one node). */
  busy = false;
  /** Bumped at every stop and restart: loops of an older generation end. */
  generation = 0;
  stopped = false;

  constructor(o: SimulatedNodeOptions) {
    this.#o = o;
    this.name = o.name;
    this.slot = o.slot;
    const a = slotAddresses(o.slot);
    this.hostIP = a.nodeIP;
    this.podCIDR = a.podCIDR;
    this.#podBase = a.podBase;
    this.status = this.#newStatusManager();
    this.admission = new SimulatedAdmission(o.name, () => this.#admissionNode());
    this.lease = new NodeLease({ client: o.client, clock: o.clock, nodeName: o.name, onError: (err) => o.onError?.(err, `lease of node ${o.name}`) });
  }

  /** Pod status writes made, over restarts. */
  get statusWrites(): number {
    return this.#earlierWrites + this.status.writes;
  }

  #newStatusManager(): StatusManager {
    const o = this.#o;
    return new StatusManager({ writer: o.statusWriter ?? new ApiStatusWriter(o.podClient ?? o.client), clock: o.clock, onError: (err) => o.onError?.(err, `pod status of node ${o.name}`) });
  }

  /** The agent dies: pending pod status writes are dropped; the simulator stops its loops. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.status.stop();
  }

  /** The agent comes back (register() follows). */
  restart(): void {
    this.stopped = false;
    this.generation++;
    this.#earlierWrites += this.status.writes;
    this.status = this.#newStatusManager();
  }

  allocateIP(preferred?: string): string {
    const base = podIP(this.#podBase, 0).replace(/0$/, '');
    if (preferred?.startsWith(base)) {
      const host = Number(preferred.slice(base.length));
      if (host >= 2 && host <= 254 && !this.#used[host]) {
        this.#used[host] = 1;
        return preferred;
      }
    }
    for (let i = 0; i < 253; i++) {
      const host = 2 + ((this.#nextHost - 2 + i) % 253);
      if (!this.#used[host]) {
        this.#used[host] = 1;
        this.#nextHost = host + 1;
        return podIP(this.#podBase, host);
      }
    }
    // More than 253 pods on one node (only with --pods above that): addresses repeat; nothing routes
    // to a simulated pod, so only `kubectl get -o wide` can tell.
    const host = this.#nextHost;
    this.#nextHost = 2 + ((host - 1) % 253);
    return podIP(this.#podBase, host);
  }

  releaseIP(ip: string): void {
    const base = podIP(this.#podBase, 0).replace(/0$/, '');
    if (!ip.startsWith(base)) return;
    const host = Number(ip.slice(base.length));
    if (host >= 0 && host < 256) this.#used[host] = 0;
  }

  /** The Node as registered, for admission (built once, at the first pod). */
  #admissionNode(): Node {
    if (!this.#nodeView) {
      const node = standInNode(this.name, this.#labels(), this.#o.spec.capacity);
      if (this.#o.spec.taints.length > 0) node.spec = { taints: this.#o.spec.taints };
      this.#nodeView = node;
    }
    return this.#nodeView;
  }
  #nodeView: Node | undefined;

  #labels(): Record<string, string> {
    return { ...nodeLabels(this.name, this.#o.machine.architecture), ...this.#o.spec.labels, [SIMULATED_LABEL]: 'true' };
  }

  #machine(): MachineInfo {
    const h = createHash('sha256').update(`tinykube-simulated/${this.name}`).digest('hex');
    return { ...this.#o.machine, machineID: h.slice(0, 32), systemUUID: uuidFrom(h.slice(32, 64)) };
  }

  /**
   * Creates the Node (labels, taints, podCIDR) or adopts an existing one (our labels put back; taints
   * and podCIDR are left as they are, as the kubelet does), then posts its status: Ready.
   */
  async register(): Promise<void> {
    const { client } = this.#o;
    const labels = this.#labels();
    try {
      const spec: NonNullable<Node['spec']> = { podCIDR: this.podCIDR, podCIDRs: [this.podCIDR] };
      if (this.#o.spec.taints.length > 0) spec.taints = this.#o.spec.taints;
      // The status rides along with the create (Node creation keeps it): one request per node.
      const status = this.#status();
      // A local-path storage root, so claims can be provisioned onto simulated nodes (nothing is
      // written there: simulated pods mount nothing).
      const annotations = { [ANN_LOCAL_PATH_ROOT]: `/var/lib/tinykube/simulated/${this.name}/storage` };
      await client.create<Node>(Nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, labels, annotations }, spec, status });
      this.#conditions = status.conditions ?? [];
      return;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    const node = await client.get<Node>(Nodes, undefined, this.name);
    const have = node.metadata?.labels ?? {};
    if (Object.entries(labels).some(([k, v]) => have[k] !== v)) {
      await client.patch<Node>(Nodes, undefined, this.name, 'merge', { metadata: { labels } });
    }
    this.#conditions = node.status?.conditions ?? [];
    await this.postStatus();
  }

  #status(): NodeStatus {
    return buildNodeStatus({
      nodeName: this.name,
      nodeIP: this.hostIP,
      machine: this.#machine(),
      capacity: this.#o.spec.capacity,
      ready: { ok: true, message: 'kubelet is posting ready status' },
      pressure: { memory: false, disk: false, pid: false },
      previous: this.#conditions,
      runtimeVersion: SIMULATED_RUNTIME_VERSION,
      images: [],
      kubeletPort: 0,
      now: this.#o.clock.now(),
    });
  }

  /** Writes the node status (Ready, capacity, addresses, nodeInfo); re-registers a deleted Node. */
  async postStatus(): Promise<void> {
    const status = this.#status();
    try {
      await this.#o.client.patch(Nodes, undefined, this.name, 'merge', { status }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Deleted under us (kubectl delete node): register again, as the kubelet does.
      await this.register();
      return;
    }
    this.#conditions = status.conditions ?? [];
  }
}
