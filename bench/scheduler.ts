// Scheduler benchmark: pods/s scheduled and bound with N simulated nodes (Node objects only) and
// 10,000 pending pods. The API server runs in a child process (as `tinykube server` would on another
// core); this process runs only the scheduler and the load generator. Figures: informer sync time,
// pods/s from the first binding to the last, and the scheduler's own CPU time per pod.
//
// Usage: node bench/scheduler.ts [NODES...] [--pods N]      (default: 500 5000, 10000 pods)
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from '../src/api/types.ts';
import { ApiClient } from '../src/client/client.ts';
import { Nodes, Pods } from '../src/client/resources.ts';
import { startControlPlane } from '../src/cmd/controlplane.ts';
import { startScheduler } from '../src/scheduler/scheduler.ts';

if (process.argv[2] === '--serve') {
  // Child: the control plane; tells the parent where its kubeconfig is, then serves until killed.
  const cp = await startControlPlane({ dataDir: process.argv[3], listen: '127.0.0.1:0' });
  process.send?.({ kubeconfig: cp.kubeconfigPath });
  process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
  process.on('disconnect', () => void cp.close().then(() => process.exit(0)));
} else {
  const args = process.argv.slice(2);
  const podsIdx = args.indexOf('--pods');
  const PODS = podsIdx >= 0 ? Number(args[podsIdx + 1]) : 10_000;
  const sizes = args.filter((a, i) => !a.startsWith('--') && (podsIdx < 0 || i !== podsIdx + 1)).map(Number);
  for (const n of sizes.length ? sizes : [500, 5000]) await run(n, PODS);
}

async function pool<T>(n: number, items: T[], fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function node(i: number): Node {
  const name = `node-${String(i).padStart(5, '0')}`;
  const alloc = { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '500Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    status: { capacity: alloc, allocatable: alloc, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

// Pods in groups of 10 per ReplicaSet, so default spreading is at work as in a real cluster.
function pod(i: number): Pod {
  const rs = `app-${Math.floor(i / 10)}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      labels: { app: rs },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `uid-${rs}`, controller: true }],
    },
    spec: { containers: [{ name: 'app', image: 'registry.local/app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

async function run(nodes: number, pods: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-bench-sched-'));
  const child = fork(new URL(import.meta.url).pathname, ['--serve', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { kubeconfig } = await new Promise<{ kubeconfig: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { kubeconfig: string }));
    child.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
  });
  const loader = ApiClient.fromKubeconfig(kubeconfig, { userAgent: 'bench-loader' });
  const t0 = performance.now();
  await pool(64, Array.from({ length: nodes }, (_, i) => i), (i) => loader.create(Nodes, undefined, node(i)));
  const t1 = performance.now();
  await pool(64, Array.from({ length: pods }, (_, i) => i), (i) => loader.create(Pods, 'default', pod(i)));
  const t2 = performance.now();
  console.log(`\n${nodes} nodes, ${pods} pending pods`);
  console.log(`  setup: ${nodes} nodes in ${((t1 - t0) / 1000).toFixed(1)} s, ${pods} pods in ${((t2 - t1) / 1000).toFixed(1)} s (${Math.round(pods / ((t2 - t1) / 1000))} creates/s)`);

  const client = ApiClient.fromKubeconfig(kubeconfig, { userAgent: 'tinykube-scheduler' });
  const errors: unknown[] = [];
  const serverCpu = async (): Promise<number> => {
    const m = new Promise<{ cpu: NodeJS.CpuUsage }>((r) => child.once('message', (x) => r(x as { cpu: NodeJS.CpuUsage })));
    child.send('cpu');
    const { cpu } = await m;
    return (cpu.user + cpu.system) / 1000;
  };
  const server0 = await serverCpu();
  const cpu0 = process.cpuUsage();
  const s0 = performance.now();
  const sched = startScheduler({ client, onError: (e) => errors.push(e), pageSize: 1000 });
  await sched.waitForSync();
  const s1 = performance.now();
  let firstBound = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const st = sched.stats();
      if (st.bound > 0 && firstBound === 0) firstBound = performance.now();
      if (st.bound + st.bindFailures >= pods || errors.length > 100) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const s2 = performance.now();
  // Scheduled events are written behind the bindings (scheduler/write-queue.ts): report when they are all in.
  await new Promise<void>((resolve) => {
    const tick = (): void => void (sched.stats().eventsPending === 0 ? resolve() : setTimeout(tick, 5));
    tick();
  });
  const s3 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const serverMs = (await serverCpu()) - server0;
  const st = sched.stats();
  await sched.stop();
  client.close();

  // Verify from the API: every pod bound, no node over its pod count.
  const list = await loader.list<Pod>(Pods, 'default');
  const perNode = new Map<string, number>();
  let unbound = 0;
  for (const p of list.items) {
    if (!p.spec?.nodeName) unbound++;
    else perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  }
  loader.close();
  child.disconnect();
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });

  const secs = (s2 - s1) / 1000;
  console.log(`  informer sync: ${((s1 - s0) / 1000).toFixed(2)} s`);
  console.log(`  bound ${st.bound} pods in ${secs.toFixed(2)} s after sync: ${Math.round(st.bound / secs)} pods/s scheduled and bound`);
  console.log(`  all Scheduled events written ${((s3 - s1) / 1000).toFixed(2)} s after sync (${st.eventsDropped} dropped)`);
  console.log(`  CPU per pod (sync included, events included): scheduler process ${((cpu.user + cpu.system) / 1000 / st.bound).toFixed(3)} ms, API server ${(serverMs / st.bound).toFixed(3)} ms`);
  console.log(`  check: ${unbound} unbound, ${st.bindFailures} bind failures, ${errors.length} errors, max ${Math.max(...perNode.values())} pods on a node, ${perNode.size} nodes used`);
  if (errors.length) console.log(`  first error: ${(errors[0] as Error).message}`);
}
