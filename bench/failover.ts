// API fail-over benchmark (issue 13): two `tinykube server` processes on one etcd (Debian's
// etcd-server, started for the run), a client given both addresses writing ConfigMaps one after
// another; each round SIGKILLs the server the client is using and measures the time from the kill to
// the client's next acknowledged write (through the other server), then starts the killed one again
// on its address for the next round. Prints the median, min and max over the rounds and the load
// average; asserts nothing. A write sent on a kept-alive connection the client has not yet seen die
// fails (the client cannot know whether it was applied, so it does not resend it) and is counted.
//
// Usage: node bench/failover.ts [--rounds=N]   (default 5)

import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ApiClient } from '../src/client/client.ts';
import { ConfigMaps } from '../src/client/resources.ts';
import { pkiPaths } from '../src/apiserver/auth/pki.ts';
import { etcdBinary, startTestEtcd } from '../src/storage/etcd/testing-etcd.ts';
import { ms, percentile, printTable } from './lib/stats.ts';

const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const rounds = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : 5;
if (!etcdBinary()) {
  console.error('bench/failover: etcd is not installed (Debian etcd-server)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'tk-bench-failover-'));
const main = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const etcd = await startTestEtcd();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Member {
  name: string;
  port: number;
  url: string;
  child?: ChildProcess;
}

/** Starts `tinykube server` for `m` and resolves once it says it listens. */
function start(m: Member): Promise<void> {
  const child = spawn(process.execPath, [main, 'server', '--data-dir', join(dir, m.name), '--listen', `127.0.0.1:${m.port}`, '--store', `etcd:${etcd.endpoint}`, '--advertise-address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  m.child = child;
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server ${m.name} exited with ${code} before it listened`)));
    lines.on('line', (l) => {
      if (l.startsWith('tinykube server listening on')) resolve();
    });
  });
}

const members: Member[] = [];
for (const name of ['a', 'b']) {
  const port = await freePort();
  members.push({ name, port, url: `https://127.0.0.1:${port}` });
}
const times: number[] = [];
let failedWrites = 0;
const loadBefore = loadavg();
try {
  await start(members[0]);
  // Servers of one cluster share its CA, service-account key and tokens.
  const pa = pkiPaths(join(dir, 'a'));
  const pb = pkiPaths(join(dir, 'b'));
  cpSync(pa.pkiDir, pb.pkiDir, { recursive: true });
  for (const f of ['adminToken', 'nodeToken'] as const) cpSync(pa[f], pb[f]);
  await start(members[1]);
  const client = new ApiClient({ servers: members.map((m) => m.url), caPem: readFileSync(pa.caCert, 'utf8'), token: readFileSync(pa.adminToken, 'utf8').trim(), userAgent: 'bench-failover', connectTimeoutMs: 1000 });
  let seq = 0;
  const write = () => client.create(ConfigMaps, 'default', { metadata: { name: `fo-${++seq}` }, data: { n: String(seq) } });
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 20; i++) await write();
    const victim = members.find((m) => m.url === client.currentServer)!;
    const exited = new Promise<void>((resolve) => victim.child!.once('exit', () => resolve()));
    const t0 = performance.now();
    victim.child!.kill('SIGKILL');
    for (;;) {
      try {
        await write();
        break;
      } catch {
        failedWrites++;
      }
    }
    times.push(performance.now() - t0);
    await exited;
    await start(victim);
  }
  client.close();
} finally {
  for (const m of members) m.child?.kill('SIGKILL');
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
}
const loadAfter = loadavg();
printTable(`API fail-over: SIGKILL of the server in use to the next acknowledged write through the other (${rounds} rounds)`, [
  { what: 'kill → next acknowledged write (median)', value: ms(percentile(times, 50)), p50: ms(percentile(times, 50)), p99: ms(percentile(times, 99)), target: '<= 2 s' },
  { what: 'min / max', value: `${ms(Math.min(...times))} / ${ms(Math.max(...times))}` },
  { what: 'writes that failed in between', value: String(failedWrites) },
]);
console.log(`rounds: ${times.map((t) => ms(t)).join(', ')}`);
console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
