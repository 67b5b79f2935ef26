import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, DeploymentStatus, ReplicaSet } from '../../api/types.ts';
import { rfc3339 } from '../../util/clock.ts';
import * as r from './rollout.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function deploy(replicas: number, o: { surge?: number | string; unavailable?: number | string; recreate?: boolean; status?: DeploymentStatus; generation?: number; annotations?: Record<string, string>; history?: number } = {}): Deployment {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: o.generation ?? 1, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } },
      strategy: o.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? '25%', maxUnavailable: o.unavailable ?? '25%' } },
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: o.history ?? 10,
    },
    status: o.status ?? {},
  };
}

let seq = 0;
function rs(name: string, replicas: number, o: { available?: number; actual?: number; ready?: number; createdAt?: number; revision?: number; max?: number; desired?: number; image?: string } = {}): ReplicaSet {
  const annotations: Record<string, string> = {};
  if (o.revision !== undefined) annotations[r.REVISION] = String(o.revision);
  if (o.max !== undefined) annotations[r.MAX_REPLICAS] = String(o.max);
  if (o.desired !== undefined) annotations[r.DESIRED_REPLICAS] = String(o.desired);
  const actual = o.actual ?? replicas;
  return {
    metadata: { name, namespace: 'default', uid: `${name}-uid`, creationTimestamp: rfc3339(o.createdAt ?? T0 + ++seq * 1000), annotations, generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web', [r.POD_TEMPLATE_HASH]: name } },
      template: { metadata: { labels: { app: 'web', [r.POD_TEMPLATE_HASH]: name } }, spec: { containers: [{ name: 'c', image: o.image ?? 'busybox:1' }] } },
    },
    status: { replicas: actual, readyReplicas: o.ready ?? o.available ?? actual, availableReplicas: o.available ?? actual, observedGeneration: 1 },
  };
}

test('resolveFenceposts: surge rounds up, unavailable down, both zero leaves one unavailable', () => {
  const cases: Array<[number | string, number | string, number, number, number]> = [
    ['25%', '25%', 10, 3, 2],
    [1, 1, 10, 1, 1],
    [0, 0, 10, 0, 1],
    ['0%', '0%', 3, 0, 1],
    ['25%', '25%', 1, 1, 0],
    ['50%', 0, 3, 2, 0],
    [0, '100%', 4, 0, 4],
    ['10%', '10%', 0, 0, 1],
  ];
  for (const [surge, unavailable, desired, wantSurge, wantUnavailable] of cases) {
    assert.deepEqual(r.resolveFenceposts(surge, unavailable, desired), { surge: wantSurge, unavailable: wantUnavailable }, `${surge}/${unavailable} of ${desired}`);
  }
});

test('maxSurge and maxUnavailable of a Deployment: capped at desired, none for Recreate or zero replicas', () => {
  assert.equal(r.maxUnavailable(deploy(3, { surge: 0, unavailable: 5 })), 3);
  assert.equal(r.maxUnavailable(deploy(0, { surge: 1, unavailable: 1 })), 0);
  assert.equal(r.maxUnavailable(deploy(10, { recreate: true })), 0);
  assert.equal(r.maxSurge(deploy(10, { recreate: true })), 0);
  assert.equal(r.maxSurge(deploy(10)), 3);
});

test('newRSNewReplicas: within maxSurge and never beyond desired; Recreate takes all', () => {
  const cases: Array<{ name: string; d: Deployment; old: number; current: number; want: number }> = [
    { name: 'first step of 10 with surge 1', d: deploy(10, { surge: 1, unavailable: 1 }), old: 10, current: 0, want: 1 },
    { name: 'old scaled down one', d: deploy(10, { surge: 1, unavailable: 1 }), old: 9, current: 1, want: 2 },
    { name: 'at the surge limit', d: deploy(10, { surge: 1, unavailable: 1 }), old: 10, current: 1, want: 1 },
    { name: '25% of 10 rounds up to 3', d: deploy(10), old: 10, current: 0, want: 3 },
    { name: 'no old left: all desired', d: deploy(10, { surge: 1, unavailable: 1 }), old: 0, current: 4, want: 10 },
    { name: 'recreate', d: deploy(5, { recreate: true }), old: 5, current: 0, want: 5 },
  ];
  for (const c of cases) {
    const newRS = rs('new', c.current);
    assert.equal(r.newRSNewReplicas(c.d, [rs('old', c.old), newRS], newRS), c.want, c.name);
  }
  // An old ReplicaSet shrunk to 8 whose 10 pods are not yet deleted holds 10: no room for more new pods.
  const d = deploy(10, { surge: 1, unavailable: 1 });
  const newRS = rs('new', 1);
  assert.equal(r.newRSNewReplicas(d, [rs('old', 8, { actual: 10 }), newRS], newRS), 1);
  assert.equal(r.newRSNewReplicas(d, [rs('old', 8), newRS], newRS), 3);
});

test('proportional scaling spreads a resize over active ReplicaSets by their share', () => {
  const sizes = (steps: Array<{ rs: ReplicaSet; replicas: number }>) => Object.fromEntries(steps.map((s) => [s.rs.metadata?.name, s.replicas]));
  const cases: Array<{ name: string; d: Deployment; rss: ReplicaSet[]; want: Record<string, number> }> = [
    {
      // 10 (+3 surge) scaled to 20 (+3): 13 → 23 pods, in proportion 8:5.
      name: 'scale up mid-rollout',
      d: deploy(20, { surge: 3, unavailable: 2 }),
      rss: [rs('old', 8, { max: 13 }), rs('new', 5, { max: 13 })],
      want: { old: 14, new: 9 },
    },
    { name: 'scale down mid-rollout', d: deploy(5, { surge: 3, unavailable: 2 }), rss: [rs('old', 8, { max: 13 }), rs('new', 5, { max: 13 })], want: { old: 5, new: 3 } },
    { name: 'scale to zero', d: deploy(0, { surge: 3, unavailable: 2 }), rss: [rs('old', 8, { max: 13 }), rs('new', 5, { max: 13 })], want: { old: 0, new: 0 } },
    {
      // Every share rounds to 0: the leftover goes to the first (largest, then newest).
      name: 'leftover to the newest of equals',
      d: deploy(4, { surge: 0, unavailable: 1 }),
      rss: [rs('a', 1, { max: 3, createdAt: T0 }), rs('b', 1, { max: 3, createdAt: T0 + 1000 }), rs('c', 1, { max: 3, createdAt: T0 + 2000 })],
      want: { c: 2, b: 1, a: 1 },
    },
    {
      name: 'without max-replicas the current size is the base',
      d: deploy(20, { surge: 3, unavailable: 2, status: { replicas: 13 } }),
      rss: [rs('old', 8), rs('new', 5)],
      want: { old: 14, new: 9 },
    },
    { name: 'nothing to add', d: deploy(10, { surge: 3, unavailable: 2 }), rss: [rs('old', 8, { max: 13 }), rs('new', 5, { max: 13 })], want: { old: 8, new: 5 } },
  ];
  for (const c of cases) {
    const [newRS, ...olds] = [...c.rss].reverse();
    assert.deepEqual(sizes(r.proportionalScale(c.d, newRS, olds)), c.want, c.name);
  }
});

test('findNewReplicaSet ignores the hash label and prefers the oldest match', () => {
  const d = deploy(3);
  const a = rs('a', 1, { image: 'busybox:2', createdAt: T0 + 5000 });
  const b = rs('b', 1, { image: 'busybox:2', createdAt: T0 + 1000 });
  const old = rs('old', 2, { image: 'busybox:1' });
  assert.equal(r.findNewReplicaSet(d, [old, a, b]), b);
  assert.equal(r.findNewReplicaSet(d, [old]), undefined);
  assert.deepEqual(r.findOldReplicaSets([old, a, b], b), [old, a]);
});

test('findActiveOrLatest and isSaturated', () => {
  const d = deploy(3);
  const newRS = rs('new', 3, { desired: 3 });
  const old = rs('old', 0);
  assert.equal(r.findActiveOrLatest(newRS, [old]), newRS);
  assert.equal(r.findActiveOrLatest(rs('n2', 1), [rs('o2', 2)]), undefined);
  assert.equal(r.findActiveOrLatest(undefined, [rs('x', 0, { createdAt: T0 }), rs('y', 0, { createdAt: T0 + 1 })])?.metadata?.name, 'y');
  assert.equal(r.isSaturated(d, newRS), true);
  assert.equal(r.isSaturated(d, rs('new', 3, { desired: 3, available: 2 })), false);
  assert.equal(r.isSaturated(d, rs('new', 3)), false);
});

test('scaling old ReplicaSets down: unhealthy replicas first, then within maxUnavailable', () => {
  const d = deploy(10, { surge: 1, unavailable: 1 });
  // 10 old available + 1 new not yet available: one old may go.
  const old = rs('old', 10);
  const fresh = rs('new', 1, { available: 0 });
  assert.equal(r.maxScaledDown(d, [old, fresh], fresh), 1);
  assert.deepEqual(r.cleanupUnhealthy([old], 1), []);
  assert.deepEqual(r.scaleDownOld(d, [old, fresh], [old]).map((s) => s.replicas), [9]);
  // The new pod became available: two may go (11 available, 9 needed).
  const ready = rs('new', 1);
  assert.deepEqual(r.scaleDownOld(d, [old, ready], [old]).map((s) => s.replicas), [8]);
  // Old ReplicaSets with unavailable pods lose those first, oldest first, up to the bound.
  const sick1 = rs('sick1', 4, { available: 2, createdAt: T0 });
  const sick2 = rs('sick2', 6, { available: 4, createdAt: T0 + 1000 });
  assert.deepEqual(r.cleanupUnhealthy([sick2, sick1], 3).map((s) => [s.rs.metadata?.name, s.replicas]), [['sick1', 2], ['sick2', 5]]);
  // Availability an old ReplicaSet's status still shows beyond its new size is not counted on.
  assert.deepEqual(r.scaleDownOld(d, [rs('old', 8, { available: 10 }), rs('new', 3, { available: 1 })], [rs('old', 8, { available: 10 })]), []);
  // Nothing available beyond the minimum: nothing goes.
  assert.deepEqual(r.scaleDownOld(d, [rs('old', 10, { available: 9 }), rs('new', 1, { available: 0 })], [old]), []);
});

test('revision annotations: copied annotations, the next revision, rollback history', () => {
  const d = deploy(3, { annotations: { team: 'a', [r.REVISION]: '9', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } });
  const fresh: ReplicaSet = { metadata: { name: 'web-x' }, spec: { selector: {}, replicas: 1 } };
  assert.equal(r.setNewReplicaSetAnnotations(d, fresh, 1, false), true);
  const ann = (): Record<string, string> => fresh.metadata?.annotations ?? {};
  assert.deepEqual(ann(), { team: 'a', [r.REVISION]: '1', [r.DESIRED_REPLICAS]: '3', [r.MAX_REPLICAS]: '4' });
  // Nothing new: no change.
  assert.equal(r.setNewReplicaSetAnnotations(d, fresh, 1, true), false);
  // Rolled back to: the revision moves on, the former one is kept.
  assert.equal(r.setNewReplicaSetAnnotations(d, fresh, 3, true), true);
  assert.equal(ann()[r.REVISION], '3');
  assert.equal(ann()[r.REVISION_HISTORY], '1');
  r.setNewReplicaSetAnnotations(d, fresh, 5, true);
  assert.equal(ann()[r.REVISION_HISTORY], '1,3');
  // A lower revision never lowers it.
  assert.equal(r.setNewReplicaSetAnnotations(d, fresh, 4, true), false);
  assert.equal(r.maxRevision([rs('a', 0, { revision: 2 }), rs('b', 0, { revision: 7 }), rs('c', 0)]), 7);
});

test('newReplicaSetFor: named and selected by the hash', () => {
  const out = r.newReplicaSetFor(deploy(3), 'abc12');
  assert.equal(out.metadata?.name, 'web-abc12');
  assert.deepEqual(out.spec?.selector, { matchLabels: { app: 'web', 'pod-template-hash': 'abc12' } });
  assert.deepEqual(out.spec?.template?.metadata?.labels, { app: 'web', 'pod-template-hash': 'abc12' });
  assert.deepEqual(out.metadata?.labels, { app: 'web', 'pod-template-hash': 'abc12' });
  assert.equal(out.spec?.replicas, 0);
});

test('status: counts from the ReplicaSets and the Available condition', () => {
  const d = deploy(10, { surge: 1, unavailable: 1, generation: 4 });
  const s = r.calculateStatus(d, [rs('old', 9, { available: 9, ready: 9 }), rs('new', 2, { available: 0, ready: 1 })], rs('new', 2, { available: 0, ready: 1 }), T0);
  assert.deepEqual({ ...s, conditions: undefined }, { observedGeneration: 4, replicas: 11, updatedReplicas: 2, readyReplicas: 10, availableReplicas: 9, unavailableReplicas: 2, conditions: undefined });
  assert.deepEqual(s.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']]);
  const low = r.calculateStatus(d, [rs('new', 10, { available: 8 })], undefined, T0);
  assert.deepEqual(low.conditions?.map((c) => [c.type, c.status, c.reason]), [['Available', 'False', 'MinimumReplicasUnavailable']]);
});

test('Progressing: complete, progressing (refreshing lastUpdateTime), timed out', () => {
  const progressing = (at: number, reason = r.RS_UPDATED_REASON) => r.newCondition('Progressing', 'True', reason, 'x', at);
  const cases: Array<{ name: string; d: Deployment; rss: ReplicaSet[]; now: number; want: [string, string, string] | undefined; updated?: number }> = [
    {
      name: 'complete',
      d: deploy(3, { status: { replicas: 3, updatedReplicas: 3, availableReplicas: 2, conditions: [progressing(T0)] } }),
      rss: [rs('new', 3)],
      now: T0 + 1000,
      want: ['True', r.NEW_RS_AVAILABLE_REASON, 'ReplicaSet "new" has successfully progressed.'],
    },
    {
      name: 'progress',
      d: deploy(3, { status: { replicas: 3, updatedReplicas: 1, availableReplicas: 2, conditions: [progressing(T0)] } }),
      rss: [rs('old', 2), rs('new', 2, { available: 1 })],
      now: T0 + 5000,
      want: ['True', r.RS_UPDATED_REASON, 'ReplicaSet "new" is progressing.'],
      updated: T0 + 5000,
    },
    {
      name: 'no progress within the deadline',
      d: deploy(3, { status: { replicas: 4, updatedReplicas: 1, availableReplicas: 3, readyReplicas: 3, conditions: [progressing(T0)] } }),
      rss: [rs('old', 3), rs('new', 1, { available: 0, ready: 0 })],
      now: T0 + 600_000,
      want: ['True', r.RS_UPDATED_REASON, 'x'],
      updated: T0,
    },
    {
      name: 'no progress past the deadline',
      d: deploy(3, { status: { replicas: 4, updatedReplicas: 1, availableReplicas: 3, readyReplicas: 3, conditions: [progressing(T0)] } }),
      rss: [rs('old', 3), rs('new', 1, { available: 0, ready: 0 })],
      now: T0 + 600_001,
      want: ['False', r.TIMED_OUT_REASON, 'ReplicaSet "new" has timed out progressing.'],
    },
    {
      name: 'a complete rollout is not looked at again',
      d: deploy(3, { status: { replicas: 3, updatedReplicas: 3, availableReplicas: 3, conditions: [progressing(T0, r.NEW_RS_AVAILABLE_REASON)] } }),
      rss: [rs('new', 3, { available: 1 })],
      now: T0 + 900_000,
      want: ['True', r.NEW_RS_AVAILABLE_REASON, 'x'],
    },
  ];
  for (const c of cases) {
    const newRS = c.rss[c.rss.length - 1];
    const s = r.rolloutStatus(c.d, c.rss, newRS, c.now);
    const p = r.getCondition(s, 'Progressing');
    assert.deepEqual(p && [p.status, p.reason, p.message], c.want, c.name);
    if (c.updated !== undefined) assert.equal(p?.lastUpdateTime, rfc3339(c.updated), c.name);
    // The transition time stays while the status stays True.
    if (p?.status === 'True') assert.equal(p.lastTransitionTime, rfc3339(T0), c.name);
  }
});

test('a stuck rollout is looked at again when its deadline passes', () => {
  const d = deploy(3, { status: { replicas: 4, updatedReplicas: 1, availableReplicas: 3, conditions: [r.newCondition('Progressing', 'True', r.RS_UPDATED_REASON, 'x', T0)] } });
  d.spec!.progressDeadlineSeconds = 10;
  const s = r.rolloutStatus(d, [rs('old', 3), rs('new', 1, { available: 0, ready: 0 })], undefined, T0 + 4000);
  assert.equal(r.stuckRequeueAfter(d, s, T0 + 4000), 6000);
});

test('ReplicaFailure of the new ReplicaSet is the Deployment\'s', () => {
  const bad = rs('new', 3, { available: 0, actual: 0 });
  bad.status!.conditions = [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "x" is forbidden', lastTransitionTime: rfc3339(T0) }];
  const s = r.rolloutStatus(deploy(3), [bad], bad, T0);
  const c = r.getCondition(s, 'ReplicaFailure');
  assert.deepEqual(c && [c.status, c.reason, c.message], ['True', 'FailedCreate', 'pods "x" is forbidden']);
});

test('history cleanup: old empty ReplicaSets beyond the limit, lowest revision first', () => {
  const d = deploy(3, { history: 1 });
  const olds = [rs('r3', 0, { revision: 3, actual: 0 }), rs('r1', 0, { revision: 1, actual: 0 }), rs('r2', 1, { revision: 2 })];
  assert.deepEqual(r.historyToDelete(d, olds).map((x) => x.metadata?.name), ['r1']);
  assert.deepEqual(r.historyToDelete(deploy(3, { history: 10 }), olds), []);
  const d0 = deploy(3, { history: 0 });
  assert.deepEqual(r.historyToDelete(d0, olds).map((x) => x.metadata?.name), ['r1', 'r3']);
});
