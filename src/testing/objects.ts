// The one builder of Kubernetes objects for tests (style.md rule 7):
//
//   makePod('web').withRequests({ cpu: '500m' }).onNode('n1').build()
//   makeNode('n1').allocatable({ cpu: '2', memory: '4Gi', pods: '110' }).ready('True').build()
//
// A pod starts as the API server would hold it just after creation, minus defaulting: namespace
// `default`, a unique uid, phase Pending, and one container `c` (busybox) unless containers are
// added. Every method fills what a test needs to say and nothing else, so a test reads as the case it
// checks. Times are fixed (2026-01-01) unless given: tests compare them, and wall-clock time would
// make them flaky. build() returns a copy, so one builder can yield variants.
//
// Test-only: imported by *.test.ts files and testing helpers (the dependency-direction test checks it).

import type { Container, ContainerState, ContainerStatus, Node, NodeCondition, Pod, PodAffinityTerm, PodCondition, Taint, Toleration, TopologySpreadConstraint, WeightedPodAffinityTerm } from '../api/types.ts';

/** The time every builder uses when a test does not give one. */
export const BUILDER_TIME = '2026-01-01T00:00:00Z';

/** Per-container status, for pods as a node reported them. */
export interface StatusOpts {
  ready?: boolean;
  started?: boolean;
  restarts?: number;
  containerID?: string;
  /** When the previous run ended (lastState.terminated.finishedAt, exit code 1, reason Error). */
  lastFinishedAt?: string;
  /** The previous state, whole (wins over lastFinishedAt). */
  lastState?: ContainerState;
}

type ContainerArg = string | Partial<Container>;
type NodeSelectorExpr = { key: string; operator: string; values?: string[] };

let uidSeq = 0;

function containerStatus(c: Container, state: ContainerState, o: StatusOpts): ContainerStatus {
  const s: ContainerStatus = { name: c.name, image: c.image ?? '', imageID: '', ready: o.ready ?? false, restartCount: o.restarts ?? 0, state };
  if (o.started !== undefined) s.started = o.started;
  if (o.containerID !== undefined) s.containerID = o.containerID;
  if (o.lastFinishedAt !== undefined) s.lastState = { terminated: { exitCode: 1, reason: 'Error', finishedAt: o.lastFinishedAt } };
  if (o.lastState !== undefined) s.lastState = o.lastState;
  return s;
}

export class PodBuilder {
  readonly #pod: Pod;
  /** Whether containers were given; until then build() adds the default container `c`. */
  #ownContainers = false;
  #appDefaults: Partial<Container> = {};
  #initDefaults: Partial<Container> = {};

  constructor(name: string, namespace = 'default') {
    this.#pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, uid: `uid-${name}-${++uidSeq}` },
      spec: { containers: [] },
      status: { phase: 'Pending' },
    };
  }

  get #meta() {
    return this.#pod.metadata!;
  }
  get #spec() {
    return this.#pod.spec!;
  }
  get #status() {
    return this.#pod.status!;
  }

  // --- metadata ---------------------------------------------------------------------------------

  namespace(ns: string): this {
    this.#meta.namespace = ns;
    return this;
  }
  labels(l: Record<string, string>): this {
    this.#meta.labels = { ...this.#meta.labels, ...l };
    return this;
  }
  annotations(a: Record<string, string>): this {
    this.#meta.annotations = { ...this.#meta.annotations, ...a };
    return this;
  }
  uid(uid: string): this {
    this.#meta.uid = uid;
    return this;
  }
  resourceVersion(rv: string): this {
    this.#meta.resourceVersion = rv;
    return this;
  }
  created(at: string): this {
    this.#meta.creationTimestamp = at;
    return this;
  }
  /** A controller owner reference (apps/v1 unless `apiVersion` says otherwise). */
  owner(kind: string, name: string, uid = `owner-${name}`, apiVersion = 'apps/v1'): this {
    this.#meta.ownerReferences = [{ apiVersion, kind, name, uid, controller: true }];
    return this;
  }
  terminating(at = BUILDER_TIME): this {
    this.#meta.deletionTimestamp = at;
    return this;
  }

  // --- containers ---------------------------------------------------------------------------------

  /**
   * Defaults merged under every container added from now on (a node agent's tests want a command
   * their fake runtime understands and a pull policy that does not pull).
   */
  containerDefaults(app: Partial<Container>, init: Partial<Container> = app): this {
    this.#appDefaults = app;
    this.#initDefaults = init;
    return this;
  }
  /**
   * Adds an app container (a name, or fields over `{ name: c<i>, image: busybox }`); with `state` the
   * pod also carries its status, as a node would report it.
   */
  container(c: ContainerArg = {}, state?: ContainerState, o: StatusOpts = {}): this {
    this.#ownContainers = true;
    const spec = this.#make(c, `c${this.#spec.containers.length}`, this.#appDefaults);
    this.#spec.containers.push(spec);
    if (state) (this.#status.containerStatuses ??= []).push(containerStatus(spec, state, o));
    return this;
  }
  /** Adds an init container, with its status when `state` is given. */
  init(c: ContainerArg = {}, state?: ContainerState, o: StatusOpts = {}): this {
    const spec = this.#make(c, `init${(this.#spec.initContainers ?? []).length}`, this.#initDefaults);
    (this.#spec.initContainers ??= []).push(spec);
    if (state) (this.#status.initContainerStatuses ??= []).push(containerStatus(spec, state, o));
    return this;
  }
  /** Adds a sidecar: a restartable init container (restartPolicy: Always). */
  sidecar(c: ContainerArg = {}, state?: ContainerState, o: StatusOpts = {}): this {
    const fields = typeof c === 'string' ? { name: c } : c;
    return this.init({ ...fields, restartPolicy: 'Always' }, state, o);
  }
  /** Replaces the app containers with one container per set of requests. */
  withRequests(...requests: Array<Record<string, string>>): this {
    this.#spec.containers = [];
    for (const r of requests) this.container({ resources: { requests: r } });
    this.#ownContainers = true;
    return this;
  }
  /** Replaces the app containers with one container with these limits. */
  withLimits(limits: Record<string, string>): this {
    this.#spec.containers = [];
    return this.container({ resources: { limits } });
  }
  /** Replaces the app containers with one container per image. */
  image(...images: string[]): this {
    this.#spec.containers = [];
    for (const image of images) this.container({ image });
    this.#ownContainers = true;
    return this;
  }
  /** A host port on the first container (the default one if none was given). */
  hostPort(port: number, protocol = 'TCP', hostIP?: string): this {
    if (!this.#ownContainers) this.container();
    const c = this.#spec.containers[0];
    c.ports = [...(c.ports ?? []), { containerPort: port, hostPort: port, protocol, ...(hostIP ? { hostIP } : {}) }];
    return this;
  }

  #make(c: ContainerArg, name: string, defaults: Partial<Container>): Container {
    const fields = typeof c === 'string' ? { name: c } : c;
    return { name, image: 'busybox', ...defaults, ...fields };
  }

  // --- spec ---------------------------------------------------------------------------------------

  onNode(node: string): this {
    this.#spec.nodeName = node;
    return this;
  }
  restartPolicy(p: 'Always' | 'OnFailure' | 'Never'): this {
    this.#spec.restartPolicy = p;
    return this;
  }
  gracePeriod(seconds: number): this {
    this.#spec.terminationGracePeriodSeconds = seconds;
    return this;
  }
  overhead(r: Record<string, string>): this {
    this.#spec.overhead = r;
    return this;
  }
  nodeSelector(s: Record<string, string>): this {
    this.#spec.nodeSelector = s;
    return this;
  }
  toleration(...t: Toleration[]): this {
    this.#spec.tolerations = [...(this.#spec.tolerations ?? []), ...t];
    return this;
  }
  /** Required node affinity: one node selector term per argument (terms are ORed). */
  requiredNodeAffinity(...terms: NodeSelectorExpr[][]): this {
    const a = (this.#spec.affinity ??= {});
    a.nodeAffinity = { ...a.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms.map((t) => ({ matchExpressions: t })) } };
    return this;
  }
  preferredNodeAffinity(weight: number, exprs: NodeSelectorExpr[]): this {
    const a = (this.#spec.affinity ??= {});
    const prev = a.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    a.nodeAffinity = { ...a.nodeAffinity, preferredDuringSchedulingIgnoredDuringExecution: [...prev, { weight, preference: { matchExpressions: exprs } }] };
    return this;
  }
  podAffinity(kind: 'affinity' | 'anti', required: PodAffinityTerm[], preferred: WeightedPodAffinityTerm[] = []): this {
    const a = (this.#spec.affinity ??= {});
    const v = { requiredDuringSchedulingIgnoredDuringExecution: required, preferredDuringSchedulingIgnoredDuringExecution: preferred };
    if (kind === 'affinity') a.podAffinity = v;
    else a.podAntiAffinity = v;
    return this;
  }
  spread(c: TopologySpreadConstraint): this {
    this.#spec.topologySpreadConstraints = [...(this.#spec.topologySpreadConstraints ?? []), c];
    return this;
  }
  priority(p: number): this {
    this.#spec.priority = p;
    return this;
  }
  schedulerName(n: string): this {
    this.#spec.schedulerName = n;
    return this;
  }
  readinessGate(conditionType: string): this {
    (this.#spec.readinessGates ??= []).push({ conditionType });
    return this;
  }

  // --- status -------------------------------------------------------------------------------------

  phase(phase: string): this {
    this.#status.phase = phase;
    return this;
  }
  reason(reason: string): this {
    this.#status.reason = reason;
    return this;
  }
  condition(type: string, status: string, reason?: string, lastTransitionTime = BUILDER_TIME): this {
    const c: PodCondition = { type, status, lastTransitionTime };
    if (reason !== undefined) c.reason = reason;
    this.#status.conditions = [...(this.#status.conditions ?? []).filter((x) => x.type !== type), c];
    return this;
  }
  ip(ip: string): this {
    this.#status.podIP = ip;
    this.#status.podIPs = [{ ip }];
    return this;
  }
  nominated(node: string): this {
    this.#status.nominatedNodeName = node;
    return this;
  }
  /** The whole status, replacing what the builder set so far. */
  status(s: NonNullable<Pod['status']>): this {
    this.#pod.status = structuredClone(s);
    return this;
  }

  /** Anything the methods above do not cover. */
  with(fn: (p: Pod) => void): this {
    fn(this.#pod);
    return this;
  }

  build(): Pod {
    const pod = structuredClone(this.#pod);
    if (!this.#ownContainers) pod.spec!.containers = [this.#make({}, 'c', this.#appDefaults)];
    return pod;
  }
}

export function makePod(name = 'web', namespace?: string): PodBuilder {
  return new PodBuilder(name, namespace);
}

export class NodeBuilder {
  readonly #node: Node;
  constructor(name: string) {
    this.#node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name }, creationTimestamp: BUILDER_TIME },
      spec: {},
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        conditions: [],
      },
    };
  }
  /** Sets allocatable and capacity alike. */
  allocatable(a: Record<string, string>): this {
    this.#node.status!.allocatable = { ...a };
    this.#node.status!.capacity = { ...a };
    return this;
  }
  labels(l: Record<string, string>): this {
    this.#node.metadata!.labels = { ...this.#node.metadata!.labels, ...l };
    return this;
  }
  created(at: string): this {
    this.#node.metadata!.creationTimestamp = at;
    return this;
  }
  taint(...t: Taint[]): this {
    this.#node.spec!.taints = [...(this.#node.spec!.taints ?? []), ...t];
    return this;
  }
  /** Cordoned (`kubectl cordon`). */
  unschedulable(): this {
    this.#node.spec!.unschedulable = true;
    return this;
  }
  images(...imgs: Array<{ names: string[]; sizeBytes: number }>): this {
    this.#node.status!.images = imgs;
    return this;
  }
  /** The Ready condition with its reason as the kubelet words it, heartbeat and transition at `at`. */
  ready(status: string, at = BUILDER_TIME): this {
    const reason = status === 'True' ? 'KubeletReady' : 'KubeletNotReady';
    const message = status === 'True' ? 'kubelet is posting ready status' : 'container runtime is down';
    return this.condition('Ready', status, at, reason, message);
  }
  /** Sets (or replaces) one node condition. */
  condition(type: string, status: string, at = BUILDER_TIME, reason = `Kubelet${type}`, message = `${type} is ${status}`): this {
    const c: NodeCondition = { type, status, lastHeartbeatTime: at, lastTransitionTime: at, reason, message };
    this.#node.status!.conditions = [...(this.#node.status!.conditions ?? []).filter((x) => x.type !== type), c];
    return this;
  }
  with(fn: (n: Node) => void): this {
    fn(this.#node);
    return this;
  }
  build(): Node {
    return structuredClone(this.#node);
  }
}

export function makeNode(name = 'n1'): NodeBuilder {
  return new NodeBuilder(name);
}
