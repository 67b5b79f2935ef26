// `tinykube up` benchmark (issue 5): from spawning `tinykube up` (packages already installed) to the
// node Ready (seen by a watch on the Node) and to the first pod Running (created the moment the node is
// Ready, as a user's `kubectl run` right after start-up would be), over several fresh data dirs and
// one warm restart on an existing data dir; then the RSS of the `up` process idle and with 100 pods
// Running, containerd and its shims apart. Prints figures, asserts nothing.
//
// Usage: node bench/up.ts [--quick] [--runs=5] [--pods=100] [--profile[=DIR]]
//   --quick    2 fresh runs and 20 pods (a smoke test of the bench itself)
//   --profile  runs the first fresh `up` with --cpu-prof and prints where its start-up CPU went

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '../src/client/client.ts';
import { isAlreadyExists } from '../src/client/errors.ts';
import { Pods } from '../src/client/resources.ts';
import { missingPackages, nodePackages } from '../src/cli/hostdeps.ts';
import { BENCH_LABEL, busyboxPod } from './lib/busybox-pod.ts';
import { dur, printGrid } from './lib/grid.ts';
import { NodeWatch } from './lib/node-watch.ts';
import { PodWatch, type PodTimes } from './lib/pod-watch.ts';
import { mib, rssKiB, sampleRssKiB, totalRssKiB } from './lib/proc.ts';
import { printProfile } from './lib/profile.ts';
import { percentile } from './lib/stats.ts';
import { UpChild, upEntry } from './lib/up-child.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const RUNS = Number(arg('runs') ?? (quick ? 2 : 5));
const PODS = Number(arg('pods') ?? (quick ? 20 : 100));
const profileArg = args.find((a) => a === '--profile' || a.startsWith('--profile='));
const dir = mkdtempSync(join(tmpdir(), 'tk-bench-up-'));
const profileDir = profileArg ? (profileArg.includes('=') ? profileArg.slice('--profile='.length) : join(dir, 'profile')) : undefined;
const runId = randomBytes(3).toString('hex');
const nodeName = `bench-up-${runId}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p50 = (xs: readonly number[]) => percentile(xs, 50);
const log = (s: string) => console.log(`  ${s}`);

interface StartRun {
  label: string;
  api: number;
  ready: number;
  printed: number;
  firstRunning: number;
  steps: Map<string, number>;
}

/** "✓ control plane (API server on SQLite) (84 ms)" → ["control plane (API server on SQLite)", 84]. */
function parseStep(line: string): [string, number] | undefined {
  const m = /^[✓✗] (.*) \((\d+(?:\.\d+)?) (ms|s)\)$/.exec(line);
  if (!m) return undefined;
  return [m[1]!, Number(m[2]) * (m[3] === 's' ? 1000 : 1)];
}

/** Creates the pod, retrying while the fresh control plane cannot take it yet (namespace, admission). */
async function createFirstPod(client: ApiClient, watch: PodWatch, name: string, more: Partial<PodTimes> = {}): Promise<PodTimes> {
  const t = watch.track(name, more);
  const end = performance.now() + 30_000;
  for (;;) {
    try {
      await client.create(Pods, 'default', busyboxPod(name));
      t.created = performance.now();
      return t;
    } catch (err) {
      if (isAlreadyExists(err)) return t;
      if (performance.now() > end) throw err;
      await sleep(20);
    }
  }
}

interface Started {
  up: UpChild;
  client: ApiClient;
  nodes: NodeWatch;
  pods: PodWatch;
  run: StartRun;
  first: PodTimes;
}

/**
 * One start: spawn, API answering, node Ready, first pod Running, "tinykube is up" printed. For a
 * warm restart, `afterRevision` and `oldContainer` make sure only fresh writes count.
 */
async function start(label: string, dataDir: string, opts: { afterRevision?: number; oldContainer?: string; cpuProfDir?: string; inspect?: boolean } = {}): Promise<Started> {
  const up = UpChild.spawn({ dataDir, nodeName, cpuProfDir: opts.cpuProfDir, inspect: opts.inspect });
  const client = await up.api();
  const apiAt = performance.now();
  const nodes = new NodeWatch(nodeName, opts.afterRevision ?? 0);
  // The kubeconfig is written right after listen(); the first requests may still race the server.
  for (let i = 0; ; i++) {
    try {
      await nodes.start(client);
      break;
    } catch (err) {
      if (i > 200) throw err;
      await sleep(10);
    }
  }
  const pods = await PodWatch.open(client, 'default', `${BENCH_LABEL}=true`);
  const readyAt = await nodes.waitReady();
  let first: PodTimes;
  if (opts.oldContainer) {
    // The pod from before the restart: the agent starts it again, with a new container.
    first = pods.track('first', { excludeContainerId: opts.oldContainer });
  } else {
    first = await createFirstPod(client, pods, 'first');
  }
  await pods.waitRunning(['first']);
  const printedAt = await up.waitUp();
  const steps = new Map<string, number>();
  for (const l of up.lines) {
    const s = parseStep(l.line);
    if (s) steps.set(s[0], s[1]);
  }
  const run: StartRun = { label, api: apiAt - up.spawnedAt, ready: readyAt - up.spawnedAt, printed: printedAt - up.spawnedAt, firstRunning: first.running! - up.spawnedAt, steps };
  log(`${label}: API ${dur(run.api)}, node Ready ${dur(run.ready)}, "tinykube is up" ${dur(run.printed)}, first pod Running ${dur(run.firstRunning)}`);
  return { up, client, nodes, pods, run, first };
}

async function stopStarted(s: Started, removeDataDir: boolean): Promise<number> {
  s.pods.close();
  await s.nodes.close();
  s.client.close();
  return s.up.stop({ removeDataDir });
}

console.log(`bench/up: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${RUNS} fresh starts, a warm restart, ${PODS} pods for memory`);
const missing = missingPackages(nodePackages);
console.log(`  running ${upEntry().replace(/^.*\/(dist|src)\//, '$1/')} (run scripts/build.sh first to measure the compiled build, as ./tinykube runs it)`);
if (missing.length) console.log(`  note: ${missing.join(', ')} not installed: the first run includes installing them`);

const runs: StartRun[] = [];
const memory: string[][] = [];
let failed = false;
try {
  // Fresh data dirs; the last one is kept for the warm restart.
  let last: { dataDir: string; revision: number; container: string } | undefined;
  for (let i = 0; i < RUNS; i++) {
    const dataDir = join(dir, `run-${i}`);
    const cpuProfDir = i === 0 ? profileDir : undefined;
    if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
    const s = await start(`fresh ${i + 1}`, dataDir, { cpuProfDir });
    runs.push(s.run);
    const keep = i === RUNS - 1;
    const stopMs = await stopStarted(s, !keep);
    if (keep) last = { dataDir, revision: s.nodes.lastRevision, container: s.first.containerId ?? '' };
    log(`  stopped (Ctrl-C, one pod) in ${dur(stopMs)}`);
  }
  if (profileDir) for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile'))) printProfile(join(profileDir, f), 30);

  if (last) {
    const s = await start('warm restart', last.dataDir, { afterRevision: last.revision, oldContainer: last.container });
    runs.push(s.run);
    log(`  stopped in ${dur(await stopStarted(s, true))}`);
  }

  // Memory: a fresh `up`, idle, then with PODS pods Running.
  const s = await start('memory run', join(dir, 'memory'), { inspect: true });
  try {
    await s.client.delete(Pods, 'default', 'first', { gracePeriodSeconds: 0 });
    await s.pods.waitDeleted(['first']);
    await sleep(5000);
    const idleUp = await sampleRssKiB(() => rssKiB(s.up.pid));
    const idleCd = rssKiB(s.up.containerdPid());
    const inspector = await s.up.inspector();
    const idleHeap = await inspector.heapUsedAfterGc();
    const idleUpGc = rssKiB(s.up.pid);
    const names = Array.from({ length: PODS }, (_, i) => `mem-${i}`);
    const t0 = performance.now();
    await Promise.all(
      names.map(async (n) => {
        s.pods.track(n);
        await s.client.create(Pods, 'default', busyboxPod(n));
      }),
    );
    await s.pods.waitRunning(names, 600_000);
    log(`${PODS} pods Running ${dur(performance.now() - t0)} after the first create`);
    await sleep(5000);
    const busyUp = await sampleRssKiB(() => rssKiB(s.up.pid));
    const busyCd = rssKiB(s.up.containerdPid());
    const shims = s.up.shimPids();
    const shimsRss = totalRssKiB(shims);
    const busyHeap = await inspector.heapUsedAfterGc();
    const busyUpGc = rssKiB(s.up.pid);
    // The same process once the pods are gone: one-time growth (JIT code, socket pools) is not per pod.
    await Promise.all(names.map((n) => s.client.delete(Pods, 'default', n, { gracePeriodSeconds: 0 })));
    await s.pods.waitDeleted(names, 300_000);
    const end = performance.now() + 120_000;
    while (s.up.shimPids().length > 0 && performance.now() < end) await sleep(200);
    await sleep(2000);
    const afterHeap = await inspector.heapUsedAfterGc();
    const afterUpGc = rssKiB(s.up.pid);
    memory.push(
      ['up process, idle (5 s after start, no pods)', mib(idleUp), 'target <= 120 MB (containerd apart)'],
      [`up process, ${PODS} pods Running`, mib(busyUp), `+${((busyUp - idleUp) / 1024 / PODS).toFixed(3)} MiB per pod`],
      ['  right after a full GC: idle', mib(idleUpGc), `V8 heap in use ${mib(idleHeap / 1024)}`],
      [`  right after a full GC: ${PODS} pods`, mib(busyUpGc), `V8 heap in use ${mib(busyHeap / 1024)}: +${((busyHeap - idleHeap) / 1024 / PODS).toFixed(1)} KiB per pod over idle (an upper bound: includes one-time JIT code and socket pools)`],
      ['  right after a full GC: pods deleted', mib(afterUpGc), `V8 heap in use ${mib(afterHeap / 1024)} (${mib((afterHeap - idleHeap) / 1024)} above idle: JIT code, socket pools, events kept 1 h)`],
      ['containerd, idle', mib(idleCd), ''],
      [`containerd, ${PODS} pods`, mib(busyCd), `+${((busyCd - idleCd) / 1024 / PODS).toFixed(3)} MiB per pod`],
      [`shims (${shims.length})`, mib(shimsRss), `${(shimsRss / 1024 / Math.max(1, shims.length)).toFixed(1)} MiB each`],
    );
  } finally {
    const t = performance.now();
    await stopStarted(s, true);
    log(`  stopped in ${dur(performance.now() - t)}`);
  }
} catch (err) {
  failed = true;
  console.error(`\nfailed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fresh = runs.filter((r) => r.label.startsWith('fresh'));
const cols = (r: StartRun) => [dur(r.api), dur(r.ready), dur(r.printed), dur(r.firstRunning), dur(r.firstRunning - r.ready)];
printGrid(
  'tinykube up: time from spawn (packages installed)',
  ['run', 'API answers', 'node Ready', '"is up" printed', 'first pod Running', 'Ready→Running'],
  [
    ...runs.map((r) => [r.label, ...cols(r)]),
    ...(fresh.length ? [[`fresh, p50 of ${fresh.length}`, ...cols({ label: '', api: p50(fresh.map((r) => r.api)), ready: p50(fresh.map((r) => r.ready)), printed: p50(fresh.map((r) => r.printed)), firstRunning: p50(fresh.map((r) => r.firstRunning)), steps: new Map() })]] : []),
  ],
  ['target: node Ready <= 2 s once packages are installed (issue 5). The first pod is created the moment the node is Ready.'],
);
const stepNames = [...new Set(runs.flatMap((r) => [...r.steps.keys()]))];
if (stepNames.length) {
  printGrid(
    'start-up steps as `up` reports them (p50 over fresh runs; warm restart)',
    ['step', 'fresh p50', 'warm'],
    stepNames.map((n) => [n, dur(p50(fresh.map((r) => r.steps.get(n) ?? NaN).filter(Number.isFinite))), dur(runs.find((r) => r.label === 'warm restart')?.steps.get(n) ?? NaN)]),
  );
}
if (memory.length) printGrid('Memory (RSS)', ['process', 'RSS', 'note'], memory);
console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exitCode = failed ? 1 : 0;
