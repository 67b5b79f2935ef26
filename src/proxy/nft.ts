// Runs nft transactions and conntrack deletions. `nft -f -` applies the whole script as one kernel
// transaction: it succeeds entirely or changes nothing. A failure is an expected outcome (drift, a
// kernel without a feature, a bug in a generated rule) and comes back as a value carrying nft's message.
//
// Called by the proxier, one call at a time (the proxier never overlaps syncs). The command prefix
// (e.g. `['ip', 'netns', 'exec', 'node1']`) lets tests and benchmarks program a network namespace.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { ConntrackDelete } from './script.ts';

export type RunResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The kernel side of the proxy: what the proxier calls to apply a transaction. */
export interface NftRunner {
  /** Applies `script` atomically. */
  apply(script: string): Promise<RunResult>;
  /** Applies the script the chunks make, atomically, reading them as it writes (a whole table need not be in memory at once). */
  applyChunks?(chunks: Iterable<string>): Promise<RunResult>;
  /** Deletes conntrack entries; failures to match anything are not errors. */
  flushConntrack(ops: readonly ConntrackDelete[]): Promise<RunResult>;
  /** Ends any helper process the runner keeps; apply() may still be called after (it starts a new one). */
  close?(): void;
}

export interface CommandRunnerOptions {
  /** Prepended to every command, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  readonly prefix?: readonly string[];
  readonly nft?: string;
  readonly conntrack?: string;
  /** Small transactions through one long-lived `nft -i` (default true); see InteractiveNft. */
  readonly interactive?: boolean;
}

/** Scripts up to this size go through the long-lived `nft -i`; whole-table scripts through `nft -f -`. */
const INTERACTIVE_MAX_BYTES = 256 * 1024;
/** A transaction not answered in this time ends the `nft -i` process (it is started again for the next). */
const INTERACTIVE_TIMEOUT_MS = 60_000;

export class CommandRunner implements NftRunner {
  readonly #prefix: readonly string[];
  readonly #nft: string;
  readonly #conntrack: string;
  readonly #interactive: InteractiveNft | undefined;

  constructor(o: CommandRunnerOptions = {}) {
    this.#prefix = o.prefix ?? [];
    this.#nft = o.nft ?? 'nft';
    this.#conntrack = o.conntrack ?? 'conntrack';
    this.#interactive = o.interactive === false ? undefined : new InteractiveNft([...this.#prefix, this.#nft, '-i']);
  }

  async apply(script: string): Promise<RunResult> {
    if (this.#interactive && script.length <= INTERACTIVE_MAX_BYTES) return this.#interactive.apply(script);
    const r = await this.#run([this.#nft, '-f', '-'], script);
    return r.code === 0 ? { ok: true } : { ok: false, error: `nft -f - exited ${r.code}: ${r.stderr.trim().slice(0, 4000)}` };
  }

  async applyChunks(chunks: Iterable<string>): Promise<RunResult> {
    const r = await this.#run([this.#nft, '-f', '-'], chunks);
    return r.code === 0 ? { ok: true } : { ok: false, error: `nft -f - exited ${r.code}: ${r.stderr.trim().slice(0, 4000)}` };
  }

  async flushConntrack(ops: readonly ConntrackDelete[]): Promise<RunResult> {
    const errors: string[] = [];
    for (const op of ops) {
      const args = [this.#conntrack, '-D', '-p', 'udp'];
      if (op.origDst) args.push('--orig-dst', op.origDst);
      args.push('--orig-port-dst', String(op.origPortDst));
      if (op.replySrc) args.push('--reply-src', op.replySrc);
      const r = await this.#run(args, '');
      // conntrack exits 1 when no flow matched ("0 flow entries have been deleted"): nothing to forget.
      if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) errors.push(`${args.join(' ')}: ${r.stderr.trim()}`);
    }
    return errors.length ? { ok: false, error: errors.join('; ') } : { ok: true };
  }

  close(): void {
    this.#interactive?.close();
  }

  #run(argv: readonly string[], input: string | Iterable<string>): Promise<{ code: number; stderr: string }> {
    const [cmd, ...args] = [...this.#prefix, ...argv];
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    // The listeners are made where `input` is out of their reach: a whole-table script (~19 MB at
    // 10,000 Services) is not kept alive by them while the child object lingers after its exit.
    const done = new Promise<{ code: number; stderr: string }>((resolve) => {
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        if (stderr.length < 65536) stderr += d;
      });
      child.on('error', (err) => resolve({ code: -1, stderr: `${cmd}: ${err.message}` }));
      child.on('close', (code, signal) => resolve({ code: code ?? -1, stderr: signal ? `${stderr}killed by ${signal}` : stderr }));
    });
    child.stdin.on('error', () => {}); // an early exit closes the pipe; the exit status tells why
    if (typeof input === 'string') {
      child.stdin.end(input);
      return done;
    }
    return writeAll(child.stdin, input).then(() => done);
  }
}

/** Writes the chunks as the pipe takes them, then ends it; stops early when the pipe closes (the exit status says why). */
async function writeAll(stdin: NonNullable<ChildProcess['stdin']>, chunks: Iterable<string>): Promise<void> {
  let closed = false;
  stdin.once('close', () => (closed = true));
  for (const chunk of chunks) {
    if (closed || stdin.destroyed) return;
    if (!stdin.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.on('drain', done);
        stdin.on('close', done);
      });
    }
  }
  if (!closed && !stdin.destroyed) stdin.end();
}

/**
 * One `nft -i` kept running, so a small transaction costs neither a process start nor nft's start-up.
 * In interactive mode each input line is one transaction (atomic, as `nft -f`), so a script's commands
 * are joined with `;` on one line. nft prints nothing on success and errors on stderr; after each
 * transaction a command that always fails (listing a set of a table that does not exist) is sent, and
 * its error, which nft prints only after finishing the line before, marks where the transaction's
 * own errors end. nft still refills its cache after every commit (the generation changed), but at
 * 10,000 Services a one-element transaction took ~70 ms through `nft -f -` and ~10 ms here after the
 * first (strace timings); bench/services-proxy.ts has the change→kernel figures.
 *
 * One transaction at a time (the proxier never overlaps syncs). The process is unreferenced: idle, it
 * never keeps Node running, and it ends when its stdin closes.
 */
class InteractiveNft {
  readonly #argv: readonly string[];
  #child: ChildProcess | undefined;
  #stderr = '';
  #seq = 0;
  #pending: { readonly marker: string; readonly done: (r: RunResult) => void } | undefined;

  constructor(argv: readonly string[]) {
    this.#argv = argv;
  }

  apply(script: string): Promise<RunResult> {
    const child = this.#child ?? this.#start();
    const marker = `list set ip tinykube-proxy-done-${++this.#seq}-${process.pid} m`;
    const line = script.split('\n').filter((l) => l.trim() !== '').join('; ');
    return new Promise<RunResult>((resolve) => {
      // Referenced, unlike the process: it keeps Node running while a transaction is out.
      const timer = setTimeout(() => this.#fail(child, `nft -i: no answer in ${INTERACTIVE_TIMEOUT_MS} ms`), INTERACTIVE_TIMEOUT_MS);
      this.#pending = {
        marker,
        done: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      child.stdin!.write(`${line}\n${marker}\n`);
    });
  }

  close(): void {
    const child = this.#child;
    this.#child = undefined;
    child?.stdin?.end();
    this.#pending?.done({ ok: false, error: 'nft -i: closed' });
    this.#pending = undefined;
  }

  #start(): ChildProcess {
    const [cmd, ...args] = this.#argv;
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#child = child;
    this.#stderr = '';
    child.unref();
    for (const s of [child.stdin, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (this.#child !== child) return;
      this.#stderr += d;
      this.#settle();
    });
    child.stdin!.on('error', () => {}); // the exit below says what happened
    child.on('error', (err) => this.#fail(child, `${cmd}: ${err.message}`));
    child.on('exit', (code, signal) => this.#fail(child, `nft -i exited ${signal ?? code}: ${this.#stderr.trim().slice(0, 4000)}`));
    return child;
  }

  #settle(): void {
    const p = this.#pending;
    if (!p) return;
    const at = this.#stderr.indexOf(`${p.marker}\n`);
    if (at < 0) return;
    const end = this.#stderr.indexOf('\n', at + p.marker.length + 1); // the line of carets under it
    if (end < 0) return;
    // What precedes the marker's own error line is the transaction's output.
    const before = this.#stderr.slice(0, at).replace(/[^\n]*\n$/, '');
    this.#stderr = this.#stderr.slice(end + 1);
    this.#pending = undefined;
    p.done(/Error/.test(before) ? { ok: false, error: `nft -i: ${before.trim().slice(0, 4000)}` } : { ok: true });
  }

  #fail(child: ChildProcess, error: string): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    child.kill();
    const p = this.#pending;
    this.#pending = undefined;
    p?.done({ ok: false, error });
  }
}
