// Workload controllers at scale, on simulated nodes (src/kubelet/simulated): pods bound to a node turn
// Running and Ready at once, so the figures are the control plane's (API server, scheduler, workload
// controllers), not container start-up.
//
// Processes: the server as `tinykube server` runs it (API server, scheduler, controllers) in a child;
// the simulated nodes and the measuring here, each with its own event loop as in a real cluster.
//
//  1. A ReplicaSet of N: create → N available.
//  2. A Deployment of N (maxSurge 25%, maxUnavailable 25%): create → N available; then a full rolling
//     update (a new image) → N updated and available, old ReplicaSet at 0.
//  3. A Job of N completions (parallelism P, each pod exits 0 shortly after it starts): create → Complete.
// A phase whose kind the server does not serve yet is skipped with a note.
//
// Targets (issue 11, on 2 cores): 1,000 replicas available ≤ 5 s; the rolling update ≤ 20 s. For
// scale: kube-controller-manager's default client rate (20 requests/s, burst 30) needs about 50 s just
// to create 1,000 pods.
//
// Usage: node bench/workloads.ts [--replicas 1000] [--nodes 100] [--completions 1000] [--parallelism 100]
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Deployment, Job, PodTemplateSpec, ReplicaSet } from '../src/api/types.ts';
import { ApiClient, type HasMetadata } from '../src/client/client.ts';
import { isNotFound } from '../src/client/errors.ts';
import { Informer, listWatch } from '../src/client/informer.ts';
import { readKubeconfigFile } from '../src/client/kubeconfig.ts';
import type { ResourceRef } from '../src/client/resources.ts';
import { startServer } from '../src/cmd/server.ts';
import { Simulator } from '../src/kubelet/simulated/simulator.ts';

const ReplicaSetsRef: ResourceRef = { apiVersion: 'apps/v1', resource: 'replicasets' };
const DeploymentsRef: ResourceRef = { apiVersion: 'apps/v1', resource: 'deployments' };
const JobsRef: ResourceRef = { apiVersion: 'batch/v1', resource: 'jobs' };
const NS = 'default';

if (process.argv[2] === '--serve') {
  const server = await startServer({ dataDir: process.argv[3]!, listen: '127.0.0.1:0' });
  process.send?.({ ready: server.controlPlane.kubeconfigPath });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
} else {
  await main();
}

function template(app: string, image: string, annotations: Record<string, string> = {}, restartPolicy?: string): PodTemplateSpec {
  return {
    metadata: { labels: { app }, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }], ...(restartPolicy ? { restartPolicy } : {}) },
  };
}

async function serves(client: ApiClient, ref: ResourceRef): Promise<boolean> {
  try {
    await client.list(ref, NS, { limit: 1 });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Resolves (with seconds since `t0`) once `cond` holds for the object named `name` in the informer. */
function whenObject<T extends HasMetadata>(inf: Informer<T>, name: string, cond: (o: T) => boolean, t0: number): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      const o = inf.store.get(NS, name);
      if (o && cond(o)) {
        off();
        resolve((performance.now() - t0) / 1000);
      }
    };
    const off = inf.addEventHandler({ onAdd: check, onUpdate: check });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { replicas: { type: 'string' }, nodes: { type: 'string' }, completions: { type: 'string' }, parallelism: { type: 'string' } } });
  const N = Number(values.replicas ?? 1000);
  const nodes = Number(values.nodes ?? 100);
  const completions = Number(values.completions ?? 1000);
  const parallelism = Number(values.parallelism ?? 100);
  const dir = mkdtempSync(join(tmpdir(), 'tk-bench-workloads-'));
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--serve', join(dir, 'server')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kubeconfig = await new Promise<string>((resolve, reject) => {
    child.on('message', (m) => resolve((m as { ready: string }).ready));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const client = new ApiClient({ ...readKubeconfigFile(kubeconfig), userAgent: 'bench-workloads', maxSockets: 32 });
  const simClient = new ApiClient({ ...readKubeconfigFile(kubeconfig), userAgent: 'tinykube-simulate', maxSockets: 64 });
  const errors: string[] = [];
  const sim = new Simulator({ client: simClient, nodes, spec: { capacity: { cpu: '64', memory: '256Gi', pods: '250' } }, jitter: 0, onError: (err, ctx) => void (errors.length < 10 && errors.push(`${ctx}: ${(err as Error).message}`)) });
  await sim.start();
  const informers: Informer<HasMetadata>[] = [];
  const watch = async <T extends HasMetadata>(ref: ResourceRef) => {
    const inf = new Informer<T>(listWatch<T>(client, ref, NS));
    inf.start();
    await inf.waitForSync();
    informers.push(inf as unknown as Informer<HasMetadata>);
    return inf;
  };
  console.log(`workloads: ${nodes} simulated nodes, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: string[] = [];
  try {
    // 1. ReplicaSet
    const sets = await watch<ReplicaSet & HasMetadata>(ReplicaSetsRef);
    let t0 = performance.now();
    const rsDone = whenObject(sets, 'bench-rs', (rs) => rs.status?.availableReplicas === N, t0);
    await client.create<ReplicaSet & HasMetadata>(ReplicaSetsRef, NS, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'bench-rs' }, spec: { replicas: N, selector: { matchLabels: { app: 'bench-rs' } }, template: template('bench-rs', 'bench/app:1') } });
    const rsSecs = await rsDone;
    rows.push(`ReplicaSet of ${N}: create → ${N} available   ${rsSecs.toFixed(2)} s   ${(N / rsSecs).toFixed(0)} pods/s   (target ≤ 5 s)`);
    console.log(rows.at(-1));
    await client.delete(ReplicaSetsRef, NS, 'bench-rs');
    await sim.idle();

    // 2. Deployment and its rolling update
    if (await serves(client, DeploymentsRef)) {
      const deps = await watch<Deployment & HasMetadata>(DeploymentsRef);
      t0 = performance.now();
      const depDone = whenObject(deps, 'bench-deploy', (d) => d.status?.availableReplicas === N && d.status?.updatedReplicas === N, t0);
      await client.create<Deployment & HasMetadata>(DeploymentsRef, NS, {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bench-deploy' },
        spec: { replicas: N, selector: { matchLabels: { app: 'bench-deploy' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, template: template('bench-deploy', 'bench/app:1') },
      });
      const depSecs = await depDone;
      rows.push(`Deployment of ${N}: create → ${N} available   ${depSecs.toFixed(2)} s   ${(N / depSecs).toFixed(0)} pods/s   (target ≤ 5 s)`);
      console.log(rows.at(-1));
      t0 = performance.now();
      const rolled = whenObject(deps, 'bench-deploy', (d) => (d.status?.observedGeneration ?? 0) >= 2 && d.status?.updatedReplicas === N && d.status?.availableReplicas === N && d.status?.replicas === N, t0);
      await client.patch(DeploymentsRef, NS, 'bench-deploy', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'bench/app:2' }] } } } });
      const rollSecs = await rolled;
      rows.push(`Deployment of ${N}: rolling update (maxSurge 25%)   ${rollSecs.toFixed(2)} s   ${(N / rollSecs).toFixed(0)} pods replaced/s   (target ≤ 20 s)`);
      console.log(rows.at(-1));
      await client.delete(DeploymentsRef, NS, 'bench-deploy');
      await sim.idle();
    } else rows.push('Deployment: skipped (the server does not serve apps/v1 deployments)');

    // 3. Job
    if (await serves(client, JobsRef)) {
      const jobs = await watch<Job & HasMetadata>(JobsRef);
      t0 = performance.now();
      const jobDone = whenObject(jobs, 'bench-job', (j) => !!j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'), t0);
      await client.create<Job & HasMetadata>(JobsRef, NS, {
        apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bench-job' },
        spec: { completions, parallelism, template: template('bench-job', 'bench/app:1', { 'simulate.tinykube.io/exit-after': '50ms' }, 'Never') },
      });
      const jobSecs = await jobDone;
      rows.push(`Job of ${completions} completions (parallelism ${parallelism}): create → Complete   ${jobSecs.toFixed(2)} s   ${(completions / jobSecs).toFixed(0)} pods/s`);
      console.log(rows.at(-1));
    } else rows.push('Job: skipped (the server does not serve batch/v1 jobs)');
  } finally {
    console.log(`\nsummary (load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    for (const r of rows) console.log(`  ${r}`);
    if (errors.length) console.log(`  simulator errors: ${errors.join('; ')}`);
    await Promise.all(informers.map((i) => i.stop()));
    await sim.stop();
    client.close();
    simClient.close();
    child.disconnect();
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
