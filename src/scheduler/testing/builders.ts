// Small builders for scheduler tests: makePod('web').withRequests({ cpu: '500m' }).onNode('n1').obj().
// Test-only.

import type { Container, Node, Pod, PodAffinityTerm, Taint, Toleration, TopologySpreadConstraint, WeightedPodAffinityTerm } from '../../api/types.ts';

let uidSeq = 0;

export class PodBuilder {
  readonly pod: Pod;
  constructor(name: string, namespace = 'default') {
    this.pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, uid: `uid-${name}-${++uidSeq}`, labels: {} },
      spec: { containers: [{ name: 'c', image: 'busybox' }], schedulerName: 'default-scheduler' },
      status: { phase: 'Pending' },
    };
  }
  #spec() {
    return this.pod.spec!;
  }
  labels(l: Record<string, string>): this {
    this.pod.metadata!.labels = { ...this.pod.metadata!.labels, ...l };
    return this;
  }
  annotations(a: Record<string, string>): this {
    this.pod.metadata!.annotations = { ...this.pod.metadata!.annotations, ...a };
    return this;
  }
  uid(uid: string): this {
    this.pod.metadata!.uid = uid;
    return this;
  }
  owner(kind: string, name: string, uid = `owner-${name}`): this {
    this.pod.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind, name, uid, controller: true }];
    return this;
  }
  /** Replaces the app containers with one container per request set. */
  containers(...reqs: Array<Record<string, string>>): this {
    this.#spec().containers = reqs.map((r, i) => ({ name: `c${i}`, image: 'busybox', resources: { requests: r } }));
    return this;
  }
  withRequests(r: Record<string, string>): this {
    return this.containers(r);
  }
  withLimits(l: Record<string, string>): this {
    this.#spec().containers = [{ name: 'c0', image: 'busybox', resources: { limits: l } }];
    return this;
  }
  initContainer(r: Record<string, string>, sidecar = false): this {
    const c: Container = { name: `init${(this.#spec().initContainers ?? []).length}`, image: 'busybox', resources: { requests: r } };
    if (sidecar) c.restartPolicy = 'Always';
    this.#spec().initContainers = [...(this.#spec().initContainers ?? []), c];
    return this;
  }
  overhead(r: Record<string, string>): this {
    this.#spec().overhead = r;
    return this;
  }
  image(...images: string[]): this {
    this.#spec().containers = images.map((image, i) => ({ name: `c${i}`, image }));
    return this;
  }
  hostPort(port: number, protocol = 'TCP', hostIP?: string): this {
    const c = this.#spec().containers[0];
    c.ports = [...(c.ports ?? []), { containerPort: port, hostPort: port, protocol, ...(hostIP ? { hostIP } : {}) }];
    return this;
  }
  onNode(node: string): this {
    this.#spec().nodeName = node;
    return this;
  }
  nodeSelector(s: Record<string, string>): this {
    this.#spec().nodeSelector = s;
    return this;
  }
  toleration(t: Toleration): this {
    this.#spec().tolerations = [...(this.#spec().tolerations ?? []), t];
    return this;
  }
  requiredNodeAffinity(...terms: Array<{ key: string; operator: string; values?: string[] }[]>): this {
    const a = (this.#spec().affinity ??= {});
    a.nodeAffinity = { ...a.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms.map((t) => ({ matchExpressions: t })) } };
    return this;
  }
  preferredNodeAffinity(weight: number, exprs: { key: string; operator: string; values?: string[] }[]): this {
    const a = (this.#spec().affinity ??= {});
    const prev = a.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    a.nodeAffinity = { ...a.nodeAffinity, preferredDuringSchedulingIgnoredDuringExecution: [...prev, { weight, preference: { matchExpressions: exprs } }] };
    return this;
  }
  podAffinity(kind: 'affinity' | 'anti', required: PodAffinityTerm[], preferred: WeightedPodAffinityTerm[] = []): this {
    const a = (this.#spec().affinity ??= {});
    const v = { requiredDuringSchedulingIgnoredDuringExecution: required, preferredDuringSchedulingIgnoredDuringExecution: preferred };
    if (kind === 'affinity') a.podAffinity = v;
    else a.podAntiAffinity = v;
    return this;
  }
  spread(c: TopologySpreadConstraint): this {
    this.#spec().topologySpreadConstraints = [...(this.#spec().topologySpreadConstraints ?? []), c];
    return this;
  }
  priority(p: number): this {
    this.#spec().priority = p;
    return this;
  }
  schedulerName(n: string): this {
    this.#spec().schedulerName = n;
    return this;
  }
  terminating(): this {
    this.pod.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    return this;
  }
  obj(): Pod {
    return this.pod;
  }
}

export function makePod(name: string, namespace?: string): PodBuilder {
  return new PodBuilder(name, namespace);
}

export class NodeBuilder {
  readonly node: Node;
  constructor(name: string) {
    this.node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      spec: {},
      status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' } },
    };
  }
  allocatable(a: Record<string, string>): this {
    this.node.status!.allocatable = a;
    this.node.status!.capacity = a;
    return this;
  }
  labels(l: Record<string, string>): this {
    this.node.metadata!.labels = { ...this.node.metadata!.labels, ...l };
    return this;
  }
  taint(t: Taint): this {
    this.node.spec!.taints = [...(this.node.spec!.taints ?? []), t];
    return this;
  }
  unschedulable(): this {
    this.node.spec!.unschedulable = true;
    return this;
  }
  images(...imgs: Array<{ names: string[]; sizeBytes: number }>): this {
    this.node.status!.images = imgs;
    return this;
  }
  obj(): Node {
    return this.node;
  }
}

export function makeNode(name: string): NodeBuilder {
  return new NodeBuilder(name);
}
