// Test harness: a real single-member etcd (Debian's etcd-server, /usr/bin/etcd) on loopback ports
// with a private data dir, for the etcd backend's tests and for any test that wants API servers on
// etcd. Stopped by its PID and its dir removed by stop(), which tests call from `after`.
//
// Several instances may run at once. etcd cannot report a port it picked itself (its advertised
// URLs must name the port), so two free ports are chosen first and, in the rare case another
// process takes one in between, etcd is started again on others.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BIN = '/usr/bin/etcd';
const SETPRIV = '/usr/bin/setpriv';

export interface TestEtcd {
  /** "http://127.0.0.1:PORT", for openEtcdBackend and "etcd:" store specs. */
  endpoint: string;
  /** The PID of the running etcd (changes on restart). */
  readonly pid: number;
  dataDir: string;
  /** Stops etcd and starts it again on the same ports and data (clients see it go away and come back). */
  restart(): Promise<void>;
  /** Kills etcd (SIGTERM, then SIGKILL) and removes its data dir. Idempotent. */
  stop(): Promise<void>;
}

/** The etcd binary when installed, else undefined (callers skip). */
export function etcdBinary(): string | undefined {
  return existsSync(ETCD_BIN) ? ETCD_BIN : undefined;
}

/** A free TCP port on 127.0.0.1 (listened on, then closed). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

class EtcdStartError extends Error {
  readonly portTaken: boolean;
  constructor(message: string, portTaken: boolean) {
    super(message);
    this.name = 'EtcdStartError';
    this.portTaken = portTaken;
  }
}

/** Resolves once etcd serves clients; rejects when it exits first (or does not get ready in time). */
function awaitReady(child: ChildProcess, readyTimeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    let buf = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new EtcdStartError(`etcd not ready after ${readyTimeoutMs} ms:\n${tail.join('\n')}`, false));
    }, readyTimeoutMs);
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (line.includes('ready to serve client requests')) {
          clearTimeout(guard);
          child.off('exit', onExit);
          // Keep draining its log so a full pipe never blocks it.
          child.stderr?.off('data', onData);
          child.stderr?.resume();
          resolve();
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(guard);
      const log = tail.join('\n');
      reject(new EtcdStartError(`etcd exited (${signal ?? code}) before serving:\n${log}`, /address already in use/.test(log)));
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

function launch(args: string[], dataDir: string): { child: ChildProcess; exited: Promise<void> } {
  // A test process that dies without its `after` hooks must not leave etcd behind: util-linux's
  // setpriv has the kernel kill etcd with its parent (killed by a signal, too); the exit hook
  // covers machines without it, and removes the data dir.
  const child = existsSync(SETPRIV)
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', ETCD_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const reap = () => {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', reap);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', reap);
      resolve();
    }),
  );
  return { child, exited };
}

async function kill(p: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGTERM');
    const force = setTimeout(() => p.child.kill('SIGKILL'), 5000);
    await p.exited;
    clearTimeout(force);
  }
}

const OWNER_FILE = 'owner.pid';

/**
 * Removes the dirs of test processes that died without cleaning up (killed by a signal, their
 * etcd went with them): each dir names its owner, and a dir whose owner is gone is an orphan.
 */
async function sweepOrphans(base: string): Promise<void> {
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith('tk-etcd-')) continue;
    const dir = join(base, name);
    const owner = Number(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => ''));
    if (!owner || isAlive(owner)) continue;
    await rm(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `args`: more etcd flags (`--max-request-bytes 65536`). */
export async function startTestEtcd(opts: { readyTimeoutMs?: number; args?: string[] } = {}): Promise<TestEtcd> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  // tmpfs makes etcd's fsyncs free: these stores only live as long as a test.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  await sweepOrphans(base);
  for (let attempt = 1; ; attempt++) {
    const dataDir = await mkdtemp(join(base, 'tk-etcd-'));
    await writeFile(join(dataDir, OWNER_FILE), String(process.pid));
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const args = [
      '--name', 'default',
      '--data-dir', join(dataDir, 'data'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `default=${peer}`,
      '--initial-cluster-state', 'new',
      ...(opts.args ?? []),
    ];
    let proc = launch(args, dataDir);
    try {
      await awaitReady(proc.child, readyTimeoutMs);
    } catch (err) {
      await proc.exited;
      await rm(dataDir, { recursive: true, force: true });
      if (err instanceof EtcdStartError && err.portTaken && attempt < 5) continue;
      throw err;
    }
    let stopping: Promise<void> | null = null;
    return {
      endpoint: client,
      get pid() {
        return proc.child.pid!;
      },
      dataDir,
      async restart() {
        await kill(proc);
        proc = launch(args, dataDir);
        try {
          await awaitReady(proc.child, readyTimeoutMs);
        } catch (err) {
          await proc.exited;
          throw err;
        }
      },
      stop() {
        stopping ??= (async () => {
          await kill(proc);
          await rm(dataDir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
}

export interface TestEtcdMember {
  name: string;
  /** "http://127.0.0.1:PORT", this member's client URL. */
  endpoint: string;
  /** The PID of its etcd while it runs; undefined once it exited. */
  readonly pid: number | undefined;
  /** Resolves when its etcd has exited (killed by the test or on its own). */
  readonly exited: Promise<void>;
}

export interface TestEtcdCluster {
  members: readonly TestEtcdMember[];
  /** Every member's client URL, comma-separated: the location of an "etcd:" store spec. */
  endpoints: string;
  /** The name of the member that leads the raft group now, asked from `via` (a member's endpoint). */
  leader(via: string): Promise<string>;
  /** Kills every member still running and removes the data dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A real etcd cluster of `size` members (default 3) on loopback, for the tests of losing a member:
 * members are started together (a new cluster only serves once a quorum formed) and are killed by
 * the test through their PIDs.
 */
export async function startTestEtcdCluster(opts: { size?: number; readyTimeoutMs?: number } = {}): Promise<TestEtcdCluster> {
  const size = opts.size ?? 3;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  await sweepOrphans(base);
  const dataDir = await mkdtemp(join(base, 'tk-etcd-'));
  await writeFile(join(dataDir, OWNER_FILE), String(process.pid));
  const specs: Array<{ name: string; client: string; peer: string }> = [];
  for (let i = 0; i < size; i++) specs.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const procs = specs.map((s) =>
    launch(
      [
        '--name', s.name,
        '--data-dir', join(dataDir, s.name),
        '--listen-client-urls', s.client,
        '--advertise-client-urls', s.client,
        '--listen-peer-urls', s.peer,
        '--initial-advertise-peer-urls', s.peer,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `tk-test-${process.pid}-${dataDir.slice(-6)}`,
      ],
      dataDir,
    ),
  );
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all(procs.map((p) => kill(p)));
      await rm(dataDir, { recursive: true, force: true });
    })());
  try {
    await Promise.all(procs.map((p) => awaitReady(p.child, readyTimeoutMs)));
  } catch (err) {
    await stop();
    throw err;
  }
  const members = specs.map((s, i): TestEtcdMember => ({
    name: s.name,
    endpoint: s.client,
    get pid() {
      const c = procs[i].child;
      return c.exitCode === null && c.signalCode === null ? c.pid : undefined;
    },
    exited: procs[i].exited,
  }));
  return {
    members,
    endpoints: specs.map((s) => s.client).join(','),
    async leader(via) {
      // etcd's JSON gateway: Maintenance.Status answers with the leader's member ID, MemberList maps it to a name.
      const post = async <T>(path: string): Promise<T> => {
        const res = await fetch(`${via}${path}`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`etcd ${path} at ${via}: ${res.status}`);
        return (await res.json()) as T;
      };
      const status = await post<{ leader?: string }>('/v3/maintenance/status');
      const list = await post<{ members?: Array<{ ID?: string; name?: string }> }>('/v3/cluster/member/list');
      const m = list.members?.find((x) => x.ID === status.leader);
      if (!m?.name) throw new Error(`etcd at ${via}: no leader (${JSON.stringify(status)})`);
      return m.name;
    },
    stop,
  };
}
