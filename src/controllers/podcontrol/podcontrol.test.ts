import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types.ts';
import { FakeClock } from '../../util/clock.ts';
import { makePod } from '../../testing/objects.ts';
import { Expectations } from './expectations.ts';
import { slowStartBatch } from './slowstart.ts';
import { availableIn, colocationRank, deletionOrder, isPodActive, isPodAvailable } from './pods.ts';
import { canonicalJSON, computeHash, fnv32a, safeEncode } from './hash.ts';
import { podFromTemplate } from './template.ts';

describe('Expectations', () => {
  it('is satisfied once every expected creation and deletion was observed', () => {
    const e = new Expectations(new FakeClock(0));
    assert.equal(e.satisfied('ns/a'), true, 'nothing recorded');
    e.expect('ns/a', 2, ['u1']);
    assert.equal(e.satisfied('ns/a'), false);
    e.creationObserved('ns/a');
    e.creationObserved('ns/a');
    assert.equal(e.satisfied('ns/a'), false, 'the deletion is still pending');
    e.deletionObserved('ns/a', 'other');
    assert.equal(e.satisfied('ns/a'), false, 'another uid does not count');
    e.deletionObserved('ns/a', 'u1');
    assert.equal(e.satisfied('ns/a'), true);
  });

  it('expires after its TTL, so a lost event cannot block a controller forever', () => {
    const clock = new FakeClock(0);
    const e = new Expectations(clock, 1000);
    e.expect('k', 3);
    clock.advance(1000);
    assert.equal(e.satisfied('k'), false);
    clock.advance(1);
    assert.equal(e.satisfied('k'), true);
    e.forget('k');
    assert.equal(e.pendingCreations('k'), 0);
  });
});

describe('slowStartBatch', () => {
  const table = [
    { name: 'all succeed', count: 10, failAt: -1, want: { successes: 10, failures: 0, skipped: 0 }, calls: 10 },
    { name: 'the first call fails: nothing else is tried', count: 10, failAt: 0, want: { successes: 0, failures: 1, skipped: 9 }, calls: 1 },
    { name: 'a failure in the batch of 4 stops before the batch of 3', count: 10, failAt: 4, want: { successes: 6, failures: 1, skipped: 3 }, calls: 7 },
    { name: 'zero calls', count: 0, failAt: -1, want: { successes: 0, failures: 0, skipped: 0 }, calls: 0 },
  ];
  for (const t of table) {
    it(t.name, async () => {
      let calls = 0;
      const r = await slowStartBatch(t.count, async (i) => {
        calls++;
        if (i === t.failAt) throw new Error('refused');
      });
      assert.deepEqual({ successes: r.successes, failures: r.failures, skipped: r.skipped }, t.want);
      assert.equal(calls, t.calls);
    });
  }

  it('runs batches of 1, 2, 4, 8 in parallel', async () => {
    const batches: number[] = [];
    let inFlight = 0;
    let peak = 0;
    await slowStartBatch(15, async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      if (inFlight === peak) batches.push(peak);
      inFlight--;
    });
    assert.deepEqual(batches.filter((b, i, a) => a.indexOf(b) === i), [1, 2, 4, 8]);
  });
});

describe('pods', () => {
  const ready = (since: string) => ({ type: 'Ready', status: 'True', lastTransitionTime: since });
  const at = (iso: string) => Date.parse(iso);

  it('availability waits minReadySeconds after Ready', () => {
    const p = makePod('a').build();
    p.status = { phase: 'Running', conditions: [ready('2026-01-01T00:00:00Z')] };
    assert.equal(isPodAvailable(p, 0, at('2026-01-01T00:00:00Z')), true);
    assert.equal(isPodAvailable(p, 10, at('2026-01-01T00:00:09Z')), false);
    assert.equal(isPodAvailable(p, 10, at('2026-01-01T00:00:10Z')), true);
    assert.equal(availableIn(p, 10, at('2026-01-01T00:00:04Z')), 6000);
    assert.equal(availableIn(p, 10, at('2026-01-01T00:00:11Z')), undefined);
  });

  it('active pods are neither finished nor terminating', () => {
    const p = (phase: string, deleting = false): Pod => ({ metadata: { name: 'x', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) }, status: { phase } });
    assert.deepEqual([p('Pending'), p('Running'), p('Succeeded'), p('Failed'), p('Running', true)].map(isPodActive), [true, true, false, false, false]);
  });

  it('deletes unscheduled, then pending, then not ready, then crowded, then ready for less time, then newest pods first', () => {
    const pod = (name: string, o: { node?: string; phase?: string; ready?: string; restarts?: number; created?: string }): Pod => ({
      metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
      spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
      status: { phase: o.phase ?? 'Running', conditions: o.ready ? [ready(o.ready)] : [], containerStatuses: [{ name: 'c', ready: !!o.ready, restartCount: o.restarts ?? 0, image: '', imageID: '' }] },
    });
    const pods = [
      pod('old-ready', { node: 'n1', ready: '2026-01-01T00:00:00Z' }),
      pod('young-ready', { node: 'n2', ready: '2026-01-01T01:00:00Z' }),
      pod('crowded', { node: 'n3', ready: '2026-01-01T00:00:00Z' }),
      pod('crowded-2', { node: 'n3', ready: '2026-01-01T00:00:00Z', created: '2025-12-01T00:00:00Z' }),
      pod('not-ready', { node: 'n1' }),
      pod('restarting', { node: 'n2', restarts: 5 }),
      pod('pending', { node: 'n1', phase: 'Pending' }),
      pod('unscheduled', { phase: 'Pending' }),
    ];
    const order = deletionOrder(pods, colocationRank(pods)).map((p) => p.metadata!.name);
    // n1 holds three of them, so its pods rank before n2's and n3's at the same readiness.
    assert.deepEqual(order, ['unscheduled', 'pending', 'not-ready', 'restarting', 'old-ready', 'young-ready', 'crowded', 'crowded-2']);
  });
});

describe('hash', () => {
  it('is FNV-1a printed with the safe alphabet', () => {
    assert.equal(fnv32a(''), 0x811c9dc5);
    assert.equal(fnv32a('a'), 0xe40c292c);
    // Character codes modulo the alphabet's length, as rand.SafeEncodeString: '0' is 48, 48 % 27 = 21.
    assert.equal(safeEncode('0123456789'), '456789bcdf');
  });

  it('does not depend on key order, and changes with the template and the collision count', () => {
    const a = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const b = { spec: { containers: [{ image: 'x', name: 'c' }] }, metadata: { labels: { app: 'web' } } };
    assert.equal(canonicalJSON(a), canonicalJSON(b));
    assert.equal(computeHash(a), computeHash(b));
    assert.notEqual(computeHash(a), computeHash({ ...a, spec: { containers: [{ name: 'c', image: 'y' }] } }));
    assert.notEqual(computeHash(a), computeHash(a, 1));
    assert.match(computeHash(a), /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
  });
});

describe('podFromTemplate', () => {
  it('copies labels, annotations, finalizers and spec, names after the owner and sets the controller ref', () => {
    const template = { metadata: { labels: { app: 'web' }, annotations: { a: '1' }, finalizers: ['f'] }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const pod = podFromTemplate(template, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u1' }, 'prod');
    assert.deepEqual(pod.metadata, {
      namespace: 'prod', generateName: 'web-abc-', labels: { app: 'web' }, annotations: { a: '1' }, finalizers: ['f'],
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u1', controller: true, blockOwnerDeletion: true }],
    });
    pod.spec!.containers[0].image = 'changed';
    assert.equal(template.spec.containers[0].image, 'busybox', 'the template is not shared');
  });
});
