// The scheduler against a real API server with simulated nodes (Node objects only).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Event, Pod } from '../../src/api/types.ts';
import { Informer, listWatch } from '../../src/client/informer.ts';
import { Events, Nodes, Pods } from '../../src/client/resources.ts';
import { node, pod, startCluster } from './scheduler-harness.ts';
import type { Cluster } from './scheduler-harness.ts';

describe('scheduler placement', { timeout: 60_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    for (const n of ['n1', 'n2', 'n3']) await c.addNode(node(n, { cpu: '4', memory: '8Gi', pods: '110' }));
  });
  after(async () => {
    await c?.close();
  });

  it('spreads 3 pods of one owner over 3 nodes', async () => {
    for (let i = 0; i < 3; i++) await c.client.create(Pods, 'default', pod(`web-${i}`, { cpu: '100m' }, { owner: 'web', labels: { app: 'web' } }));
    const pods = await c.waitForPods((ps) => ps.filter((p) => p.metadata?.name?.startsWith('web-') && p.spec?.nodeName).length === 3, '3 web pods bound');
    const nodes = new Set(pods.filter((p) => p.metadata?.name?.startsWith('web-')).map((p) => p.spec?.nodeName));
    assert.equal(nodes.size, 3, `nodes: ${[...nodes].join(',')}`);
  });

  it('leaves pods for another scheduler alone', async () => {
    await c.client.create(Pods, 'default', pod('theirs', { cpu: '100m' }, { schedulerName: 'other-scheduler' }));
    await c.client.create(Pods, 'default', pod('ours-after', { cpu: '100m' }));
    // Ours, created after theirs, is bound: the scheduler has seen both and acted on its own only.
    await c.waitForPods((ps) => ps.some((p) => p.metadata?.name === 'ours-after' && p.spec?.nodeName), 'ours-after bound');
    const theirs = c.pods.store.get('default', 'theirs')!;
    assert.equal(theirs.spec?.nodeName, undefined);
    assert.equal(theirs.status?.conditions, undefined);
    assert.equal(c.scheduler.stats().failedAttempts, 0);
  });
});

describe('scheduler: taints, tolerations, nodeSelector, and an unschedulable pod', { timeout: 60_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    await c.addNode(node('tainted', { cpu: '8', memory: '16Gi', pods: '110' }, { labels: { disk: 'hdd' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    await c.addNode(node('small-1', { cpu: '1', memory: '1Gi', pods: '110' }, { labels: { disk: 'ssd' } }));
    await c.addNode(node('small-2', { cpu: '1', memory: '1Gi', pods: '110' }, { labels: { disk: 'hdd' } }));
  });
  after(async () => {
    await c?.close();
  });

  const bound = async (name: string): Promise<Pod> => {
    const ps = await c.waitForPods((all) => all.some((p) => p.metadata?.name === name && p.spec?.nodeName), `${name} bound`);
    return ps.find((p) => p.metadata?.name === name)!;
  };

  it('keeps untolerating pods off a tainted node and lets tolerating ones on', async () => {
    for (let i = 0; i < 4; i++) await c.client.create(Pods, 'default', pod(`plain-${i}`, { cpu: '100m' }));
    await c.client.create(Pods, 'default', pod('tolerant', { cpu: '4' }, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }));
    for (let i = 0; i < 4; i++) assert.notEqual((await bound(`plain-${i}`)).spec?.nodeName, 'tainted');
    // 4 cpu fits only the tainted node, which the pod tolerates.
    assert.equal((await bound('tolerant')).spec?.nodeName, 'tainted');
  });

  it('honours nodeSelector', async () => {
    await c.client.create(Pods, 'default', pod('wants-ssd', { cpu: '100m' }, { nodeSelector: { disk: 'ssd' } }));
    assert.equal((await bound('wants-ssd')).spec?.nodeName, 'small-1');
  });

  it('explains an unschedulable pod as Kubernetes does, per node in describe, and places it once a node fits', async (t) => {
    // Events seen so far, and waiters for one that matches.
    const events = new Informer<Event>(listWatch<Event>(c.client, Events, 'default'));
    const waiters: Array<{ pred: (e: Event) => boolean; resolve: (e: Event) => void }> = [];
    const check = (e: Event): void => {
      for (const w of waiters.filter((x) => x.pred(e))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    };
    events.addEventHandler({ onAdd: check, onUpdate: (_a, b) => check(b) });
    const eventSeen = (pred: (e: Event) => boolean): Promise<Event> => new Promise((resolve) => waiters.push({ pred, resolve }));
    const failedScheduling = (count: number) => (e: Event): boolean => e.reason === 'FailedScheduling' && e.involvedObject.name === 'huge' && e.count === count;
    const first = eventSeen(failedScheduling(1));
    events.start();
    t.after(() => events.stop());

    await c.client.create(Pods, 'default', pod('huge', { memory: '10Gi' }));
    const expected =
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient memory. ' +
      'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const perNode = ['small-1: Insufficient memory', 'small-2: Insufficient memory', 'tainted: node(s) had untolerated taint {dedicated: gpu}'];
    const [failed] = (await c.waitForPods(
      (all) => all.some((p) => p.metadata?.name === 'huge' && p.status?.conditions?.some((k) => k.type === 'PodScheduled' && k.status === 'False')),
      'huge marked unschedulable',
    )).filter((p) => p.metadata?.name === 'huge');
    // The pod carries only kube-scheduler's own write: the condition with Kubernetes' message, no annotation.
    const cond = failed.status!.conditions!.find((k) => k.type === 'PodScheduled')!;
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, expected);
    assert.deepEqual(failed.metadata?.annotations ?? {}, {});

    // The per-node detail follows Kubernetes' message in the FailedScheduling event; describe prints events.
    assert.equal((await first).message, [expected, ...perNode].join('\n    '));
    const { stdout } = await promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', c.cp.kubeconfigPath, 'describe', 'pod', 'huge']);
    assert.match(stdout, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: gpu\}, 2 Insufficient memory\./);
    for (const line of perNode) assert.match(stdout, new RegExp(`^ {4}${line.replace(/[(){}]/g, '\\$&')}$`, 'm'));
    assert.match(stdout, /PodScheduled\s+False/);
    assert.doesNotMatch(stdout, /unschedulable-reasons/);

    // A node update that could matter (a label) retries the pod; the same failure folds into one event.
    const twice = eventSeen(failedScheduling(2));
    await c.client.patch(Nodes, undefined, 'small-2', 'merge', { metadata: { labels: { touched: 'yes' } } });
    const folded = await twice;
    assert.equal(folded.message, [expected, ...perNode].join('\n    '));
    assert.equal(folded.source?.component, 'default-scheduler');
    assert.equal(folded.involvedObject.uid, failed.metadata?.uid);

    await c.addNode(node('big', { cpu: '4', memory: '32Gi', pods: '110' }));
    assert.equal((await bound('huge')).spec?.nodeName, 'big');
    const done = await c.waitForPods((all) => all.some((p) => p.metadata?.name === 'huge' && p.status?.conditions?.some((k) => k.type === 'PodScheduled' && k.status === 'True')), 'huge PodScheduled=True');
    assert.deepEqual(done.find((p) => p.metadata?.name === 'huge')!.metadata?.annotations ?? {}, {});
    const after = await promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', c.cp.kubeconfigPath, 'describe', 'pod', 'huge']);
    assert.match(after.stdout, /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/huge to big/);
  });
});
