// Small builders for table tests: pods in any container state, with times relative to a fixed NOW.

import type { Container, ContainerState, ContainerStatus, Pod, PodCondition } from '../../api/types.ts';
import { rfc3339 } from '../../util/clock.ts';

export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** RFC 3339 timestamp `ms` before NOW. */
export const ago = (ms: number): string => rfc3339(NOW - ms);

export const running = (): ContainerState => ({ running: { startedAt: ago(MIN) } });
export const waiting = (reason?: string): ContainerState => ({ waiting: reason === undefined ? {} : { reason } });
export const terminated = (exitCode: number, reason?: string, signal?: number): ContainerState => ({
  terminated: { exitCode, ...(reason === undefined ? {} : { reason }), ...(signal === undefined ? {} : { signal }), finishedAt: ago(MIN) },
});

export interface StatusOpts {
  ready?: boolean;
  started?: boolean;
  restarts?: number;
  /** When the previous run ended (lastState.terminated.finishedAt), as a duration before NOW. */
  lastFinishedAgo?: number;
}

function containerStatus(name: string, state: ContainerState, o: StatusOpts): ContainerStatus {
  const s: ContainerStatus = { name, image: 'busybox', imageID: '', ready: o.ready ?? false, restartCount: o.restarts ?? 0, state };
  if (o.started !== undefined) s.started = o.started;
  if (o.lastFinishedAgo !== undefined) {
    s.lastState = { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(o.lastFinishedAgo) } };
  }
  return s;
}

export class PodBuilder {
  readonly pod: Pod;
  constructor(name: string) {
    this.pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '1008', creationTimestamp: ago(6 * SEC), labels: { run: name } },
      spec: { containers: [] },
      status: { phase: 'Pending' },
    };
  }
  createdAgo(ms: number): this {
    this.pod.metadata!.creationTimestamp = ago(ms);
    return this;
  }
  phase(phase: string): this {
    this.pod.status!.phase = phase;
    return this;
  }
  reason(reason: string): this {
    this.pod.status!.reason = reason;
    return this;
  }
  condition(type: string, status: string, reason?: string): this {
    const c: PodCondition = { type, status };
    if (reason !== undefined) c.reason = reason;
    (this.pod.status!.conditions ??= []).push(c);
    return this;
  }
  node(name: string): this {
    this.pod.spec!.nodeName = name;
    return this;
  }
  ip(ip: string): this {
    this.pod.status!.podIP = ip;
    this.pod.status!.podIPs = [{ ip }];
    return this;
  }
  nominated(node: string): this {
    this.pod.status!.nominatedNodeName = node;
    return this;
  }
  readinessGate(conditionType: string): this {
    (this.pod.spec!.readinessGates ??= []).push({ conditionType });
    return this;
  }
  deleting(): this {
    this.pod.metadata!.deletionTimestamp = ago(0);
    return this;
  }
  /** An app container; without `state` it has no status yet (not started by any node). */
  container(name: string, state?: ContainerState, o: StatusOpts = {}): this {
    this.pod.spec!.containers.push({ name, image: 'busybox' });
    if (state) (this.pod.status!.containerStatuses ??= []).push(containerStatus(name, state, o));
    return this;
  }
  /** An init container; `sidecar` makes it restartable (restartPolicy: Always). */
  init(name: string, state?: ContainerState, o: StatusOpts & { sidecar?: boolean } = {}): this {
    const c: Container = { name, image: 'busybox' };
    if (o.sidecar) c.restartPolicy = 'Always';
    (this.pod.spec!.initContainers ??= []).push(c);
    if (state) (this.pod.status!.initContainerStatuses ??= []).push(containerStatus(name, state, o));
    return this;
  }
  build(): Pod {
    return structuredClone(this.pod);
  }
}

export const makePod = (name = 'web'): PodBuilder => new PodBuilder(name);
