// Simulated nodes: N nodes in one process whose agent has no containers. Each node is registered
// Ready with the capacity, labels and taints asked for, keeps its Lease, runs the pods bound to it
// (Running/Ready after a start delay, with statuses from the real agent's status code) and confirms
// their deletions. Simulated and real nodes share a cluster: only the nodes named here are touched.
//
// Built for thousands of nodes: one pod watch for all of them (a field selector per node only for a
// handful, or when nothing but the nodes' own identities may list pods), one heap of timers for every lease, status report and pod transition (./due-queue.ts),
// status writes only on change (the real StatusManager, one per node), and per node only its small
// state (./node.ts). Components talk to the API server only, as the real agent does.
//
// `tinykube simulate` (src/cli/simulate.ts) runs one whose nodes act as system:node:<name> (each with
// its own client certificate, asked for with the node token, ./identity.ts; or impersonated by a
// kubeconfig's user), so the Node authorizer and NodeRestriction hold them to their own objects;
// tests and benchmarks build one in-process, often with one client for all nodes (the admin's):
//   const sim = new Simulator({ client, nodes: 20 }); await sim.start(); ...; await sim.stop();
// stop() ends lease renewal and everything else at once, so the node lifecycle controller sees the
// nodes go silent (Ready=Unknown after its grace period) exactly as if their agents had died.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ApiClient } from '../../client/client.ts';
import { Informer, listWatch, transformListWatch } from '../../client/informer.ts';
import { Nodes, Pods } from '../../client/resources.ts';
import { isNotFound } from '../../client/errors.ts';
import type { Node, Pod } from '../../api/types.ts';
import { realClock, type Clock } from '../../util/clock.ts';
import { readMachineInfo, type MachineInfo } from '../node/machine.ts';
import { confirmPodDeletion, type StatusWriter } from '../status/manager.ts';
import { DueQueue } from './due-queue.ts';
import { SimulatedNode } from './node.ts';
import { SimulatedPods, type SimulatedPodStats } from './pods.ts';
import { ADDRESS_SLOTS, checkCapacity, DEFAULT_CAPACITY, SimulateConfigError, slotOfPodCIDR, type SimulatedNodeSpec } from './spec.ts';

export interface SimulatorOptions {
  client: ApiClient;
  /**
   * Node registration, status and Leases go through this client (default: `client`). Give it one of
   * its own when many pods are written: heartbeats then never queue behind a backlog of pod status
   * writes on shared sockets (each real kubelet has its own connection), which would let Leases lapse.
   */
  heartbeatClient?: ApiClient;
  /**
   * Each node's own client, as each kubelet has its own identity (system:node:<name>: a client
   * certificate, ./identity.ts, or impersonation). When given, a node registers, renews its Lease,
   * writes its pods' statuses and confirms their deletions through its own client, and its per-node
   * pod watch (see perNodeWatchMax) goes through it too; `client` reads the Nodes to pick address
   * slots and makes the shared pod watch. Called once per node at start, `registerConcurrency` at a
   * time; stop() closes the clients it returned.
   */
  nodeClient?(name: string): Promise<ApiClient>;
  /** How many nodes (named `<namePrefix><index>`, the index zero-padded), or their names. */
  nodes: number | string[];
  /** Default "sim-". */
  namePrefix?: string;
  /** Capacity (merged over DEFAULT_CAPACITY), extra labels, registration taints. */
  spec?: Partial<SimulatedNodeSpec>;
  /** Bound pod → Running (default 0; jittered). */
  startDelayMs?: number;
  /** deletionTimestamp → deletion confirmed (default 0; jittered; never beyond the grace period). */
  deleteDelayMs?: number;
  /** Delays are scaled by a random factor in [1 - jitter, 1 + jitter] (default 0.2). */
  jitter?: number;
  /** Lease renewal period (default 10 s, the kubelet's). */
  leaseRenewMs?: number;
  /** Node status is re-posted this often even when unchanged (default 5 min, the kubelet's report frequency with leases). */
  statusReportMs?: number;
  /** Nodes registered at once during start (default 32). */
  registerConcurrency?: number;
  /**
   * Up to this many nodes, each gets its own pod watch (`spec.nodeName=<node>`); above, one watch of
   * all bound pods (default 4). Infinity when `client` may not list every pod (node identities only).
   */
  perNodeWatchMax?: number;
  clock?: Clock;
  random?: () => number;
  /** Tests record pod statuses instead of writing them. */
  statusWriter?: StatusWriter;
  onError?(err: unknown, context: string): void;
}

export interface SimulatorStats extends SimulatedPodStats {
  nodes: number;
  leaseRenewals: number;
  statusWrites: number;
}

/** Keeps of a pod only what the simulator reads, so a cache of 150,000 pods stays small. */
export function slimPod(p: Pod): Pod {
  const m = p.metadata ?? {};
  const meta: NonNullable<Pod['metadata']> = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.deletionTimestamp) meta.deletionTimestamp = m.deletionTimestamp;
  if (m.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = m.deletionGracePeriodSeconds;
  const ann = m.annotations;
  if (ann) {
    const keep = Object.entries(ann).filter(([k]) => k.startsWith('simulate.tinykube.io/'));
    if (keep.length) meta.annotations = Object.fromEntries(keep);
  }
  const slimC = (c: NonNullable<Pod['spec']>['containers'][number]) => {
    const out: typeof c = { name: c.name, image: c.image };
    if (c.resources) out.resources = c.resources;
    if (c.restartPolicy) out.restartPolicy = c.restartPolicy;
    return out;
  };
  const spec = p.spec;
  const s: NonNullable<Pod['spec']> = { nodeName: spec?.nodeName, containers: (spec?.containers ?? []).map(slimC) };
  if (spec?.initContainers?.length) s.initContainers = spec.initContainers.map(slimC);
  if (spec?.restartPolicy) s.restartPolicy = spec.restartPolicy;
  if (spec?.overhead) s.overhead = spec.overhead;
  const st = p.status ?? {};
  const status: NonNullable<Pod['status']> = {};
  if (st.phase) status.phase = st.phase;
  if (st.startTime) status.startTime = st.startTime;
  if (st.podIP) status.podIP = st.podIP;
  const scheduled = st.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled) status.conditions = [scheduled];
  const cs = st.containerStatuses?.[0];
  if (cs && st.phase === 'Running') status.containerStatuses = [{ name: cs.name, image: '', imageID: '', ready: cs.ready, restartCount: cs.restartCount, state: cs.state }];
  return { metadata: meta, spec: s, status };
}

async function pool<T>(n: number, items: readonly T[], fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

/** The names of the nodes a Simulator with these options runs (SimulatorOptions.nodes and namePrefix). */
export function simulatedNodeNames(nodes: number | readonly string[], namePrefix = 'sim-'): string[] {
  if (typeof nodes !== 'number') return [...nodes];
  const width = String(Math.max(0, nodes - 1)).length;
  return Array.from({ length: nodes }, (_, i) => `${namePrefix}${String(i).padStart(width, '0')}`);
}

export class Simulator {
  readonly nodeNames: readonly string[];
  readonly #o: SimulatorOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #spec: SimulatedNodeSpec;
  readonly #queue: DueQueue;
  readonly #nodes = new Map<string, SimulatedNode>();
  readonly #nodeClients = new Map<string, ApiClient>();
  readonly #pods: SimulatedPods;
  readonly #informers: Informer<Pod>[] = [];
  readonly #inflight = new Set<Promise<void>>();
  #started = false;
  #stopped: Promise<void> | undefined;
  #stopping = false;

  constructor(o: SimulatorOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#random = o.random ?? Math.random;
    this.nodeNames = simulatedNodeNames(o.nodes, o.namePrefix);
    if (new Set(this.nodeNames).size !== this.nodeNames.length) throw new SimulateConfigError('node names must be unique');
    if (this.nodeNames.length > ADDRESS_SLOTS) throw new SimulateConfigError(`at most ${ADDRESS_SLOTS} simulated nodes`);
    const capacity = { ...DEFAULT_CAPACITY, ...(o.spec?.capacity ?? {}) };
    checkCapacity(capacity);
    this.#spec = { capacity, labels: { ...(o.spec?.labels ?? {}) }, taints: [...(o.spec?.taints ?? [])] };
    this.#queue = new DueQueue(this.#clock, (err) => this.#error(err, 'timer'));
    this.#pods = new SimulatedPods({
      clock: this.#clock,
      queue: this.#queue,
      host: (name) => {
        const n = this.#nodes.get(name);
        return n && !n.stopped ? n : undefined;
      },
      getPod: (key) => this.#podByKey(key),
      confirmDeletion: (pod) => confirmPodDeletion(this.#nodeClients.get(pod.spec?.nodeName ?? '') ?? o.client, pod),
      startDelayMs: o.startDelayMs,
      deleteDelayMs: o.deleteDelayMs,
      jitter: o.jitter,
      random: this.#random,
      onError: (err, ctx) => this.#error(err, ctx),
    });
  }

  #error(err: unknown, context: string): void {
    if (this.#stopping) return;
    this.#o.onError?.(err, context);
  }

  #podByKey(key: string): Pod | undefined {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    for (const inf of this.#informers) {
      const p = inf.store.get(ns, name);
      if (p) return p;
    }
    return undefined;
  }

  /** The simulated node objects (tests: IPs, lease renewals). */
  node(name: string): SimulatedNode | undefined {
    return this.#nodes.get(name);
  }

  stats(): SimulatorStats {
    let leaseRenewals = 0;
    let statusWrites = 0;
    for (const n of this.#nodes.values()) {
      leaseRenewals += n.lease.renewals;
      statusWrites += n.statusWrites;
    }
    return { nodes: this.#nodes.size, leaseRenewals, statusWrites, ...this.#pods.stats() };
  }

  /** Resolves when no pod status write is queued or running on any node (tests, benchmarks). */
  async idle(): Promise<void> {
    await Promise.all([...this.#nodes.values()].map((n) => n.status.idle()));
  }

  /**
   * Registers every node (Ready), starts their leases, then watches pods; resolves once the pods
   * bound to them are listed. Fails if a node cannot be registered.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const o = this.#o;
    const machine = this.#machineInfo();
    const slots = await this.#assignSlots();
    const node = (name: string, own?: ApiClient) =>
      new SimulatedNode({ client: own ?? o.heartbeatClient ?? o.client, podClient: own ?? o.client, clock: this.#clock, name, slot: slots.get(name)!, spec: this.#spec, machine, statusWriter: o.statusWriter, onError: (err, ctx) => this.#error(err, ctx) });
    if (!o.nodeClient) for (const name of this.nodeNames) this.#nodes.set(name, node(name));
    await pool(o.registerConcurrency ?? 32, this.nodeNames, async (name) => {
      if (this.#stopping) return;
      if (o.nodeClient) {
        const own = await o.nodeClient(name);
        this.#nodeClients.set(name, own);
        this.#nodes.set(name, node(name, own));
      }
      const n = this.#nodes.get(name)!;
      await n.register();
      this.#loops(n);
    });
    const perNode = this.#nodes.size <= (o.perNodeWatchMax ?? 4);
    const watches: [ApiClient, string][] = perNode ? this.nodeNames.map((n) => [this.#nodeClients.get(n) ?? o.client, `spec.nodeName=${n}`]) : [[o.client, 'spec.nodeName!=']];
    for (const [watchClient, fieldSelector] of watches) {
      const inf = new Informer<Pod>(transformListWatch(listWatch<Pod>(watchClient, Pods, undefined, { fieldSelector }), slimPod), { clock: this.#clock, onError: (err) => this.#error(err, 'pod watch') });
      inf.addEventHandler({
        onAdd: (p) => this.#pods.update(p),
        onUpdate: (_old, p) => this.#pods.update(p),
        onDelete: (p) => this.#pods.remove(p),
      });
      this.#informers.push(inf);
      inf.start();
    }
    await Promise.all(this.#informers.map((i) => i.waitForSync()));
  }

  #machineInfo(): MachineInfo {
    const m = readMachineInfo(os.tmpdir());
    return { ...m, osImage: 'tinykube simulated node', bootID: randomUUID() };
  }

  /** Address slots: a node that exists keeps the one its podCIDR names; new ones take the lowest free. */
  async #assignSlots(): Promise<Map<string, number>> {
    const used = new Set<number>();
    const out = new Map<string, number>();
    const wanted = new Set(this.nodeNames);
    let cont: string | undefined;
    do {
      const page = await this.#o.client.list<Node>(Nodes, undefined, { limit: 1000, continue: cont });
      for (const n of page.items) {
        const slot = slotOfPodCIDR(n.spec?.podCIDR ?? '');
        if (slot === undefined) continue;
        used.add(slot);
        if (wanted.has(n.metadata?.name ?? '')) out.set(n.metadata!.name!, slot);
      }
      cont = page.metadata.continue || undefined;
    } while (cont);
    let next = 0;
    for (const name of this.nodeNames) {
      if (out.has(name)) continue;
      while (used.has(next)) next++;
      if (next >= ADDRESS_SLOTS) throw new SimulateConfigError(`no simulated-node address slot left (${ADDRESS_SLOTS} in 100.64.0.0/10)`);
      used.add(next);
      out.set(name, next++);
    }
    return out;
  }

  #track(p: Promise<void>): void {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  /** Renews now, then again one period (jittered ±5%) after this renewal began. */
  #renew(n: SimulatedNode, periodMs: number, gen = n.generation): void {
    if (n.generation !== gen) return;
    this.#queue.after(periodMs * (0.95 + 0.1 * this.#random()), () => this.#renew(n, periodMs, gen));
    if (n.busy) return; // the previous write is still out: skip a beat rather than pile up
    n.busy = true;
    this.#track(n.lease.renew().catch((err: unknown) => this.#error(err, `lease of node ${n.name}`)).finally(() => {
      n.busy = false;
    }));
  }

  #report(n: SimulatedNode, periodMs: number, gen = n.generation): void {
    if (n.generation !== gen) return;
    this.#queue.after(periodMs, () => this.#report(n, periodMs, gen));
    if (n.busy) return;
    n.busy = true;
    this.#track(n.postStatus().catch((err: unknown) => this.#error(err, `status of node ${n.name}`)).finally(() => {
      n.busy = false;
    }));
  }

  #loops(n: SimulatedNode): void {
    const renewMs = this.#o.leaseRenewMs ?? 10_000;
    const reportMs = this.#o.statusReportMs ?? 300_000;
    // First lease now; then every period, each node at its own phase so renewals spread evenly.
    this.#renew(n, renewMs);
    const gen = n.generation;
    this.#queue.after(reportMs * (0.5 + this.#random()), () => this.#report(n, reportMs, gen));
  }

  #named(name: string): SimulatedNode {
    const n = this.#nodes.get(name);
    if (!n) throw new SimulateConfigError(`${name} is not a node of this simulator`);
    return n;
  }

  /**
   * One node's agent dies: its Lease and status stop, its pods are no longer started, ended or
   * confirmed deleted. The node lifecycle controller then marks it Unknown and evicts its pods.
   */
  async stopNode(name: string): Promise<void> {
    const n = this.#named(name);
    if (n.stopped) return;
    n.stop();
    this.#pods.forgetNode(name);
    await Promise.all([...this.#inflight]);
  }

  /** The agent comes back: Ready again, Lease renewed, its pods adopted as the API shows them. */
  async startNode(name: string): Promise<void> {
    const n = this.#named(name);
    if (!n.stopped) return;
    n.restart();
    await n.register();
    this.#loops(n);
    for (const inf of this.#informers) {
      for (const p of inf.store.list()) if (p.spec?.nodeName === name) this.#pods.update(p);
    }
  }

  /**
   * Stops everything: no more leases, statuses or pod transitions (queued status writes are
   * dropped, as when an agent dies). With deleteNodes, the Node objects are deleted too (their
   * pods are then removed by pod GC).
   */
  stop(opts: { deleteNodes?: boolean } = {}): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      this.#queue.stop();
      for (const n of this.#nodes.values()) n.stop();
      await Promise.all(this.#informers.map((i) => i.stop()));
      await Promise.all([...this.#inflight]);
      // Done with the nodes' own connections (a node identity may not delete its Node: `client` does).
      for (const c of this.#nodeClients.values()) c.close();
      if (opts.deleteNodes) {
        await pool(this.#o.registerConcurrency ?? 32, [...this.#nodes.keys()], async (name) => {
          try {
            await this.#o.client.delete(Nodes, undefined, name);
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
        });
      }
    })();
    return this.#stopped;
  }
}
