// The node lifecycle controller: node health, node taints, taint-based eviction and pod CIDRs.
//
// Two loops on work queues:
//  - nodes (key: node name), woken by Node and node Lease events and by a timer at the moment the node's
//    grace period would run out: a node not heard from for `nodeMonitorGracePeriodMs` gets all its agent
//    conditions Unknown ("Kubelet stopped posting node status."); then its controller-owned taints are
//    brought in line with its conditions (./taints.ts); a node without spec.podCIDR gets the next free
//    subnet of the cluster CIDR (./cidr.ts).
//  - pods (key: namespace/name), woken by pod events, by changes of their node's NoExecute taints and by
//    timers at their toleration deadline: pods on an Unknown node get Ready=False; pods whose NoExecute
//    taints are not (or no longer) tolerated are deleted (./eviction.ts: the toleration period starts
//    when this controller first sees the pod under the taint, as Kubernetes' taint eviction controller),
//    with the default grace period as Kubernetes does, so they show Terminating until their node
//    confirms or goes. The periods live in memory: a restarted controller starts them afresh.
//
// Every write carries the resourceVersion the decision was made on (a merge patch with
// metadata.resourceVersion is a precondition), so a decision on a stale cache is a 409 and is retried
// on fresh data. Built with its dependencies; start()/stop() as every controller.

import type { Lease, Node, Pod } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { keyOf } from '../../client/cache.ts';
import type { EventHandler } from '../../client/informer.ts';
import { Nodes, Pods } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock, rfc3339 } from '../../util/clock.ts';
import type { EventSink } from '../events.ts';
import { NODE_LEASE_NAMESPACE, POD_BY_NODE } from '../informers.ts';
import type { SharedInformers } from '../informers.ts';
import { WorkQueue, runWorkers } from '../workqueue.ts';
import { CidrAllocator } from './cidr.ts';
import { EvictionSchedule } from './eviction.ts';
import { NodeHealthTracker, conditionsUnknown, readyCondition } from './health.ts';
import { desiredTaints, reconcileTaints } from './taints.ts';

export interface NodeLifecycleOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  events?: EventSink;
  /** How long a node may go without a Lease renewal or status heartbeat before it is Unknown (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** Range node pod CIDRs are taken from (default 10.244.0.0/16). */
  clusterCIDR?: string;
  /** Prefix length of each node's subnet (default 24). */
  nodeCIDRMaskSize?: number;
  /** Allocate spec.podCIDR for nodes without one (default true). */
  allocateNodeCIDRs?: boolean;
  /**
   * How long a node must have been seen without spec.podCIDR before we allocate one (default 0: at
   * once, as kube's range allocator). Registering agents wait for our assignment (kubelet/node/
   * node-status.ts) and pick a range themselves only when none comes, so the one allocator that sees
   * every claim decides and no two nodes share a range.
   */
  podCIDRAllocationDelayMs?: number;
  workers?: number;
  onError?: (err: unknown) => void;
}

const COMPONENT = 'node-controller';

export class NodeLifecycleController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #events: EventSink | undefined;
  readonly #grace: number;
  readonly #allocate: boolean;
  readonly #cidrDelay: number;
  readonly #workers: number;
  readonly #onError: (err: unknown) => void;
  readonly #health = new NodeHealthTracker();
  readonly #cidrs: CidrAllocator;
  readonly #nodeQueue: WorkQueue<string>;
  readonly #podQueue: WorkQueue<string>;
  readonly #evictions = new EvictionSchedule();
  /** node → when first seen without a podCIDR. */
  readonly #noCidrSince = new Map<string, number>();
  /** Nodes told that the cluster CIDR is full. */
  readonly #cidrExhausted = new Set<string>();
  #unsubscribe: Array<() => void> = [];
  #loops: Promise<void>[] = [];

  constructor(o: NodeLifecycleOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#events = o.events;
    this.#grace = o.nodeMonitorGracePeriodMs ?? 40_000;
    this.#allocate = o.allocateNodeCIDRs ?? true;
    this.#cidrDelay = o.podCIDRAllocationDelayMs ?? 0;
    this.#workers = o.workers ?? 2;
    this.#onError = o.onError ?? ((err) => console.error(`tinykube: node lifecycle: ${(err as Error).message}`));
    this.#cidrs = new CidrAllocator(o.clusterCIDR ?? '10.244.0.0/16', o.nodeCIDRMaskSize ?? 24);
    this.#nodeQueue = new WorkQueue<string>({ clock: this.#clock });
    this.#podQueue = new WorkQueue<string>({ clock: this.#clock });
  }

  start(): void {
    if (this.#loops.length) return;
    const nodes = this.#informers.nodes();
    const leases = this.#informers.nodeLeases();
    const pods = this.#informers.pods();
    const nodeHandler: EventHandler<Node> = {
      onAdd: (n) => this.#nodeChanged(undefined, n),
      onUpdate: (old, n) => this.#nodeChanged(old, n),
      onDelete: (n) => this.#nodeDeleted(n),
    };
    const leaseHandler: EventHandler<Lease> = {
      onAdd: (l) => this.#nodeQueue.add(l.metadata?.name ?? ''),
      onUpdate: (_o, l) => this.#nodeQueue.add(l.metadata?.name ?? ''),
      onDelete: (l) => this.#nodeQueue.add(l.metadata?.name ?? ''),
    };
    const podHandler: EventHandler<Pod> = {
      onAdd: (p) => this.#podChanged(p),
      onUpdate: (_o, p) => this.#podChanged(p),
      onDelete: (p) => this.#podDeleted(p),
    };
    this.#unsubscribe = [nodes.addEventHandler(nodeHandler), leases.addEventHandler(leaseHandler), pods.addEventHandler(podHandler)];
    this.#informers.start();
    // A conflict means our cache was behind: the key is retried on fresh data, nothing to report.
    const report = (err: unknown): void => {
      if (!isConflict(err)) this.#onError(err);
    };
    this.#loops = [
      runWorkers(this.#nodeQueue, this.#workers, (k) => this.syncNode(k), report),
      runWorkers(this.#podQueue, this.#workers, (k) => this.syncPod(k), report),
    ];
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#nodeQueue.shutDown();
    this.#podQueue.shutDown();
    await Promise.all(this.#loops);
    this.#loops = [];
    this.#evictions.clear();
  }

  /** True when both queues are empty and nothing is being processed (timers may be pending). */
  get busy(): boolean {
    return this.#nodeQueue.length > 0 || this.#podQueue.length > 0;
  }

  #nodeChanged(old: Node | undefined, node: Node): void {
    const name = node.metadata?.name ?? '';
    const cidrs = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
    this.#cidrs.setNode(name, cidrs);
    if (cidrs.length) this.#noCidrSince.delete(name);
    this.#nodeQueue.add(name);
    // Pods need a look when the node's NoExecute taints change, or its readiness does (Ready=False marking).
    const noExec = (n: Node | undefined): string => JSON.stringify((n?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute'));
    if (old === undefined || noExec(old) !== noExec(node) || readyCondition(old)?.status !== readyCondition(node)?.status) {
      for (const p of this.#informers.pods().store.byIndex(POD_BY_NODE, name)) this.#podQueue.add(keyOf(p));
    }
  }

  #nodeDeleted(node: Node): void {
    const name = node.metadata?.name ?? '';
    this.#cidrs.removeNode(name);
    this.#noCidrSince.delete(name);
    this.#cidrExhausted.delete(name);
    this.#nodeQueue.add(name);
  }

  #podChanged(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || pod.metadata?.deletionTimestamp) return;
    const node = this.#informers.nodes().store.get(undefined, nodeName);
    if (!node) return;
    const unknown = readyCondition(node)?.status === 'Unknown';
    if (unknown || (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute')) this.#podQueue.add(keyOf(pod));
  }

  #podDeleted(pod: Pod): void {
    if (this.#evictions.forget(pod.metadata?.uid ?? '')) this.#cancelEvent(pod);
  }

  #cancelEvent(pod: Pod): void {
    const ns = pod.metadata?.namespace;
    const name = pod.metadata?.name ?? '';
    this.#events?.event({ kind: 'Pod', namespace: ns, name, uid: pod.metadata?.uid }, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${ns}/${name}`);
  }

  /** One pass over one node (exported for tests driving the controller by hand). */
  async syncNode(name: string): Promise<void> {
    if (!name) return;
    let node = this.#informers.nodes().store.get(undefined, name);
    if (!node) {
      this.#health.forget(name);
      return;
    }
    const lease = this.#informers.nodeLeases().store.get(NODE_LEASE_NAMESPACE, name);
    const now = this.#clock.now();
    // Heard from as the informer shows it (what the next passes compare with).
    const heardAt = this.#health.observe(node, lease, now);
    // Then the pod range: a joining node's agent waits for it before anything else (in kube the node
    // IPAM controller allocates it on its own, not behind this controller's taint write).
    if (this.#allocate && !node.spec?.podCIDR && !node.spec?.podCIDRs?.length) node = (await this.#allocateCidr(node, now)) ?? node;
    const deadline = heardAt + this.#grace;
    if (now >= deadline) {
      const conds = conditionsUnknown(node, rfc3339(now));
      if (conds) {
        node = await this.#patchNode(name, { metadata: { resourceVersion: node.metadata?.resourceVersion }, status: { conditions: conds } }, 'status');
        if (!node) return;
        this.#events?.event({ kind: 'Node', name, uid: node.metadata?.uid }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
    } else {
      // Absolute: the clock may have moved while the pod range was written.
      this.#nodeQueue.addAt(name, deadline);
    }

    const taints = reconcileTaints(node.spec?.taints, desiredTaints(node), rfc3339(now));
    if (taints) {
      node = await this.#patchNode(name, { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: taints.length ? taints : null } });
      if (!node) return;
    }
  }

  /** Assigns the node a pod range; returns the Node as written, or undefined when none was (yet). */
  async #allocateCidr(node: Node, now: number): Promise<Node | undefined> {
    const name = node.metadata?.name ?? '';
    const since = this.#noCidrSince.get(name) ?? now;
    this.#noCidrSince.set(name, since);
    if (now - since < this.#cidrDelay) {
      // Absolute: `now` was read at the start of the sync, and the clock may have moved since.
      this.#nodeQueue.addAt(name, since + this.#cidrDelay);
      return;
    }
    const cidr = this.#cidrs.next(name);
    if (!cidr) {
      // Once per node: it is looked at again on every heartbeat, and a range can stay full for long.
      if (!this.#cidrExhausted.has(name)) {
        this.#cidrExhausted.add(name);
        this.#events?.event({ kind: 'Node', name, uid: node.metadata?.uid }, 'Warning', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      }
      return;
    }
    this.#cidrExhausted.delete(name);
    try {
      const written = await this.#patchNode(name, { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.#events?.event({ kind: 'Node', name, uid: node.metadata?.uid }, 'Normal', 'CIDRAssignmentSucceeded', `Node ${name} got podCIDR ${cidr}`);
      return written;
    } catch (err) {
      // Give the subnet back; the node's next event re-reads what it holds now.
      this.#cidrs.removeNode(name);
      throw err;
    }
  }

  /** Merge-patches a node; undefined when it is gone. Conflicts propagate (the key is retried). */
  async #patchNode(name: string, patch: unknown, subresource?: string): Promise<Node | undefined> {
    try {
      return await this.#client.patch<Node>(Nodes, undefined, name, 'merge', patch, subresource ? { subresource } : {});
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One pass over one pod: Ready=False on an Unknown node, then taint-based eviction. */
  async syncPod(key: string): Promise<void> {
    const pod = this.#informers.pods().store.getByKey(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata?.deletionTimestamp) return;
    const node = this.#informers.nodes().store.get(undefined, nodeName);
    if (!node) return;
    const now = this.#clock.now();
    const ns = pod.metadata?.namespace;
    const name = pod.metadata?.name ?? '';

    const podReady = pod.status?.conditions?.find((c) => c.type === 'Ready');
    if (readyCondition(node)?.status === 'Unknown' && podReady && podReady.status !== 'False') {
      // As Kubernetes' MarkPodsNotReady: only status and transition time change.
      try {
        await this.#client.patch(Pods, ns, name, 'strategic', {
          status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: rfc3339(now) }] },
        }, { subresource: 'status' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }

    const decision = this.#evictions.decide(pod, nodeName, node.spec?.taints, now);
    if (decision.action === 'wait') {
      // Absolute: `now` was read before the Ready=False patch above.
      this.#podQueue.addAt(key, decision.at);
      return;
    }
    if (decision.cancelled) this.#cancelEvent(pod);
    if (decision.action !== 'evict') return;
    this.#events?.event({ kind: 'Pod', namespace: ns, name, uid: pod.metadata?.uid }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ns}/${name}`);
    try {
      await this.#client.patch(Pods, ns, name, 'strategic', {
        status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: rfc3339(now) }] },
      }, { subresource: 'status' });
    } catch (err) {
      // The condition is informative; the deletion is what matters.
      if (!isNotFound(err) && !isConflict(err)) this.#onError(err);
    }
    try {
      await this.#client.delete(Pods, ns, name, { preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      // Gone already, or a new pod of the same name (uid precondition): nothing of ours to evict.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    this.#evictions.evicted(pod, nodeName, now);
  }

  /** When the pod's toleration period started, if one runs (for tests). */
  evictionPeriodStart(uid: string): number | undefined {
    return this.#evictions.since(uid);
  }
}

export const NODE_CONTROLLER_COMPONENT = COMPONENT;
