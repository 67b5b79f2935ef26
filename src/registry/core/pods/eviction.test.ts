// pods/eviction against a real registry on SQLite: which pods go, which budgets they spend, and the
// refusals, for the cases the integration test cannot stage (unready pods, stale budgets).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject, PodDisruptionBudget } from '../../../api/types.ts';
import { openBackend } from '../../../storage/registry.ts';
import { FakeClock } from '../../../util/clock.ts';
import { StatusError } from '../../../util/status.ts';
import { Registry } from '../../registry.ts';
import { evictionSubresource } from './eviction.ts';

interface Case {
  name: string;
  phase: string;
  ready: boolean;
  policy?: string;
  status: { currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number; observedGeneration: number };
  /** undefined: evicted; else the refusal's code and the first cause's message. */
  refused?: [number, string];
  /** disruptionsAllowed afterwards. */
  allowed: number;
}

const cases: Case[] = [
  { name: 'ready pod, budget allows: spent', phase: 'Running', ready: true, status: { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, observedGeneration: 1 }, allowed: 0 },
  {
    name: 'ready pod, budget exhausted: 429',
    phase: 'Running',
    ready: true,
    status: { currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 },
    refused: [429, 'The disruption budget b needs 2 healthy pods and has 2 currently'],
    allowed: 0,
  },
  {
    name: 'budget not yet observed: 429 still being processed',
    phase: 'Running',
    ready: true,
    status: { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, observedGeneration: 0 },
    refused: [429, 'The disruption budget b is still being processed by the server.'],
    allowed: 1,
  },
  { name: 'unready pod, budget met (IfHealthyBudget): goes free', phase: 'Running', ready: false, status: { currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 }, allowed: 0 },
  {
    name: 'unready pod, budget not met (IfHealthyBudget): 429',
    phase: 'Running',
    ready: false,
    status: { currentHealthy: 1, desiredHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 },
    refused: [429, 'The disruption budget b needs 2 healthy pods and has 1 currently'],
    allowed: 0,
  },
  { name: 'unready pod, budget not met, AlwaysAllow: goes free', phase: 'Running', ready: false, policy: 'AlwaysAllow', status: { currentHealthy: 1, desiredHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 }, allowed: 0 },
  { name: 'pending pod: goes whatever the budget', phase: 'Pending', ready: false, status: { currentHealthy: 0, desiredHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 }, allowed: 0 },
  { name: 'failed pod: goes whatever the budget', phase: 'Failed', ready: false, status: { currentHealthy: 0, desiredHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 }, allowed: 0 },
];

test('eviction: budgets spent, refused or bypassed as kube-apiserver decides', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-eviction-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  const clock = new FakeClock();
  const registry = new Registry(backend, { clock });
  const pods = registry.store('pods');
  const pdbs = registry.store('poddisruptionbudgets', 'policy');
  try {
    for (const [i, c] of cases.entries()) {
      const ns = `ns${i}`;
      await pods.create(ns, { metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      await pods.guaranteedUpdate(ns, 'p', (p) => ({ ...p, status: { ...(p.status as object), phase: c.phase, conditions: [{ type: 'Ready', status: c.ready ? 'True' : 'False' }] } }), { subresource: 'status' });
      await pdbs.create(ns, { metadata: { name: 'b' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'x' } }, ...(c.policy ? { unhealthyPodEvictionPolicy: c.policy } : {}) } });
      await pdbs.guaranteedUpdate(ns, 'b', (b) => ({ ...b, status: { ...c.status, expectedPods: 3 } }), { subresource: 'status' });

      const run = evictionSubresource.create!({ store: pods, stores: registry, namespace: ns, name: 'p', body: { metadata: { name: 'p' } }, dryRun: false, clock });
      if (c.refused) {
        const err = await run.then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof StatusError, c.name);
        assert.deepEqual([err.code, err.details?.causes?.[0]?.message], c.refused, c.name);
        assert.ok(await pods.tryGet(ns, 'p'), `${c.name}: pod kept`);
      } else {
        await run;
        assert.equal(await pods.tryGet(ns, 'p'), null, `${c.name}: pod gone`);
      }
      const b = (await pdbs.get(ns, 'b')) as KubeObject as PodDisruptionBudget;
      assert.equal(b.status?.disruptionsAllowed, c.allowed, `${c.name}: disruptionsAllowed`);
      const spent = c.status.disruptionsAllowed - c.allowed === 1;
      assert.equal(b.status?.disruptedPods?.p !== undefined, spent, `${c.name}: recorded in disruptedPods`);
    }

    // A body naming another pod is a 400, as in kube-apiserver.
    const bad = await evictionSubresource.create!({ store: pods, stores: registry, namespace: 'ns0', name: 'p', body: {}, dryRun: false, clock }).then(() => undefined, (e: unknown) => e);
    assert.ok(bad instanceof StatusError);
    assert.deepEqual([bad.code, bad.message], [400, 'name in URL does not match name in Eviction object']);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
