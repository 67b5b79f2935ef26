import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease, Node, NodeCondition, Pod, Taint, Toleration } from '../../api/types.ts';
import { FakeClock, rfc3339 } from '../../util/clock.ts';
import { makeNode, makePod } from '../../testing/objects.ts';
import { CidrAllocator, CidrError } from './cidr.ts';
import { EvictionSchedule, tolerationVerdict } from './eviction.ts';
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

const tol = (key: string, seconds?: number): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
const unreachable: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2025-12-31T23:00:00Z' };
const maintenance: Taint = { key: 'maintenance', effect: 'NoExecute' };

test('tolerationVerdict: first matching toleration per taint, smallest tolerationSeconds decides', () => {
  const cases: Array<{ name: string; taints: Taint[]; pod: Pod; want: string }> = [
    { name: 'no taints', taints: [], pod: podTolerating(), want: 'untainted' },
    { name: 'no NoExecute taint', taints: [{ key: 'x', effect: 'NoSchedule' }], pod: podTolerating(), want: 'untainted' },
    { name: 'no toleration', taints: [unreachable], pod: podTolerating(), want: `untolerated ${TAINT_UNREACHABLE}` },
    { name: 'tolerated for ever', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE)), want: 'forever' },
    { name: '300 s', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 300)), want: 'timed 300000' },
    { name: 'zero seconds', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 0)), want: 'timed 0' },
    { name: 'negative seconds count as zero', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, -5)), want: 'timed 0' },
    { name: 'one untolerated taint of two', taints: [unreachable, maintenance], pod: podTolerating(tol(TAINT_UNREACHABLE)), want: 'untolerated maintenance' },
    { name: 'two taints: the minimum', taints: [unreachable, maintenance], pod: podTolerating(tol(TAINT_UNREACHABLE, 600), tol('maintenance', 60)), want: 'timed 60000' },
    { name: 'for ever and timed: timed decides', taints: [unreachable, maintenance], pod: podTolerating(tol(TAINT_UNREACHABLE), tol('maintenance', 60)), want: 'timed 60000' },
    { name: 'wildcard toleration', taints: [unreachable, maintenance], pod: podTolerating({ operator: 'Exists' }), want: 'forever' },
    { name: 'NoSchedule toleration does not count', taints: [unreachable], pod: podTolerating({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }), want: `untolerated ${TAINT_UNREACHABLE}` },
    { name: 'first matching toleration decides', taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE, 600), tol(TAINT_UNREACHABLE)), want: 'timed 600000' },
  ];
  for (const c of cases) {
    const v = tolerationVerdict(c.pod, c.taints);
    const got = v.kind === 'timed' ? `timed ${v.ms}` : v.kind === 'untolerated' ? `untolerated ${v.taint.key}` : v.kind;
    assert.equal(got, c.want, c.name);
  }
});

// Each step: advance the clock by `after` ms, then decide with these taints (or a pod change);
// `want` is the decision printed as `keep`, `keep cancelled`, `evict`, `evict cancelled` or `wait +N`
// (N: ms from the start of the case).
interface Step {
  after: number;
  taints?: Taint[];
  pod?: Pod;
  node?: string;
  forget?: boolean;
  evicted?: boolean;
  want: string;
}

test('EvictionSchedule: the period starts when the pod is first seen under the taint', () => {
  const p300 = podTolerating(tol(TAINT_UNREACHABLE, 300));
  const cases: Array<{ name: string; pod: Pod; steps: Step[] }> = [
    {
      name: 'a node tainted long ago (timeAdded an hour back): the full 300 s from first sight',
      pod: p300,
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +300000' },
        { after: 299_000, taints: [unreachable], want: 'wait +300000' },
        { after: 1000, taints: [unreachable], want: 'evict' },
      ],
    },
    {
      name: 'no taint yet, then the taint: counted from when it is seen',
      pod: p300,
      steps: [
        { after: 0, taints: [], want: 'keep' },
        { after: 50_000, taints: [unreachable], want: 'wait +350000' },
        { after: 300_000, taints: [unreachable], want: 'evict' },
      ],
    },
    { name: 'no toleration: at once', pod: podTolerating(), steps: [{ after: 0, taints: [unreachable], want: 'evict' }] },
    { name: 'tolerationSeconds 0: at once', pod: podTolerating(tol(TAINT_UNREACHABLE, 0)), steps: [{ after: 0, taints: [unreachable], want: 'evict' }] },
    { name: 'negative tolerationSeconds: at once', pod: podTolerating(tol(TAINT_UNREACHABLE, -10)), steps: [{ after: 0, taints: [unreachable], want: 'evict' }] },
    { name: 'tolerated for ever', pod: podTolerating(tol(TAINT_UNREACHABLE)), steps: [{ after: 0, taints: [unreachable], want: 'keep' }] },
    {
      name: 'taint removed before the deadline cancels; back again starts a new period',
      pod: p300,
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +300000' },
        { after: 200_000, taints: [], want: 'keep cancelled' },
        { after: 0, taints: [], want: 'keep' },
        { after: 50_000, taints: [unreachable], want: 'wait +550000' },
      ],
    },
    {
      name: 'two taints, different tolerations: the minimum, from first sight',
      pod: podTolerating(tol(TAINT_UNREACHABLE, 600), tol('maintenance', 60)),
      steps: [
        { after: 0, taints: [unreachable, maintenance], want: 'wait +60000' },
        { after: 60_000, taints: [unreachable, maintenance], want: 'evict' },
      ],
    },
    {
      name: 'a second taint with a shorter toleration keeps the start and shortens the deadline',
      pod: podTolerating(tol(TAINT_UNREACHABLE, 600), tol('maintenance', 60)),
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +600000' },
        { after: 30_000, taints: [unreachable, maintenance], want: 'wait +60000' },
        { after: 30_000, taints: [unreachable, maintenance], want: 'evict' },
      ],
    },
    {
      name: 'the taints swap (unreachable to not-ready), both tolerated for a while: the period runs on',
      pod: podTolerating(tol(TAINT_UNREACHABLE, 300), tol(TAINT_NOT_READY, 300)),
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +300000' },
        { after: 100_000, taints: [{ key: TAINT_NOT_READY, effect: 'NoExecute' }], want: 'wait +300000' },
      ],
    },
    {
      name: 'a running period replaced by an untolerated taint: cancelled, then evicted at once',
      pod: p300,
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +300000' },
        { after: 1000, taints: [unreachable, maintenance], want: 'evict cancelled' },
      ],
    },
    {
      name: 'the pod becomes tolerated for ever: cancelled',
      pod: p300,
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +300000' },
        { after: 1000, taints: [unreachable], pod: podTolerating(tol(TAINT_UNREACHABLE)), want: 'keep cancelled' },
      ],
    },
    {
      name: 'the pod goes before its deadline: forget reports the cancelled deletion; gone after eviction: nothing to cancel',
      pod: p300,
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +300000' },
        { after: 1000, forget: true, want: 'cancelled' },
        { after: 1000, forget: true, want: 'nothing' },
      ],
    },
    {
      name: 'evicted: later passes before the pod goes do nothing',
      pod: p300,
      steps: [
        { after: 300_000, taints: [unreachable], want: 'wait +600000' },
        { after: 300_000, taints: [unreachable], want: 'evict' },
        { after: 0, evicted: true, want: 'recorded' },
        { after: 1000, taints: [unreachable, maintenance], want: 'keep' },
        { after: 0, taints: [], want: 'keep' },
      ],
    },
    {
      name: 'seen on another node (a new binding under the same uid): a new period',
      pod: p300,
      steps: [
        { after: 0, taints: [unreachable], want: 'wait +300000' },
        { after: 100_000, taints: [unreachable], node: 'n2', want: 'wait +400000' },
      ],
    },
  ];
  for (const c of cases) {
    const clock = new FakeClock();
    const start = clock.now();
    const s = new EvictionSchedule();
    let pod = c.pod;
    c.steps.forEach((step, i) => {
      clock.advance(step.after);
      if (step.pod) pod = { ...step.pod, metadata: pod.metadata };
      let got: string;
      if (step.forget) got = s.forget(pod.metadata!.uid!) ? 'cancelled' : 'nothing';
      else if (step.evicted) {
        s.evicted(pod, step.node ?? 'n1', clock.now());
        got = 'recorded';
      } else {
        const d = s.decide(pod, step.node ?? 'n1', step.taints, clock.now());
        got = d.action === 'wait' ? `wait +${d.at - start}` : `${d.action}${d.cancelled ? ' cancelled' : ''}`;
      }
      assert.equal(got, step.want, `${c.name}: step ${i}`);
    });
  }
});

test('EvictionSchedule: clear() (a restart) starts every period afresh', () => {
  const clock = new FakeClock();
  const s = new EvictionSchedule();
  const pod = podTolerating(tol(TAINT_UNREACHABLE, 300));
  assert.deepEqual(s.decide(pod, 'n1', [unreachable], clock.now()), { action: 'wait', at: clock.now() + 300_000 });
  clock.advance(200_000);
  s.clear();
  assert.equal(s.since(pod.metadata!.uid!), undefined);
  assert.deepEqual(s.decide(pod, 'n1', [unreachable], clock.now()), { action: 'wait', at: clock.now() + 300_000 });
  assert.equal(s.since(pod.metadata!.uid!), clock.now());
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
