// End-to-end harness: runs `tinykube server` as a child process on port 0 in a temp dir, and the
// real kubectl against it (own kubeconfig and discovery cache, so tests never touch ~/.kube).

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

const repo = path.resolve(import.meta.dirname, '..', '..');
export const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Cluster {
  dir: string;
  dataDir: string;
  url: string;
  kubeconfig: string;
  nodeToken: string;
  proc: ChildProcess;
  kubectl(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** kubectl that must succeed; returns stdout. */
  k(...args: string[]): Promise<string>;
  writeFile(name: string, text: string): Promise<string>;
  /** Kills the server with SIGKILL and starts it again on the same data dir and port. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
  /** A raw API call as the admin (for what kubectl cannot do, e.g. playing a node agent). */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: unknown; text: string }>;
}

export interface ClusterOptions {
  /** `server` (control plane and scheduler) or `up` (also a node agent with its own containerd). */
  command?: 'server' | 'up';
  /** Extra arguments for the command (e.g. --name for up). */
  args?: string[];
  /** Runs on the empty data dir before the first start (e.g. a second server gets the cluster's PKI). */
  beforeStart?: (dataDir: string) => Promise<void> | void;
}

async function launch(dataDir: string, listen: string, log: string[], o: ClusterOptions): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(path.join(repo, 'bin', 'tinykube'), [o.command ?? 'server', '--data-dir', dataDir, '--listen', listen, ...(o.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      const s = b.toString();
      out += s;
      log.push(s);
      const m = /(?:listening on|API server) (https:\/\/[^\s,]+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
    proc.once('exit', (code) => reject(new Error(`tinykube server exited with ${code} before listening:\n${log.join('')}`)));
  });
  return { proc, url };
}

export async function startCluster(o: ClusterOptions = {}): Promise<Cluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tinykube-e2e-'));
  const dataDir = path.join(dir, 'data');
  const log: string[] = [];
  await o.beforeStart?.(dataDir);
  let { proc, url } = await launch(dataDir, '127.0.0.1:0', log, o);
  const port = new URL(url).port;
  // `up` keeps the control plane's files under <data-dir>/server.
  const serverDir = o.command === 'up' ? path.join(dataDir, 'server') : dataDir;
  const kubeconfig = path.join(serverDir, 'kubeconfig');
  const cacheDir = path.join(dir, 'kube-cache');
  const cluster: Cluster = {
    dir,
    dataDir,
    url,
    kubeconfig,
    nodeToken: path.join(serverDir, 'node-token'),
    get proc() {
      return proc;
    },
    kubectl(args, opts = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          kubectlBin,
          ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args],
          // In the cluster's temp dir, so relative paths (kubectl cp ./x) stay out of the repository.
          { cwd: dir, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfig } },
          (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
          },
        );
        if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
        else child.stdin?.end();
      });
    },
    async k(...args) {
      const r = await cluster.kubectl(args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    async writeFile(name, text) {
      const p = path.join(dir, name);
      await writeFile(p, text);
      return p;
    },
    async restart(signal = 'SIGKILL') {
      const exited = once(proc, 'exit');
      proc.kill(signal);
      await exited;
      ({ proc } = await launch(dataDir, `127.0.0.1:${port}`, log, o));
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = once(proc, 'exit');
        proc.kill(o.command === 'up' ? 'SIGINT' : 'SIGTERM');
        // `up` stops its pods within their grace period before it exits.
        const t = setTimeout(() => proc.kill('SIGKILL'), o.command === 'up' ? 60_000 : 10_000);
        await exited;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
    logs: () => log.join(''),
    async api(method, p, body, contentType = 'application/json') {
      const ca = await readFile(path.join(serverDir, 'pki', 'ca.crt'), 'utf8');
      const token = (await readFile(path.join(serverDir, 'admin-token'), 'utf8')).trim();
      const u = new URL(p, cluster.url);
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const headers: Record<string, string | number> = { Authorization: `Bearer ${token}`, 'Content-Type': contentType, Accept: 'application/json' };
        // Node sends a DELETE body without framing unless told its length.
        if (payload !== undefined) headers['Content-Length'] = Buffer.byteLength(payload);
        const req = request(u, { method, ca, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = undefined;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text });
          });
        });
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
  return cluster;
}

/**
 * `kubectl port-forward TARGET :REMOTE` (kubectl picks the local port); resolves with that port once
 * kubectl prints "Forwarding from 127.0.0.1:N -> CONTAINERPORT", and a function that ends the forward.
 */
export async function portForward(c: Cluster, target: string, remote: number, containerPort = remote): Promise<{ port: number; close(): void }> {
  const pf = spawn(kubectlBin, ['--kubeconfig', c.kubeconfig, '--cache-dir', path.join(c.dir, 'kube-cache'), 'port-forward', target, `:${remote}`], { env: { ...process.env, HOME: c.dir } });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`port-forward did not start: ${out}`)), 30_000);
      pf.once('exit', (code) => reject(new Error(`port-forward exited with ${code}: ${out}`)));
      pf.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${containerPort}\\b`).exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      pf.stderr.on('data', (b: Buffer) => (out += b.toString()));
    });
    return { port, close: () => pf.kill() };
  } catch (err) {
    pf.kill();
    throw err;
  }
}

/**
 * Polls fn until it returns a value (not undefined/false); on timeout fails with the last error and the
 * cluster's last log lines.
 */
export async function untilValue<T>(c: Cluster, what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${c.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
