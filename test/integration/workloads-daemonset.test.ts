// DaemonSets on simulated nodes through the real kubectl: a pod on every node placed by the scheduler
// through node affinity, a node added later gets its pod, taints keep pods off unless tolerated, a
// rolling update that never has more than maxUnavailable nodes without a ready pod, `rollout status`,
// `rollout history` and `rollout undo` over ControllerRevisions, `kubectl get ds` columns, and 422s.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet, Pod } from '../../src/api/types.ts';
import { ControllerRevisions, DaemonSets, Pods } from '../../src/client/resources.ts';
import { Simulator } from '../../src/kubelet/simulated/simulator.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let pods: Watched<Pod>;
let sets: Watched<DaemonSet>;
let revisions: Watched<ControllerRevision>;
let extra: Simulator | undefined;

const NS = 'default';
const ready = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true;
const owned = (name: string) => (p: Pod) => p.metadata?.ownerReferences?.some((r) => r.kind === 'DaemonSet' && r.name === name && r.controller) === true;
const live = (all: Pod[], name: string) => all.filter(owned(name)).filter((p) => !p.metadata?.deletionTimestamp);
const image = (p: Pod) => p.spec?.containers?.[0]?.image;

function manifest(name: string, extra: { image?: string; tolerations?: unknown[]; strategy?: unknown; selector?: Record<string, string> } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: NS },
    spec: {
      selector: { matchLabels: extra.selector ?? { app: name } },
      ...(extra.strategy ? { updateStrategy: extra.strategy } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: extra.image ?? 'busybox:1' }], ...(extra.tolerations ? { tolerations: extra.tolerations } : {}) },
      },
    },
  });
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  c = await startWorkloadCluster({ nodes: 5 });
  pods = await c.watch<Pod>(Pods, NS);
  sets = await c.watch<DaemonSet>(DaemonSets, NS);
  revisions = await c.watch<ControllerRevision>(ControllerRevisions, NS);
});

after(async () => {
  await extra?.stop();
  await c?.close();
});

describe('DaemonSet', () => {
  test('a pod on every node, bound by the scheduler through node affinity', async () => {
    await kubectlOk(['apply', '-f', '-'], manifest('agent'));
    const all = await pods.until((ps) => live(ps, 'agent').filter(ready).length === 5, '5 ready agent pods');
    const mine = live(all, 'agent');
    assert.deepEqual(mine.map((p) => p.spec?.nodeName).sort(), c.sim.nodeNames.slice().sort());
    for (const p of mine) {
      const terms = p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      assert.deepEqual(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec?.nodeName] }] }]);
      assert.ok(p.metadata?.labels?.['controller-revision-hash']);
      assert.equal(p.metadata?.labels?.['pod-template-generation'], '1');
      const keys = (p.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds ?? ''}`);
      for (const k of ['node.kubernetes.io/not-ready:NoExecute:', 'node.kubernetes.io/unreachable:NoExecute:', 'node.kubernetes.io/disk-pressure:NoSchedule:', 'node.kubernetes.io/memory-pressure:NoSchedule:', 'node.kubernetes.io/pid-pressure:NoSchedule:', 'node.kubernetes.io/unschedulable:NoSchedule:']) {
        assert.ok(keys.includes(k), `${p.metadata?.name} lacks toleration ${k}: ${keys.join(' ')}`);
      }
    }
    const [ds] = await sets.until((xs) => xs.some((d) => d.metadata?.name === 'agent' && d.status?.numberAvailable === 5 && d.status?.observedGeneration === d.metadata?.generation), 'agent status');
    assert.equal(ds.metadata?.annotations?.['deprecated.daemonset.template.generation'], '1');
    const st = sets.items().find((d) => d.metadata?.name === 'agent')?.status;
    assert.equal(st?.desiredNumberScheduled, 5);
    assert.equal(st?.currentNumberScheduled, 5);
    assert.equal(st?.numberReady, 5);
    assert.equal(st?.updatedNumberScheduled, 5);
    assert.equal(st?.numberMisscheduled, 0);
    const out = await kubectlOk(['rollout', 'status', 'ds/agent', '--timeout=30s']);
    assert.match(out, /daemon set "agent" successfully rolled out/);
  });

  test('kubectl get ds prints kubectl columns', async () => {
    const out = await kubectlOk(['get', 'ds', 'agent']);
    assert.match(out.split('\n')[0], /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE$/);
    assert.match(out.split('\n')[1], /^agent\s+5\s+5\s+5\s+5\s+5\s+<none>\s+\S+$/);
    const wide = await kubectlOk(['get', 'ds', 'agent', '-o', 'wide']);
    assert.match(wide.split('\n')[0], /AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/);
    assert.match(wide.split('\n')[1], /\s+c\s+busybox:1\s+app=agent$/);
    const crs = await kubectlOk(['get', 'controllerrevisions']);
    assert.match(crs, /^NAME\s+CONTROLLER\s+REVISION\s+AGE\n/);
    assert.match(crs, /agent-\S+\s+daemonset\.apps\/agent\s+1\s+/);
    const described = await kubectlOk(['describe', 'ds', 'agent']);
    assert.match(described, /^Desired Number of Nodes Scheduled: 5$/m);
    assert.match(described, /^Number of Nodes Scheduled with Up-to-date Pods: 5$/m);
    assert.match(described, /^Pods Status:\s+5 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    assert.match(described, /Normal\s+SuccessfulCreate\s+\S+\s+daemonset-controller\s+Created pod: agent-/);
  });

  test('rolling update keeps maxUnavailable, rollout status returns, undo goes back', async () => {
    // From here on, at no moment may more than one node lack a ready agent pod (maxUnavailable 1).
    let worst = 5;
    const off = pods.informer.addEventHandler({
      onUpdate: () => { worst = Math.min(worst, new Set(live(pods.items(), 'agent').filter(ready).map((p) => p.spec?.nodeName)).size); },
      onDelete: () => { worst = Math.min(worst, new Set(live(pods.items(), 'agent').filter(ready).map((p) => p.spec?.nodeName)).size); },
    });
    const before = live(pods.items(), 'agent')[0].metadata?.labels?.['controller-revision-hash'];
    await kubectlOk(['set', 'image', 'ds/agent', 'c=busybox:2']);
    const out = await kubectlOk(['rollout', 'status', 'ds/agent', '--timeout=60s']);
    assert.match(out, /successfully rolled out/);
    let all = await pods.until((ps) => live(ps, 'agent').length === 5 && live(ps, 'agent').every((p) => image(p) === 'busybox:2' && ready(p)), '5 agent pods on busybox:2');
    const updated = live(all, 'agent')[0].metadata?.labels?.['controller-revision-hash'];
    assert.notEqual(updated, before);
    assert.ok(live(all, 'agent').every((p) => p.metadata?.labels?.['pod-template-generation'] === '2'));
    assert.ok(worst >= 4, `as few as ${worst} nodes had a ready agent pod`);

    const history = await kubectlOk(['rollout', 'history', 'ds/agent']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);

    await kubectlOk(['rollout', 'undo', 'daemonset/agent']);
    await kubectlOk(['rollout', 'status', 'ds/agent', '--timeout=60s']);
    all = await pods.until((ps) => live(ps, 'agent').length === 5 && live(ps, 'agent').every((p) => image(p) === 'busybox:1' && ready(p)), '5 agent pods back on busybox:1');
    assert.ok(live(all, 'agent').every((p) => p.metadata?.labels?.['controller-revision-hash'] === before));
    // The revision rolled back to is renumbered as the newest; the one left is still kept.
    const crs = await revisions.until((rs) => rs.some((r) => r.metadata?.labels?.['controller-revision-hash'] === before && r.revision === 3), 'revision 3');
    assert.deepEqual(crs.filter((r) => r.metadata?.name?.startsWith('agent-')).map((r) => r.revision).sort(), [2, 3]);
    off();
    assert.ok(worst >= 4, `as few as ${worst} nodes had a ready agent pod`);
  });

  test('a node added later gets its pod', async () => {
    extra = new Simulator({ client: c.client, nodes: ['late-node'], spec: { capacity: { cpu: '8', memory: '32Gi', pods: '110' } }, startDelayMs: 50, deleteDelayMs: 20, jitter: 0, leaseRenewMs: 1000 });
    await extra.start();
    await pods.until((ps) => live(ps, 'agent').some((p) => p.spec?.nodeName === 'late-node' && ready(p)), 'an agent pod on late-node');
    await sets.until((xs) => xs.some((d) => d.metadata?.name === 'agent' && d.status?.desiredNumberScheduled === 6 && d.status?.numberAvailable === 6), 'agent on 6 nodes');
  });

  test('a tainted node gets no pod unless the DaemonSet tolerates its taint', async () => {
    await kubectlOk(['taint', 'nodes', 'late-node', 'dedicated=infra:NoSchedule']);
    // The running agent pod tolerates no NoExecute taint it lacks, so it stays: misscheduled.
    await sets.until((xs) => xs.some((d) => d.metadata?.name === 'agent' && d.status?.desiredNumberScheduled === 5 && d.status?.numberMisscheduled === 1), 'agent misscheduled on late-node');
    await kubectlOk(['apply', '-f', '-'], manifest('picky'));
    await kubectlOk(['apply', '-f', '-'], manifest('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] }));
    const all = await pods.until((ps) => live(ps, 'picky').filter(ready).length === 5 && live(ps, 'tolerant').filter(ready).length === 6, 'picky on 5 nodes, tolerant on 6');
    assert.ok(!live(all, 'picky').some((p) => p.spec?.nodeName === 'late-node'));
    assert.ok(live(all, 'tolerant').some((p) => p.spec?.nodeName === 'late-node'));
    // A NoExecute taint the agent pod does not tolerate takes it off the node.
    await kubectlOk(['taint', 'nodes', 'late-node', 'evict=now:NoExecute']);
    await pods.until((ps) => !live(ps, 'agent').some((p) => p.spec?.nodeName === 'late-node'), 'agent pod gone from late-node');
    await sets.until((xs) => xs.some((d) => d.metadata?.name === 'agent' && d.status?.numberMisscheduled === 0 && d.status?.desiredNumberScheduled === 5), 'agent no longer misscheduled');
  });

  test('bad input is a 422 naming the field, and nothing is stored', async () => {
    const cases: Array<{ name: string; body: string; want: string }> = [
      {
        name: 'both 0',
        body: manifest('bad1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }),
        want: 'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
      },
      { name: 'selector mismatch', body: manifest('bad2', { selector: { app: 'other' } }), want: 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad2"}: `selector` does not match template `labels`' },
    ];
    for (const k of cases) {
      const r = await c.kubectl(['create', '-f', '-'], { input: k.body });
      assert.notEqual(r.code, 0, k.name);
      assert.ok(r.stderr.includes(k.want), `${k.name}: ${r.stderr}`);
    }
    assert.equal((await c.kubectl(['get', 'ds', 'bad1'])).code, 1);
    const sel = await c.kubectl(['patch', 'ds', 'picky', '--type=merge', '-p', JSON.stringify({ spec: { selector: { matchLabels: { app: 'picky', x: 'y' } }, template: { metadata: { labels: { app: 'picky', x: 'y' } } } } })]);
    assert.notEqual(sel.code, 0);
    assert.match(sel.stderr, /spec\.selector: Invalid value: .*field is immutable/);
    assert.deepEqual(c.controllerErrors, []);
  });
});
