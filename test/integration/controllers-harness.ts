// Shared setup for the controller integration tests: a real control plane in-process (port 0, temp
// dir), an admin client, the controllers under test with short timings, informers to await states by
// events rather than by sleeping, Nodes (plain objects, no agent) and their Leases.

import { watchResource, type Watched } from './cache-waiter.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lease, Node, Pod } from '../../src/api/types.ts';
import { makeNode } from '../../src/testing/objects.ts';
import { ApiClient } from '../../src/client/client.ts';
import type { HasMetadata } from '../../src/client/client.ts';
import { isNotFound } from '../../src/client/errors.ts';
import type { Informer } from '../../src/client/informer.ts';
import { Leases, Nodes, Pods } from '../../src/client/resources.ts';
import type { ResourceRef } from '../../src/client/resources.ts';
import { startControlPlane } from '../../src/cmd/controlplane.ts';
import type { ControlPlane } from '../../src/cmd/controlplane.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import type { ControllerOptions, Controllers } from '../../src/controllers/manager.ts';
import { rfc3339, rfc3339Micro } from '../../src/util/clock.ts';

export type { Watched };

export interface Harness {
  cp: ControlPlane;
  client: ApiClient;
  controllers: Controllers;
  errors: unknown[];
  watch<T>(ref: ResourceRef, namespace?: string): Promise<Watched<T>>;
  close(): Promise<void>;
}

export async function startHarness(options: ControllerOptions): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-ctrl-'));
  const cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  const client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'controllers-test' });
  const errors: unknown[] = [];
  const controllers = startControllers({ client, options: { rootCA: cp.pki.caCertPem, ...options, onError: (e) => errors.push(e) } });
  const informers: Informer<HasMetadata>[] = [];
  return {
    cp,
    client,
    controllers,
    errors,
    async watch<T>(ref: ResourceRef, namespace?: string): Promise<Watched<T>> {
      const w = await watchResource<T>(client, ref, namespace, 10_000);
      informers.push(w.informer as unknown as Informer<HasMetadata>);
      return w;
    },
    async close() {
      await controllers.stop();
      await Promise.all(informers.map((i) => i.stop()));
      client.close();
      await cp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Node as its agent registers it: Ready, with a heartbeat of now (the controller compares it with its clock). */
export function readyNode(name: string): Node {
  return makeNode(name).ready('True', rfc3339(Date.now())).build();
}

/** Creates or renews the node's Lease, as an agent's heartbeat does. */
export async function renewLease(client: ApiClient, node: string): Promise<void> {
  const renewTime = rfc3339Micro(Date.now());
  try {
    const l = await client.get<Lease>(Leases, 'kube-node-lease', node);
    await client.update<Lease>(Leases, 'kube-node-lease', { ...l, spec: { ...l.spec, renewTime } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await client.create<Lease>(Leases, 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: node, namespace: 'kube-node-lease' },
      spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime },
    });
  }
}

/** Posts the node's Ready condition with a fresh heartbeat, as an agent's status loop does. */
export async function postReady(client: ApiClient, node: string, status: string): Promise<void> {
  const now = rfc3339(Date.now());
  const n = await client.get<Node>(Nodes, undefined, node);
  const others = (n.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
  await client.patch(Nodes, undefined, node, 'merge', {
    status: { conditions: [...others, { type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }] },
  }, { subresource: 'status' });
}

/** Marks a pod Running and Ready, as the agent would. */
export async function markRunning(client: ApiClient, pod: Pod): Promise<void> {
  const now = rfc3339(Date.now());
  await client.patch(Pods, pod.metadata?.namespace, pod.metadata!.name!, 'merge', {
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }] },
  }, { subresource: 'status' });
}
