// Process facts for the node benchmarks, read from /proc: resident memory of a PID or a set of PIDs,
// the shims of one containerd, mounts under a directory, and ending processes by PID (never by name,
// since other benchmarks and tests share the machine).

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mountsUnder, processesUsing, procTable } from '../../src/kubelet/containerd/testing.ts';

/** VmRSS of one process in KiB; NaN when it is gone. */
export function rssKiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Sum of VmRSS over the PIDs still alive, in KiB. */
export function totalRssKiB(pids: readonly number[]): number {
  let sum = 0;
  for (const p of pids) {
    const r = rssKiB(p);
    if (Number.isFinite(r)) sum += r;
  }
  return sum;
}

/**
 * CPU seconds a process and all its descendants have used (user + system, with their reaped children's),
 * from one pass over /proc; processes that end while it reads are left out.
 */
export function treeCpuSeconds(root: number): number {
  const USER_HZ = 100; // Linux's clock ticks in /proc/<pid>/stat
  const table = procTable();
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of table) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of tree) ticks += table.get(pid)?.cpuTicks ?? 0;
  return ticks / USER_HZ;
}

export function mib(kib: number): string {
  return Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : '-';
}

/**
 * The median of `n` RSS readings `everyMs` apart: a Node process's RSS moves with its GC, and one
 * reading can land on either side of a collection.
 */
export async function sampleRssKiB(read: () => number, n = 5, everyMs = 400): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    xs.push(read());
    if (i < n - 1) await new Promise((r) => setTimeout(r, everyMs));
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** containerd-shim processes serving this containerd socket (one per pod). */
export function shimPids(socket: string): number[] {
  return processesUsing(socket);
}

export function killPid(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Waits until the PID is gone, up to `ms`; true when it is. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (alive(pid)) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: opts.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Lazily unmounts everything at or below `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const mp of mountsUnder(dir)) await run('umount', ['-l', mp]);
}
