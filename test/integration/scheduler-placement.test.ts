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

  it('explains an unschedulable pod as Kubernetes does, per node in describe, and places it once a node fits', async () => {
    await c.client.create(Pods, 'default', pod('huge', { memory: '10Gi' }));
    const expected =
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient memory. ' +
      'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const [failed] = (await c.waitForPods(
      (all) => all.some((p) => p.metadata?.name === 'huge' && p.status?.conditions?.some((k) => k.type === 'PodScheduled' && k.status === 'False') && p.metadata?.annotations?.['scheduler.tinykube.io/unschedulable-reasons']),
      'huge marked unschedulable',
    )).filter((p) => p.metadata?.name === 'huge');
    const cond = failed.status!.conditions!.find((k) => k.type === 'PodScheduled')!;
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, expected);
    assert.equal(
      failed.metadata!.annotations!['scheduler.tinykube.io/unschedulable-reasons'],
      'small-1: Insufficient memory\nsmall-2: Insufficient memory\ntainted: node(s) had untolerated taint {dedicated: gpu}',
    );

    const { stdout } = await promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', c.cp.kubeconfigPath, 'describe', 'pod', 'huge']);
    assert.match(stdout, /scheduler\.tinykube\.io\/unschedulable-reasons:\s*\n\s+small-1: Insufficient memory\n\s+small-2: Insufficient memory\n\s+tainted: node\(s\) had untolerated taint \{dedicated: gpu\}/);
    assert.match(stdout, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: gpu\}, 2 Insufficient memory\./);
    assert.match(stdout, /PodScheduled\s+False/);

    // A node update that could matter (a label) retries the pod; the same failure folds into one event.
    const events = new Informer<Event>(listWatch<Event>(c.client, Events, 'default'));
    const twice = new Promise<Event>((resolve) => {
      const check = (e: Event): void => {
        if (e.reason === 'FailedScheduling' && e.involvedObject.name === 'huge' && e.count === 2) resolve(e);
      };
      events.addEventHandler({ onAdd: check, onUpdate: (_a, b) => check(b) });
    });
    events.start();
    await c.client.patch(Nodes, undefined, 'small-2', 'merge', { metadata: { labels: { touched: 'yes' } } });
    const folded = await twice;
    await events.stop();
    assert.equal(folded.message, expected);
    assert.equal(folded.source?.component, 'default-scheduler');
    assert.equal(folded.involvedObject.uid, failed.metadata?.uid);

    await c.addNode(node('big', { cpu: '4', memory: '32Gi', pods: '110' }));
    assert.equal((await bound('huge')).spec?.nodeName, 'big');
    const done = await c.waitForPods((all) => all.some((p) => p.metadata?.name === 'huge' && !p.metadata?.annotations?.['scheduler.tinykube.io/unschedulable-reasons']), 'reasons annotation removed');
    assert.equal(done.find((p) => p.metadata?.name === 'huge')!.status!.conditions!.find((k) => k.type === 'PodScheduled')!.status, 'True');
    const after = await promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', c.cp.kubeconfigPath, 'describe', 'pod', 'huge']);
    assert.match(after.stdout, /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/huge to big/);
  });
});
