// The managed etcd (`tinykube server --cluster-init` / `--server URL --token-file F`): three control
// planes on loopback, each with its own etcd member started by startManagedEtcd, form one cluster.
// Writes through one server are read through the others; a member killed with SIGKILL is restarted
// by its server while the other two keep the quorum and no acknowledged write is lost; a stopped
// member is reported unhealthy and removed; a join without the server token is refused; a server
// restarted on its data dir restarts its member without adding it again; a running member removed
// from the cluster is not restarted (no crash loop) and keeps its data.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/client/client.ts';
import { ConfigMaps, Namespaces } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { JOIN_PATH, listMembers, ManagedEtcdError, removeMember, startManagedEtcd, type ManagedEtcd } from '../../src/cmd/etcd-cluster.ts';
import { etcdBinary, freePort } from '../../src/storage/etcd/testing-etcd.ts';

const NS = 'ha';


/** A server's log lines, and a way to await the one that says something. */
class LogLines {
  readonly lines: string[] = [];
  #waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  readonly log = (line: string) => {
    this.lines.push(line);
    for (const w of this.#waiters.filter((x) => x.re.test(line))) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve(line);
    }
  };
  next(re: RegExp): Promise<string> {
    return new Promise((resolve) => this.#waiters.push({ re, resolve }));
  }
  /** The last line matching either pattern, or undefined. */
  last(...res: RegExp[]): string | undefined {
    return this.lines.findLast((l) => res.some((re) => re.test(l)));
  }
}

interface Member {
  name: string;
  dir: string;
  clientPort: number;
  peerPort: number;
  logs: LogLines;
  etcd?: ManagedEtcd;
  cp?: ControlPlane;
  client?: ApiClient;
}

const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const members: Member[] = [];
let a: Member, b: Member, c: Member;

async function start(m: Member, how: { init?: boolean; join?: { server: string; token: string } }): Promise<void> {
  m.etcd = await startManagedEtcd({ dataDir: m.dir, host: '127.0.0.1', clientPort: m.clientPort, peerPort: m.peerPort, name: m.name, ...how, log: m.logs.log, healthIntervalMs: 300, restartInitialMs: 200, joinTimeoutMs: 30_000 });
  m.cp = await startControlPlane({ dataDir: m.dir, listen: '127.0.0.1:0', backend: m.etcd.backend, extraRoutes: m.etcd.routes, advertiseAddress: false });
  m.client = ApiClient.fromKubeconfig(m.cp.kubeconfigPath, { userAgent: `etcd-managed-${m.name}` });
}

async function stop(m: Member): Promise<void> {
  m.client?.close();
  await m.cp?.close();
  await m.etcd?.stop();
  m.client = undefined;
  m.cp = undefined;
  m.etcd = undefined;
}

const serverToken = () => readFileSync(join(a.dir, 'server-token'), 'utf8').trim();

function postJoin(server: string, caPem: string, token: string, name = 'intruder'): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ name, peerURL: 'https://127.0.0.1:1', clientURL: 'https://127.0.0.1:2' });
    const req = request(new URL(JOIN_PATH, server), { method: 'POST', ca: caPem, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      let out = '';
      res.on('data', (d: Buffer) => (out += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, message: (JSON.parse(out) as { message: string }).message }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cm = (name: string, v: string) => ({ metadata: { name }, data: { v } });

describe('managed etcd: cluster-init, join, member loss and removal', { skip: etcdBinary() ? false : 'etcd-server is not installed' }, () => {
  before(async () => {
    for (const name of ['a', 'b', 'c']) {
      members.push({ name, dir: mkdtempSync(join(base, `tk-etcd-managed-${name}-`)), clientPort: await freePort(), peerPort: await freePort(), logs: new LogLines() });
    }
    [a, b, c] = members;
    await start(a, { init: true });
    await start(b, { join: { server: a.cp!.url, token: serverToken() } });
    // The third joins through the second: every server can add members.
    await start(c, { join: { server: b.cp!.url, token: serverToken() } });
  });

  after(async () => {
    for (const m of members.reverse()) await stop(m).catch(() => {});
    for (const m of members) rmSync(m.dir, { recursive: true, force: true });
  });

  test('three servers form one etcd cluster and serve the same objects with the same CA and keys', async () => {
    const list = await listMembers(a.dir);
    assert.deepEqual(list.map((m) => [m.name, m.healthy]).sort(), [['a', true], ['b', true], ['c', true]]);
    for (const m of [b, c]) {
      assert.equal(m.cp!.pki.caCertPem, a.cp!.pki.caCertPem);
      assert.equal(m.cp!.pki.serviceAccountKeyPem, a.cp!.pki.serviceAccountKeyPem);
      assert.equal(m.cp!.pki.nodeToken, a.cp!.pki.nodeToken);
    }
    await a.client!.create(Namespaces, undefined, { metadata: { name: NS } });
    await a.client!.create(ConfigMaps, NS, cm('through-a', '1'));
    for (const m of [b, c]) {
      const got = await m.client!.get<{ data: { v: string } }>(ConfigMaps, NS, 'through-a');
      assert.equal(got.data.v, '1');
    }
    // The admin credentials of one server work on every other (the same CA and admin token).
    const viaC = new ApiClient({ server: c.cp!.url, caPem: a.cp!.pki.caCertPem, token: a.cp!.pki.adminToken });
    assert.equal((await viaC.get<{ data: { v: string } }>(ConfigMaps, NS, 'through-a')).data.v, '1');
    viaC.close();
  });

  test('a join without the server token, with a taken name or through a silent server fails clearly and adds no member', async () => {
    const caPem = a.cp!.pki.caCertPem;
    const withNodeToken = await postJoin(a.cp!.url, caPem, a.cp!.pki.nodeToken);
    assert.equal(withNodeToken.code, 403);
    assert.match(withNodeToken.message, /a node token cannot join a server/);
    const forged = serverToken().replace(/::server:.*$/, '::server:0123456789abcdef0123456789abcdef');
    const withForged = await postJoin(a.cp!.url, caPem, forged);
    assert.equal(withForged.code, 401);
    assert.match(withForged.message, /needs the server token/);
    // The right token, but a name taken: refused before any member is added.
    const taken = await postJoin(a.cp!.url, caPem, serverToken(), 'b');
    assert.equal(taken.code, 409);
    assert.match(taken.message, /an etcd member named b already exists: remove it first \(tinykube etcd remove-member b\)/);
    const dir = mkdtempSync(join(base, 'tk-etcd-managed-d-'));
    try {
      await assert.rejects(
        startManagedEtcd({ dataDir: dir, host: '127.0.0.1', clientPort: await freePort(), peerPort: await freePort(), name: 'd', join: { server: a.cp!.url, token: forged }, healthIntervalMs: 0 }),
        (err: unknown) => err instanceof ManagedEtcdError && /refused the join \(401\)/.test(err.message),
      );
      await assert.rejects(
        startManagedEtcd({ dataDir: dir, host: '127.0.0.1', name: 'd', join: { server: a.cp!.url, token: a.cp!.pki.nodeToken }, healthIntervalMs: 0 }),
        (err: unknown) => err instanceof ManagedEtcdError && /not a server token/.test(err.message),
      );
      // A server that does not answer: retried with back-off, then a clear error.
      const logs = new LogLines();
      const silent = `https://127.0.0.1:${await freePort()}`;
      await assert.rejects(
        startManagedEtcd({ dataDir: dir, host: '127.0.0.1', name: 'd', join: { server: silent, token: serverToken() }, joinTimeoutMs: 1500, healthIntervalMs: 0, log: logs.log }),
        (err: unknown) => err instanceof ManagedEtcdError && new RegExp(`cannot join through ${silent}: .*ECONNREFUSED.* \\(gave up after 2 s\\)`).test(err.message),
      );
      assert.match(logs.lines[0], /joining through .*ECONNREFUSED.*; retrying in 1000 ms/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal((await listMembers(a.dir)).length, 3);
  });

  test('a member killed with SIGKILL: writes go on through the others, its server restarts it, nothing acknowledged is lost', async () => {
    const pid = c.etcd!.pid!;
    const exited = c.logs.next(/etcd member c exited unexpectedly \(SIGKILL\)/);
    const back = c.logs.next(/etcd member c is serving again/);
    process.kill(pid, 'SIGKILL');
    await exited;
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const via = i % 2 === 0 ? a : b;
      await via.client!.create(ConfigMaps, NS, cm(`w-${i}`, String(i)));
      acked.push(`w-${i}`);
    }
    await back;
    assert.notEqual(c.etcd!.pid, pid);
    const seen = new Set((await c.client!.list<{ metadata: { name: string } }>(ConfigMaps, NS)).items.map((o) => o.metadata.name));
    for (const name of acked) assert.ok(seen.has(name), `${name} was acknowledged but is missing`);
    // The data dir survived: the member rejoined with its old identity, not as a new member.
    assert.equal((await listMembers(a.dir)).length, 3);
  });

  test('a stopped member is reported unhealthy, then removed; the remaining two keep serving', async () => {
    // The previous test's SIGKILL may have been caught by a's health check: a says "unhealthy" only on
    // a change, so first see c back in a's view (it was restarted).
    const aboutC = a.logs.last(/etcd member c \(.*\) is unhealthy/, /etcd member c is healthy again/);
    if (aboutC && /is unhealthy/.test(aboutC)) await a.logs.next(/etcd member c is healthy again/);
    const unhealthy = a.logs.next(/etcd member c \(https:\/\/127\.0\.0\.1:\d+\) is unhealthy: [^;]+; 2 of 3 members healthy/);
    await stop(c);
    await unhealthy;
    const removed = await removeMember(a.dir, 'c');
    assert.equal(removed.name, 'c');
    assert.deepEqual((await listMembers(b.dir)).map((m) => m.name).sort(), ['a', 'b']);
    await assert.rejects(removeMember(a.dir, 'c'), /no etcd member named "c"; members: (a, b|b, a)/);
    await b.client!.create(ConfigMaps, NS, cm('after-removal', 'x'));
    assert.equal((await a.client!.get<{ data: { v: string } }>(ConfigMaps, NS, 'after-removal')).data.v, 'x');
  });

  test('a server restarted on its data dir restarts its member without adding it again', async () => {
    await stop(b);
    const restarted = b.logs.next(/etcd member b: restarting the existing member/);
    // No join flags: the member dir decides.
    await start(b, {});
    await restarted;
    assert.deepEqual((await listMembers(a.dir)).map((m) => [m.name, m.healthy]).sort(), [['a', true], ['b', true]]);
    assert.equal((await b.client!.get<{ data: { v: string } }>(ConfigMaps, NS, 'w-19')).data.v, '19');
  });

  test('a running member removed from the cluster is not restarted, and its data are kept', async () => {
    const removedLine = b.logs.next(/etcd member b was removed from the cluster and exited .*; not restarting it/);
    await removeMember(a.dir, 'b');
    await removedLine;
    assert.equal(b.etcd!.pid, undefined);
    assert.ok(existsSync(join(b.dir, 'etcd', 'data', 'member')));
    assert.deepEqual((await listMembers(a.dir)).map((m) => m.name), ['a']);
    await a.client!.create(ConfigMaps, NS, cm('alone', 'a'));
  });
});
