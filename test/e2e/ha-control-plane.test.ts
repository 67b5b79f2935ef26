// A control plane that survives losing a member (issue 13, "Must show"): three etcd members and two
// `tinykube server` processes on loopback, a client writing through both, one etcd member and one
// server killed with SIGKILL mid-load.
//
// Topology: three plain etcd members (Debian's /usr/bin/etcd, started by startTestEtcdCluster) and two
// `tinykube server --store etcd:URL,URL,URL` sharing the cluster's PKI and tokens. This is the issue's
// wording exactly (three members, two API servers), and it puts each server's etcd client on all three
// members, so killing a member exercises the servers' fail-over between etcd endpoints, which a
// managed member per server (each server talking to its own) would not. The managed members'
// own loss and restart are covered by test/integration/etcd-managed.test.ts.
//
// What is killed: the etcd member that leads the raft group (the harder loss: a new election under
// load), then the server that holds both the kube-scheduler and kube-controller-manager Leases (the
// first one started), so that leadership must move.
//
// Timings: leader election keeps kube-scheduler's defaults (15 s lease, 10 s renew deadline, 2 s
// retry) as the issue names them. The simulated nodes renew their Leases every 2 s and the servers
// run with --node-monitor-grace-period 12s: kubelet's ratio (10 s renewals against 40 s) scaled down
// so that the run covers more than a full grace period after the new controller manager took over
// (a node whose heartbeats were lost in the fail-over would go Unknown within the test).
//
// Afterwards every acknowledged write (a 2xx answer) is read back with its data; a write that failed
// in between may or may not have been applied and is not counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startCluster, type Cluster } from './harness.ts';
import { etcdBinary, startTestEtcdCluster } from '../../src/storage/etcd/testing-etcd.ts';
import { pkiPaths } from '../../src/apiserver/auth/pki.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ConfigMaps, Leases, Nodes, Pods } from '../../src/client/resources.ts';
import { Informer, listWatch } from '../../src/client/informer.ts';
import type { ConfigMap, Lease, Node, Pod } from '../../src/api/types.ts';
import { until } from '../../src/testing/until.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (Debian etcd-server)';
const repo = path.resolve(import.meta.dirname, '..', '..');
const LEASES = ['kube-scheduler', 'kube-controller-manager'] as const;
const GRACE_MS = 12_000;
const NS = 'default';

const acquired = (c: Cluster, lease: string) => c.logs().split('\n').filter((l) => l.includes(`successfully acquired lease kube-system/${lease}`)).length;
const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const micro = (t: string | undefined) => (t ? Date.parse(t) : 0);

test('three etcd members, two servers: a member and a server killed under load lose no acknowledged write, nodes stay Ready, leadership moves once', { skip, timeout: 150_000 }, async (t) => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => {});
  });

  const etcd = await startTestEtcdCluster();
  cleanups.push(() => etcd.stop());
  const args = ['--store', `etcd:${etcd.endpoints}`, '--node-monitor-grace-period', `${GRACE_MS / 1000}s`];
  const a = await startCluster({ args });
  cleanups.push(() => a.stop());
  await until('server a leads the scheduler and the controllers', () => LEASES.every((l) => acquired(a, l) === 1), { timeoutMs: 30_000, detail: () => a.logs().slice(-2000) });
  // Servers of one cluster share its CA, service-account key and tokens.
  const pa = pkiPaths(a.dataDir);
  const b = await startCluster({
    args,
    beforeStart: (dataDir) => {
      const pb = pkiPaths(dataDir);
      cpSync(pa.pkiDir, pb.pkiDir, { recursive: true });
      for (const f of ['adminToken', 'nodeToken'] as const) cpSync(pa[f], pb[f]);
    },
  });
  cleanups.push(() => b.stop());

  // The default connect timeout (10 s): a killed server's port refuses at once, and a shorter one
  // would send a slow but live server's requests elsewhere on a loaded machine.
  const auth = { caPem: readFileSync(pa.caCert, 'utf8'), token: readFileSync(pa.adminToken, 'utf8').trim() };
  // Two writers' clients, each preferring another server: the load goes through both.
  const viaA = new ApiClient({ servers: [a.url, b.url], userAgent: 'ha-e2e/a-first', ...auth });
  const viaB = new ApiClient({ servers: [b.url, a.url], userAgent: 'ha-e2e/b-first', ...auth });
  // What the test observes, through the server that survives.
  const observer = new ApiClient({ server: b.url, userAgent: 'ha-e2e/observer', ...auth });
  cleanups.push(() => [viaA, viaB, observer].forEach((c) => c.close()));
  const lease = (name: string) => observer.get<Lease>(Leases, 'kube-system', name);
  const before = new Map<string, Lease>();
  for (const name of LEASES) before.set(name, await lease(name));
  for (const name of LEASES) assert.equal(acquired(b, name), 0, `b does not lead ${name} while a does`);

  // Two simulated nodes whose agent has both servers' addresses, a first.
  const sim = spawn(path.join(repo, 'bin', 'tinykube'), ['simulate', '--server', `${a.url},${b.url}`, '--token-file', a.nodeToken, '--nodes', '2', '--lease-renew', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const simLog: string[] = [];
  sim.stderr.on('data', (d: Buffer) => simLog.push(d.toString()));
  cleanups.push(() => sim.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    sim.once('exit', (code) => reject(new Error(`tinykube simulate exited with ${code}: ${simLog.join('')}`)));
    createInterface({ input: sim.stdout }).on('line', (l) => {
      simLog.push(l);
      if (/node\(s\) .* registered with/.test(l)) resolve();
    });
  });
  const nodes = new Informer<Node>(listWatch<Node>(observer, Nodes));
  const notReady: string[] = [];
  const readySince = new Set<string>();
  const check = (n: Node) => {
    const name = n.metadata!.name!;
    if (ready(n) === 'True') readySince.add(name);
    else if (readySince.has(name)) notReady.push(`${name}: Ready=${ready(n)} at ${new Date().toISOString()}`);
  };
  nodes.addEventHandler({ onAdd: check, onUpdate: (_, n) => check(n) });
  nodes.start();
  cleanups.push(() => nodes.stop());
  await until('both simulated nodes Ready', () => readySince.size === 2, { timeoutMs: 30_000, on: (c) => nodes.addEventHandler({ onAdd: c, onUpdate: c }) });
  const nodeNames = [...readySince].sort();

  // The load: two writers per client, ConfigMaps named by writer and sequence, data kept for the check.
  const acked = new Map<string, string>();
  const ackedBy = { a: 0, b: 0 };
  // Each acknowledgement with when its request started and the server it was sent to (known when
  // the client did not move during the request).
  const ackTimes: Array<{ at: number; startedAt: number; client: ApiClient; server?: string }> = [];
  let failed = 0;
  let phase = 'before the kills';
  const failures = new Map<string, number>();
  let stop = false;
  const writer = async (client: ApiClient, id: string) => {
    for (let i = 0; !stop; i++) {
      const name = `w-${id}-${i}`;
      const value = `${id}:${i}:${'x'.repeat(i % 64)}`;
      const startedAt = Date.now();
      const sentTo = client.currentServer;
      try {
        await client.create(ConfigMaps, NS, { metadata: { name }, data: { value } });
        acked.set(name, value);
        const server = client.currentServer === sentTo ? sentTo : undefined;
        if (server === a.url) ackedBy.a++;
        else if (server === b.url) ackedBy.b++;
        ackTimes.push({ at: Date.now(), startedAt, client, server });
      } catch (err) {
        failed++;
        const e = err as NodeJS.ErrnoException & { status?: number };
        const why = `${phase}, ${client === viaA ? 'a' : 'b'} first: ${e.code ?? e.status ?? ''} ${e.message.slice(0, 100)}`;
        failures.set(why, (failures.get(why) ?? 0) + 1);
        // Not a timing: spacing retries so a dead server's refusals do not spin the event loop.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const writers = [writer(viaA, 'a1'), writer(viaA, 'a2'), writer(viaB, 'b1'), writer(viaB, 'b2')];
  // The longest time from `from` on without an acknowledgement (of `client`'s writes if given), up to `to`.
  const longestGap = (from: number, to: number, client?: ApiClient) => {
    const times = [from, ...ackTimes.filter((x) => !client || x.client === client).map((x) => x.at).filter((at) => at > from && at < to).sort((x, y) => x - y)];
    return Math.max(...times.slice(1).map((at, i) => at - times[i]));
  };
  const acksAfter = (at: number, n: number, client?: ApiClient) => until(`${n} acknowledged writes after ${new Date(at).toISOString()}`, () => ackTimes.filter((x) => x.at > at && (!client || x.client === client)).length >= n, { timeoutMs: 30_000, intervalMs: 20 });
  await acksAfter(0, 100);
  await until('writes acknowledged through both servers', () => ackedBy.a > 0 && ackedBy.b > 0, { timeoutMs: 30_000, intervalMs: 20 });
  const throughBefore = { ...ackedBy };

  // 1. The raft leader among the etcd members, SIGKILLed by its PID.
  const leaderName = await etcd.leader(etcd.members[0].endpoint);
  const member = etcd.members.find((m) => m.name === leaderName)!;
  const memberKilledAt = Date.now();
  phase = 'after the member kill';
  process.kill(member.pid!, 'SIGKILL');
  await member.exited;
  const survivor = etcd.members.find((m) => m !== member)!;
  const newEtcdLeader = await until('the other etcd members elected a leader', async () => {
    const name = await etcd.leader(survivor.endpoint);
    return name !== leaderName && name;
  }, { timeoutMs: 30_000, intervalMs: 50 });
  const etcdElectionMs = Date.now() - memberKilledAt;
  const firstAfterMemberKill = await until('a write sent after the member kill acknowledged', () => ackTimes.find((x) => x.startedAt > memberKilledAt), { timeoutMs: 30_000, intervalMs: 20 });
  const memberFailoverMs = firstAfterMemberKill.at - memberKilledAt;
  await acksAfter(memberKilledAt, 40);
  const memberGapMs = longestGap(memberKilledAt, Date.now());

  // 2. Server a, which holds both leases, SIGKILLed by its PID.
  const serverKilledAt = Date.now();
  phase = 'after the server kill';
  const aExited = new Promise((r) => a.proc.once('exit', r));
  process.kill(a.proc.pid!, 'SIGKILL');
  await aExited;
  // a's last renewals: nobody renews them any more.
  const lastRenew = new Map<string, Lease>();
  for (const name of LEASES) lastRenew.set(name, await lease(name));
  // The first write of the client that preferred a, sent after a died: it went through b.
  const firstAfterKill = await until('a write of the client that preferred a sent after the kill and acknowledged', () => ackTimes.find((x) => x.startedAt > serverKilledAt && x.client === viaA), { timeoutMs: 30_000, intervalMs: 20 });
  const serverFailoverMs = firstAfterKill.at - serverKilledAt;

  // 3. Leadership moves to b, once, and only after a's lease ran out.
  const moved = new Map<string, { lease: Lease; afterMs: number }>();
  await until(
    'both leases held by a new holder',
    async () => {
      for (const name of LEASES) {
        if (moved.has(name)) continue;
        const l = await lease(name);
        if (l.spec?.holderIdentity !== before.get(name)!.spec?.holderIdentity) moved.set(name, { lease: l, afterMs: Date.now() - serverKilledAt });
      }
      return moved.size === LEASES.length;
    },
    { timeoutMs: 45_000, intervalMs: 100, detail: () => b.logs().slice(-2000) },
  );
  for (const name of LEASES) {
    const old = before.get(name)!.spec!;
    const now = moved.get(name)!.lease.spec!;
    assert.equal(now.leaseTransitions, (old.leaseTransitions ?? 0) + 1, `${name}: one transition`);
    // b's log line may arrive a moment after the Lease changed.
    await until(`b says it acquired ${name}`, () => acquired(b, name) > 0, { timeoutMs: 10_000 });
    assert.equal(acquired(b, name), 1, `${name}: b acquired it once`);
    // No two leaders: b took the lease no sooner than a lease duration after a's last renewal.
    const gap = micro(now.acquireTime) - micro(lastRenew.get(name)!.spec!.renewTime);
    assert.ok(gap >= (old.leaseDurationSeconds ?? 15) * 1000 - 1, `${name}: acquired ${gap} ms after a's last renewal`);
  }
  await acksAfter(serverKilledAt, 40, viaA);
  const serverGapMs = longestGap(serverKilledAt, Date.now(), viaA);
  const leaderMovedAt = serverKilledAt + Math.max(...[...moved.values()].map((m) => m.afterMs));

  // 4. b's scheduler binds a new pod to a simulated node, and the node's agent (through b now) runs it.
  await observer.create(Pods, NS, { metadata: { name: 'after-failover' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const pod = await until(
    'the pod created after the move bound and running',
    async () => {
      const p = await observer.get<Pod>(Pods, NS, 'after-failover');
      return p.status?.phase === 'Running' && p;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  assert.ok(nodeNames.includes(pod.spec!.nodeName!), `bound to a simulated node (${pod.spec!.nodeName})`);

  // 5. Nodes stay Ready for longer than a grace period under the new controller manager: await each
  // node's heartbeat (its Lease, renewed through b) beyond that point.
  const horizon = leaderMovedAt + GRACE_MS + 2_000;
  await until(
    'every node renewed its Lease a grace period after the new leader started',
    async () => {
      for (const n of nodeNames) if (micro((await observer.get<Lease>(Leases, 'kube-node-lease', n)).spec?.renewTime) <= horizon) return false;
      return true;
    },
    { timeoutMs: GRACE_MS + 30_000, intervalMs: 500 },
  );
  assert.deepEqual(notReady, [], 'no node went NotReady or Unknown');
  for (const n of nodeNames) assert.equal(ready(nodes.store.get(undefined, n) ?? (await observer.get<Node>(Nodes, undefined, n))), 'True', `${n} Ready`);
  // Still exactly one move.
  for (const name of LEASES) {
    assert.equal((await lease(name)).spec?.leaseTransitions, (before.get(name)!.spec?.leaseTransitions ?? 0) + 1, `${name}: still one transition`);
    assert.equal(acquired(b, name), 1);
  }

  // 6. Every acknowledged write is there, with its data.
  stop = true;
  await Promise.all(writers);
  const stored = new Map((await observer.list<ConfigMap>(ConfigMaps, NS)).items.map((c) => [c.metadata!.name!, c.data?.value]));
  const missing = [...acked].filter(([name, value]) => stored.get(name) !== value).map(([name]) => name);
  assert.deepEqual(missing, [], `${missing.length} of ${acked.size} acknowledged writes missing or changed`);

  // A write that a follower forwarded to the raft leader just before it died is lost with it: etcd
  // answers "request timed out, possibly due to previous leader failure" after its request timeout
  // (5 s + 2 × the 1 s election timeout), and the API server a 500 (the write's outcome is unknown).
  t.diagnostic(`etcd member ${leaderName} (raft leader) SIGKILLed → ${newEtcdLeader} leads: ≤ ${etcdElectionMs} ms; → first write sent after it acknowledged: ${memberFailoverMs} ms; longest time without an acknowledgement: ${memberGapMs} ms`);
  t.diagnostic(`server a SIGKILLed → first write its client sent after it acknowledged (through b): ${serverFailoverMs} ms; longest time without an acknowledgement of its writes: ${serverGapMs} ms`);
  for (const name of LEASES) t.diagnostic(`server a SIGKILLed → ${name} held by b: ${moved.get(name)!.afterMs} ms (lease ${before.get(name)!.spec?.leaseDurationSeconds} s)`);
  for (const [why, n] of failures) t.diagnostic(`failed writes ${why}: ${n}`);
  t.diagnostic(`${acked.size} acknowledged writes (before the kills ${throughBefore.a} through a and ${throughBefore.b} through b), ${failed} failed, all ${acked.size} found; nodes ${nodeNames.join(', ')} Ready throughout`);
});
