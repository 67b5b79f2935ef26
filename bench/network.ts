// Network benchmark (issue 13): `tinykube up --nodes 3` start-up to three Ready nodes, then pod-to-pod
// TCP throughput (Debian's iperf3, run inside the pods' network namespaces) and request/response
// latency (a one-byte TCP ping-pong, as netperf's TCP_RR), on the same node and across nodes (through
// the overlay), each against host-to-host over the same bridge (node namespace to node namespace).
// Prints figures and ratios with the load average; asserts nothing.
//
// Usage: node bench/network.ts [--runs=3] [--seconds=5] [--backend=vxlan|host-gw] (default: up --nodes' own, host-gw)
//        [--startup-only]  only the start-ups (no pods, no traffic): a series of --runs fresh starts, each
//                          with the load average at its spawn, then median, min and max
// Targets (issue 13): across nodes ≥ 0.85× host-to-host throughput, same node ≥ 0.95×, up --nodes 3 to
// 3 Ready ≤ 3 s.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { percentile } from './lib/stats.ts';
import { treeCpuSeconds } from './lib/proc.ts';

const repo = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const RUNS = Number(arg('runs') ?? 3);
const SECONDS = Number(arg('seconds') ?? 5);
const BACKEND = arg('backend');
const STARTUP_ONLY = args.includes('--startup-only');
const dir = mkdtempSync(join(tmpdir(), 'tk-bench-net-'));
const nodeCidr = `10.45.${200 + (process.pid % 50)}.0/24`;
const base = `bnet${process.pid % 10000}`;
const median = (xs: readonly number[]) => percentile(xs, 50);
const log = (s: string) => console.log(`  ${s}`);

function sh(cmd: string, argv: string[], timeoutMs = 120_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => execFile(cmd, argv, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (e, out, err) => res({ code: e ? Number(e.code ?? 1) : 0, out: String(out), err: String(err) })));
}

interface Cluster {
  proc: ChildProcess;
  dataDir: string;
  kubeconfig: string;
  id: string;
  startupMs: number;
  /** CPU seconds of `up` and everything it started (agents, containerds, their children) at "tinykube is up". */
  cpuSeconds: number;
  stop(): Promise<void>;
}

async function startCluster(dataDir: string): Promise<Cluster> {
  const t0 = performance.now();
  const proc = spawn(join(repo, 'bin', 'tinykube'), ['up', '--nodes', '3', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--name', base, '--node-cidr', nodeCidr, ...(BACKEND ? ['--flannel-backend', BACKEND] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let cpuSeconds = NaN;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const startupMs = await new Promise<number>((res, rej) => {
    for (const s of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: s }).on('line', (line) => {
        lines.push(line);
        if (line.startsWith('tinykube is up')) {
          res(performance.now() - t0);
          cpuSeconds = treeCpuSeconds(proc.pid!);
        }
      });
    }
    void exited.then((code) => rej(new Error(`up exited (${code}):\n${lines.join('\n')}`)));
  });
  return {
    proc,
    dataDir,
    kubeconfig: join(dataDir, 'server', 'kubeconfig'),
    id: createHash('sha256').update(dataDir).digest('hex').slice(0, 4),
    startupMs,
    cpuSeconds,
    async stop() {
      if (proc.exitCode === null) {
        const from = lines.length;
        proc.kill('SIGINT');
        const t = setTimeout(() => proc.kill('SIGKILL'), 90_000);
        const code = await exited;
        clearTimeout(t);
        // What stopping said, when it was more than the one line it says when all goes well (the
        // start's closing banner, up to its "Press Ctrl-C", may still have been on its way at the stop).
        const bannerEnd = lines.findIndex((l) => l.startsWith('Press Ctrl-C'));
        const said = lines.slice(Math.max(from, bannerEnd + 1)).filter((l) => !l.startsWith('stopping:'));
        if (code !== 0 || said.length > 0) console.log(`  (up exited ${code}: ${said.join(' | ') || 'nothing said'})`);
      }
    },
  };
}

async function kubectl(c: Cluster, ...argv: string[]): Promise<string> {
  const r = await sh('kubectl', ['--kubeconfig', c.kubeconfig, ...argv]);
  if (r.code !== 0) throw new Error(`kubectl ${argv.join(' ')}: ${r.err}`);
  return r.out;
}

const pod = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
---
`;

/** A path to the pod's network namespace: that of a process in its pod cgroup (…/pod<uid>). */
async function netnsOf(c: Cluster, name: string): Promise<string> {
  const uid = (await kubectl(c, 'get', 'pod', name, '-o', 'jsonpath={.metadata.uid}')).trim();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cg = '';
    try {
      cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (cg.includes(`pod${uid}`)) return `/proc/${pid}/ns/net`;
  }
  throw new Error(`no process of pod ${name} (${uid})`);
}

function inNetns(ns: string, cmd: string, argv: string[]): ChildProcess {
  return spawn('nsenter', [`--net=${ns}`, '--', cmd, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function iperf(serverNs: string, serverIP: string, clientNs: string): Promise<number> {
  const start = () => inNetns(serverNs, 'iperf3', ['-s', '-1', '-p', '5201']);
  const ended = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  let server = start();
  try {
    for (let i = 0; ; i++) {
      const r = await sh('nsenter', [`--net=${clientNs}`, '--', 'iperf3', '-c', serverIP, '-p', '5201', '-t', String(SECONDS), '-J'], (SECONDS + 30) * 1000);
      // A test cut short ends 0 with an error and no sums; the one-test server (-s -1) has then ended.
      const bps = r.code === 0 ? (JSON.parse(r.out) as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second : undefined;
      if (bps !== undefined) return bps;
      if (i >= 50) throw new Error(`iperf3 to ${serverIP}: ${r.out.slice(0, 500)} ${r.err}`);
      await new Promise((res) => setTimeout(res, 100));
      if (ended(server)) server = start();
    }
  } finally {
    if (!ended(server)) {
      const done = new Promise((r) => server.once('exit', r));
      server.kill();
      await done;
    }
  }
}

// A one-byte TCP ping-pong: the server echoes, the client times N round trips and prints them.
const RR_SERVER = `require('net').createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); }).listen(5301, () => console.log('listening'));`;
const RR_CLIENT = `const n = 2000; const s = require('net').connect(5301, process.argv[1], () => { s.setNoDelay(true); const t = []; let i = 0, t0 = 0;
  const next = () => { t0 = process.hrtime.bigint(); s.write('x'); };
  s.on('data', () => { t.push(Number(process.hrtime.bigint() - t0) / 1000); if (++i < n) next(); else { console.log(JSON.stringify(t)); s.end(); } }); next(); });`;

async function rr(serverNs: string, serverIP: string, clientNs: string): Promise<number> {
  const server = inNetns(serverNs, process.execPath, ['-e', RR_SERVER]);
  const done = new Promise((r) => server.once('exit', r));
  try {
    await new Promise<void>((res) => createInterface({ input: server.stdout! }).once('line', () => res()));
    const r = await sh('nsenter', [`--net=${clientNs}`, '--', process.execPath, '-e', RR_CLIENT, serverIP]);
    if (r.code !== 0) throw new Error(`round trips to ${serverIP}: ${r.err}`);
    const samples = JSON.parse(r.out) as number[];
    return median(samples.slice(100)); // the first round trips warm up the connection
  } finally {
    server.kill();
    await done;
  }
}

const gbit = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;

async function main(): Promise<void> {
  console.log(`bench/network: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at start; ${RUNS} start-ups${STARTUP_ONLY ? ' only' : `, iperf3 ${SECONDS} s x3 per pair`}${BACKEND ? `, backend ${BACKEND}` : ''}`);
  const startups: number[] = [];
  // The CPU the same start used swings by up to 40% from run to run on a shared VM (the host's share
  // changes): printed beside each time, it tells a slow machine from slower code.
  const cpuSecs: number[] = [];
  let cluster: Cluster | undefined;
  try {
    for (let i = 0; i < RUNS; i++) {
      const dataDir = join(dir, `run-${i}`);
      const load = loadavg()[0]!.toFixed(2);
      cluster = await startCluster(dataDir);
      startups.push(cluster.startupMs);
      cpuSecs.push(cluster.cpuSeconds);
      log(`up --nodes 3 → 3 Ready nodes: ${(cluster.startupMs / 1000).toFixed(2)} s (load ${load} at the spawn; ${cluster.cpuSeconds.toFixed(2)} s of CPU by then)`);
      if (i < RUNS - 1 || STARTUP_ONLY) {
        await cluster.stop();
        rmSync(dataDir, { recursive: true, force: true });
        cluster = undefined;
      }
    }
    if (STARTUP_ONLY) {
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      console.log(`  up --nodes 3 to 3 Ready: median ${s(median(startups))}, min ${s(Math.min(...startups))}, max ${s(Math.max(...startups))} over ${startups.length} (target ≤ 3 s); CPU by then: median ${median(cpuSecs).toFixed(2)} s`);
      console.log(`  load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
      return;
    }
    const c = cluster!;
    const nodes = [base, `${base}-m02`];
    const manifest = pod('a', nodes[0]!) + pod('b', nodes[0]!) + pod('x', nodes[1]!);
    const file = join(dir, 'pods.yaml');
    writeFileSync(file, manifest);
    await kubectl(c, 'apply', '-f', file);
    await kubectl(c, 'wait', '--for=condition=Ready', 'pod/a', 'pod/b', 'pod/x', '--timeout=120s');
    const ip = async (name: string) => (await kubectl(c, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}')).trim();
    const ipA = await ip('a');
    const [nsA, nsB, nsX] = [await netnsOf(c, 'a'), await netnsOf(c, 'b'), await netnsOf(c, 'x')];
    const node1 = `/run/netns/tinykube-${c.id}-1`;
    const node2 = `/run/netns/tinykube-${c.id}-2`;
    const node1IP = nodeCidr.replace(/0\/24$/, '2');
    const pairs = [
      { name: 'host-to-host (node 1 → node 2 over the bridge)', server: [node1, node1IP], client: node2 },
      { name: 'pod-to-pod, same node', server: [nsA, ipA], client: nsB },
      { name: 'pod-to-pod, across nodes', server: [nsA, ipA], client: nsX },
    ] as const;
    const tput = new Map<string, number>();
    const lat = new Map<string, number>();
    // Interleaved rounds: a burst of load on the machine hurts every pair alike.
    const samples = new Map<string, { bps: number[]; us: number[] }>(pairs.map((p) => [p.name, { bps: [], us: [] }]));
    for (let round = 0; round < 3; round++) {
      for (const p of pairs) {
        samples.get(p.name)!.bps.push(await iperf(p.server[0], p.server[1], p.client));
        samples.get(p.name)!.us.push(await rr(p.server[0], p.server[1], p.client));
      }
    }
    for (const p of pairs) {
      tput.set(p.name, median(samples.get(p.name)!.bps));
      lat.set(p.name, median(samples.get(p.name)!.us));
    }
    const host = pairs[0].name;
    console.log('');
    console.log(`  ${'pair'.padEnd(48)} ${'throughput'.padStart(14)} ${'ratio'.padStart(6)} ${'RR p50'.padStart(9)} ${'ratio'.padStart(6)}`);
    for (const p of pairs) {
      const t = tput.get(p.name)!;
      const l = lat.get(p.name)!;
      console.log(`  ${p.name.padEnd(48)} ${gbit(t).padStart(14)} ${(t / tput.get(host)!).toFixed(2).padStart(6)} ${`${l.toFixed(0)} µs`.padStart(9)} ${(l / lat.get(host)!).toFixed(2).padStart(6)}`);
    }
    console.log('');
    console.log(`  up --nodes 3 to 3 Ready: median ${(median(startups) / 1000).toFixed(2)} s over ${startups.length} (target ≤ 3 s)`);
    console.log(`  across nodes: ${(tput.get(pairs[2].name)! / tput.get(host)!).toFixed(2)}× host-to-host throughput (target ≥ 0.85×); same node: ${(tput.get(pairs[1].name)! / tput.get(host)!).toFixed(2)}× (target ≥ 0.95×)`);
    console.log(`  load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
