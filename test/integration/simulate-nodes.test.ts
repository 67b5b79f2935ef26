// Simulated nodes against a real in-process control plane (API server, scheduler, controllers): 20
// nodes register Ready, 200 pods created through the API are scheduled onto them and turn Running;
// deletions are confirmed; a Node made by other means (as a real agent's would be) and its pods are
// left alone; once the simulator stops, its Leases stop moving. Then `tinykube simulate` itself, as a
// child process joining with the node token.
import { cacheWaiter, type CacheWait } from './cache-waiter.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Lease, Node, Pod } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Informer, listWatch } from '../../src/client/informer.ts';
import { CertificateSigningRequests, Leases, Nodes, Pods } from '../../src/client/resources.ts';
import type { CertificateSigningRequest } from '../../src/api/certificates/csr.ts';
import { startServer, type Server } from '../../src/cmd/server.ts';
import { Simulator } from '../../src/kubelet/simulated/simulator.ts';
import { SIMULATED_LABEL } from '../../src/kubelet/simulated/spec.ts';
import { makeNode, makePod, type PodBuilder } from '../../src/testing/objects.ts';
import { until } from '../../src/testing/until.ts';

const NODE = path.resolve(import.meta.dirname, '../../node_modules/.bin/node');
const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

let dir: string;
let server: Server;
let client: ApiClient;
let pods: Informer<Pod>;
let sim: Simulator;
const simErrors: string[] = [];
let waitPods: CacheWait<Pod>;

function waitForPods(what: string, cond: (all: Pod[]) => boolean, timeoutMs = 20_000): Promise<Pod[]> {
  return waitPods(cond, what, timeoutMs);
}

/** A pod of a five-app workload: 100m cpu and 64Mi each, so capacity and spread are visible. */
const appPod = (name: string): PodBuilder =>
  makePod(name).labels({ app: `app-${name.length % 5}` }).container({ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } });

async function pool<T>(n: number, items: T[], fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tk-simulate-'));
  server = await startServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(server.controlPlane.kubeconfigPath, { userAgent: 'simulate-test' });
  pods = new Informer<Pod>(listWatch<Pod>(client, Pods));
  waitPods = cacheWaiter(pods);
  pods.start();
  await pods.waitForSync();
  // A node made by other means (a real agent's, say): unschedulable for the burst, and one pod bound to it.
  await client.create<Node>(Nodes, undefined, makeNode('real-1').allocatable({ cpu: '4', memory: '8Gi', pods: '110' }).unschedulable().ready('True').build());
  await client.create<Pod>(Pods, 'default', appPod('on-real').onNode('real-1').build());
  sim = new Simulator({
    client,
    nodes: 20,
    spec: { capacity: { cpu: '4', memory: '16Gi', pods: '15' }, labels: { 'topology.kubernetes.io/zone': 'sim-a' } },
    leaseRenewMs: 300,
    onError: (err, ctx) => simErrors.push(`${ctx}: ${(err as Error).message}`),
  });
  await sim.start();
});

after(async () => {
  await sim?.stop();
  await pods?.stop();
  client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('simulated nodes', () => {
  it('registers Ready nodes with the capacity, labels, pod CIDRs and addresses asked for', async () => {
    const list = await client.list<Node>(Nodes, undefined, { labelSelector: SIMULATED_LABEL });
    const names = list.items.map((n) => n.metadata?.name).sort();
    assert.deepEqual(names, sim.nodeNames);
    assert.equal(names[0], 'sim-00');
    const cidrs = new Set<string>();
    for (const n of list.items) {
      assert.equal(ready(n), 'True');
      assert.deepEqual(n.status?.allocatable, { cpu: '4', memory: '16Gi', pods: '15', 'ephemeral-storage': '100Gi' });
      assert.equal(n.metadata?.labels?.['topology.kubernetes.io/zone'], 'sim-a');
      assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], n.metadata?.name);
      assert.match(n.spec?.podCIDR ?? '', /^100\.64\.\d+\.0\/24$/);
      assert.equal(n.status?.nodeInfo?.kubeletVersion, 'v1.32.4-tinykube');
      assert.equal(n.status?.addresses?.[0]?.type, 'InternalIP');
      cidrs.add(n.spec!.podCIDR!);
    }
    assert.equal(cidrs.size, 20);
  });

  it('runs 200 pods created through the API on its nodes within a few seconds', async () => {
    const t0 = Date.now();
    await pool(20, Array.from({ length: 200 }, (_, i) => `p-${i}`), (name) => client.create<Pod>(Pods, 'default', appPod(name).build()));
    const all = await waitForPods('200 Running pods', (ps) => ps.filter((p) => p.metadata?.name?.startsWith('p-') && p.status?.phase === 'Running').length === 200);
    const took = Date.now() - t0;
    const mine = all.filter((p) => p.metadata?.name?.startsWith('p-'));
    const perNode = new Map<string, number>();
    const ips = new Set<string>();
    for (const p of mine) {
      const node = p.spec?.nodeName ?? '';
      assert.ok(sim.nodeNames.includes(node), `${p.metadata?.name} on ${node}`);
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
      assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.equal(p.status?.hostIP, sim.node(node)?.hostIP);
      ips.add(p.status?.podIP ?? '');
    }
    assert.equal(ips.size, 200, 'pod IPs are unique');
    assert.ok(Math.max(...perNode.values()) <= 15, 'no node over its pod capacity');
    assert.ok(took < 15_000, `took ${took} ms`);
    await sim.idle();
    const st = sim.stats();
    assert.equal(st.started, 200);
    assert.ok(st.statusWrites >= 200);
  });

  it('leaves a node made by other means, and the pods bound to it, alone', async () => {
    const real = await client.get<Node>(Nodes, undefined, 'real-1');
    assert.equal(real.metadata?.labels?.[SIMULATED_LABEL], undefined);
    assert.equal(real.status?.nodeInfo, undefined);
    await assert.rejects(client.get<Lease>(Leases, 'kube-node-lease', 'real-1'));
    const p = await client.get<Pod>(Pods, 'default', 'on-real');
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(p.status?.containerStatuses, undefined);
  });

  it('confirms deletions of its pods', async () => {
    await pool(10, Array.from({ length: 50 }, (_, i) => `p-${i}`), (name) => client.delete(Pods, 'default', name));
    await waitForPods('50 pods gone', (ps) => ps.filter((p) => p.metadata?.name?.startsWith('p-')).length === 150);
    assert.ok(sim.stats().deleted >= 50);
  });

  it('refuses a pod bound by hand that does not fit, as a kubelet does (Failed, OutOfcpu)', async () => {
    const node = sim.nodeNames[0]!;
    const big = makePod('by-hand-too-big').onNode(node).container({ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: '64' } } }).build();
    await client.create<Pod>(Pods, 'default', big);
    const all = await waitForPods('the pod rejected', (ps) => ps.some((x) => x.metadata?.name === 'by-hand-too-big' && x.status?.phase === 'Failed'));
    const p = all.find((x) => x.metadata?.name === 'by-hand-too-big');
    assert.equal(p!.status?.reason, 'OutOfcpu');
    assert.match(p!.status?.message ?? '', /^Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: \d+, capacity: 4000$/);
    assert.equal(p!.status?.containerStatuses, undefined, 'never started');
    await client.delete(Pods, 'default', 'by-hand-too-big');
  });

  it('stops and restarts one node: its lease stops while the others go on, then it is Ready again', async () => {
    const renewTime = async (n: string) => (await client.get<Lease>(Leases, 'kube-node-lease', n)).spec?.renewTime;
    await sim.stopNode('sim-19');
    const frozen = await renewTime('sim-19');
    const other = await renewTime('sim-18');
    await until('another lease to move', async () => (await renewTime('sim-18')) !== other, { timeoutMs: 15_000, intervalMs: 50 });
    const moved = await renewTime('sim-18');
    await until('another lease to move twice', async () => (await renewTime('sim-18')) !== moved, { timeoutMs: 15_000, intervalMs: 50 });
    assert.equal(await renewTime('sim-19'), frozen);
    // A pod bound to the stopped node is not run (its agent is down)...
    await client.create<Pod>(Pods, 'default', appPod('while-down').onNode('sim-19').build());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await client.get<Pod>(Pods, 'default', 'while-down')).status?.phase, 'Pending');
    // ...until the node comes back and adopts it; its running pods are adopted without a rewrite.
    const writes = sim.stats().statusWrites;
    await sim.startNode('sim-19');
    await waitForPods('while-down Running', (ps) => ps.some((p) => p.metadata?.name === 'while-down' && p.status?.phase === 'Running'));
    await until('the lease to move again', async () => (await renewTime('sim-19')) !== frozen, { timeoutMs: 15_000, intervalMs: 50 });
    await sim.idle();
    assert.equal(sim.stats().statusWrites, writes + 1);
  });

  it('stops renewing leases once stopped', async () => {
    const renewTime = async () => (await client.get<Lease>(Leases, 'kube-node-lease', 'sim-07')).spec?.renewTime;
    const first = await renewTime();
    assert.ok(first);
    await until('the lease to move', async () => (await renewTime()) !== first, { timeoutMs: 15_000, intervalMs: 50 });
    await sim.stop();
    const last = await renewTime();
    const renewals = sim.stats().leaseRenewals;
    await new Promise((r) => setTimeout(r, 1200)); // four renewal periods with nothing to await
    assert.equal(await renewTime(), last);
    assert.equal(sim.stats().leaseRenewals, renewals);
    assert.deepEqual(simErrors, []);
  });

  it('tinykube simulate joins with the node token and stops after --stop-after', async () => {
    const cp = server.controlPlane;
    // Bound to one of its nodes before they exist: only that node's own identity may write its status.
    await client.create<Pod>(Pods, 'default', appPod('on-cli-1').onNode('cli-1').toleration({ key: 'sim', operator: 'Exists' }).build());
    const child = spawn(NODE, [MAIN, 'simulate', '--server', cp.url, '--token-file', cp.nodeTokenPath, '--nodes', '3', '--name-prefix', 'cli-', '--cpu', '2', '--pods', '20', '--labels', 'tier=cli', '--taints', 'sim=true:NoSchedule', '--stop-after', '1500ms', '--lease-renew', '500ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, out);
    assert.match(out, /3 node\(s\) cli-0 … cli-2 registered/);
    const nodes = await client.list<Node>(Nodes, undefined, { labelSelector: 'tier=cli' });
    assert.deepEqual(nodes.items.map((n) => n.metadata?.name).sort(), ['cli-0', 'cli-1', 'cli-2']);
    for (const n of nodes.items) {
      assert.deepEqual(n.spec?.taints?.filter((t) => t.key === 'sim'), [{ key: 'sim', value: 'true', effect: 'NoSchedule' }]);
      assert.equal(n.status?.capacity?.cpu, '2');
      assert.equal(n.status?.capacity?.pods, '20');
    }
    // The address slots of the first simulator's nodes are taken: these got others.
    const taken = new Set((await client.list<Node>(Nodes, undefined, { labelSelector: SIMULATED_LABEL })).items.map((n) => n.spec?.podCIDR));
    assert.equal(taken.size, 23);
    // Each node asked for its own client certificate with the token, as a real agent does …
    const csrs = (await client.list<CertificateSigningRequest>(CertificateSigningRequests)).items.filter((c) => c.spec.username === 'system:bootstrap:node');
    const issuedFor = csrs.filter((c) => c.status?.certificate).map((c) => new X509Certificate(Buffer.from(c.status!.certificate!, 'base64').toString()).subject).sort();
    assert.deepEqual(issuedFor, ['cli-0', 'cli-1', 'cli-2'].map((n) => `O=system:nodes\nCN=system:node:${n}`));
    // … and wrote as that node: the pod's status came through NodeRestriction, which the token's user
    // would not pass, and the token alone may not write a Node (system:node is bound to no one).
    const pod = await client.get<Pod>(Pods, 'default', 'on-cli-1');
    assert.equal(pod.status?.phase, 'Running');
    const token = (await readFile(cp.nodeTokenPath, 'utf8')).trim();
    const bootstrap = new ApiClient({ server: cp.url, token, caPem: cp.pki.caCertPem });
    try {
      await assert.rejects(bootstrap.patch<Node>(Nodes, undefined, 'cli-0', 'merge', { metadata: { labels: { taken: 'over' } } }), (err: Error & { code?: number }) => err.code === 403);
    } finally {
      bootstrap.close();
    }
    await client.delete(Pods, 'default', 'on-cli-1', { gracePeriodSeconds: 0 });
  });

  it('tinykube simulate --kubeconfig: the nodes act as themselves by impersonation, without certificates', async () => {
    const cp = server.controlPlane;
    await client.create<Pod>(Pods, 'default', appPod('on-imp-1').onNode('imp-1').build());
    const run = async (...args: string[]) => {
      const child = spawn(NODE, [MAIN, 'simulate', '--kubeconfig', cp.kubeconfigPath, '--nodes', '2', '--name-prefix', 'imp-', '--stop-after', '1s', '--lease-renew', '500ms', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return { code: await new Promise<number | null>((r) => child.on('exit', r)), out };
    };
    const csrsBefore = (await client.list<CertificateSigningRequest>(CertificateSigningRequests)).items.length;
    const ok = await run();
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /2 node\(s\) imp-0 … imp-1 registered/);
    assert.equal((await client.list<CertificateSigningRequest>(CertificateSigningRequests)).items.length, csrsBefore, 'no certificate was asked for');
    assert.equal((await client.get<Pod>(Pods, 'default', 'on-imp-1')).status?.phase, 'Running');
    await client.delete(Pods, 'default', 'on-imp-1', { gracePeriodSeconds: 0 });
    // A label only an administrator may set: NodeRestriction refuses it to the node, so its writes
    // were made as the node, not as the kubeconfig's admin.
    const refused = await run('--labels', 'node-restriction.kubernetes.io/role=db');
    assert.notEqual(refused.code, 0, refused.out);
    assert.match(refused.out, /node-restriction\.kubernetes\.io\/role/);
    assert.match(refused.out, /forbidden|Forbidden/);
  });
});
