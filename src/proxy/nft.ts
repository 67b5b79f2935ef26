// Runs nft transactions and conntrack deletions. `nft -f -` applies the whole script as one kernel
// transaction: it succeeds entirely or changes nothing. A failure is an expected outcome (drift, a
// kernel without a feature, a bug in a generated rule) and comes back as a value carrying nft's message.
//
// Called by the proxier, one call at a time (the proxier never overlaps syncs). The command prefix
// (e.g. `['ip', 'netns', 'exec', 'node1']`) lets tests and benchmarks program a network namespace.

import { spawn } from 'node:child_process';
import type { ConntrackDelete } from './script.ts';

export type RunResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The kernel side of the proxy: what the proxier calls to apply a transaction. */
export interface NftRunner {
  /** Applies `script` atomically. */
  apply(script: string): Promise<RunResult>;
  /** Deletes conntrack entries; failures to match anything are not errors. */
  flushConntrack(ops: readonly ConntrackDelete[]): Promise<RunResult>;
}

export interface CommandRunnerOptions {
  /** Prepended to every command, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  readonly prefix?: readonly string[];
  readonly nft?: string;
  readonly conntrack?: string;
}

export class CommandRunner implements NftRunner {
  readonly #prefix: readonly string[];
  readonly #nft: string;
  readonly #conntrack: string;

  constructor(o: CommandRunnerOptions = {}) {
    this.#prefix = o.prefix ?? [];
    this.#nft = o.nft ?? 'nft';
    this.#conntrack = o.conntrack ?? 'conntrack';
  }

  async apply(script: string): Promise<RunResult> {
    const r = await this.#run([this.#nft, '-f', '-'], script);
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

  #run(argv: readonly string[], input: string): Promise<{ code: number; stderr: string }> {
    const [cmd, ...args] = [...this.#prefix, ...argv];
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        if (stderr.length < 65536) stderr += d;
      });
      child.on('error', (err) => resolve({ code: -1, stderr: `${cmd}: ${err.message}` }));
      child.on('close', (code, signal) => resolve({ code: code ?? -1, stderr: signal ? `${stderr}killed by ${signal}` : stderr }));
      child.stdin.on('error', () => {}); // an early exit closes the pipe; the exit status tells why
      child.stdin.end(input);
    });
  }
}
