// Test harness: a private Docker registry (Debian's `docker-registry`, distribution 2.8) bound to
// 127.0.0.1 on a port of its own choosing, storing into a temp dir, with or without htpasswd
// authentication. Installs the package when missing (its system service is stopped and disabled:
// tests run their own instances only). Every instance is stopped by its PID and its dir removed in
// the test's `after` hook, even when the test failed.
//
// Used by the image pull integration tests and by end-to-end tests that need a real pull path.
// Several instances may run at once; needs root only to install the package.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT", as image references name it. */
  host: string;
  port: number;
  pid: number;
  dir: string;
  auth?: { username: string; password: string };
  /** Idempotent; also registered with the test's `after` hook. */
  stop(): Promise<void>;
}

const REGISTRY_BIN = '/usr/bin/docker-registry';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let installing: Promise<string | undefined> | undefined;

/**
 * The registry binary, installing Debian's docker-registry if needed. Undefined (with the reason
 * logged) when it cannot be installed, so callers can skip instead of failing on a machine without
 * a package mirror.
 */
export function ensureDockerRegistry(): Promise<string | undefined> {
  installing ??= (async () => {
    if (existsSync(REGISTRY_BIN)) return REGISTRY_BIN;
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const r = await run('apt-get', ['install', '-y', '--no-install-recommends', 'docker-registry'], env);
    if (r.code !== 0 || !existsSync(REGISTRY_BIN)) {
      console.error(`docker-registry is not installed and apt-get could not install it: ${r.stderr.trim().split('\n').pop() ?? ''}`);
      return undefined;
    }
    // The package starts and enables a system-wide registry on :5000 where services may start; we
    // only want our own per-test instances.
    await run('invoke-rc.d', ['docker-registry', 'stop']);
    await run('update-rc.d', ['docker-registry', 'disable']);
    await run('systemctl', ['disable', '--now', 'docker-registry.service']);
    return REGISTRY_BIN;
  })();
  return installing;
}

/**
 * A bcrypt htpasswd line, the only hash docker-registry accepts: apache2-utils' htpasswd when
 * present, else Python's crypt over libxcrypt (Debian's libc crypt does bcrypt; Node has no bcrypt).
 * Cost 4, the minimum: the registry verifies the hash on every request, and at the usual cost 12
 * that alone made a push or pull take seconds.
 */
export async function htpasswdLine(username: string, password: string): Promise<string> {
  const h = await run('htpasswd', ['-nbB', '-C', '4', username, password]);
  if (h.code === 0 && h.stdout.startsWith(`${username}:$2`)) return h.stdout.trim();
  const py = await run('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))', password]);
  if (py.code === 0 && py.stdout.startsWith('$2')) return `${username}:${py.stdout.trim()}`;
  throw new Error(`cannot make a bcrypt htpasswd entry: install apache2-utils (htpasswd) (${h.stderr.trim() || py.stderr.trim()})`);
}

function stopChild(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      clearTimeout(kill);
      resolve();
    }
  });
}

export async function startTestRegistry(t: AfterHook, opts: { auth?: { username: string; password: string } } = {}): Promise<TestRegistry> {
  const bin = await ensureDockerRegistry();
  if (!bin) throw new Error('docker-registry is not available');
  const dir = await mkdtemp(join(tmpdir(), 'tk-registry-'));
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child?.pid) await stopChild(child, child.pid);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  t.after(stop);

  const auth = opts.auth ? `auth:\n  htpasswd:\n    realm: tinykube-test\n    path: ${JSON.stringify(join(dir, 'htpasswd'))}\n` : '';
  if (opts.auth) await writeFile(join(dir, 'htpasswd'), (await htpasswdLine(opts.auth.username, opts.auth.password)) + '\n', { mode: 0o600 });
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(join(dir, 'data'))}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: ${randomBytes(16).toString('hex')}
${auth}`,
  );
  const c = spawn(bin, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child = c;
  // The registry logs the address it really bound ("listening on 127.0.0.1:41235").
  const port = await new Promise<number>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`docker-registry did not start listening within 10 s:\n${log}`)), 10_000);
    const onData = (b: Buffer) => {
      log += b.toString('utf8');
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        c.stderr?.off('data', onData);
        c.stderr?.resume(); // keep draining so the registry never blocks on a full pipe
        resolve(Number(m[1]));
      }
    };
    c.stderr?.on('data', onData);
    c.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code ?? sig}) before listening:\n${log}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  const r: TestRegistry = { host: `127.0.0.1:${port}`, port, pid: c.pid!, dir, stop };
  if (opts.auth) r.auth = opts.auth;
  return r;
}
