// A burst of 1,000 pods against 10 small simulated nodes: the scheduler must never place more requests
// on a node than it has allocatable, even though bindings are in flight while the next pods are placed
// (assumed pods count at once), and must fill the room exactly.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/api/types.ts';
import { parseQuantity } from '../../src/api/quantity.ts';
import { Pods } from '../../src/client/resources.ts';
import { node, pod, startCluster } from './scheduler-harness.ts';
import type { Cluster } from './scheduler-harness.ts';

const NODES = 10;
const PODS = 1000;

async function pool<T>(n: number, items: T[], fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

describe('scheduler burst of 1,000 pods', { timeout: 120_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    for (let i = 0; i < NODES; i++) await c.addNode(node(`n${i}`, { cpu: '4', memory: '8Gi', pods: '110' }));
  });
  after(async () => {
    await c?.close();
  });

  it('never exceeds allocatable and fills every node', async () => {
    // 50m cpu each: 80 fit a 4-cpu node (memory allows 81, pods 110), so 800 bind and 200 stay pending.
    const names = Array.from({ length: PODS }, (_, i) => `burst-${i}`);
    await pool(32, names, (n) => c.client.create(Pods, 'default', pod(n, { cpu: '50m', memory: '100Mi' }, { owner: 'burst' })));
    const isPending = (p: Pod): boolean => Boolean(p.status?.conditions?.some((k) => k.type === 'PodScheduled' && k.status === 'False'));
    const all = await c.waitForPods((ps) => {
      const mine = ps.filter((p) => p.metadata?.name?.startsWith('burst-'));
      return mine.length === PODS && mine.filter((p) => p.spec?.nodeName).length === 800 && mine.filter(isPending).length === 200;
    }, '800 bound and 200 unschedulable', 90_000);
    const perNode = new Map<string, { cpu: bigint; mem: bigint; pods: number }>();
    for (const p of all) {
      const n = p.spec?.nodeName;
      if (!n) continue;
      const r = p.spec!.containers[0].resources!.requests!;
      const cur = perNode.get(n) ?? { cpu: 0n, mem: 0n, pods: 0 };
      cur.cpu += parseQuantity(String(r.cpu)).nanos;
      cur.mem += parseQuantity(String(r.memory)).nanos;
      cur.pods++;
      perNode.set(n, cur);
    }
    assert.equal(perNode.size, NODES);
    for (const [n, u] of perNode) {
      assert.ok(u.cpu <= parseQuantity('4').nanos, `${n}: cpu ${u.cpu}`);
      assert.ok(u.mem <= parseQuantity('8Gi').nanos, `${n}: memory ${u.mem}`);
      assert.equal(u.pods, 80, `${n} holds ${u.pods} pods`);
    }
    const stats = c.scheduler.stats();
    assert.equal(stats.bound, 800);
    assert.equal(stats.bindFailures, 0);
    assert.deepEqual(c.errors, []);
  });
});
