// `kubectl drain` against PodDisruptionBudgets with a ReplicaSet making the replacements: three
// replicas all on one node (the others cordoned while they were placed), a budget of minAvailable 2.
// Draining that node evicts one pod at once; the other evictions get 429 until replacements on the
// other nodes are Ready; the drain completes only as the budget allows, and at no moment were fewer
// than 2 replicas Ready.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodDisruptionBudget, ReplicaSet } from '../../src/api/types.ts';
import { PodDisruptionBudgets, Pods, ReplicaSets } from '../../src/client/resources.ts';
import { isPodReady } from '../../src/controllers/podcontrol/pods.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let pods: Watched<Pod>;

before(async () => {
  c = await startWorkloadCluster({ nodes: ['a', 'b', 'c'] });
  pods = await c.watch<Pod>(Pods, 'default');
});

after(async () => {
  await c?.close();
});

test('kubectl drain evicts as the budget allows and completes once replacements are Ready', async () => {
  for (const n of ['b', 'c']) assert.equal((await c.kubectl(['cordon', n])).code, 0);
  await c.client.create<ReplicaSet>(ReplicaSets, 'default', {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
  });
  const mine = (ps: Pod[]) => ps.filter((p) => p.metadata?.labels?.app === 'web' && !p.metadata?.deletionTimestamp);
  await pods.until((ps) => mine(ps).filter(isPodReady).length === 3 && mine(ps).every((p) => p.spec?.nodeName === 'a'), '3 ready pods on a');
  await c.client.create<PodDisruptionBudget>(PodDisruptionBudgets, 'default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
  const budgets = await c.watch<PodDisruptionBudget>(PodDisruptionBudgets, 'default');
  await budgets.until((all) => all.some((b) => b.status?.disruptionsAllowed === 1 && b.status?.observedGeneration === b.metadata?.generation), 'the budget allows one disruption');
  for (const n of ['b', 'c']) assert.equal((await c.kubectl(['uncordon', n])).code, 0);

  // Never fewer than 2 ready replicas while the drain runs (the budget's promise).
  let fewest = 3;
  const off = pods.informer.addEventHandler({ onUpdate: () => (fewest = Math.min(fewest, mine(pods.items()).filter(isPodReady).length)), onDelete: () => (fewest = Math.min(fewest, mine(pods.items()).filter(isPodReady).length)) });
  const r = await c.kubectl(['drain', 'a', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s'], { timeoutMs: 90_000 });
  off();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /node\/a drained/);
  assert.match(r.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./, 'at least one eviction had to wait');
  assert.ok(fewest >= 2, `ready replicas went down to ${fewest}`);
  const now = await pods.until((ps) => mine(ps).filter(isPodReady).length === 3, '3 ready replicas again');
  assert.deepEqual(mine(now).map((p) => p.spec?.nodeName).filter((n) => n === 'a'), [], 'nothing left on the drained node');
});
