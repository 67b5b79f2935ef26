import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease, Node, NodeCondition, Pod, Taint, Toleration } from '../../api/types.ts';
import { FakeClock, rfc3339 } from '../../util/clock.ts';
import { makeNode, makePod } from '../../testing/objects.ts';
import { CidrAllocator, CidrError } from './cidr.ts';
import { evictionDecision } from './eviction.ts';
import { MESSAGE_UNKNOWN, NodeHealthTracker, REASON_NEVER_UPDATED, REASON_UNKNOWN, conditionsUnknown } from './health.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, desiredTaints, reconcileTaints, toleratesTaint } from './taints.ts';

// --- builders ---------------------------------------------------------------------------------------

/** The one pod the eviction cases need: on n1, with these tolerations. */
const podTolerating = (...tolerations: Toleration[]): Pod => makePod('p').onNode('n1').toleration(...tolerations).build();

const lease = (renewTime: string): Lease => ({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime } });

// --- taints -----------------------------------------------------------------------------------------

test('desiredTaints: controller taints follow conditions and cordon', () => {
  const cases: Array<[string, Node, string[]]> = [
    ['ready node', makeNode().ready('True').build(), []],
    ['not ready', makeNode().ready('False').build(), [`${TAINT_NOT_READY}:NoExecute`, `${TAINT_NOT_READY}:NoSchedule`]],
    ['unknown', makeNode().ready('Unknown').build(), [`${TAINT_UNREACHABLE}:NoExecute`, `${TAINT_UNREACHABLE}:NoSchedule`]],
    ['no Ready condition yet', makeNode().build(), []],
    ['memory pressure', makeNode().ready('True').condition('MemoryPressure', 'True').build(), ['node.kubernetes.io/memory-pressure:NoSchedule']],
    ['disk pressure unknown is no taint', makeNode().ready('True').condition('DiskPressure', 'Unknown').build(), []],
    ['cordoned', makeNode().ready('True').unschedulable().build(), ['node.kubernetes.io/unschedulable:NoSchedule']],
  ];
  for (const [name, node, want] of cases) {
    assert.deepEqual(desiredTaints(node).map((t) => `${t.key}:${t.effect}`).sort(), want.sort(), name);
  }
});

test('reconcileTaints: adds with timeAdded on NoExecute, removes only controller-owned taints, keeps the rest', () => {
  const now = '2026-01-01T00:01:00Z';
  const user: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoExecute' };
  const oldUnreachable: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2026-01-01T00:00:10Z' };
  const cases: Array<{ name: string; current: Taint[]; desired: Taint[]; want: Taint[] | undefined }> = [
    { name: 'nothing to do', current: [user], desired: [], want: undefined },
    {
      name: 'node goes unknown',
      current: [user],
      desired: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute' }, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }],
      want: [user, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: now }, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }],
    },
    { name: 'existing taint keeps its timeAdded', current: [oldUnreachable], desired: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute' }], want: undefined },
    { name: 'node comes back', current: [user, oldUnreachable, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }], desired: [], want: [user] },
    {
      name: 'unknown to not-ready swaps the taint',
      current: [oldUnreachable],
      desired: [{ key: TAINT_NOT_READY, effect: 'NoExecute' }],
      want: [{ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: now }],
    },
    { name: 'a user taint with a managed key but another effect is kept', current: [{ key: TAINT_UNREACHABLE, effect: 'PreferNoSchedule' }], desired: [], want: undefined },
  ];
  for (const c of cases) assert.deepEqual(reconcileTaints(c.current, c.desired, now), c.want, c.name);
});

test('toleratesTaint: key, value, operator and effect matching', () => {
  const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
  const cases: Array<[Toleration, boolean]> = [
    [{ key: 'k', value: 'v', effect: 'NoExecute' }, true],
    [{ key: 'k', operator: 'Equal', value: 'v' }, true],
    [{ key: 'k', value: 'other' }, false],
    [{ key: 'k', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, false],
    [{ key: 'x', operator: 'Exists' }, false],
  ];
  for (const [t, want] of cases) assert.equal(toleratesTaint(t, taint), want, JSON.stringify(t));
});

// --- eviction timing --------------------------------------------------------------------------------

test('evictionDecision: tolerations decide when a pod on a NoExecute-tainted node goes', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 1, 0));
  const addedAt = Date.UTC(2026, 0, 1, 0, 0, 30);
  const unreachable: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: rfc3339(addedAt) };
  const user: Taint = { key: 'maintenance', effect: 'NoExecute' }; // no timeAdded: counted from first sight
  const firstSeen = Date.UTC(2026, 0, 1, 0, 0, 50);
  const tol = (key: string, seconds?: number): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  const cases: Array<{ name: string; taints: Taint[]; pod: Pod; want: string }> = [
    { name: 'no NoExecute taint', taints: [{ key: 'x', effect: 'NoSchedule' }], pod: podTolerating(), want: 'keep' },
    { name: 'no toleration: at once', taints: [unreachable], pod: podTolerating(), want: 'evict' },
    { name: 'tolerates for ever', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE)), want: 'keep' },
    { name: '300 s from timeAdded', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 300)), want: `wait ${addedAt + 300_000}` },
    { name: 'deadline passed already', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 20)), want: 'evict' },
    { name: 'exactly at the deadline', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 30)), want: 'evict' },
    { name: 'zero seconds: at once', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 0)), want: 'evict' },
    { name: 'negative seconds count as zero', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, -5)), want: 'evict' },
    { name: 'one untolerated taint of two', taints: [unreachable, user], pod: podTolerating(tol(TAINT_UNREACHABLE)), want: 'evict' },
    { name: 'earliest deadline wins', taints: [unreachable, user], pod: podTolerating(tol(TAINT_UNREACHABLE, 600), tol('maintenance', 60)), want: `wait ${firstSeen + 60_000}` },
    { name: 'forever and timed: timed decides', taints: [unreachable, user], pod: podTolerating(tol(TAINT_UNREACHABLE), tol('maintenance', 60)), want: `wait ${firstSeen + 60_000}` },
    { name: 'wildcard toleration', taints: [unreachable, user], pod: podTolerating({ operator: 'Exists' }), want: 'keep' },
    { name: 'NoSchedule toleration does not count', taints: [unreachable], pod: podTolerating({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }), want: 'evict' },
    { name: 'first matching toleration decides', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 600), tol(TAINT_UNREACHABLE)), want: `wait ${addedAt + 600_000}` },
  ];
  for (const c of cases) {
    const d = evictionDecision(c.pod, c.taints, clock.now(), () => firstSeen);
    const got = d.action === 'wait' ? `wait ${d.at}` : d.action;
    assert.equal(got, c.want, c.name);
  }
});

// --- health -----------------------------------------------------------------------------------------

test('NodeHealthTracker: lease renewals and heartbeats move the probe time; silence does not', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 10));
  const h = new NodeHealthTracker();
  const node = makeNode().ready('True', '2026-01-01T00:00:05Z').build();
  const t0 = clock.now();
  assert.equal(h.observe(node, lease('2026-01-01T00:00:05.000000Z'), clock.now()), t0, 'first sight counts as heard from');
  clock.advance(20_000);
  assert.equal(h.observe(node, lease('2026-01-01T00:00:05.000000Z'), clock.now()), t0, 'nothing new');
  assert.equal(h.observe(node, lease('2026-01-01T00:00:25.000000Z'), clock.now()), clock.now(), 'lease renewed');
  const renewed = clock.now();
  clock.advance(5000);
  assert.equal(h.observe(node, undefined, clock.now()), renewed, 'a lease that disappears is not a renewal');
  const beat = makeNode().ready('True', '2026-01-01T00:00:40Z').build();
  assert.equal(h.observe(beat, undefined, clock.now()), clock.now(), 'status heartbeat');
});

test('NodeHealthTracker: a node that never reported counts from its creation', () => {
  const created = Date.UTC(2026, 0, 1);
  const h = new NodeHealthTracker();
  const node = makeNode().build();
  node.metadata!.creationTimestamp = rfc3339(created);
  assert.equal(h.observe(node, undefined, created + 100_000), created);
});

test('conditionsUnknown: every agent condition goes Unknown once, heartbeats kept, missing ones added', () => {
  const now = '2026-01-01T00:05:00Z';
  const node = makeNode().ready('True', '2026-01-01T00:00:05Z').condition('MemoryPressure', 'False').condition('NetworkUnavailable', 'False').build();
  const conds = conditionsUnknown(node, now)!;
  const byType = new Map<string, NodeCondition>(conds.map((c) => [c.type, c]));
  assert.deepEqual(byType.get('Ready'), { type: 'Ready', status: 'Unknown', reason: REASON_UNKNOWN, message: MESSAGE_UNKNOWN, lastHeartbeatTime: '2026-01-01T00:00:05Z', lastTransitionTime: now });
  assert.equal(byType.get('MemoryPressure')?.status, 'Unknown');
  assert.equal(byType.get('DiskPressure')?.reason, REASON_NEVER_UPDATED);
  assert.equal(byType.get('NetworkUnavailable')?.status, 'False', 'not an agent condition');
  assert.equal(conditionsUnknown({ ...node, status: { conditions: conds } }, now), undefined, 'already Unknown: no write');
});

// --- CIDR allocation --------------------------------------------------------------------------------

test('CidrAllocator: lowest free /24, rebuilt from nodes, freed on delete', () => {
  const a = new CidrAllocator('10.244.0.0/16');
  assert.equal(a.capacity, 256);
  a.setNode('old1', ['10.244.0.0/24']);
  a.setNode('old2', ['10.244.2.0/24']);
  a.setNode('foreign', ['192.168.0.0/24', '10.244.1.0/25']); // outside the range or another size: ignored
  assert.equal(a.next('n1'), '10.244.1.0/24');
  assert.equal(a.next('n2'), '10.244.3.0/24');
  a.removeNode('old1');
  assert.equal(a.next('n3'), '10.244.0.0/24');
  // A subnet two nodes claim stays used until both are gone.
  a.setNode('dup', ['10.244.2.0/24']);
  a.removeNode('old2');
  assert.equal(a.next('n4'), '10.244.4.0/24');
});

test('CidrAllocator: other ranges and mask sizes; exhaustion; bad input', () => {
  const cases: Array<[string, number, string[]]> = [
    ['10.0.0.0/8', 16, ['10.0.0.0/16', '10.1.0.0/16']],
    ['172.16.5.0/24', 26, ['172.16.5.0/26', '172.16.5.64/26']],
    ['10.244.7.9/16', 24, ['10.244.0.0/24', '10.244.1.0/24']],
  ];
  for (const [cluster, mask, want] of cases) {
    const a = new CidrAllocator(cluster, mask);
    assert.deepEqual([a.next('a'), a.next('b')], want, cluster);
  }
  const small = new CidrAllocator('10.9.0.0/23', 24);
  assert.equal(small.next('a'), '10.9.0.0/24');
  assert.equal(small.next('b'), '10.9.1.0/24');
  assert.equal(small.next('c'), undefined);
  for (const [cidr, mask] of [['10.0.0.0', 24], ['10.0.0.0/33', 24], ['300.0.0.0/16', 24], ['10.0.0.0/16', 8], ['10.0.0.0/4', 24]] as const) {
    assert.throws(() => new CidrAllocator(cidr, mask), CidrError, `${cidr} /${mask}`);
  }
});
