import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet, DaemonSetUpdateStrategy, Pod } from '../../api/types.ts';
import { makeNode, makePod } from '../../testing/objects.ts';
import { managePlan, rollingUpdatePlan, statusCounts, type NodePods } from './plan.ts';

const NEW = 'new-hash';
const OLD = 'old-hash';

function ds(strategy: DaemonSetUpdateStrategy): DaemonSet {
  return { metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'agent' } }, updateStrategy: strategy, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c' }] } } } };
}

/** A pod on `node`: "o" old available, "n" new available, "O"/"N" not ready; `created` orders pods on one node. */
function pod(node: string, kind: string, created = 0): Pod {
  const b = makePod(`${node}-${kind}-${created}`).onNode(node).labels({ app: 'agent', 'controller-revision-hash': kind.toLowerCase() === 'n' ? NEW : OLD }).created(new Date(Date.UTC(2026, 0, 1, 0, 0, created)).toISOString());
  if (kind === 'o' || kind === 'n') b.condition('Ready', 'True');
  return b.build();
}

/** "oon" = three nodes with an old, an old and a new pod; "-" a node without pods; "on" two pods on one node. */
function layout(spec: string[]): { nodes: ReturnType<typeof makeNode>[]; pods: NodePods } {
  const pods: NodePods = new Map();
  const nodes = spec.map((s, i) => {
    const name = `n${i}`;
    if (s !== '-') pods.set(name, [...s].map((k, j) => pod(name, k, j)));
    return makeNode(name);
  });
  return { nodes, pods };
}

const rolling = (maxUnavailable: number | string, maxSurge: number | string): DaemonSetUpdateStrategy => ({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } });
const names = (pods: Pod[]) => pods.map((p) => p.metadata?.name).sort();

describe('rollingUpdatePlan', () => {
  const cases: Array<{ name: string; strategy: DaemonSetUpdateStrategy; nodes: string[]; del: string[]; create: string[] }> = [
    { name: 'maxUnavailable 1: one old pod at a time', strategy: rolling(1, 0), nodes: ['o', 'o', 'o'], del: ['n0-o-0'], create: [] },
    { name: 'a new pod not yet available holds the next deletion', strategy: rolling(1, 0), nodes: ['N', 'o', 'o'], del: [], create: [] },
    { name: 'a node without a pod counts as unavailable', strategy: rolling(1, 0), nodes: ['-', 'o', 'o'], del: [], create: [] },
    { name: 'unavailable old pods are replaced at once', strategy: rolling(1, 0), nodes: ['O', 'O', 'o'], del: ['n0-O-0', 'n1-O-0'], create: [] },
    { name: 'percentages round up: 50% of 3 is 2', strategy: rolling('50%', 0), nodes: ['o', 'o', 'o'], del: ['n0-o-0', 'n1-o-0'], create: [] },
    { name: 'all updated: nothing to do', strategy: rolling(1, 0), nodes: ['n', 'n', 'n'], del: [], create: [] },
    { name: 'maxSurge 1: a new pod beside one old pod', strategy: rolling(0, 1), nodes: ['o', 'o', 'o'], del: [], create: ['n0'] },
    { name: 'surge: the old pod goes once the new one is available', strategy: rolling(0, 1), nodes: ['on', 'o', 'o'], del: ['n0-o-0'], create: ['n1'] },
    { name: 'surge: a new pod not yet available uses the surge', strategy: rolling(0, 1), nodes: ['oN', 'o', 'o'], del: [], create: [] },
    { name: 'surge: unavailable old pods get their new pods at once, beside maxSurge more', strategy: rolling(0, 1), nodes: ['O', 'O', 'o'], del: [], create: ['n0', 'n1', 'n2'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { nodes, pods } = layout(c.nodes);
      const plan = rollingUpdatePlan({ ds: ds(c.strategy), nodes: nodes.map((n) => n.build()), nodePods: pods, hash: NEW, generation: undefined, now: Date.UTC(2026, 1, 1) });
      assert.deepEqual(names(plan.delete), c.del);
      assert.deepEqual(plan.create.sort(), c.create);
    });
  }
});

describe('managePlan and status', () => {
  const noBackoff = () => undefined;
  it('creates on nodes without a pod, deletes from nodes that stopped fitting, keeps the oldest of two', () => {
    const { nodes, pods } = layout(['-', 'oo', 'o']);
    const built = nodes.map((n) => n.build());
    built[2] = makeNode('n2').taint({ key: 'k', effect: 'NoExecute' }).build();
    const plan = managePlan({ ds: ds(rolling(1, 0)), nodes: built, nodePods: pods, hash: NEW, now: 0, failedPodBackoff: noBackoff });
    assert.deepEqual(plan.create, ['n0']);
    assert.deepEqual(names(plan.delete), ['n1-o-1', 'n2-o-0']);
  });
  it('a failed pod is deleted unless its node is in back-off; unscheduled pods for vanished nodes go', () => {
    const failed = makePod('f').onNode('n0').labels({ app: 'agent' }).phase('Failed').build();
    const orphan = makePod('lost').labels({ app: 'agent' }).build();
    const pods: NodePods = new Map([['n0', [failed]], ['gone', [orphan]]]);
    const nodes = [makeNode('n0').build()];
    const now = managePlan({ ds: ds(rolling(1, 0)), nodes, nodePods: pods, hash: NEW, now: 0, failedPodBackoff: noBackoff });
    assert.deepEqual(names(now.delete), ['f', 'lost']);
    assert.equal(now.finished[0]?.failed, true);
    const later = managePlan({ ds: ds(rolling(1, 0)), nodes, nodePods: pods, hash: NEW, now: 0, failedPodBackoff: () => 2000 });
    assert.deepEqual(names(later.delete), ['lost']);
    assert.equal(later.retryAfterMs, 2000);
  });
  it('status counts desired, current, ready, updated, available and misscheduled', () => {
    const { pods } = layout(['n', 'O', '-', 'o']);
    const nodes = [makeNode('n0').build(), makeNode('n1').build(), makeNode('n2').build(), makeNode('n3').taint({ key: 'k', effect: 'NoSchedule' }).build()];
    assert.deepEqual(statusCounts(ds(rolling(1, 0)), nodes, pods, NEW, undefined, Date.UTC(2026, 1, 1)), {
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      desiredNumberScheduled: 3,
      numberReady: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      numberUnavailable: 2,
    });
  });
});
