// The etcd member process a server manages (`tinykube server --cluster-init` / join): started as a
// child, watched, restarted with back-off when it exits on its own, stopped by its PID.
//
// Called by: src/cmd/etcd-cluster.ts, once per server; start() once, stop() any number of times.
// The data dir is etcd's alone: nothing here ever removes or rewrites it, whatever etcd does; a
// member that keeps failing is restarted more and more slowly (1 s doubling to 30 s) and says
// why each time, and one that the cluster removed is not restarted at all (etcd refuses to run a
// removed member's data; the message says how to join again).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';
/** Lines of etcd's log kept for error messages. */
const TAIL = 30;

export interface EtcdMemberProcessOptions {
  /** The etcd binary (Debian's etcd-server: /usr/bin/etcd). */
  binary: string;
  args: string[];
  /** The member's name and data dir, for messages. */
  name: string;
  dataDir: string;
  /** etcd's own log is appended here. */
  logFile?: string;
  /** Messages of the supervisor (start, unexpected exit, restart). */
  log: (line: string) => void;
  readyTimeoutMs?: number;
  restartInitialMs?: number;
  restartMaxMs?: number;
}

/** etcd did not get to serving clients; `log` holds the last lines it wrote. */
export class EtcdMemberStartError extends Error {
  readonly code = 'ERR_ETCD_MEMBER_START';
  constructor(message: string) {
    super(message);
    this.name = 'EtcdMemberStartError';
  }
}

const REMOVED = /permanently removed from the cluster|member .* has already been removed/;

export class EtcdMemberProcess {
  readonly #o: EtcdMemberProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #tail: string[] = [];
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #startedAt = 0;
  #logStream: WriteStream | undefined;

  constructor(o: EtcdMemberProcessOptions) {
    this.#o = o;
    this.#delayMs = o.restartInitialMs ?? 1000;
    if (o.logFile) this.#logStream = createWriteStream(o.logFile, { flags: 'a', mode: 0o600 });
  }

  /** The PID of the running etcd, undefined while it is down. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  /** Starts etcd and resolves once it serves clients; rejects when it exits first. */
  async start(): Promise<void> {
    const child = this.#launch();
    await this.#ready(child);
    child.once('exit', (code, signal) => this.#onExit(code, signal));
  }

  /** SIGTERM by PID (SIGKILL after 10 s), and no more restarts. Its data stay. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(force);
    }
    await new Promise<void>((resolve) => (this.#logStream ? this.#logStream.end(resolve) : resolve()));
  }

  #launch(): ChildProcess {
    // The kernel ends etcd with its server (killed by a signal, too), so a crashed server leaves no
    // member holding the ports its restart needs. Its own process group: a terminal's Ctrl-C reaches
    // the server only, which stops etcd after the API server has let go of it.
    const opts = { stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[], detached: true };
    const child = existsSync(SETPRIV) ? spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', this.#o.binary, ...this.#o.args], opts) : spawn(this.#o.binary, this.#o.args, opts);
    this.#child = child;
    this.#startedAt = Date.now();
    this.#tail = [];
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let buf = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#logStream?.write(chunk);
      buf += chunk.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        this.#tail.push(line);
        if (this.#tail.length > TAIL) this.#tail.shift();
      }
    });
    return child;
  }

  #ready(child: ChildProcess): Promise<void> {
    const timeoutMs = this.#o.readyTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new EtcdMemberStartError(`etcd member ${this.#o.name} did not serve clients within ${timeoutMs} ms; its last lines:\n${this.#tail.join('\n')}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        if (!chunk.toString('utf8').includes('ready to serve client requests')) return;
        clearTimeout(guard);
        child.off('exit', onExit);
        child.stderr!.off('data', onData);
        resolve();
      };
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(guard);
        child.stderr!.off('data', onData);
        const removed = this.#tail.some((l) => REMOVED.test(l)) ? ` It was removed from the cluster: move ${this.#o.dataDir} away to join again as a new member.` : '';
        reject(new EtcdMemberStartError(`etcd member ${this.#o.name} exited (${signal ?? `code ${code}`}) before serving clients.${removed} Its last lines:\n${this.#tail.join('\n')}`));
      };
      child.stderr!.on('data', onData);
      child.once('exit', onExit);
    });
  }

  #onExit(code: number | null, signal: string | null): void {
    if (this.#stopping) return;
    const how = signal ?? `code ${code}`;
    if (this.#tail.some((l) => REMOVED.test(l))) {
      this.#o.log(`etcd member ${this.#o.name} was removed from the cluster and exited (${how}); not restarting it. Its data stay in ${this.#o.dataDir}: move that directory away to join the cluster again as a new member.`);
      return;
    }
    // A member that ran a while before failing starts the back-off over.
    if (Date.now() - this.#startedAt > 60_000) this.#delayMs = this.#o.restartInitialMs ?? 1000;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, this.#o.restartMaxMs ?? 30_000);
    const last = this.#tail.slice(-3).join('\n  ');
    this.#o.log(`etcd member ${this.#o.name} exited unexpectedly (${how}); restarting it in ${delay} ms (its data in ${this.#o.dataDir} are kept)${last ? `; its last lines:\n  ${last}` : ''}`);
    this.#restartTimer = setTimeout(() => this.#restart(), delay);
  }

  #restart(): void {
    if (this.#stopping) return;
    const child = this.#launch();
    this.#ready(child).then(
      () => {
        this.#o.log(`etcd member ${this.#o.name} is serving again (pid ${child.pid})`);
        child.once('exit', (code, signal) => this.#onExit(code, signal));
      },
      (err: unknown) => {
        // #ready's exit handler already reported why; the next attempt waits longer.
        this.#o.log((err as Error).message);
        this.#onExit(child.exitCode, child.signalCode);
      },
    );
  }
}
