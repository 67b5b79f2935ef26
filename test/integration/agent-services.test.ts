// The agent's Service environment variables and pod DNS through the whole Agent over a FakeRuntime,
// against a real in-process API server (which bootstraps default/kubernetes): a pod created after a
// Service starts with the Service's variables, and its sandbox gets the ClusterFirst resolver.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Pods, Services } from '../../src/client/resources.ts';
import type { Pod, Service } from '../../src/api/types.ts';
import { Agent } from '../../src/kubelet/agent.ts';
import { FakeRuntime } from '../../src/kubelet/runtime/fake-runtime.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../src/kubelet/runtime/runtime.ts';
import { TEST_MACHINE } from './test-machine.ts';
import { until } from '../../src/testing/until.ts';
import { cacheWaiter } from './cache-waiter.ts';

const NODE = 'svc-node';
const machine = TEST_MACHINE;

let cp: ControlPlane;
let client: ApiClient;
let dir: string;
let runtime: FakeRuntime;
let agent: Agent;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tk-agent-services-'));
  cp = await startControlPlane({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath);
  runtime = new FakeRuntime({ images: ['busybox'] });
  agent = new Agent({
    // No node IPAM runs here: the agent picks its pod range at once.
    podCIDRWaitMs: 0,
    client, runtime, nodeName: NODE, dataDir: path.join(dir, 'agent'), logRoot: path.join(dir, 'logs'), nodeIP: '192.0.2.9', mounts: false, plegPeriodMs: 100, machine,
    resolvConf: path.join(dir, 'no-such-resolv.conf'),
  });
  await agent.start();
});

after(async () => {
  await agent?.stop({ removePods: true });
  client?.close();
  await cp?.close();
  await rm(dir, { recursive: true, force: true });
});

function created(uid: string): ContainerConfig | undefined {
  const call = runtime.calls.find((c) => c.method === 'createContainer' && (c.args[2] as PodSandboxConfig).metadata.uid === uid);
  return call?.args[1] as ContainerConfig | undefined;
}

describe('service links and pod DNS in the agent', () => {
  it('a pod created after a Service sees its variables and the kubernetes ones, and resolves through the cluster DNS', async () => {
    const svc = await client.create<Service>(Services, 'default', { metadata: { name: 'redis-primary' }, spec: { selector: { app: 'redis' }, ports: [{ port: 6379, targetPort: 6379 }] } });
    const ip = svc.spec!.clusterIP!;
    assert.match(ip, /^10\.43\.\d+\.\d+$/);
    // The kubelet's own race (a pod seen before its Service) is not this test's subject.
    await cacheWaiter(agent.serviceInformer)((all) => all.some((s) => s.metadata?.name === 'redis-primary') && all.some((s) => s.metadata?.name === 'kubernetes'), 'the agent sees the Services', 15_000);

    const pod = await client.create<Pod>(Pods, 'default', {
      metadata: { name: 'app' },
      // No controllers run here (no default account, no kube-root-ca.crt): no token volume.
      spec: { nodeName: NODE, automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], env: [{ name: 'REDIS', value: '$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)' }] }] },
    });
    const uid = pod.metadata!.uid!;
    const cfg = await until('container created', () => created(uid), { timeoutMs: 15_000 });
    const env = new Map(cfg.envs!.map((e) => [e.key, e.value]));
    assert.equal(env.get('REDIS'), `${ip}:6379`);
    assert.equal(env.get('REDIS_PRIMARY_SERVICE_HOST'), ip);
    assert.equal(env.get('REDIS_PRIMARY_SERVICE_PORT'), '6379');
    assert.equal(env.get('REDIS_PRIMARY_PORT'), `tcp://${ip}:6379`);
    assert.equal(env.get('REDIS_PRIMARY_PORT_6379_TCP_ADDR'), ip);
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '443');
    assert.equal(env.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');

    const sandbox = runtime.calls.find((c) => c.method === 'runPodSandbox' && (c.args[0] as PodSandboxConfig).metadata.uid === uid)!.args[0] as PodSandboxConfig;
    assert.deepEqual(sandbox.dnsConfig, { servers: ['10.43.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] });
  });

  it('enableServiceLinks false keeps only the kubernetes variables; dnsPolicy None takes only dnsConfig', async () => {
    const pod = await client.create<Pod>(Pods, 'default', {
      metadata: { name: 'quiet' },
      spec: {
        nodeName: NODE, automountServiceAccountToken: false, enableServiceLinks: false, dnsPolicy: 'None', dnsConfig: { nameservers: ['192.0.2.53'], searches: ['corp.example'] },
        containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
      },
    });
    const uid = pod.metadata!.uid!;
    const cfg = await until('container created', () => created(uid), { timeoutMs: 15_000 });
    const names = cfg.envs!.map((e) => e.key);
    assert.ok(names.includes('KUBERNETES_SERVICE_HOST'));
    assert.ok(!names.some((n) => n.startsWith('REDIS_PRIMARY')));
    const sandbox = runtime.calls.find((c) => c.method === 'runPodSandbox' && (c.args[0] as PodSandboxConfig).metadata.uid === uid)!.args[0] as PodSandboxConfig;
    assert.deepEqual(sandbox.dnsConfig, { servers: ['192.0.2.53'], searches: ['corp.example'], options: [] });
  });
});
