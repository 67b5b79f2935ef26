// Local-storage eviction through the whole Agent over a FakeRuntime, against a real in-process API
// server: a pod whose emptyDir grows past its sizeLimit is Failed with reason Evicted, the kubelet's
// message and a Warning Evicted event, and its Summary showed the volume's usage first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Informer, listWatch } from '../../src/client/informer.ts';
import { Events, Pods } from '../../src/client/resources.ts';
import type { Event, Pod } from '../../src/api/types.ts';
import { Agent } from '../../src/kubelet/agent.ts';
import { FakeRuntime } from '../../src/kubelet/runtime/fake-runtime.ts';
import { TEST_MACHINE } from './test-machine.ts';
import { cacheWaiter, type CacheWait } from './cache-waiter.ts';

const NODE = 'evict-node';
const machine = TEST_MACHINE;

let cp: ControlPlane;
let client: ApiClient;
let dir: string;
let agent: Agent;
let podInformer: Informer<Pod>;
let eventInformer: Informer<Event>;
let pods: CacheWait<Pod>;
let events: CacheWait<Event>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tk-agent-eviction-'));
  cp = await startControlPlane({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath);
  podInformer = new Informer<Pod>(listWatch<Pod>(client, Pods, 'default'));
  eventInformer = new Informer<Event>(listWatch<Event>(client, Events, 'default'));
  pods = cacheWaiter(podInformer);
  events = cacheWaiter(eventInformer);
  podInformer.start();
  eventInformer.start();
  agent = new Agent({
    // No node IPAM runs here: the agent picks its pod range at once.
    podCIDRWaitMs: 0,
    client, runtime: new FakeRuntime({ images: ['busybox'] }), nodeName: NODE, dataDir: path.join(dir, 'agent'), logRoot: path.join(dir, 'logs'),
    nodeIP: '192.0.2.9', mounts: false, plegPeriodMs: 100, evictionPeriodMs: 200, machine,
  });
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

describe('agent local-storage eviction', () => {
  it('evicts a pod whose emptyDir exceeds its sizeLimit', async () => {
    const created = await client.create<Pod>(Pods, 'default', {
      metadata: { name: 'hog' },
      spec: {
        // No controllers run here (no default account, no kube-root-ca.crt): no token volume.
        automountServiceAccountToken: false,
        nodeName: NODE,
        terminationGracePeriodSeconds: 30,
        containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '32Ki' } }],
      },
    });
    const uid = created.metadata!.uid!;
    await pods((all) => all.some((p) => p.metadata?.name === 'hog' && p.status?.containerStatuses?.[0]?.state?.running), 'hog running', 15_000);
    const volume = path.join(dir, 'agent', 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'scratch');
    await writeFile(path.join(volume, 'small'), Buffer.alloc(4096, 1));
    const summary = await agent.summary.get(0);
    const ps = summary.pods.find((p) => p.podRef.uid === uid);
    assert.ok(ps, 'the pod is in the summary');
    assert.ok((ps.volume?.find((v) => v.name === 'scratch')?.usedBytes ?? 0) >= 4096);
    assert.equal(summary.node.nodeName, NODE);

    await writeFile(path.join(volume, 'big'), Buffer.alloc(256 * 1024, 1));
    const msg = 'Usage of EmptyDir volume "scratch" exceeds the limit "32Ki". ';
    const all = await pods((all) => all.some((p) => p.metadata?.name === 'hog' && p.status?.phase === 'Failed'), 'hog Failed', 15_000);
    const hog = all.find((p) => p.metadata?.name === 'hog')!;
    assert.equal(hog.status?.reason, 'Evicted');
    assert.equal(hog.status?.message, msg);
    assert.ok(hog.status?.containerStatuses?.[0]?.state?.terminated, 'its container was stopped');
    const evs = await events((all) => all.some((e) => e.reason === 'Evicted' && e.involvedObject?.uid === uid), 'Evicted event', 15_000);
    const ev = evs.find((e) => e.reason === 'Evicted')!;
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, msg);
    assert.equal(ev.source?.component, 'kubelet');
  });
});
