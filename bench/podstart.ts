// Pod start benchmark (issue 3): create→Running as a watch sees it, for 1 pod (repeated) and for 50
// pods at once, compared in the same run with
//   (a) the raw CRI floor: RunPodSandbox + CreateContainer + StartContainer straight to a private
//       containerd, no agent in between (bench/lib/cri-floor.ts);
//   (b) tinykube: `tinykube up` as a child process, pods created through the API, Running seen by a
//       watch; plus where each pod's time went (API+scheduler, agent, runtime, status report, read back
//       from containerd's own timestamps) and the RSS of the `up` process idle and with 50 pods;
//   (c) `podman kube play` of the same pod YAML (Debian podman, same busybox archive loaded).
// The three run one after another, each alone on the machine. Prints figures, asserts nothing.
//
// Usage: node bench/podstart.ts [--quick] [--only=floor,tinykube,podman] [--pods=50] [--repeat=10] [--many-rounds=3] [--profile[=DIR]] [--heap-diff]
//   --quick      3 repeats, 10 pods, 1 many-pods round (a smoke test of the bench itself)
//   --many-rounds  rounds of N pods at once per system, interleaved (floor, tinykube, ...); the
//                  figures are their medians (one round swings by ±20% on a shared 2-core machine)
//   --profile    runs `up` with --cpu-prof and prints where its CPU time went
//   --heap-diff  heap snapshots of `up` idle and with N pods: which objects the pods added

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriRuntime } from '../src/kubelet/cri/cri-runtime.ts';
import { LABEL_POD_UID } from '../src/kubelet/podworkers/labels.ts';
import { buildBusyboxImage } from '../src/kubelet/images/builtin.ts';
import { Pods } from '../src/client/resources.ts';
import type { ApiClient } from '../src/client/client.ts';
import { BENCH_LABEL, busyboxPod, podsYaml } from './lib/busybox-pod.ts';
import { CriFloor, type FloorTiming } from './lib/cri-floor.ts';
import { ContainerdLog, type PodCalls } from './lib/containerd-log.ts';
import { dur, printGrid, ratio } from './lib/grid.ts';
import { NodeWatch } from './lib/node-watch.ts';
import { PodWatch, type PodTimes } from './lib/pod-watch.ts';
import { ensurePodmanInstalled, Podman } from './lib/podman.ts';
import { mib, rssKiB, sampleRssKiB, shimPids, totalRssKiB } from './lib/proc.ts';
import { heapGrowth } from './lib/inspector.ts';
import { printProfile } from './lib/profile.ts';
import { percentile } from './lib/stats.ts';
import { UpChild } from './lib/up-child.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = new Set((arg('only') ?? 'floor,tinykube,podman').split(','));
const N = Number(arg('pods') ?? (quick ? 10 : 50));
const R = Number(arg('repeat') ?? (quick ? 3 : 10));
const K = Number(arg('many-rounds') ?? (quick ? 1 : 3));

const profileArg = args.find((a) => a === '--profile' || a.startsWith('--profile='));
const dir = mkdtempSync(join(tmpdir(), 'tk-bench-podstart-'));
const profileDir = profileArg ? (profileArg.includes('=') ? profileArg.slice('--profile='.length) : join(dir, 'profile')) : undefined;
const runId = randomBytes(3).toString('hex');
const heapDiff = args.includes('--heap-diff');

const p50 = (xs: readonly number[]) => percentile(xs, 50);
const p99 = (xs: readonly number[]) => percentile(xs, 99);
const log = (s: string) => console.log(`  ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Series {
  /** Per-pod create→running of single-pod rounds. */
  one: number[];
  /** Wall time of each N-pod round: first create sent → last pod running. */
  walls: number[];
  /** Per-pod create→running within the N-pod rounds (all rounds). */
  many: number[];
}
const empty = (): Series => ({ one: [], walls: [], many: [] });
type Name = 'floor' | 'tinykube' | 'upfloor' | 'podman';
const results: Record<Name, Series> = { floor: empty(), tinykube: empty(), upfloor: empty(), podman: empty() };
const memory: string[][] = [];
const breakdown: string[][] = [];
const notes: string[] = [];
const floorSplits: string[] = [];
const upFloorSplits: string[] = [];

interface Contender {
  name: Name;
  title: string;
  /** Everything before the first measured pod (start, warm-up, idle memory). */
  setup(): Promise<void>;
  /** One pod, create→running in ms; removed again before it returns (not timed). */
  one(i: number): Promise<number>;
  /** N pods at once: wall time and per-pod times; then removed. Memory and splits are taken in round 0. */
  many(round: number): Promise<{ wall: number; perPod: number[] }>;
  teardown(): Promise<void>;
}

// ---- (a) the CRI floor ----

/**
 * `own`: a private containerd (the floor of the issue); otherwise tinykube's own containerd, once
 * `attachTo()` names its socket (same containerd configuration and CNI network as tinykube's pods).
 */
function floorContender(own: boolean, attachTo?: () => { socket: string; logRoot: string } | undefined): Contender {
  let floor: CriFloor | undefined;
  const parts: FloorTiming[] = [];
  const name: Name = own ? 'floor' : 'upfloor';
  return {
    name,
    title: own ? 'CRI floor: a private containerd, RunPodSandbox + CreateContainer + StartContainer' : 'the same CRI calls on tinykube\'s own containerd (its CNI network and config)',
    async setup() {
      if (own) floor = await CriFloor.start();
      else {
        const where = attachTo?.();
        if (!where) throw new Error('tinykube is not running');
        floor = CriFloor.attach(where.socket, where.logRoot);
      }
      await floor.runPod(`warm-${runId}`);
      await floor.removeAll();
    },
    async one(i) {
      const t = await floor!.runPod(`one-${runId}-${i}`);
      parts.push(t);
      await floor!.removeAll();
      return t.totalMs;
    },
    async many(round) {
      const t0 = performance.now();
      const many = await Promise.all(Array.from({ length: N }, (_, i) => floor!.runPod(`many-${runId}-${round}-${i}`)));
      const wall = performance.now() - t0;
      const shims = shimPids(floor!.socket);
      if (round > 0) {
        await floor!.removeAll();
        return { wall, perPod: many.map((m) => m.totalMs) };
      }
      if (own) memory.push([`CRI floor: containerd with ${N} pods`, mib(rssKiB(floor!.containerdPid)), `shims (${shims.length}) ${mib(totalRssKiB(shims))}`]);
      await floor!.removeAll();
      (own ? floorSplits : upFloorSplits).push(`RunPodSandbox ${dur(p50(parts.map((p) => p.sandboxMs)))}, CreateContainer ${dur(p50(parts.map((p) => p.createMs)))}, StartContainer ${dur(p50(parts.map((p) => p.startMs)))}`);
      return { wall, perPod: many.map((m) => m.totalMs) };
    },
    async teardown() {
      await floor?.close();
    },
  };
}

// ---- (b) tinykube ----

async function createPod(client: ApiClient, watch: PodWatch, name: string): Promise<PodTimes> {
  const t = watch.track(name);
  t.createStart = performance.now();
  const created = await client.create(Pods, 'default', busyboxPod(name));
  t.created = performance.now();
  t.uid = created.metadata?.uid;
  return t;
}

/** Sandboxes and containers containerd still holds for these pod UIDs. */
async function criLeft(rt: CriRuntime, uids: ReadonlySet<string>): Promise<number> {
  const [s, c] = await Promise.all([rt.listPodSandbox(), rt.listContainers()]);
  return s.filter((x) => uids.has(x.labels[LABEL_POD_UID] ?? '')).length + c.filter((x) => uids.has(x.labels[LABEL_POD_UID] ?? '')).length;
}

async function deleteAndWait(client: ApiClient, watch: PodWatch, cri: CriRuntime, pods: PodTimes[]): Promise<void> {
  await Promise.all(pods.map((p) => client.delete(Pods, 'default', p.name, { gracePeriodSeconds: 0 })));
  await watch.waitDeleted(pods.map((p) => p.name));
  // The agent tears the containers down after the API object is gone; the next round must not
  // compete with that.
  const uids = new Set(pods.map((p) => p.uid ?? ''));
  const end = performance.now() + 60_000;
  while ((await criLeft(cri, uids)) > 0) {
    if (performance.now() > end) throw new Error('the agent did not remove the deleted pods from containerd');
    await sleep(50);
  }
  watch.forget(pods.map((p) => p.name));
}

interface Phases {
  api: number;
  schedule: number;
  agentBefore: number;
  runSandbox: number;
  agentBetween: number;
  create: number;
  agentBetween2: number;
  start: number;
  report: number;
}

function phases(t: PodTimes, c: PodCalls | undefined): Phases | undefined {
  if (!c || t.created === undefined || t.scheduled === undefined || t.running === undefined) return undefined;
  return {
    api: t.created - t.createStart,
    schedule: t.scheduled - t.created,
    agentBefore: c.runSandbox[0] - t.scheduled,
    runSandbox: c.runSandbox[1] - c.runSandbox[0],
    agentBetween: c.createContainer[0] - c.runSandbox[1],
    create: c.createContainer[1] - c.createContainer[0],
    agentBetween2: c.startContainer[0] - c.createContainer[1],
    start: c.startContainer[1] - c.startContainer[0],
    report: t.running - c.startContainer[1],
  };
}

const PHASE_HEAD = ['round', 'API create', 'schedule', 'agent', 'RunPodSandbox', 'agent', 'CreateContainer', 'agent', 'StartContainer', 'status seen'];

function phaseRow(label: string, ps: Phases[]): string[] {
  const k = (f: keyof Phases) => dur(p50(ps.map((p) => p[f])));
  return [label, k('api'), k('schedule'), k('agentBefore'), k('runSandbox'), k('agentBetween'), k('create'), k('agentBetween2'), k('start'), k('report')];
}

let upWhere: { socket: string; logRoot: string } | undefined;

function tinykubeContender(): Contender {
  const nodeName = `bench-podstart-${runId}`;
  let up: UpChild | undefined;
  let client: ApiClient | undefined;
  let watch: PodWatch | undefined;
  let cri: CriRuntime | undefined;
  let idleUp = NaN;
  let idleCd = NaN;
  let idleHeap = NaN;
  let idleUpGc = NaN;
  let idleSnapshot: Map<string, { count: number; bytes: number }> | undefined;
  const onePhases: Phases[] = [];
  return {
    name: 'tinykube',
    title: 'tinykube up: pods created through the API, Running seen by a watch',
    async setup() {
      if (profileDir) mkdirSync(profileDir, { recursive: true });
      up = UpChild.spawn({ dataDir: join(dir, 'up'), nodeName, cpuProfDir: profileDir, inspect: true });
      client = await up.api();
      const nodes = new NodeWatch(nodeName);
      await nodes.start(client);
      await nodes.waitReady();
      await up.waitUp();
      await nodes.close();
      log(`tinykube: node Ready ${dur(nodes.readyAt! - up.spawnedAt)} after spawn`);
      cri = new CriRuntime({ socket: up.containerdLayout.socket });
      upWhere = { socket: up.containerdLayout.socket, logRoot: join(dir, 'upfloor-logs') };
      watch = await PodWatch.open(client, 'default', `${BENCH_LABEL}=true`);
      // Idle: control plane, scheduler and agent with nothing to run, after start-up settled.
      await sleep(5000);
      idleUp = await sampleRssKiB(() => rssKiB(up!.pid));
      idleCd = rssKiB(up.containerdPid());
      idleHeap = await (await up.inspector()).heapUsedAfterGc();
      idleUpGc = rssKiB(up.pid);
      if (heapDiff) idleSnapshot = await (await up.inspector()).heapByConstructor();
      // A warm-up pod (first sync paths, first CRI calls), not counted.
      const warm = await createPod(client, watch, `warm-${runId}`);
      await watch.waitRunning([warm.name]);
      await deleteAndWait(client, watch, cri, [warm]);
    },
    async one(i) {
      const t = await createPod(client!, watch!, `one-${runId}-${i}`);
      await watch!.waitRunning([t.name]);
      const ph = phases(t, ContainerdLog.read(up!.containerdLayout.logFile).pod(t.uid ?? ''));
      if (ph) onePhases.push(ph);
      await deleteAndWait(client!, watch!, cri!, [t]);
      return t.running! - t.createStart;
    },
    async many(round) {
      const names = Array.from({ length: N }, (_, i) => `many-${runId}-${round}-${i}`);
      const t0 = performance.now();
      const many = await Promise.all(names.map((n) => createPod(client!, watch!, n)));
      await watch!.waitRunning(names, 300_000);
      const wall = Math.max(...many.map((t) => t.running!)) - t0;
      const cdLog = ContainerdLog.read(up!.containerdLayout.logFile);
      const manyPhases: Phases[] = [];
      for (const t of many) {
        const ph = phases(t, cdLog.pod(t.uid ?? ''));
        if (ph) manyPhases.push(ph);
      }
      if (round === 0) breakdown.push(phaseRow('1 pod (p50 of each phase)', onePhases));
      breakdown.push(phaseRow(`${N} pods, round ${round + 1} (p50 of each phase)`, manyPhases));
      if (round > 0) {
        await deleteAndWait(client!, watch!, cri!, many);
        return { wall, perPod: many.map((t) => t.running! - t.createStart) };
      }
      // With N pods: let status writes and the first resyncs settle.
      await sleep(5000);
      const busyUp = await sampleRssKiB(() => rssKiB(up!.pid));
      const busyCd = rssKiB(up!.containerdPid());
      const shims = up!.shimPids();
      const shimsRss = totalRssKiB(shims);
      const busyHeap = await (await up!.inspector()).heapUsedAfterGc();
      const busyUpGc = rssKiB(up!.pid);
      const busySnapshot = idleSnapshot ? await (await up!.inspector()).heapByConstructor() : undefined;
      await deleteAndWait(client!, watch!, cri!, many);
      // The same process once the pods are gone again: what the burst left for good (JIT code, pooled
      // sockets, grown tables) is not a per-pod cost, and what stays beyond that is a leak.
      await sleep(2000);
      const afterHeap = await (await up!.inspector()).heapUsedAfterGc();
      const afterUpGc = rssKiB(up!.pid);
      if (idleSnapshot && busySnapshot) {
        const after = await (await up!.inspector()).heapByConstructor();
        const show = (title: string, g: ReturnType<typeof heapGrowth>) =>
          printGrid(title, ['retainer', 'objects', 'bytes', 'per pod'], g.map((x) => [x.key.slice(0, 70), String(x.count), mib(x.bytes / 1024), `${(x.bytes / 1024 / N).toFixed(1)} KiB`]));
        show(`What the up process's heap holds for ${N} running pods (with pods minus after deleting them, after full GCs)`, heapGrowth(after, busySnapshot));
        show(`What stayed in the heap after the ${N} pods were deleted (after minus idle before)`, heapGrowth(idleSnapshot, after));
      }
      memory.push(
        ['tinykube up process idle', mib(idleUp), 'target <= 120 MB idle (issue 5)'],
        [`tinykube up process with ${N} pods`, mib(busyUp), `+${((busyUp - idleUp) / 1024 / N).toFixed(3)} MiB per pod (target <= 0.2 MB)`],
        ['  right after a full GC: idle', mib(idleUpGc), `V8 heap in use ${mib(idleHeap / 1024)}`],
        [`  right after a full GC: ${N} pods`, mib(busyUpGc), `V8 heap in use ${mib(busyHeap / 1024)}: +${((busyHeap - idleHeap) / 1024 / N).toFixed(1)} KiB per pod over idle (an upper bound: includes one-time JIT code and socket pools)`],
        ['  right after a full GC: pods deleted again', mib(afterUpGc), `V8 heap in use ${mib(afterHeap / 1024)} (${mib((afterHeap - idleHeap) / 1024)} above idle: JIT code, socket pools, the pods' events kept 1 h)`],
        ['its containerd idle', mib(idleCd), ''],
        [`its containerd with ${N} pods`, mib(busyCd), `+${((busyCd - idleCd) / 1024 / N).toFixed(3)} MiB per pod`],
        [`its shims (${shims.length})`, mib(shimsRss), `${(shimsRss / 1024 / Math.max(1, shims.length)).toFixed(1)} MiB each`],
      );
      if (heapDiff) notes.push('--heap-diff: heap snapshots inflate the up process\'s RSS; its RSS rows after the idle one are not comparable.');
      return { wall, perPod: many.map((t) => t.running! - t.createStart) };
    },
    async teardown() {
      watch?.close();
      cri?.close();
      client?.close();
      if (up) log(`tinykube up stopped in ${dur(await up.stop())}`);
      if (profileDir) {
        for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile'))) printProfile(join(profileDir, f), 30);
      }
    },
  };
}

// ---- (c) podman kube play ----

async function startedAtByName(pm: Podman): Promise<Map<string, number>> {
  const out = (await pm.podman(['ps', '-a', '--format', '{{.Names}}\t{{.IsInfra}}'])).stdout;
  const names = out.split('\n').filter((l) => l.endsWith('\tfalse')).map((l) => l.split('\t')[0]!);
  const m = new Map<string, number>();
  if (!names.length) return m;
  const r = await pm.podman(['inspect', '--format', '{{.Name}}\t{{.State.StartedAt.UnixNano}}', ...names]);
  for (const l of r.stdout.split('\n')) {
    const [n, ns] = l.split('\t');
    if (n && ns && /^\d+$/.test(ns)) m.set(n, Number(BigInt(ns) / 1000n) / 1000 - performance.timeOrigin);
  }
  return m;
}

function podmanContender(): Contender {
  let pm: Podman | undefined;
  return {
    name: 'podman',
    title: 'podman kube play of the same pods',
    async setup() {
      const version = await ensurePodmanInstalled(log);
      const image = await buildBusyboxImage(join(dir, 'busybox.tar'));
      const octet = 100 + (process.pid % 100);
      pm = await Podman.setup(join(dir, 'podman'), image.file, `10.213.${octet}.0/24`, podsYaml([`warm-${runId}`]));
      log(`podman: ${version}, runc, network 10.213.${octet}.0/24`);
    },
    async one(i) {
      const f = join(dir, `one-${i}.yaml`);
      writeFileSync(f, podsYaml([`one-${runId}-${i}`]));
      const r = await pm!.play(f);
      if (r.code !== 0) throw new Error(`podman kube play failed: ${r.stderr}`);
      if (!(await pm!.running()).length) throw new Error('podman kube play returned but nothing runs');
      await pm!.down(f);
      return r.ms;
    },
    async many(round) {
      const names = Array.from({ length: N }, (_, i) => `many-${runId}-${round}-${i}`);
      const f = join(dir, 'many.yaml');
      writeFileSync(f, podsYaml(names));
      const t0 = performance.now();
      const r = await pm!.play(f);
      if (r.code !== 0) throw new Error(`podman kube play failed: ${r.stderr}`);
      // Each pod's own create→running: its container's start time, from the moment the play began.
      const started = await startedAtByName(pm!);
      const running = (await pm!.running()).length;
      if (running !== N) notes.push(`podman: ${running} of ${N} pods running after the play`);
      await pm!.down(f);
      return { wall: r.ms, perPod: [...started.values()].map((s) => s - t0) };
    },
    async teardown() {
      await pm?.cleanup();
    },
  };
}

// ---- main ----

console.log(`bench/podstart: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${R} single-pod rounds, ${N} pods at once`);
console.log('The machine is shared: single-pod rounds are interleaved (floor, tinykube, podman, floor, ...) so load changes hit all three alike.');
const all = [floorContender(true), tinykubeContender(), floorContender(false, () => upWhere), podmanContender()].filter((c) => only.has(c.name) || (c.name === 'upfloor' && only.has('tinykube')));
const live: Contender[] = [];
let failed = false;
const attempt = async (c: Contender, what: string, fn: () => Promise<void>): Promise<boolean> => {
  try {
    await fn();
    return true;
  } catch (err) {
    failed = true;
    console.error(`\n${c.name} ${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return false;
  }
};
try {
  for (const c of all) {
    console.log(`\nsetting up ${c.title}`);
    if (await attempt(c, 'setup', () => c.setup())) live.push(c);
  }
  console.log(`\n1 pod × ${R}, interleaved`);
  for (let i = 0; i < R; i++) {
    for (const c of [...live]) {
      const ok = await attempt(c, `round ${i}`, async () => void results[c.name].one.push(await c.one(i)));
      if (!ok) live.splice(live.indexOf(c), 1);
    }
  }
  for (const c of live) log(`${c.name}: p50 ${dur(p50(results[c.name].one))}`);
  console.log(`\n${N} pods at once × ${K}, interleaved`);
  for (let round = 0; round < K; round++) {
    for (const c of live) {
      await attempt(c, `${N} pods, round ${round + 1}`, async () => {
        const r = await c.many(round);
        results[c.name].walls.push(r.wall);
        results[c.name].many.push(...r.perPod);
        log(`${c.name}: all ${N} running after ${dur(r.wall)}`);
      });
    }
  }
} finally {
  for (const c of [...all].reverse()) await attempt(c, 'teardown', () => c.teardown());
  rmSync(dir, { recursive: true, force: true });
}

const f = results.floor;
const t = results.tinykube;
const u = results.upfloor;
const p = results.podman;
type Pick = (x: Series) => number;
const row = (label: string, k: Pick, target: string) => [label, dur(k(f)), dur(k(u)), dur(k(t)), dur(k(p)), ratio(k(t), k(f)), ratio(k(t), k(u)), ratio(k(t), k(p)), target];
printGrid(
  `Pod start, create→Running (p99 of ${R} rounds is their maximum)`,
  ['measurement', 'CRI floor', 'CRI on up\'s ctrd', 'tinykube', 'podman play', 'tk/floor', 'tk/CRI on up', 'tk/podman', 'target'],
  [
    row('1 pod, p50', (x) => p50(x.one), '<= 1.3× floor, <= podman'),
    row('1 pod, p99', (x) => p99(x.one), ''),
    row(`${N} pods at once, all running (median of ${K})`, (x) => p50(x.walls), '<= 1.25× floor, <= 0.5× podman'),
    row(`${N} pods, per pod p50 (all rounds)`, (x) => p50(x.many), ''),
    row(`${N} pods, per pod p99 (all rounds)`, (x) => p99(x.many), ''),
  ],
  [
    'CRI floor: a private containerd with the test bridge network (no masquerading). CRI on up\'s ctrd: the same CRI calls sent to',
    'tinykube\'s own containerd (its CNI conflist, its config), so tk/CRI on up is the agent\'s own overhead.',
    'podman play starts the pods of one manifest one after another; its per-pod times are each container\'s StartedAt from the start of the play.',
  ],
);
if (breakdown.length) {
  printGrid(
    'Where a tinykube pod start goes (p50 of each phase; CRI calls timed by containerd\'s own log)',
    PHASE_HEAD,
    breakdown,
    [
      'API create: POST until its answer; schedule: answer until the watch saw spec.nodeName; agent: time between CRI calls',
      '(the first one from the watch seeing the binding); status seen: StartContainer returned until the watch saw phase Running.',
      `The same calls without the agent (p50, 1 pod): private containerd ${floorSplits[0] ?? '-'}; tinykube's containerd ${upFloorSplits[0] ?? '-'}.`,
    ],
  );
}
if (memory.length) printGrid('Memory (RSS)', ['process', 'RSS', 'note'], memory);
for (const n of notes) console.log(n);
console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exitCode = failed ? 1 : 0;
