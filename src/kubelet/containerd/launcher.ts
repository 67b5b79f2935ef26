// Starts and stops a private containerd as a child process of the agent.
//
// Called by `tinykube up` / `tinykube agent` at start and shutdown, and by integration tests; not
// concurrently for one data dir. start() is idempotent in effect: a containerd still running for
// the same data dir (the agent crashed or was restarted) is adopted rather than started twice,
// which is what lets an agent restart without restarting any container.
//
// containerd runs in its own session (detached), so a terminal's Ctrl-C reaches only the agent, which
// then stops containerd in order. Its stdout/stderr go straight to a log file (no pipe through us),
// so it keeps logging if the agent dies. It is only ever signalled by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CriClient } from '../cri/client.ts';
import { containerdLayout, renderContainerdConfig, type ContainerdConfigOptions, type ContainerdLayout } from './config.ts';
import type { ErrorCode } from '../../util/errors.ts';

export class ContainerdError extends Error {
  readonly code: ErrorCode;
  constructor(code: 'ERR_CONTAINERD_START_FAILED' | 'ERR_CONTAINERD_START_TIMEOUT' | 'ERR_CONTAINERD_NOT_INSTALLED', message: string) {
    super(message);
    this.name = 'ContainerdError';
    this.code = code;
  }
}

export interface StartContainerdOptions extends Omit<ContainerdConfigOptions, 'layout'> {
  dataDir: string;
  /** The containerd binary (default: "containerd" on PATH). */
  binary?: string;
  /** How long to wait for the socket to answer CRI Version (default 20 s). */
  startTimeoutMs?: number;
  /** Adopt a containerd already running for this data dir (default true). */
  adopt?: boolean;
}

export interface StopResult {
  /** How it ended: it exited on SIGTERM, needed SIGKILL, or was already gone. */
  how: 'sigterm' | 'sigkill' | 'gone';
  ms: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded for this layout, if that process is still a containerd using our config. */
function runningPid(layout: ContainerdLayout): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(layout.pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  try {
    // Guards against a recycled PID: it must be containerd with our config file.
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(layout.configFile) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export class Containerd {
  readonly layout: ContainerdLayout;
  readonly pid: number;
  /** True when start() found this containerd already running and adopted it. */
  readonly adopted: boolean;
  #startMs: number;
  /** A shared CRI client on this containerd's socket; closed by stop(). */
  readonly cri: CriClient;
  readonly #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #stopping: Promise<StopResult> | undefined;

  private constructor(layout: ContainerdLayout, pid: number, child: ChildProcess | undefined, cri: CriClient, startMs: number) {
    this.layout = layout;
    this.pid = pid;
    this.#child = child;
    this.adopted = child === undefined;
    this.cri = cri;
    this.#startMs = startMs;
    if (child) {
      this.#exited = new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
    }
  }

  /** Milliseconds from spawn (or from the adoption check) until CRI Version answered. */
  get startMs(): number {
    return this.#startMs;
  }

  get socket(): string {
    return this.layout.socket;
  }

  /** True while the process exists. */
  get running(): boolean {
    if (this.#child) return this.#child.exitCode === null && this.#child.signalCode === null;
    return alive(this.pid);
  }

  /** Resolves when the process has exited (for whatever reason). */
  exited(): Promise<void> {
    // An adopted process is not our child, so no exit event: poll, but only once someone asks.
    this.#exited ??= pollUntilGone(this.pid);
    return this.#exited;
  }

  static async start(opts: StartContainerdOptions): Promise<Containerd> {
    const layout = containerdLayout(opts.dataDir);
    const t0 = performance.now();
    const timeoutMs = opts.startTimeoutMs ?? 20_000;
    if (opts.adopt !== false) {
      const pid = runningPid(layout);
      if (pid !== undefined) {
        const cri = new CriClient({ socket: layout.socket });
        try {
          await waitForCri(cri, Math.min(timeoutMs, 5000), () => alive(pid));
          return new Containerd(layout, pid, undefined, cri, performance.now() - t0);
        } catch {
          // Alive but not answering: fall through and let a fresh start fail loudly on the lock.
          cri.close();
        }
      }
    }
    for (const d of [layout.root, layout.state, layout.temp, layout.cniConfDir, layout.cniIpamDir, layout.registryConfigDir, dirname(layout.socket)]) {
      await mkdir(d, { recursive: true });
    }
    await writeFile(layout.configFile, renderContainerdConfig({ ...opts, layout }));
    // A socket file left by a crashed instance would make the readiness probe talk to nothing.
    await rm(layout.socket, { force: true });
    await rm(layout.ttrpcSocket, { force: true });

    const logFd = openSync(layout.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(opts.binary ?? 'containerd', ['--config', layout.configFile], {
        stdio: ['ignore', logFd, logFd],
        detached: true,
        env: { ...process.env, PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      });
    } finally {
      closeSync(logFd);
    }
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const early = await Promise.race([spawnError, new Promise<undefined>((r) => child.once('spawn', () => r(undefined)))]);
    if (early) {
      const code = (early as NodeJS.ErrnoException).code === 'ENOENT' ? 'ERR_CONTAINERD_NOT_INSTALLED' : 'ERR_CONTAINERD_START_FAILED';
      throw new ContainerdError(code, `cannot run ${opts.binary ?? 'containerd'}: ${early.message}`);
    }
    const pid = child.pid!;
    await writeFile(layout.pidFile, `${pid}\n`);
    const cri = new CriClient({ socket: layout.socket });
    const self = new Containerd(layout, pid, child, cri, 0);
    try {
      await waitForCri(cri, timeoutMs, () => self.running);
    } catch (err) {
      await self.stop(2000);
      const tail = await logTail(layout.logFile);
      const code = err instanceof ContainerdError ? err.code : 'ERR_CONTAINERD_START_FAILED';
      throw new ContainerdError(code as 'ERR_CONTAINERD_START_FAILED', `containerd did not become ready (${(err as Error).message}); log tail:\n${tail}`);
    }
    self.#startMs = performance.now() - t0;
    return self;
  }

  /**
   * SIGTERM, then SIGKILL after `timeoutMs` (default 10 s). Containers keep running in their shims;
   * remove pods first for a full teardown. Safe to call twice.
   */
  stop(timeoutMs = 10_000): Promise<StopResult> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<StopResult> {
    const t0 = performance.now();
    this.cri.close();
    let how: StopResult['how'] = 'gone';
    if (this.running) {
      how = 'sigterm';
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        how = 'gone';
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exited().then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut && this.running) {
        how = 'sigkill';
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // exited between the check and the kill
        }
        await this.exited();
      }
    }
    try {
      if ((await readFile(this.layout.pidFile, 'utf8')).trim() === String(this.pid)) await rm(this.layout.pidFile, { force: true });
    } catch {
      // no pid file: nothing to clean
    }
    return { how, ms: performance.now() - t0 };
  }
}

async function waitForCri(cri: CriClient, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastErr: unknown;
  while (performance.now() < deadline) {
    if (!isAlive()) throw new ContainerdError('ERR_CONTAINERD_START_FAILED', 'containerd exited during start-up');
    try {
      await cri.version({ timeoutMs: Math.max(50, Math.min(1000, deadline - performance.now())) });
      return;
    } catch (err) {
      lastErr = err;
      // No event tells us when the socket starts listening; a short poll is the only signal.
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new ContainerdError('ERR_CONTAINERD_START_TIMEOUT', `no CRI answer within ${timeoutMs} ms: ${(lastErr as Error | undefined)?.message ?? ''}`);
}

async function pollUntilGone(pid: number): Promise<void> {
  while (alive(pid)) await new Promise((r) => setTimeout(r, 20));
}

async function logTail(file: string, lines = 20): Promise<string> {
  if (!existsSync(file)) return '';
  const text = await readFile(file, 'utf8');
  return text.split('\n').slice(-lines - 1).join('\n');
}
