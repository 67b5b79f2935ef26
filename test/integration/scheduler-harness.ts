// Shared setup for the scheduler integration tests: a real control plane in-process (port 0, temp dir),
// an admin client, Node objects registered through the API (no agent: placement needs none), the
// scheduler, and a pod informer to await states by events rather than by sleeping.

import { cacheWaiter } from './cache-waiter.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod, Taint } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Informer, listWatch } from '../../src/client/informer.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { startControlPlane } from '../../src/cmd/controlplane.ts';
import type { ControlPlane } from '../../src/cmd/controlplane.ts';
import { startScheduler } from '../../src/scheduler/scheduler.ts';
import type { Scheduler, SchedulerOptions } from '../../src/scheduler/scheduler.ts';

export interface Cluster {
  cp: ControlPlane;
  client: ApiClient;
  scheduler: Scheduler;
  pods: Informer<Pod>;
  errors: unknown[];
  /** Resolves when `cond` holds over the pod cache (checked on every pod event). */
  waitForPods(cond: (pods: Pod[]) => boolean, what: string, timeoutMs?: number): Promise<Pod[]>;
  addNode(node: Node): Promise<Node>;
  close(): Promise<void>;
}

export async function startCluster(options: Partial<SchedulerOptions> = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-sched-'));
  const cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  const client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'scheduler-test' });
  const errors: unknown[] = [];
  const scheduler = startScheduler({ client, onError: (e) => errors.push(e), ...options });
  const pods = new Informer<Pod>(listWatch<Pod>(client, Pods), { onError: (e) => errors.push(e) });
  const wait = cacheWaiter(pods);
  pods.start();
  await pods.waitForSync();
  return {
    cp,
    client,
    scheduler,
    pods,
    errors,
    waitForPods: (cond, what, timeoutMs = 20_000) => wait(cond, what, timeoutMs),
    addNode(node) {
      return client.create<Node>(Nodes, undefined, node);
    },
    async close() {
      await scheduler.stop();
      await pods.stop();
      client.close();
      await cp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function node(name: string, allocatable: Record<string, string>, extra: { labels?: Record<string, string>; taints?: Taint[] } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels } },
    spec: extra.taints ? { taints: extra.taints } : {},
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function pod(name: string, requests: Record<string, string>, extra: Partial<Pod['spec']> & { labels?: Record<string, string>; owner?: string } = {}): Pod {
  const { labels, owner, ...spec } = extra;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels,
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `uid-${owner}`, controller: true }] } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests } }], ...spec },
  };
}
