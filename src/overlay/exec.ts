// The one door through which the overlay touches the kernel: every `ip`, `bridge`, `sysctl` and
// `ethtool` it runs goes through a NetExec, which can aim at a named network namespace (`ip -n NS`,
// `bridge -n NS`, and `nsenter --net=/run/netns/NS` for the rest), so one test process can run one
// overlay per namespace. A command that fails is a value (its exit code and stderr), not a throw: the
// caller decides whether it matters (a missing `ethtool` is a warning, a refused route an error).
//
// Called by the overlay one command at a time; implementations need not be re-entrant.
import { spawn } from 'node:child_process';

export interface ExecResult {
  /** The exit code; 127 when the program is not installed (then `missing` is true). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly missing?: boolean;
}

export interface NetExec {
  /** The namespace this runs in (undefined: the caller's own). */
  readonly netns: string | undefined;
  run(argv: readonly string[]): Promise<ExecResult>;
}

/** The real commands; with `netns`, inside /run/netns/<netns>. */
export class CommandExec implements NetExec {
  readonly netns: string | undefined;

  constructor(o: { netns?: string } = {}) {
    this.netns = o.netns;
  }

  /** The argv actually run for `argv` (exported for tests). */
  argvFor(argv: readonly string[]): string[] {
    const [cmd, ...rest] = argv;
    if (!this.netns) return [...argv];
    // iproute2 switches namespace itself: no extra process, and no /sys remount as `ip netns exec` does.
    if (cmd === 'ip' || cmd === 'bridge') return [cmd, '-n', this.netns, ...rest];
    return ['nsenter', `--net=/run/netns/${this.netns}`, ...argv];
  }

  run(argv: readonly string[]): Promise<ExecResult> {
    const [cmd, ...args] = this.argvFor(argv);
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 65536) stderr += d;
      });
      child.on('error', (err: NodeJS.ErrnoException) => resolve({ code: 127, stdout: '', stderr: `${cmd}: ${err.message}`, missing: err.code === 'ENOENT' }));
      child.on('close', (code, signal) => {
        // nsenter reports a program it cannot find with 127 and "No such file or directory".
        const missing = code === 127 && /No such file or directory|not found/.test(stderr);
        resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr, missing });
      });
    });
  }
}
