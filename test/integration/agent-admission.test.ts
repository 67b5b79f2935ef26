// Kubelet admission through the whole Agent over a FakeRuntime, against a real in-process API server
// (no scheduler: every pod names its node). A pod that does not fit beside the admitted ones is Failed
// with the kubelet's reason, message and Warning event and never reaches the runtime; an agent that
// restarts keeps its running pods and judges the pods that arrived meanwhile after them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Informer, listWatch } from '../../src/client/informer.ts';
import { Events, Nodes, Pods } from '../../src/client/resources.ts';
import type { Container, Event, Pod } from '../../src/api/types.ts';
import { Agent } from '../../src/kubelet/agent.ts';
import { FakeRuntime } from '../../src/kubelet/runtime/fake-runtime.ts';
import { TEST_MACHINE } from './test-machine.ts';
import { cacheWaiter, type CacheWait } from './cache-waiter.ts';

const NODE = 'adm-node';
const machine = TEST_MACHINE;

let cp: ControlPlane;
let client: ApiClient;
let dir: string;
let runtime: FakeRuntime;
let agent: Agent;
let podInformer: Informer<Pod>;
let eventInformer: Informer<Event>;
let pods: CacheWait<Pod>;
let events: CacheWait<Event>;

function newAgent(): Agent {
  return new Agent({ client, runtime, nodeName: NODE, dataDir: path.join(dir, 'agent'), logRoot: path.join(dir, 'logs'), nodeIP: '192.0.2.9', mounts: false, plegPeriodMs: 100, machine, podCIDRWaitMs: 0 });
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tk-agent-admission-'));
  cp = await startControlPlane({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath);
  runtime = new FakeRuntime({ images: ['busybox'] });
  podInformer = new Informer<Pod>(listWatch<Pod>(client, Pods, 'default'));
  eventInformer = new Informer<Event>(listWatch<Event>(client, Events, 'default'));
  pods = cacheWaiter(podInformer);
  events = cacheWaiter(eventInformer);
  podInformer.start();
  eventInformer.start();
  agent = newAgent();
  await agent.start();
});

after(async () => {
  await agent?.stop({ removePods: true });
  await podInformer?.stop();
  await eventInformer?.stop();
  client?.close();
  await cp?.close();
  await rm(dir, { recursive: true, force: true });
});

function container(extra: Partial<Container> = {}): Container {
  return { name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], ...extra };
}

// No controllers run here (no default account, no kube-root-ca.crt): no token volume.
async function createPod(name: string, c: Partial<Container> = {}, spec: Partial<NonNullable<Pod['spec']>> = {}): Promise<Pod> {
  return client.create<Pod>(Pods, 'default', { metadata: { name }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, containers: [container(c)], ...spec } });
}

const named = (all: Pod[], name: string) => all.find((p) => p.metadata?.name === name);

async function phase(name: string, want: string): Promise<Pod> {
  const all = await pods((all) => named(all, name)?.status?.phase === want, `${name} ${want}`, 15_000);
  return named(all, name)!;
}

async function running(name: string): Promise<Pod> {
  const all = await pods((all) => named(all, name)?.status?.containerStatuses?.[0]?.state?.running !== undefined, `${name} running`, 15_000);
  return named(all, name)!;
}

function sandboxesOf(uid: string) {
  return runtime.listPodSandbox().then((l) => l.filter((s) => s.metadata.uid === uid));
}

const cpu = (q: string): Partial<Container> => ({ resources: { requests: { cpu: q } } });
const hostPort = (port: number): Partial<Container> => ({ ports: [{ containerPort: port, hostPort: port }] });

describe('kubelet admission in the agent', () => {
  it('rejects a pod that does not fit beside the admitted ones, with the kubelet status and event', async () => {
    await createPod('holder', { ...cpu('100m'), ...hostPort(8080) });
    const holder = await running('holder');

    const hungry = await createPod('hungry', cpu('4'));
    const failed = await phase('hungry', 'Failed');
    const message = "Node didn't have enough resource: cpu, requested: 4000, used: 100, capacity: 2000";
    assert.equal(failed.status?.reason, 'OutOfcpu');
    assert.equal(failed.status?.message, `Pod was rejected: ${message}`);
    assert.equal(failed.status?.qosClass, 'Burstable');
    assert.ok(failed.status?.startTime);
    assert.equal(failed.status?.containerStatuses, undefined);
    const evs = await events((all) => all.some((e) => e.involvedObject?.uid === hungry.metadata?.uid), 'OutOfcpu event', 15_000);
    const ev = evs.find((e) => e.involvedObject?.uid === hungry.metadata?.uid)!;
    assert.deepEqual([ev.type, ev.reason, ev.message, ev.source?.component, ev.source?.host], ['Warning', 'OutOfcpu', message, 'kubelet', NODE]);
    assert.deepEqual(await sandboxesOf(hungry.metadata!.uid!), [], 'a rejected pod never reaches the runtime');

    await createPod('clash', hostPort(8080));
    const clash = await phase('clash', 'Failed');
    assert.equal(clash.status?.reason, 'NodePorts');
    assert.equal(clash.status?.message, "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports");

    await createPod('picky', {}, { nodeSelector: { disk: 'ssd' } });
    assert.equal((await phase('picky', 'Failed')).status?.reason, 'NodeAffinity');
    await client.patch(Nodes, undefined, NODE, 'merge', { metadata: { labels: { disk: 'ssd' } } });
    await createPod('picky-after-label', {}, { nodeSelector: { disk: 'ssd' } });
    await running('picky-after-label');

    await client.patch(Nodes, undefined, NODE, 'merge', { spec: { taints: [{ key: 'example.com/drain', effect: 'NoExecute' }] } });
    // The pod must meet the taint: wait until the agent's own view of the node has it.
    await cacheWaiter(agent.nodeInformer)((all) => Boolean(all[0]?.spec?.taints?.length), 'the agent sees the taint', 15_000);
    await createPod('intolerant');
    const intolerant = await phase('intolerant', 'Failed');
    assert.equal(intolerant.status?.message, "Pod was rejected: Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate");
    await createPod('tolerant', {}, { tolerations: [{ key: 'example.com/drain', operator: 'Exists', effect: 'NoExecute' }] });
    await running('tolerant');
    await client.patch(Nodes, undefined, NODE, 'merge', { spec: { taints: null } });

    const still = await running('holder');
    assert.equal(still.status?.containerStatuses?.[0]?.containerID, holder.status?.containerStatuses?.[0]?.containerID);
    assert.equal(still.status?.containerStatuses?.[0]?.restartCount, 0);
  });

  it('deletes a rejected pod at once', async () => {
    await client.delete(Pods, 'default', 'hungry');
    await pods((all) => !named(all, 'hungry'), 'hungry gone', 15_000);
  });

  it('after a restart, keeps the running pods and judges the pods that came meanwhile after them', async () => {
    const before = await running('holder');
    const sandboxes = (await runtime.listPodSandbox()).length;
    await agent.stop();
    // While no agent runs: named to be listed first, and it fits on an empty node.
    await createPod('a-late', cpu('1950m'));
    agent = newAgent();
    await agent.start();
    const late = await phase('a-late', 'Failed');
    assert.equal(late.status?.message, "Pod was rejected: Node didn't have enough resource: cpu, requested: 1950, used: 100, capacity: 2000");
    const after = await running('holder');
    assert.equal(after.status?.containerStatuses?.[0]?.containerID, before.status?.containerStatuses?.[0]?.containerID);
    assert.equal(after.status?.phase, 'Running');
    assert.equal((await runtime.listPodSandbox()).length, sandboxes, 'nothing new was started');
    assert.equal(agent.admission.isAdmitted(before.metadata!.uid!), true);
  });
});
