import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conflictingRoutes, coversPlan, namespaceNodeNames, NodeNetworkError, planNodeNetwork, planPodRoutes } from './netns-nodes.ts';

describe('namespace nodes', () => {
  it('names nodes as minikube does: base, base-m02, base-m03…', () => {
    assert.deepEqual(namespaceNodeNames('kube', 3), ['kube', 'kube-m02', 'kube-m03']);
    assert.deepEqual(namespaceNodeNames('kube', 11).slice(-1), ['kube-m11']);
  });

  it('plans addresses (host first, nodes after) and short link names', () => {
    const p = planNodeNetwork('/var/lib/tinykube', 'vm', 3, '10.45.0.0/24');
    assert.equal(p.hostIP, '10.45.0.1');
    assert.deepEqual(p.nodes.map((n) => n.ip), ['10.45.0.2', '10.45.0.3', '10.45.0.4']);
    assert.equal(p.cidr, '10.45.0.0/24');
    for (const name of [p.bridge, ...p.nodes.map((n) => n.hostVeth)]) assert.ok(name.length <= 15, `${name}: at most 15 characters`);
    assert.equal(new Set(p.nodes.map((n) => n.netns)).size, 3);
    // Another data dir: other names, so two clusters on one host do not meet.
    const q = planNodeNetwork('/tmp/other', 'vm', 3, '10.45.1.0/24');
    assert.notEqual(q.bridge, p.bridge);
    assert.notEqual(q.nodes[0]!.netns, p.nodes[0]!.netns);
  });

  it('refuses a node network too small for the nodes asked, or too many nodes', () => {
    const cases: Array<[string, number]> = [
      ['10.45.0.0/30', 2],
      ['10.45.0.0/29', 6],
      ['10.45.0.0/16', 100],
    ];
    for (const [cidr, n] of cases) assert.throws(() => planNodeNetwork('/d', 'vm', n, cidr), NodeNetworkError, `${cidr} × ${n}`);
    assert.equal(planNodeNetwork('/d', 'vm', 5, '10.45.0.0/29').nodes.length, 5);
  });

  it('finds host routes that overlap the node network on other links', () => {
    const routes = [
      { dst: 'default', gateway: '192.168.1.1', dev: 'eth0' },
      { dst: '10.45.0.0/24', dev: 'tk854dbr', protocol: 'kernel' },
      { dst: '10.0.0.0/8', dev: 'wg0' },
      { dst: '10.45.0.128/25', dev: 'docker0' },
      { dst: '10.46.0.0/24', dev: 'br1' },
      { dst: '10.45.0.7', dev: 'tun0' },
    ];
    assert.deepEqual(conflictingRoutes(routes, '10.45.0.0/24', 'tk854dbr').map((r) => r.dev), ['wg0', 'docker0', 'tun0']);
  });

  it('plans the host routes to pod ranges: new ones added, moved ones replaced, stale ones removed, another link\'s left to it', () => {
    const want = new Map([
      ['10.244.0.0/24', '10.45.0.2'],
      ['10.244.1.0/24', '10.45.0.3'],
      ['10.244.2.0/24', '10.45.0.4'],
      ['10.244.3.0/24', '10.45.0.5'],
    ]);
    const ours = new Map([
      ['10.244.0.0/24', '10.45.0.2'],
      ['10.244.1.0/24', '10.45.0.9'],
      ['10.244.7.0/24', '10.45.0.7'],
    ]);
    const others = new Map([['10.244.3.0/24', 'tkbeefbr']]);
    const plan = planPodRoutes(want, ours, others, 'tkabcdbr');
    assert.deepEqual(plan.stale, ['route del 10.244.7.0/24 dev tkabcdbr']);
    assert.deepEqual(plan.set, ['route replace 10.244.1.0/24 via 10.45.0.3 dev tkabcdbr', 'route add 10.244.2.0/24 via 10.45.0.4 dev tkabcdbr']);
    assert.deepEqual(plan.conflicts, [{ dst: '10.244.3.0/24', link: 'tkbeefbr' }]);
    assert.deepEqual([...plan.after].sort(), [['10.244.0.0/24', '10.45.0.2'], ['10.244.1.0/24', '10.45.0.3'], ['10.244.2.0/24', '10.45.0.4']]);
    // Nothing to do once done.
    const again = planPodRoutes(want, plan.after, others, 'tkabcdbr');
    assert.deepEqual([again.stale, again.set], [[], []]);
  });

  it('holds the first routes of `up --nodes` until every node of the plan has its range', () => {
    const p = planNodeNetwork('/var/lib/tinykube', 'vm', 3, '10.45.0.0/24');
    const want = new Map([['10.244.0.0/24', '10.45.0.2']]);
    assert.equal(coversPlan(want, p), false);
    want.set('10.244.2.0/24', '10.45.0.4');
    assert.equal(coversPlan(want, p), false);
    // A range routed to an address that is not the missing node's does not count for it.
    want.set('10.244.9.0/24', '10.45.0.9');
    assert.equal(coversPlan(want, p), false);
    want.set('10.244.1.0/24', '10.45.0.3');
    assert.equal(coversPlan(want, p), true);
  });
});
