// The Node object of this agent: registration (create, or adopt the existing one), its podCIDR (the
// control plane's if set, else picked here: see ../network/cni.ts), and the status loop that writes
// capacity, allocatable, addresses, nodeInfo, daemon endpoint, images and the conditions (Ready,
// MemoryPressure, DiskPressure, PIDPressure) every `periodMs` and whenever readiness changes. Ready is
// True only when the runtime answers with RuntimeReady and NetworkReady (CNI config written and
// loaded). Also the node Lease in kube-node-lease, renewed every 10 s (./lease.ts).
//
// One loop; started and stopped by the agent. `kick()` may be called from anywhere to post soon.
import type { ApiClient } from '../../client/client.ts';
import { isAlreadyExists, isApiError, isConflict, isNotFound } from '../../client/errors.ts';
import { Nodes } from '../../client/resources.ts';
import type { Node, NodeCondition, NodeStatus } from '../../api/types.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { rfc3339 } from '../../util/clock.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';
import { pickPodCidr } from '../network/cni.ts';
import { KUBELET_VERSION, MAX_PODS, readPressure, type MachineInfo, type Pressure } from './machine.ts';

export interface NodeStatusOptions {
  client: ApiClient;
  runtime: ContainerRuntime;
  clock: Clock;
  nodeName: string;
  nodeIP: string;
  machine: MachineInfo;
  dataDir: string;
  /** The agent's HTTPS port for logs/exec/port-forward (0 until the streaming server runs). */
  kubeletPort(): number;
  /** Extra readiness gate beyond the runtime's: the CNI config has been written. */
  networkConfigured(): boolean;
  periodMs?: number;
  onError?(err: unknown): void;
  /** Pressure signals (tests inject them). */
  pressure?(): Pressure;
  /** Annotations the agent keeps on its Node (e.g. its local-path storage root). */
  annotations?: Readonly<Record<string, string>>;
  /** How long registration waits for the control plane to assign spec.podCIDR before picking one (default 5 s). */
  podCIDRWaitMs?: number;
  /**
   * This Node as a watch keeps it (the agent's node informer): registration takes the podCIDR the
   * moment it is assigned instead of at its next poll, and polls only as a backstop.
   */
  watched?: { get(): Node | undefined; onChange(fn: () => void): () => void };
}

function quantityBytes(n: number): string {
  return `${Math.floor(n / 1024)}Ki`;
}

/** The well-known labels the kubelet puts on its Node. */
export function nodeLabels(nodeName: string, architecture: string): Record<string, string> {
  return { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': architecture, 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': architecture };
}

/** cpu, memory, pods and ephemeral-storage of a machine, as Node capacity quantities. */
export function machineCapacity(m: MachineInfo, maxPods = MAX_PODS): Record<string, string> {
  return { cpu: String(m.cpus), memory: quantityBytes(m.memoryBytes), pods: String(maxPods), 'ephemeral-storage': quantityBytes(m.storageBytes) };
}

/** Everything a node status is computed from; gathered by the caller (runtime, machine, clock). */
export interface NodeStatusInput {
  nodeName: string;
  nodeIP: string;
  machine: MachineInfo;
  /** Capacity quantities; allocatable is the same (no system reservations). */
  capacity: Record<string, string>;
  /** The Ready condition's verdict and message (runtime and network readiness). */
  ready: { ok: boolean; message: string };
  pressure: Pressure;
  /** The conditions posted last time: transition times are kept for unchanged statuses. */
  previous: readonly NodeCondition[];
  /**
   * Conditions other components of the node own, posted first (NetworkUnavailable from the pod
   * network, as Calico and Cilium set it; kube's describe lists it first).
   */
  extra?: readonly OwnedCondition[];
  runtimeVersion: string;
  images: NonNullable<NodeStatus['images']>;
  kubeletPort: number;
  now: number;
}

function condition(previous: readonly NodeCondition[], type: string, status: boolean, reason: string, message: string, now: string): NodeCondition {
  const s = status ? 'True' : 'False';
  const prev = previous.find((c) => c.type === type);
  return { type, status: s, lastHeartbeatTime: now, lastTransitionTime: prev && prev.status === s ? prev.lastTransitionTime : now, reason, message };
}

/** A node condition another component of the agent reports (status true = the condition holds). */
export interface OwnedCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** The kubelet's four node conditions with its reasons and messages. */
export function nodeConditions(previous: readonly NodeCondition[], ready: { ok: boolean; message: string }, p: Pressure, nowMs: number): NodeCondition[] {
  const now = rfc3339(nowMs);
  return [
    condition(previous, 'MemoryPressure', p.memory, p.memory ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory', p.memory ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available', now),
    condition(previous, 'DiskPressure', p.disk, p.disk ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure', p.disk ? 'kubelet has disk pressure' : 'kubelet has no disk pressure', now),
    condition(previous, 'PIDPressure', p.pid, p.pid ? 'KubeletHasInsufficientPID' : 'KubeletHasSufficientPID', p.pid ? 'kubelet has insufficient PID available' : 'kubelet has sufficient PID available', now),
    condition(previous, 'Ready', ready.ok, ready.ok ? 'KubeletReady' : 'KubeletNotReady', ready.message, now),
  ];
}

/**
 * The NodeStatus the agent posts (capacity, allocatable, conditions, addresses, daemon endpoint,
 * nodeInfo, images). Pure: shared by the real agent and simulated nodes (../simulated).
 */
export function buildNodeStatus(i: NodeStatusInput): NodeStatus {
  const m = i.machine;
  return {
    capacity: { ...i.capacity },
    allocatable: { ...i.capacity },
    conditions: [...(i.extra ?? []).map((c) => condition(i.previous, c.type, c.status, c.reason, c.message, rfc3339(i.now))), ...nodeConditions(i.previous, i.ready, i.pressure, i.now)],
    addresses: [{ type: 'InternalIP', address: i.nodeIP }, { type: 'Hostname', address: i.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: i.kubeletPort } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.systemUUID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: i.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: m.architecture,
    },
    images: i.images,
  };
}

/** How often a node that is not Ready yet asks its runtime (the kubelet's fast status loop: 100 ms). */
const NOT_READY_CHECK_MS = 100;
/** How often a node that is not Ready posts its status meanwhile. */
const NOT_READY_POST_MS = 1000;

/** The runtime's readiness as the Ready condition says it. */
interface Readiness {
  ok: boolean;
  message: string;
}

export class NodeStatusManager {
  readonly #o: NodeStatusOptions;
  #timer: Timer | undefined;
  #stopped = true;
  #posting: Promise<void> | undefined;
  #conditions: NodeCondition[] = [];
  readonly #extra = new Map<string, OwnedCondition>();
  #ready = false;
  /** Clock time of the last status post attempt. */
  #postedAt = Number.NEGATIVE_INFINITY;
  #kicked = false;
  readonly #firstReady = Promise.withResolvers<void>();
  podCIDR = '';

  constructor(o: NodeStatusOptions) {
    this.#o = o;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Settles once this agent has posted its Node Ready (the first time). */
  get firstReady(): Promise<void> {
    return this.#firstReady.promise;
  }

  #labels(): Record<string, string> {
    return nodeLabels(this.#o.nodeName, this.#o.machine.architecture);
  }

  /** Creates or adopts the Node and settles its podCIDR; returns the podCIDR. */
  async register(): Promise<string> {
    const { client, nodeName, annotations } = this.#o;
    let node: Node;
    try {
      node = await client.create<Node>(Nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: this.#labels(), ...(annotations ? { annotations: { ...annotations } } : {}) }, spec: {} });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      node = await client.get<Node>(Nodes, undefined, nodeName);
      const labels = node.metadata?.labels ?? {};
      const have = node.metadata?.annotations ?? {};
      const labelsOff = Object.entries(this.#labels()).some(([k, v]) => labels[k] !== v);
      const annotationsOff = Object.entries(annotations ?? {}).some(([k, v]) => have[k] !== v);
      if (labelsOff || annotationsOff) {
        node = await client.patch<Node>(Nodes, undefined, nodeName, 'merge', { metadata: { labels: this.#labels(), ...(annotations ? { annotations: { ...annotations } } : {}) } });
      }
    }
    let cidr = node.spec?.podCIDR ?? '';
    // As the kubelet, wait for the control plane's node IPAM (the node lifecycle controller) to assign
    // one: it is the only allocator that sees every claim, so no two nodes get the same range. Two agents
    // picking for themselves at the same moment can (two names hashing alike, found by the e2e test of
    // `up --nodes 3`). Only a control plane without node IPAM leaves the agent to pick after the wait.
    const waitUntil = Date.now() + (this.#o.podCIDRWaitMs ?? 5000);
    const watched = this.#o.watched;
    for (let delay = 20; !cidr && Date.now() < waitUntil; delay = Math.min(delay * 2, watched ? 1000 : 400)) {
      await this.#podCIDRSeenOr(Math.min(delay, Math.max(0, waitUntil - Date.now())));
      cidr = watched?.get()?.spec?.podCIDR ?? '';
      if (cidr) break;
      node = await client.get<Node>(Nodes, undefined, nodeName);
      cidr = node.spec?.podCIDR ?? '';
    }
    // Picking ourselves: the field is set-once, so claim one with the Node's resourceVersion as a
    // precondition, and if the controller won the race after all, take what it assigned.
    for (let attempt = 0; !cidr && attempt < 5; attempt++) {
      const others = await client.list<Node>(Nodes);
      const taken = new Set(others.items.filter((n) => n.metadata?.name !== nodeName).map((n) => n.spec?.podCIDR ?? '').filter(Boolean));
      const pick = pickPodCidr(nodeName, taken);
      try {
        await client.patch<Node>(Nodes, undefined, nodeName, 'merge', { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { podCIDR: pick, podCIDRs: [pick] } });
        cidr = pick;
      } catch (err) {
        if (!isConflict(err) && !(isApiError(err) && err.code === 422)) throw err;
        node = await client.get<Node>(Nodes, undefined, nodeName);
        cidr = node.spec?.podCIDR ?? '';
      }
    }
    if (!cidr) throw new Error(`node ${nodeName}: could not settle a pod CIDR`);
    this.podCIDR = cidr;
    return cidr;
  }

  /** Resolves after `ms`, or sooner once the watched Node has a podCIDR. */
  #podCIDRSeenOr(ms: number): Promise<void> {
    const watched = this.#o.watched;
    return new Promise<void>((resolve) => {
      let settled = false;
      let off: (() => void) | undefined;
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off?.();
        resolve();
      };
      const timer = setTimeout(done, ms);
      // (The handler may run before onChange returns, when the informer replays what it holds.)
      off = watched?.onChange(() => {
        if (watched.get()?.spec?.podCIDR) done();
      });
      if (settled) off?.();
      else if (watched?.get()?.spec?.podCIDR) done();
    });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#posting;
  }

  /** Posts the status soon (readiness may have changed). */
  /** Sets a condition another component owns, and posts it soon if it changed. */
  setCondition(c: OwnedCondition): void {
    const prev = this.#extra.get(c.type);
    this.#extra.set(c.type, { ...c });
    if (!prev || prev.status !== c.status || prev.reason !== c.reason || prev.message !== c.message) this.kick();
  }

  kick(): void {
    if (this.#stopped) return;
    this.#kicked = true;
    this.#timer?.cancel();
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#posting = this.#tick()
        .catch((err: unknown) => this.#o.onError?.(err))
        .finally(() => this.#schedule(this.#ready ? (this.#o.periodMs ?? 10_000) : NOT_READY_CHECK_MS));
    }, ms);
  }

  /**
   * Until the node is Ready, readiness is what its first pods (and `tinykube up`) wait for: as the
   * kubelet's fastStatusUpdateOnce, the runtime is asked every 100 ms and the status is posted the
   * moment it would turn Ready, and otherwise once a second (a node whose runtime stays down posts
   * its NotReady reason at that pace, not ten times a second).
   */
  async #tick(): Promise<void> {
    const sincePost = this.#o.clock.now() - this.#postedAt;
    let readiness: Readiness | undefined;
    if (!this.#ready && !this.#kicked && sincePost < NOT_READY_POST_MS) {
      readiness = await this.#runtimeReadiness();
      if (!readiness.ok) return;
      // What was just asked is posted: asking the runtime again would add a round trip to containerd
      // (30-90 ms while `up --nodes` starts) between the runtime turning ready and the node saying so.
    }
    this.#kicked = false;
    await this.postStatus(readiness);
  }

  async #runtimeReadiness(): Promise<Readiness> {
    if (!this.#o.networkConfigured()) return { ok: false, message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni config not written' };
    try {
      const conds = await this.#o.runtime.status();
      const bad = conds.filter((c) => (c.type === 'RuntimeReady' || c.type === 'NetworkReady') && !c.status);
      if (bad.length === 0) return { ok: true, message: 'kubelet is posting ready status' };
      const b = bad[0];
      const what = b.type === 'NetworkReady' ? 'container runtime network not ready' : 'container runtime not ready';
      return { ok: false, message: `${what}: ${b.type}=false reason:${b.reason} message:${b.message}` };
    } catch (err) {
      return { ok: false, message: `container runtime is down: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /**
   * Computes and writes the node status once; `readiness`, when given, is the runtime's answer just
   * asked for. The runtime's three answers are asked for at once.
   */
  async postStatus(readiness?: Readiness): Promise<void> {
    const o = this.#o;
    const [r, details] = await Promise.all([
      readiness ?? this.#runtimeReadiness(),
      Promise.all([o.runtime.version(), o.runtime.listImages()]).catch(() => undefined),
    ]);
    let runtimeVersion = 'containerd://unknown';
    let images: NonNullable<NodeStatus['images']> = [];
    // Without them, the Ready condition already says the runtime is down.
    if (details) {
      const [v, list] = details;
      runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
      images = list.filter((i) => i.repoTags.length > 0 || i.repoDigests.length > 0).map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: i.size })).slice(0, 50);
    }
    const status = buildNodeStatus({
      nodeName: o.nodeName,
      nodeIP: o.nodeIP,
      machine: o.machine,
      capacity: machineCapacity(o.machine),
      ready: r,
      pressure: o.pressure?.() ?? readPressure(o.dataDir),
      previous: this.#conditions,
      extra: [...this.#extra.values()],
      runtimeVersion,
      images,
      kubeletPort: o.kubeletPort(),
      now: o.clock.now(),
    });
    this.#conditions = status.conditions ?? [];
    this.#postedAt = o.clock.now();
    try {
      await o.client.patch(Nodes, undefined, o.nodeName, 'merge', { status }, { subresource: 'status' });
    } catch (err) {
      // The Node was deleted under us (kubectl delete node): register again, as the kubelet does.
      if (!isNotFound(err)) throw err;
      await this.register();
      await o.client.patch(Nodes, undefined, o.nodeName, 'merge', { status }, { subresource: 'status' });
    }
    this.#ready = r.ok;
    if (r.ok) this.#firstReady.resolve();
  }
}
