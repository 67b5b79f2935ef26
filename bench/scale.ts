// Scale benchmark with simulated nodes (src/kubelet/simulated): bound pods really turn Running.
//
//  1. Scheduler throughput: for each node count (500 and 5,000), 10,000 pending pods, then the
//     scheduler starts: pods/s scheduled and bound, and how long until all of them are Running.
//     Processes: the API server (+ controllers) in one child, the simulated nodes in another, the
//     scheduler and the load generator here, so each has its own event loop as in a real cluster.
//  2. Scale: 5,000 simulated nodes and 150,000 pods created through the API (64 at a time) against a
//     server run as `tinykube server` runs it (API server, scheduler and controllers in one process);
//     every pod is scheduled and becomes Running. Figures: creates/s, time to all Running, the
//     server's RSS (now and peak), the simulator's memory per node and per pod, and the time to LIST
//     all pods: one JSON request, JSON in kubectl's pages of 500, and Table in pages of 500 (what
//     `kubectl get pods -A` asks for).
//
// Targets (issue 4, on 2 cores): ≥ 1,500 pods/s at 5,000 nodes; 150,000 pods in < 24 GiB; LIST of
// all pods in < 5 s.
//
// Usage: node bench/scale.ts [--quick] [--throughput-only | --scale-only]
//          [--nodes 500,5000] [--pods 10000] [--scale-nodes 5000] [--scale-pods 150000] [--profile DIR]
// --profile DIR: CPU profiles of each process during the throughput phase, and of the server during
// the scale phase's LISTs, written to DIR.
// --quick: throughput at 500 nodes with 2,000 pods; scale with 500 nodes and 10,000 pods (~1 min).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from '../src/api/types.ts';
import { ApiClient } from '../src/client/client.ts';
import { readKubeconfigFile } from '../src/client/kubeconfig.ts';
import { Nodes, Pods } from '../src/client/resources.ts';
import { startServer } from '../src/cmd/server.ts';
import { Simulator, type SimulatorStats } from '../src/kubelet/simulated/simulator.ts';
import { startScheduler } from '../src/scheduler/scheduler.ts';
import { BenchClient, type Target } from './lib/https.ts';
import { benchPod } from './lib/pod.ts';
import { startWindowProfile, stopWindowProfile } from './lib/window-profile.ts';

interface ProcStats {
  cpuMs: number;
  rssMiB: number;
  hwmMiB: number;
  heapMiB: number;
  externalMiB: number;
  /** RSS in file pages: SQLite's mmap of its database (page cache, not the process's own memory). */
  fileMiB: number;
}

function procStats(): ProcStats {
  const cpu = process.cpuUsage();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  const mem = process.memoryUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024, heapMiB: mem.heapUsed / 2 ** 20, externalMiB: (mem.external + mem.arrayBuffers) / 2 ** 20, fileMiB: (kib('RssFile') + kib('RssShmem')) / 1024 };
}

interface ServeReady {
  kubeconfig: string;
  target: Target;
}

type Msg = { type: 'stats'; id: number; profile?: 'start' | string };

/** `profile: 'start'` starts a CPU profile of this process; any other string stops it and names the file. */
async function profileMsg(m: Msg): Promise<void> {
  if (m.profile === 'start') await startWindowProfile();
  else if (m.profile) await stopWindowProfile(m.profile);
}

// ---- children -------------------------------------------------------------------------------------

async function serve(dir: string, withScheduler: boolean): Promise<void> {
  const server = await startServer({ dataDir: dir, listen: '127.0.0.1:0', scheduler: withScheduler });
  const cp = server.controlPlane;
  const ready: ServeReady = { kubeconfig: cp.kubeconfigPath, target: { port: cp.port, ca: cp.pki.caCertPem, token: cp.pki.adminToken } };
  process.send?.({ ready });
  process.on('message', (m: Msg) => void profileMsg(m).then(() => process.send?.({ id: m.id, stats: procStats(), scheduler: server.scheduler?.stats() })));
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

async function simulate(kubeconfig: string, nodes: number): Promise<void> {
  const client = new ApiClient({ ...readKubeconfigFile(kubeconfig), userAgent: 'tinykube-simulate', maxSockets: 128 });
  const heartbeatClient = new ApiClient({ ...readKubeconfigFile(kubeconfig), userAgent: 'tinykube-simulate/heartbeat', maxSockets: 32 });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const errors: string[] = [];
  const sim = new Simulator({ client, heartbeatClient, nodes, onError: (err, ctx) => void (errors.length < 20 && errors.push(`${ctx}: ${(err as Error).message}`)) });
  const t0 = performance.now();
  await sim.start();
  const startMs = performance.now() - t0;
  gc?.();
  const perNodeBytes = (process.memoryUsage().heapUsed - heap0) / nodes;
  process.send?.({ ready: { startMs, perNodeBytes } });
  process.on('message', (m: Msg & { idle?: boolean }) => {
    const reply = () => {
      gc?.();
      process.send?.({ id: m.id, stats: procStats(), sim: sim.stats(), heapUsed: process.memoryUsage().heapUsed, errors: errors.slice() });
    };
    if (m.idle) void sim.idle().then(reply);
    else void profileMsg(m).then(reply);
  });
  process.on('disconnect', () => void sim.stop().then(() => {
    client.close();
    heartbeatClient.close();
    process.exit(0);
  }));
}

// ---- parent helpers -------------------------------------------------------------------------------

function child(args: string[], execArgv: string[] = []): ChildProcess {
  return fork(new URL(import.meta.url).pathname, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...execArgv] });
}

function firstMessage<T>(c: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: unknown) => {
      const r = (m as { ready?: T }).ready;
      if (r !== undefined) {
        c.off('message', onMsg);
        resolve(r);
      }
    };
    c.on('message', onMsg);
    c.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

let nextId = 0;
/** Asks a child for its figures; fails (instead of waiting for ever) if the child exits first. */
function ask<T>(c: ChildProcess, extra: object = {}): Promise<T> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    if (c.exitCode !== null || c.signalCode !== null) return reject(new Error(`child ${c.pid} has exited (${c.exitCode ?? c.signalCode})`));
    const onExit = (code: number | null, signal: string | null) => {
      c.off('message', onMsg);
      reject(new Error(`child ${c.pid} exited (${code ?? signal}) before answering`));
    };
    const onMsg = (m: unknown) => {
      if ((m as { id?: number }).id === id) {
        c.off('message', onMsg);
        c.off('exit', onExit);
        resolve(m as T);
      }
    };
    c.on('message', onMsg);
    c.once('exit', onExit);
    c.send({ type: 'stats', id, ...extra });
  });
}

interface SimReply {
  stats: ProcStats;
  sim: SimulatorStats;
  heapUsed: number;
  errors: string[];
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.disconnect();
  await exited;
}

async function pool<T>(n: number, items: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items) await fn(i++);
  }));
}

// Pods in groups of 10 per ReplicaSet (default spreading at work, as in a real cluster), each the
// realistic ~1.6 KB manifest of bench/lib/pod.ts.
function pod(i: number): Pod {
  const rs = `web-${Math.floor(i / 10)}`;
  const p = benchPod(`pod-${i}`, i) as Pod;
  p.metadata!.labels = { ...p.metadata!.labels, app: rs };
  p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `uid-${rs}`, controller: true }];
  return p;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (x: number) => (x >= 1024 ? `${(x / 1024).toFixed(2)} GiB` : `${x.toFixed(0)} MiB`);

// ---- 1. scheduler throughput ----------------------------------------------------------------------

async function throughput(nodes: number, pods: number, profileDir: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-bench-scale-'));
  const server = child(['--serve', dir, 'no-scheduler']);
  let simc: ChildProcess | undefined;
  try {
    const ready = await firstMessage<ServeReady>(server);
    simc = child(['--simulate', ready.kubeconfig, String(nodes)], ['--expose-gc']);
    const simReady = await firstMessage<{ startMs: number; perNodeBytes: number }>(simc);
    const loader = ApiClient.fromKubeconfig(ready.kubeconfig, { userAgent: 'bench-loader' });
    const c0 = performance.now();
    await pool(64, pods, (i) => loader.create(Pods, 'default', pod(i)));
    const createMs = performance.now() - c0;
    console.log(`\n${nodes} simulated nodes, ${pods} pending pods`);
    console.log(`  setup: ${nodes} nodes registered Ready in ${secs(simReady.startMs)}, ${pods} pods created in ${secs(createMs)} (${Math.round(pods / (createMs / 1000))}/s)`);

    const start = profileDir ? { profile: 'start' } : {};
    const server0 = (await ask<{ stats: ProcStats }>(server, start)).stats;
    const sim0 = (await ask<SimReply>(simc, start)).stats;
    if (profileDir) await startWindowProfile();
    const cpu0 = process.cpuUsage();
    const errors: unknown[] = [];
    const client = ApiClient.fromKubeconfig(ready.kubeconfig, { userAgent: 'tinykube-scheduler' });
    const s0 = performance.now();
    const sched = startScheduler({ client, onError: (e) => errors.push(e), pageSize: 1000 });
    await sched.waitForSync();
    const s1 = performance.now();
    await waitFor('all pods bound', async () => {
      const st = sched.stats();
      return st.bound + st.bindFailures >= pods || errors.length > 100;
    }, 600_000, 5);
    const s2 = performance.now();
    const st = sched.stats();
    const simc2 = simc;
    await waitFor('all pods Running', async () => (await ask<SimReply>(simc2)).sim.started >= pods, 600_000, 100);
    const running = await ask<SimReply>(simc, { idle: true });
    const s3 = performance.now();
    await waitFor('Scheduled events written', async () => sched.stats().eventsPending === 0, 600_000, 5);
    const s4 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const server1 = (await ask<{ stats: ProcStats }>(server)).stats;
    if (profileDir) {
      const file = (who: string) => join(profileDir, `throughput-${nodes}-${who}.cpuprofile`);
      await ask(server, { profile: file('server') });
      await ask(simc, { profile: file('simulator') });
      await stopWindowProfile(file('scheduler'));
      console.log(`  CPU profiles of the binding phase: ${file('*')} (summarise with bench/lib/profile.ts)`);
    }
    await sched.stop();
    client.close();
    const check = await loader.list<Pod>(Pods, 'default', { fieldSelector: 'status.phase=Running', limit: 1 });
    loader.close();
    console.log(`  informer sync: ${secs(s1 - s0)}`);
    console.log(`  bound ${st.bound} pods in ${((s2 - s1) / 1000).toFixed(2)} s after sync: ${Math.round(st.bound / ((s2 - s1) / 1000))} pods/s scheduled and bound (target at 5,000 nodes: ≥ 1,500)`);
    console.log(`  all ${pods} Running (statuses written) ${secs(s3 - s1)} after sync; ${running.sim.statusWrites} status writes, ${running.sim.leaseRenewals} lease renewals`);
    console.log(`  all Scheduled events written ${secs(s4 - s1)} after sync (${sched.stats().eventsDropped} dropped)`);
    console.log(`  CPU per pod: scheduler ${((cpu.user + cpu.system) / 1000 / st.bound).toFixed(3)} ms, API server ${((server1.cpuMs - server0.cpuMs) / pods).toFixed(3)} ms, simulator ${((running.stats.cpuMs - sim0.cpuMs) / pods).toFixed(3)} ms`);
    console.log(`  simulator: ${(simReady.perNodeBytes / 1024).toFixed(1)} KiB heap per node at start; check: ${st.bindFailures} bind failures, ${errors.length} scheduler errors, ${running.errors.length} simulator errors, ${running.sim.deleted} deletions confirmed, Running list non-empty: ${check.items.length > 0}`);
    if (errors.length) console.log(`  first scheduler error: ${(errors[0] as Error).message}`);
    if (running.errors.length) console.log(`  first simulator error: ${running.errors[0]}`);
  } finally {
    if (simc) await stop(simc);
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 2. scale: RSS and LIST at 5,000 nodes and 150,000 pods ----------------------------------------

const HEAP_MIB = 16_384;

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/**
 * `ms`: from the first request to the last page parsed, as a client sees it; `answeredMs`: the part
 * spent waiting for the server's answers (request sent → last byte received), without this process's
 * JSON.parse of ~3 KB per pod (a 446 MiB single answer takes seconds to parse in Node).
 */
async function listAll(http: BenchClient, accept: string, limit: number | undefined): Promise<{ ms: number; answeredMs: number; bytes: number; items: number; pages: number }> {
  const t0 = performance.now();
  let answeredMs = 0;
  let bytes = 0;
  let items = 0;
  let pages = 0;
  let cont = '';
  do {
    const q = new URLSearchParams();
    if (limit) q.set('limit', String(limit));
    if (cont) q.set('continue', cont);
    const a0 = performance.now();
    const r = await http.expect(200, 'GET', `/api/v1/pods${q.size ? `?${q}` : ''}`, undefined, { Accept: accept });
    answeredMs += performance.now() - a0;
    bytes += r.body.length;
    pages++;
    const body = JSON.parse(r.body.toString('utf8')) as { items?: unknown[]; rows?: unknown[]; metadata?: { continue?: string } };
    items += (body.items ?? body.rows ?? []).length;
    cont = body.metadata?.continue ?? '';
  } while (cont);
  return { ms: performance.now() - t0, answeredMs, bytes, items, pages };
}

async function scale(nodes: number, pods: number, profileDir: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-bench-scale-'));
  // V8's default heap limit (4 GiB here) is below what the scheduler's and controllers' caches of
  // 150,000 pods need inside the server process; `tinykube server` at that size needs the same flag.
  const server = child(['--serve', dir, 'scheduler'], [`--max-old-space-size=${HEAP_MIB}`]);
  let simc: ChildProcess | undefined;
  try {
    const ready = await firstMessage<ServeReady>(server);
    const idle = (await ask<{ stats: ProcStats }>(server)).stats;
    simc = child(['--simulate', ready.kubeconfig, String(nodes)], ['--expose-gc']);
    const simReady = await firstMessage<{ startMs: number; perNodeBytes: number }>(simc);
    const withNodes = (await ask<{ stats: ProcStats }>(server)).stats;
    const sim0 = await ask<SimReply>(simc);
    console.log(`\nscale: ${nodes} simulated nodes, ${pods} pods (server = API server + scheduler + controllers, as tinykube server)`);
    console.log(`  ${nodes} nodes registered Ready in ${secs(simReady.startMs)}; simulator heap ${(simReady.perNodeBytes / 1024).toFixed(1)} KiB per node`);
    const loader = ApiClient.fromKubeconfig(ready.kubeconfig, { userAgent: 'bench-loader' });
    const t0 = performance.now();
    let made = 0;
    const progress = setInterval(() => console.log(`    … ${made} pods created`), 15_000);
    try {
      await pool(64, pods, async (i) => {
        await loader.create(Pods, 'default', pod(i));
        made++;
      });
    } finally {
      clearInterval(progress);
    }
    const t1 = performance.now();
    const simc2 = simc;
    let last = 0;
    await waitFor('all pods Running', async () => {
      const s = (await ask<SimReply>(simc2)).sim.started;
      if (s - last >= 20_000 || (s === pods && last !== pods)) console.log(`    … ${s} pods Running`);
      if (s - last >= 20_000) last = s;
      return s >= pods;
    }, 1_800_000, 500);
    const simDone = await ask<SimReply>(simc, { idle: true });
    const t2 = performance.now();
    const nodeList = await loader.list<Node>(Nodes, undefined, { limit: 0 });
    const notReady = nodeList.items.filter((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True').length;
    loader.close();
    const full = (await ask<{ stats: ProcStats; scheduler?: { bound: number } }>(server));
    console.log(`  ${pods} pods created in ${secs(t1 - t0)} (${Math.round(pods / ((t1 - t0) / 1000))}/s at 64 concurrent), all Running ${secs(t2 - t0)} after the first create`);
    console.log(`  server RSS: idle ${mib(idle.rssMiB)}, with ${nodes} nodes ${mib(withNodes.rssMiB)}, with ${pods} pods ${mib(full.stats.rssMiB)} (peak ${mib(full.stats.hwmMiB)}; target < 24 GiB; JS heap ${mib(full.stats.heapMiB)}, external ${mib(full.stats.externalMiB)}, file-backed (SQLite mmap) ${mib(full.stats.fileMiB)}); server CPU ${secs(full.stats.cpuMs - withNodes.cpuMs)}`);
    console.log(`  simulator: RSS ${mib(simDone.stats.rssMiB)}, heap ${mib(simDone.heapUsed / 2 ** 20)}, ${((simDone.heapUsed - sim0.heapUsed) / pods / 1024).toFixed(2)} KiB heap per pod; ${simDone.sim.statusWrites} status writes, ${simDone.sim.leaseRenewals} lease renewals, ${simDone.sim.deleted} deletions confirmed (evictions), ${notReady} nodes not Ready, ${simDone.errors.length} errors${simDone.errors.length ? ` (first: ${simDone.errors[0]})` : ''}`);

    // The LISTs are timed on a settled cluster: the burst's Scheduled events (queued behind the
    // bindings, scheduler/write-queue.ts) are written first; leases go on being renewed meanwhile.
    const d0 = performance.now();
    let pendingEvents = 0;
    await waitFor('Scheduled events written', async () => {
      const sched = (await ask<{ scheduler?: { eventsPending: number; eventsDropped: number } }>(server)).scheduler;
      pendingEvents = sched?.eventsPending ?? 0;
      return pendingEvents === 0;
    }, 1_800_000, 500);
    const schedDone = (await ask<{ scheduler?: { eventsDropped: number } }>(server)).scheduler;
    console.log(`  Scheduled events all written ${secs(performance.now() - d0)} after the last pod turned Running (${schedDone?.eventsDropped ?? 0} dropped when the queue was full)`);
    const http = new BenchClient(ready.target, 4);
    if (profileDir) await ask(server, { profile: 'start' });
    const rows: Array<[string, Awaited<ReturnType<typeof listAll>>]> = [];
    rows.push(['LIST all pods, one JSON request', await listAll(http, 'application/json', undefined)]);
    rows.push(['LIST all pods, JSON, pages of 500', await listAll(http, 'application/json', 500)]);
    rows.push(['LIST all pods, Table, pages of 500 (kubectl get pods -A)', await listAll(http, TABLE_ACCEPT, 500)]);
    http.close();
    if (profileDir) {
      const file = join(profileDir, `lists-${pods}-server.cpuprofile`);
      await ask(server, { profile: file });
      console.log(`  CPU profile of the server during the LISTs: ${file}`);
    }
    for (const [what, r] of rows) {
      console.log(`  ${what}: answered in ${secs(r.answeredMs)} (target < 5 s), ${secs(r.ms)} with this client's JSON.parse (${r.items} items, ${r.pages} page(s), ${mib(r.bytes / 2 ** 20)})`);
    }
    const after = (await ask<{ stats: ProcStats }>(server)).stats;
    console.log(`  server RSS after the LISTs: ${mib(after.rssMiB)} (peak ${mib(after.hwmMiB)})`);
  } finally {
    if (simc) await stop(simc);
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main -----------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
if (argv[0] === '--serve') {
  await serve(argv[1], argv[2] === 'scheduler');
} else if (argv[0] === '--simulate') {
  await simulate(argv[1], Number(argv[2]));
} else {
  const flag = (name: string) => argv.includes(name);
  const value = (name: string, dflt: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  const quick = flag('--quick');
  const sizes = value('--nodes', quick ? '500' : '500,5000').split(',').map(Number);
  const pods = Number(value('--pods', quick ? '2000' : '10000'));
  const scaleNodes = Number(value('--scale-nodes', quick ? '500' : '5000'));
  const scalePods = Number(value('--scale-pods', quick ? '10000' : '150000'));
  const profileDir = value('--profile', '') || undefined;
  // The children write their profiles there: a missing directory would fail them, not this process.
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  if (!flag('--scale-only')) for (const n of sizes) await throughput(n, pods, profileDir);
  if (!flag('--throughput-only')) await scale(scaleNodes, scalePods, profileDir);
}
