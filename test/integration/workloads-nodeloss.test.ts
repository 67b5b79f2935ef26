// Node loss and a ReplicaSet: a pod never moves. When a node's agent stops, the node lifecycle
// controller marks it Unknown, taints it unreachable and evicts its pods (here after tolerationSeconds
// 1); the ReplicaSet sees its pods go and makes new ones, which the scheduler puts on the nodes left.
// Short timings: 1.5 s node grace period, 300 ms leases.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, ReplicaSet } from '../../src/api/types.ts';
import { Pods, ReplicaSets } from '../../src/client/resources.ts';
import { isPodReady } from '../../src/controllers/podcontrol/pods.ts';
import { Simulator } from '../../src/kubelet/simulated/simulator.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let doomed: Simulator;
let pods: Watched<Pod>;

before(async () => {
  c = await startWorkloadCluster({ nodes: ['keep-0', 'keep-1'], controllerOptions: { nodeLifecycle: { nodeMonitorGracePeriodMs: 1500 } }, simulator: { leaseRenewMs: 300 } });
  doomed = new Simulator({ client: c.client, nodes: ['doomed'], leaseRenewMs: 300, startDelayMs: 50, jitter: 0 });
  await doomed.start();
  pods = await c.watch<Pod>(Pods, 'default');
});

after(async () => {
  await doomed?.stop();
  await c?.close();
});

test('pods evicted from a lost node are replaced on the nodes left', async () => {
  const tolerate = [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
  ];
  await c.client.create<ReplicaSet>(ReplicaSets, 'default', {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'spread', namespace: 'default' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'spread' } }, template: { metadata: { labels: { app: 'spread' } }, spec: { tolerations: tolerate, containers: [{ name: 'app', image: 'busybox' }] } } },
  });
  const first = await pods.until((ps) => ps.filter((p) => p.metadata?.labels?.app === 'spread' && isPodReady(p)).length === 3, '3 ready pods');
  const lost = first.filter((p) => p.metadata?.labels?.app === 'spread' && p.spec?.nodeName === 'doomed').map((p) => p.metadata!.name!);
  assert.equal(lost.length, 1, 'the scheduler spread one pod onto each node');
  await doomed.stop();
  const after = await pods.until((ps) => {
    const live = ps.filter((p) => p.metadata?.labels?.app === 'spread' && !p.metadata.deletionTimestamp && p.spec?.nodeName !== 'doomed');
    return live.length === 3 && live.every(isPodReady) && !ps.some((p) => lost.includes(p.metadata!.name!) && !p.metadata?.deletionTimestamp);
  }, 'three ready pods on the nodes left', 30_000);
  const names = after.filter((p) => p.metadata?.labels?.app === 'spread' && !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
  assert.ok(!names.includes(lost[0]), 'the evicted pod did not move: a new one took its place');
  assert.deepEqual(c.controllerErrors.map(String), []);
});
