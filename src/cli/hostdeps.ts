// The Debian packages a node needs, installed on first run with apt's own progress stream
// (APT::Status-Fd), and a clear message when that cannot be done (not root, no apt).

import { spawn, spawnSync } from 'node:child_process';
import type { StepHandle } from './progress.ts';

/** What the node agent runs: containerd + runc, the CNI plugins, the pause binary, busybox for the demo image, iptables for portmap. */
export const nodePackages = ['containerd', 'runc', 'containernetworking-plugins', 'catatonit', 'busybox-static', 'iptables', 'ethtool'];

/** What a server with a managed etcd member runs (`server --cluster-init` / `--server`): /usr/bin/etcd. */
export const etcdPackages = ['etcd-server'];

export class HostDepsError extends Error {
  readonly code = 'ERR_HOST_DEPS';
  constructor(message: string) {
    super(message);
    this.name = 'HostDepsError';
  }
}

export function missingPackages(pkgs: readonly string[]): string[] {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...pkgs], { encoding: 'utf8' });
  if (r.error) throw new HostDepsError(`cannot check installed packages (dpkg-query: ${r.error.message}); install these yourself: ${pkgs.join(' ')}`);
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith('install ok installed'))
      .map((l) => l.split(' ')[0]),
  );
  return pkgs.filter((p) => !installed.has(p));
}

/** Installs `pkgs` with apt-get, reporting apt's percentage to `h`. */
export async function installPackages(pkgs: readonly string[], h: StepHandle): Promise<void> {
  if (pkgs.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new HostDepsError(`these Debian packages are missing and installing them needs root: ${pkgs.join(' ')}\n  run: sudo apt-get install -y ${pkgs.join(' ')}`);
  }
  if (spawnSync('apt-get', ['--version']).error) {
    throw new HostDepsError(`apt-get is not available; install these packages with your package manager: ${pkgs.join(' ')}`);
  }
  h.progress(0, 'apt-get update');
  await run(['update', '-qq'], h, 0, 0.2);
  h.progress(0.2, `installing ${pkgs.join(', ')}`);
  await run(['install', '-y', '-qq', '--no-install-recommends', ...pkgs], h, 0.2, 1);
  // Debian starts its own containerd service; tinykube runs a private one and leaves the system one alone.
}

function run(args: string[], h: StepHandle, from: number, to: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', ['-o', 'APT::Status-Fd=3', '-o', 'Dpkg::Use-Pty=0', ...args], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    let buf = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        // dlstatus:<pkg>:<percent>:<text> and pmstatus:<pkg>:<percent>:<text>
        const m = /^(dl|pm)status:([^:]*):([\d.]+):(.*)$/.exec(line);
        if (m) h.progress(from + ((to - from) * Number(m[3])) / 100, m[4]!);
      }
    });
    child.on('error', (e) => reject(new HostDepsError(`apt-get failed to start: ${e.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new HostDepsError(`apt-get ${args[0]} failed (exit ${code}):\n${stderr.trim()}`))));
  });
}
