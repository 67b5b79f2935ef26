// The whole Agent over FakeRuntime against a real in-process API server: node registration, Ready
// gated on the runtime's conditions, the lease, pod status written through the API, and graceful
// deletion confirmed by the agent. No containers: runs in a couple of seconds anywhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { ApiClient } from '../../src/client/client.ts';
import { isNotFound } from '../../src/client/errors.ts';
import { Events, Leases, Nodes, Pods } from '../../src/client/resources.ts';
import type { Event, Lease, Node, Pod } from '../../src/api/types.ts';
import { Agent } from '../../src/kubelet/agent.ts';
import { FakeRuntime } from '../../src/kubelet/runtime/fake-runtime.ts';
import { until } from '../../src/testing/until.ts';

let cp: ControlPlane;
let client: ApiClient;
let dir: string;
let runtime: FakeRuntime;
let agent: Agent;

const WAIT = { timeoutMs: 15_000, intervalMs: 50 };

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tk-agent-node-'));
  cp = await startControlPlane({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath);
  runtime = new FakeRuntime({ images: ['busybox'], networkReady: false });
  agent = new Agent({ client, runtime, nodeName: 'fake-node', dataDir: path.join(dir, 'agent'), logRoot: path.join(dir, 'logs'), nodeIP: '192.0.2.7', mounts: false, plegPeriodMs: 100, podCIDRWaitMs: 0 });
  await agent.start();
});

after(async () => {
  await agent?.stop({ removePods: true });
  client?.close();
  await cp?.close();
  await rm(dir, { recursive: true, force: true });
});

function cond(n: Node, type: string): string | undefined {
  return n.status?.conditions?.find((c) => c.type === type)?.status;
}

describe('agent over a fake runtime', () => {
  it('registers the node NotReady until the runtime network is ready', async () => {
    const n = await until('node status', async () => {
      const x = await client.get<Node>(Nodes, undefined, 'fake-node');
      return x.status?.conditions ? x : undefined;
    }, WAIT);
    assert.equal(cond(n, 'Ready'), 'False');
    assert.match(n.status!.conditions!.find((c) => c.type === 'Ready')!.message ?? '', /NetworkReady=false reason:NetworkPluginNotReady/);
    assert.deepEqual(n.status?.addresses, [{ type: 'InternalIP', address: '192.0.2.7' }, { type: 'Hostname', address: 'fake-node' }]);
    assert.equal(n.spec?.podCIDR, agent.podCIDR);
    assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], 'fake-node');
    runtime.networkReady = true;
    await until('Ready', async () => cond(await client.get<Node>(Nodes, undefined, 'fake-node'), 'Ready') === 'True', WAIT);
    const lease = await until('lease', () => client.get<Lease>(Leases, 'kube-node-lease', 'fake-node'), WAIT);
    assert.equal(lease.spec?.holderIdentity, 'fake-node');
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.metadata?.ownerReferences?.[0]?.kind, 'Node');
  });

  it('keeps the podCIDR across restarts of the agent', async () => {
    const again = new Agent({ client, runtime, nodeName: 'fake-node', dataDir: path.join(dir, 'agent'), logRoot: path.join(dir, 'logs'), mounts: false, podCIDRWaitMs: 0 });
    assert.equal(await again.nodeStatus.register(), agent.podCIDR);
  });

  it('runs a pod bound to it and writes its status and events through the API', async () => {
    await client.create<Pod>(Pods, 'default', {
      metadata: { name: 'web' },
      // No controllers run here (no default account, no kube-root-ca.crt): no token volume.
      spec: { nodeName: 'fake-node', automountServiceAccountToken: false, containers: [{ name: 'web', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
    });
    const pod = await until('Running', async () => {
      const p = await client.get<Pod>(Pods, 'default', 'web');
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    }, WAIT);
    assert.equal(pod.status?.hostIP, '192.0.2.7');
    assert.match(pod.status?.podIP ?? '', /^10\.88\./);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const events = await until('events', async () => {
      const l = await client.list<Event>(Events, 'default', { fieldSelector: `involvedObject.uid=${pod.metadata!.uid}` });
      return l.items.length >= 3 ? l.items : undefined;
    }, WAIT);
    assert.deepEqual(events.map((e) => e.reason).sort(), ['Created', 'Pulled', 'Started']);
    assert.ok(events.every((e) => e.source?.component === 'kubelet' && e.source.host === 'fake-node'));
    const id = pod.status?.containerStatuses?.[0]?.containerID?.replace('containerd://', '');
    assert.equal(agent.resolvePod('default', 'web')?.containers.get('web'), id);
    const sp = agent.streamingPod('default', 'web');
    assert.deepEqual(sp?.containers, { web: { restartCount: 0, containerId: id } });
    assert.equal(sp?.uid, pod.metadata?.uid);
    assert.ok(sp?.sandboxId);
  });

  it('confirms a graceful deletion once the containers are stopped', async () => {
    await client.delete(Pods, 'default', 'web', { gracePeriodSeconds: 5 });
    await until('pod gone', async () => {
      try {
        await client.get<Pod>(Pods, 'default', 'web');
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    }, WAIT);
    await until('sandbox removed', async () => (await runtime.listPodSandbox()).length === 0, WAIT);
    assert.ok(runtime.calls.some((c) => c.method === 'stopContainer' && c.args[1] === 5));
  });
});
