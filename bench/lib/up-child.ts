// `tinykube up` as a child process for the node benchmarks: started on port 0 in a data dir of the
// caller's, reached through the kubeconfig it writes once it listens, and stopped the way a user stops
// it (SIGINT: pods removed, containerd stopped). Anything it leaves behind (containerd, shims, mounts)
// is ended by PID and unmounted, so a failed run does not leak into the next one.
//
// The child is the Node 24 binary running what bin/tinykube execs: the compiled dist/ when it is fresh
// (scripts/build.sh), with the same young-generation flag, else src/cli/main.ts. So its PID is the
// process whose RSS we read, and `--cpu-prof` can be passed to it. `upEntry` says which one ran.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ApiClient } from '../../src/client/client.ts';
import { CgroupfsPodCgroups } from '../../src/kubelet/cgroups/pod-cgroups.ts';
import { containerdLayout } from '../../src/kubelet/containerd/config.ts';
import { bridgeName } from '../../src/kubelet/network/cni.ts';
import { Inspector, inspectorUrl } from './inspector.ts';
import { alive, killPid, run, shimPids, unmountUnder, waitGone } from './proc.ts';

const repo = resolve(import.meta.dirname, '..', '..');

export interface UpChildOptions {
  dataDir: string;
  nodeName: string;
  /** Write a V8 CPU profile of the `up` process into this directory when it exits. */
  cpuProfDir?: string;
  /** Start it with `--inspect=127.0.0.1:0`, so inspector() can force a GC and read its heap. */
  inspect?: boolean;
  /** Each line the child writes (stdout and stderr), as it arrives. */
  onLine?(line: string, at: number): void;
}

export interface TimedLine {
  line: string;
  /** performance.now() when it arrived. */
  at: number;
}

export class UpChild {
  readonly proc: ChildProcess;
  readonly dataDir: string;
  readonly nodeName: string;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  readonly lines: TimedLine[] = [];
  /** When "tinykube is up" was printed (performance.now()), once it was. */
  upAt: number | undefined;
  readonly #exited: Promise<number | null>;
  #upWaiters: (() => void)[] = [];
  #inspectorUrl: string | undefined;
  #inspector: Promise<Inspector> | undefined;

  private constructor(o: UpChildOptions) {
    this.dataDir = o.dataDir;
    this.nodeName = o.nodeName;
    // The kubeconfig is how we learn the port: a stale one from a previous run must not be read.
    // `up` rewrites it at every start, so removing it loses nothing.
    rmSync(this.kubeconfigPath, { force: true });
    const nodeArgs = ['--max-semi-space-size=2'];
    if (o.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
    if (o.inspect) nodeArgs.push('--inspect=127.0.0.1:0');
    this.spawnedAt = performance.now();
    this.proc = spawn(process.execPath, [...nodeArgs, upEntry(), 'up', '--data-dir', o.dataDir, '--listen', '127.0.0.1:0', '--name', o.nodeName], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#exited = new Promise((res) => this.proc.once('exit', (code) => res(code)));
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        const at = performance.now();
        this.lines.push({ line, at });
        this.#inspectorUrl ??= inspectorUrl(line);
        if (this.upAt === undefined && line.startsWith('tinykube is up')) {
          this.upAt = at;
          for (const w of this.#upWaiters.splice(0)) w();
        }
        o.onLine?.(line, at);
      });
    }
  }

  static spawn(o: UpChildOptions): UpChild {
    return new UpChild(o);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get kubeconfigPath(): string {
    return join(this.dataDir, 'server', 'kubeconfig');
  }

  get containerdLayout() {
    return containerdLayout(join(this.dataDir, 'agent', 'containerd'));
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  containerdPid(): number | undefined {
    try {
      const pid = Number(readFileSync(this.containerdLayout.pidFile, 'utf8').trim());
      return pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  shimPids(): number[] {
    return shimPids(this.containerdLayout.socket);
  }

  #failIfExited(): void {
    if (!this.running) {
      const tail = this.lines.slice(-30).map((l) => l.line).join('\n');
      throw new Error(`tinykube up exited (${this.proc.exitCode ?? this.proc.signalCode}):\n${tail}`);
    }
  }

  /**
   * Resolves with an admin client as soon as the API server answers: the kubeconfig is written right
   * after it starts listening. Polls a file every 5 ms (a stat), which costs the child nothing.
   */
  async api(timeoutMs = 60_000): Promise<ApiClient> {
    const end = performance.now() + timeoutMs;
    while (!existsSync(this.kubeconfigPath)) {
      this.#failIfExited();
      if (performance.now() > end) throw new Error('tinykube up wrote no kubeconfig in time');
      await new Promise((r) => setTimeout(r, 5));
    }
    return ApiClient.fromKubeconfig(this.kubeconfigPath, { userAgent: 'tinykube-bench' });
  }

  /** The DevTools connection of a child started with `inspect` (its URL is printed before anything else). */
  inspector(): Promise<Inspector> {
    if (!this.#inspectorUrl) return Promise.reject(new Error('tinykube up was not started with --inspect (or has not printed its URL yet)'));
    this.#inspector ??= Inspector.connect(this.#inspectorUrl);
    return this.#inspector;
  }

  /** Resolves when "tinykube is up" was printed. */
  async waitUp(timeoutMs = 120_000): Promise<number> {
    if (this.upAt !== undefined) return this.upAt;
    this.#failIfExited();
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('tinykube up did not finish starting in time')), timeoutMs);
      this.#upWaiters.push(() => {
        clearTimeout(t);
        res();
      });
      void this.#exited.then(() => {
        clearTimeout(t);
        rej(new Error(`tinykube up exited while starting:\n${this.lines.slice(-30).map((l) => l.line).join('\n')}`));
      });
    });
    return this.upAt!;
  }

  /**
   * Ctrl-C: `up` removes its pods and stops containerd. Then anything left is ended by PID and
   * unmounted. Returns how long the graceful part took (ms).
   */
  async stop(opts: { removeDataDir?: boolean; timeoutMs?: number } = {}): Promise<number> {
    // A connected debugger would keep the process waiting for it at exit.
    if (this.#inspector) (await this.#inspector.catch(() => undefined))?.close();
    const t0 = performance.now();
    const cdPid = this.containerdPid();
    const socket = this.containerdLayout.socket;
    if (this.running) {
      this.proc.kill('SIGINT');
      const t = setTimeout(() => killPid(this.pid), opts.timeoutMs ?? 120_000);
      await this.#exited;
      clearTimeout(t);
    }
    const ms = performance.now() - t0;
    const leftovers = [...shimPids(socket), ...(cdPid !== undefined && alive(cdPid) ? [cdPid] : [])];
    for (const pid of leftovers) killPid(pid);
    for (const pid of leftovers) await waitGone(pid, 5000);
    if (leftovers.length || this.proc.signalCode === 'SIGKILL') {
      // What a clean stop removes itself: the node's pod cgroups and its CNI bridge.
      await new CgroupfsPodCgroups(`/tinykube/${this.nodeName}`).removeRoot().catch(() => undefined);
      await run('ip', ['link', 'del', bridgeName(this.nodeName)]);
    }
    if (opts.removeDataDir ?? true) {
      await unmountUnder(this.dataDir);
      await rm(this.dataDir, { recursive: true, force: true });
    }
    return ms;
  }
}

/** The entry point bin/tinykube would run: dist/ while it is newer than every source file. */
export function upEntry(): string {
  const built = join(repo, 'dist', '.built');
  if (existsSync(built)) {
    const newer = spawnSync('find', [join(repo, 'src'), '-newer', built, '(', '-name', '*.ts', '-o', '-name', '*.proto', ')', '-print', '-quit'], { encoding: 'utf8' });
    if (newer.status === 0 && newer.stdout.trim() === '') return join(repo, 'dist', 'main.js');
  }
  return join(repo, 'src', 'cli', 'main.ts');
}
