// `podman kube play` as the comparison point of bench/podstart: Debian's podman (installed with
// apt-get when missing), with everything it keeps in a temp dir of ours so the machine's own
// configuration and storage are never touched:
//   - CONTAINERS_CONF points at our containers.conf: runc (crun cannot set RLIMIT_NOFILE here without
//     CAP_SYS_RESOURCE), `default_ulimits = []` for the same reason, k8s-file logs, no event log
//     (no journald on these machines), and the network config dir inside our temp dir;
//   - `--root` / `--runroot` put images, containers and run state under the temp dir too;
//   - the pods join a network of ours on a /24 nobody else uses.
// netavark still creates a few things outside: iptables chains (NETAVARK*) and /run/containers/networks
// (its IPAM db). cleanup() removes those that were not there before the first podman call.

import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './proc.ts';

export interface PlayResult {
  ms: number;
  code: number;
  stderr: string;
}

const TABLES = ['nat', 'filter'] as const;

/** Splits an `iptables -S` rule into arguments (it quotes comments with double quotes). */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

async function netavarkChains(): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const t of TABLES) {
    const r = await run('iptables', ['-t', t, '-S']);
    out.set(t, new Set(r.stdout.split('\n').filter((l) => l.startsWith('-N NETAVARK')).map((l) => l.split(' ')[1]!)));
  }
  return out;
}

export async function ensurePodmanInstalled(log: (s: string) => void): Promise<string> {
  let v = await run('podman', ['--version']);
  if (v.code !== 0) {
    log('installing Debian podman (apt-get install -y podman)...');
    const r = await run('apt-get', ['install', '-y', '--no-install-recommends', 'podman'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.code !== 0) throw new Error(`apt-get install podman failed (${r.code}): ${r.stderr.slice(-500)}`);
    v = await run('podman', ['--version']);
  }
  return v.stdout.trim();
}

export class Podman {
  readonly dir: string;
  readonly network: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #chainsBefore: Map<string, Set<string>>;
  readonly #runDirExisted: boolean;

  private constructor(dir: string, network: string, chainsBefore: Map<string, Set<string>>, runDirExisted: boolean) {
    this.dir = dir;
    this.network = network;
    this.#env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
    this.#chainsBefore = chainsBefore;
    this.#runDirExisted = runDirExisted;
  }

  /**
   * Writes the configuration, creates the network, loads the image archive and plays one pod once
   * (podman builds its infra image from catatonit on first use; that is set-up, not pod start).
   */
  static async setup(dir: string, imageArchive: string, subnet: string, warmUpYaml: string): Promise<Podman> {
    await mkdir(join(dir, 'networks'), { recursive: true });
    await writeFile(
      join(dir, 'containers.conf'),
      [
        '[containers]',
        'default_ulimits = []',
        'log_driver = "k8s-file"',
        '[engine]',
        'runtime = "runc"',
        'events_logger = "none"',
        '[network]',
        `network_config_dir = "${join(dir, 'networks')}"`,
        '',
      ].join('\n'),
    );
    const p = new Podman(dir, `tkbench${process.pid}`, await netavarkChains(), existsSync('/run/containers'));
    await p.#ok(['network', 'create', '--subnet', subnet, p.network]);
    await p.#ok(['load', '-i', imageArchive]);
    const warm = join(dir, 'warm-up.yaml');
    await writeFile(warm, warmUpYaml);
    const r = await p.play(warm);
    if (r.code !== 0) throw new Error(`podman kube play (warm-up) failed: ${r.stderr}`);
    await p.down(warm);
    return p;
  }

  podman(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return run('podman', ['--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'run'), ...args], { env: this.#env });
  }

  async #ok(args: readonly string[]): Promise<string> {
    const r = await this.podman(args);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-500)}`);
    return r.stdout;
  }

  /**
   * `podman kube play` of a manifest: it returns once every container of every pod in it has been
   * started, so its wall time is create→running for all of them.
   */
  async play(file: string): Promise<PlayResult> {
    const t0 = performance.now();
    const r = await this.podman(['kube', 'play', '--network', this.network, file]);
    return { ms: performance.now() - t0, code: r.code, stderr: r.stderr };
  }

  async down(file: string): Promise<void> {
    await this.podman(['kube', 'down', file]);
  }

  /** Names of the running containers of the benchmark's pods (not the infra containers). */
  async running(): Promise<string[]> {
    const out = await this.#ok(['ps', '--filter', 'status=running', '--format', '{{.Names}} {{.IsInfra}}']);
    return out.split('\n').filter((l) => l.endsWith(' false')).map((l) => l.split(' ')[0]!);
  }

  /** Removes pods, containers, the network, the storage, and what netavark created outside the dir. */
  async cleanup(): Promise<void> {
    await this.podman(['pod', 'rm', '-af', '-t', '0']);
    await this.podman(['rm', '-af', '-t', '0']);
    await this.podman(['network', 'rm', '-f', this.network]);
    await this.podman(['system', 'reset', '-f']);
    const after = await netavarkChains();
    for (const t of TABLES) {
      const fresh = [...(after.get(t) ?? [])].filter((c) => !this.#chainsBefore.get(t)?.has(c));
      if (!fresh.length) continue;
      // Jumps into the chains first (a referenced chain cannot be deleted), then flush, then delete.
      const rules = (await run('iptables', ['-t', t, '-S'])).stdout.split('\n');
      for (const l of rules) {
        const a = splitRule(l);
        const j = a.indexOf('-j');
        if (a[0] === '-A' && j > 0 && fresh.includes(a[j + 1] ?? '')) await run('iptables', ['-t', t, '-D', ...a.slice(1)]);
      }
      for (const c of fresh) await run('iptables', ['-t', t, '-F', c]);
      for (const c of fresh) await run('iptables', ['-t', t, '-X', c]);
    }
    if (!this.#runDirExisted) await rm('/run/containers', { recursive: true, force: true });
    await rm(this.dir, { recursive: true, force: true });
  }
}
