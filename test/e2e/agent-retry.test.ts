// `tinykube agent` started before its server can be reached: it says so and tries again with back-off
// (1, 2, 4… s) instead of exiting, and registers as soon as the server answers; a stop asked while it
// waits ends it at once. The server is "unreachable" through a TCP relay on a port of the test's that
// starts listening only later, so the agent dials an address that refuses connections at first.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from './harness.ts';
import { until } from '../../src/testing/until.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
let c: Cluster;
let dir = '';
const children: ChildProcess[] = [];
let relay: net.Server | undefined;

before(async () => {
  c = await startCluster();
  dir = await mkdtemp(path.join(tmpdir(), 'tinykube-agent-retry-'));
});

after(async () => {
  for (const p of children) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = once(p, 'exit');
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(t);
    }
  }
  relay?.close();
  await c?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A free port on loopback that nothing listens on (yet). */
async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

function agent(server: string, name: string): { proc: ChildProcess; log: () => string } {
  const proc = spawn(path.join(repo, 'bin', 'tinykube'), ['agent', '--server', server, '--token-file', c.nodeToken, '--data-dir', path.join(dir, name), '--name', name, '--log-root', path.join(dir, 'logs'), '--drain', '--flannel-backend', 'none', '--disable-proxy', '--disable-dns'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return { proc, log: () => out };
}

it('an agent that cannot reach its server yet keeps trying and registers once the server answers', async () => {
  const port = await freePort();
  const name = `retry-${randomBytes(3).toString('hex')}`;
  const a = agent(`https://127.0.0.1:${port}`, name);
  await until('the agent saying twice that it cannot reach the server', () => /cannot reach https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*; trying again in 2 s/.test(a.log()), { timeoutMs: 30_000, detail: a.log });
  assert.equal(a.proc.exitCode, null, 'still running, waiting to try again');
  // The server becomes reachable: a relay on that port to the real API server.
  const target = new URL(c.url);
  relay = net.createServer((s) => {
    const up = net.connect(Number(target.port), target.hostname);
    s.pipe(up).pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  }).listen(port, '127.0.0.1');
  await once(relay, 'listening');
  await until('the agent registered', () => /registered with/.test(a.log()), { timeoutMs: 60_000, detail: a.log });
  const nodes = await c.k('get', 'nodes', name, '-o', 'name');
  assert.equal(nodes.trim(), `node/${name}`);
});

it('a stop asked while the agent waits to try again ends it at once', async () => {
  const port = await freePort();
  const a = agent(`https://127.0.0.1:${port}`, `retry-stop-${randomBytes(3).toString('hex')}`);
  await until('the agent waiting to try again', () => /trying again in 1 s/.test(a.log()), { timeoutMs: 30_000, detail: a.log });
  const exited = once(a.proc, 'exit');
  a.proc.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 1, a.log());
});
