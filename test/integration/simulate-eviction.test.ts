// A node whose (simulated) agent stops goes Unknown once its lease is older than the node monitor
// grace period, gets the unreachable NoExecute taint, and its pods are evicted as their tolerations
// say: at once, after tolerationSeconds (from when the controller first sees them under the taint),
// or never. When the agent comes back the taint goes.
// Short timings: 1.5 s grace, 300 ms leases.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Node, Pod, Toleration } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { startServer, type Server } from '../../src/cmd/server.ts';
import { Simulator } from '../../src/kubelet/simulated/simulator.ts';
import { until } from '../../src/testing/until.ts';

const GRACE_MS = 1500;
let dir: string;
let server: Server;
let client: ApiClient;
let sim: Simulator;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tk-evict-'));
  server = await startServer({
    dataDir: path.join(dir, 'server'),
    listen: '127.0.0.1:0',
    controllerOptions: { nodeLifecycle: { nodeMonitorGracePeriodMs: GRACE_MS } },
  });
  client = ApiClient.fromKubeconfig(server.controlPlane.kubeconfigPath, { userAgent: 'evict-test' });
  sim = new Simulator({ client, nodes: 2, namePrefix: 'ev-', leaseRenewMs: 300 });
  await sim.start();
});

after(async () => {
  await sim?.stop();
  client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const unreachable = (seconds?: number): Toleration[] => [
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) },
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) },
];

async function podOn(name: string, node: string, tolerations: Toleration[]): Promise<void> {
  await client.create<Pod>(Pods, 'default', {
    metadata: { name },
    spec: { nodeName: node, tolerations, containers: [{ name: 'app', image: 'registry.local/app:1' }] },
  });
}

const readyOf = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const evicted = async (name: string) => Boolean((await client.get<Pod>(Pods, 'default', name)).metadata?.deletionTimestamp);

test('a stopped agent: node Unknown within the grace period, pods evicted by their tolerations, untainted on return', async () => {
  const [node] = sim.nodeNames;
  await podOn('evict-now', node, unreachable(0));
  await podOn('evict-later', node, unreachable(6));
  await podOn('stays', node, unreachable());
  for (const p of ['evict-now', 'evict-later', 'stays']) {
    await until(`${p} Running`, async () => (await client.get<Pod>(Pods, 'default', p)).status?.phase === 'Running', { timeoutMs: 15_000, intervalMs: 100 });
  }

  const stopped = Date.now();
  await sim.stopNode(node);
  await until('Ready=Unknown', async () => readyOf(await client.get<Node>(Nodes, undefined, node)) === 'Unknown', { timeoutMs: GRACE_MS + 5_000, intervalMs: 100 });
  const unknownAfter = Date.now() - stopped;
  assert.ok(unknownAfter >= GRACE_MS - 400, `went Unknown after ${unknownAfter} ms, before the grace period`);
  // The node lifecycle controller writes the taint after the condition, in a write of its own.
  await until('the unreachable NoExecute taint', async () => {
    const taints = (await client.get<Node>(Nodes, undefined, node)).spec?.taints ?? [];
    return taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
  }, { timeoutMs: 5_000, intervalMs: 100 });

  await until('evict-now evicted', () => evicted('evict-now'), { timeoutMs: 3_000, intervalMs: 100 });
  assert.equal(await evicted('evict-later'), false, 'a pod tolerating 6 s is not evicted at once');
  await until('evict-later evicted', () => evicted('evict-later'), { timeoutMs: 10_000, intervalMs: 100 });
  assert.equal(await evicted('stays'), false, 'a pod tolerating forever stays');

  // The taint is now older than 3 s: a pod bound to the node now still gets its 3 s, counted from
  // when the controller first sees it there (Kubernetes' taint eviction), not from the taint's timeAdded.
  const bound = Date.now();
  await podOn('late-arrival', node, unreachable(3));
  await until('late-arrival evicted', () => evicted('late-arrival'), { timeoutMs: 10_000, intervalMs: 100 });
  const after = Date.now() - bound;
  assert.ok(after >= 2_500, `late-arrival evicted ${after} ms after binding, before its 3 s toleration`);

  // The other node kept its lease and stays Ready.
  assert.equal(readyOf(await client.get<Node>(Nodes, undefined, sim.nodeNames[1])), 'True');

  await sim.startNode(node);
  await until('untainted and Ready', async () => {
    const n = await client.get<Node>(Nodes, undefined, node);
    return readyOf(n) === 'True' && !(n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable');
  }, { timeoutMs: 10_000, intervalMs: 100 });
  assert.equal(await evicted('stays'), false);
});
