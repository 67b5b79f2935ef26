// The managed etcd of `tinykube server --cluster-init` (k3s' embedded etcd): each server runs one
// etcd member under <data-dir>/etcd and stores the cluster in it; further servers join with
// `--server https://OTHER:6443 --token-file F`, where F holds the server token written at cluster-init.
//
// Join (k3s' server bootstrap): the joiner pins the cluster CA by the hash in the token (as agents
// do), then POSTs its member name and URLs to /v1-tinykube/etcd/join on the existing server with
// the server token as bearer. That server adds the member (etcd MemberAdd) and answers with the
// initial cluster and the shared secrets every server needs to serve the same cluster: the cluster
// CA (its key too: every server issues node and component certificates), the service-account key
// (tokens signed by one server are valid on all), the node, admin and server tokens, and the etcd
// CA. The joiner writes those into its data dir, issues its own certificates, and starts its member
// with initial-cluster-state existing. A server whose data dir already holds a member just starts
// it again (no second MemberAdd).
//
// Trust: etcd gets a CA of its own (<data-dir>/etcd/pki), with client and peer certificate
// authentication on, so no certificate the cluster CA signs (every node has one) opens the store. The
// join needs the server token: a node token is refused with 403, anything else with 401.
//
// Removal is `tinykube etcd remove-member NAME`, run on any server (etcd's own `member remove`):
// the member to remove is most often on a machine that is gone, where nothing can run `--leave`.
//
// Called by: src/cli/server.ts (startManagedEtcd once per server process), src/cli/etcd.ts (member
// list and removal), tests in-process.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { Etcd3, type IMember } from 'etcd3';
import { caHash, createCertificateAuthority, issueFromCa, ensurePki, type IssuedCert } from '../apiserver/auth/pki.ts';
import { fetchPinnedCa, caHashFromToken } from '../client/bootstrap.ts';
import type { Backend } from '../storage/backend.ts';
import { openEtcdBackend, passThrough } from '../storage/etcd/etcd-backend.ts';
import { EtcdMemberProcess } from '../storage/etcd/member.ts';
import { managedEtcdPaths as paths } from './etcd-paths.ts';

export const ETCD_BINARY = '/usr/bin/etcd';
export const JOIN_PATH = '/v1-tinykube/etcd/join';
const MEMBER_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;
/** k3s' (and etcd's) default client and peer ports. */
export const DEFAULT_ETCD_CLIENT_PORT = 2379;
export const DEFAULT_ETCD_PEER_PORT = 2380;

/** A managed-etcd failure with a message for the user (bad token, refused join, unknown member). */
export class ManagedEtcdError extends Error {
  readonly code = 'ERR_MANAGED_ETCD';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ManagedEtcdError';
  }
}

export interface ManagedEtcdOptions {
  dataDir: string;
  /** The address the member's client and peer URLs name (the server's advertise address). */
  host: string;
  clientPort?: number;
  peerPort?: number;
  /** Member name (default: the host name and a random suffix, kept across restarts). */
  name?: string;
  /** Start a new cluster (`--cluster-init`) when the data dir holds no member yet. */
  init?: boolean;
  /** Join through this server with the server token when the data dir holds no member yet. */
  join?: { server: string; token: string };
  /** How long a join retries an unanswering or busy server (default 2 minutes). */
  joinTimeoutMs?: number;
  /** Time between member health checks (default 10 s); 0 turns them off. */
  healthIntervalMs?: number;
  log?: (line: string) => void;
  binary?: string;
  restartInitialMs?: number;
}

export interface MemberStatus {
  id: string;
  /** '' for a member added but never started. */
  name: string;
  peerURL: string;
  clientURL: string;
  healthy: boolean;
  /** Why it is not healthy. */
  reason?: string;
}

export interface ManagedEtcd {
  name: string;
  clientURL: string;
  peerURL: string;
  /** The store on this member, for the control plane (which closes it). */
  backend: Backend;
  /** The join endpoint, for ControlPlaneOptions.extraRoutes. */
  routes: (req: IncomingMessage, res: ServerResponse) => boolean;
  serverTokenPath: string;
  /** PID of the member's etcd, undefined while it is down. */
  readonly pid: number | undefined;
  members(): Promise<MemberStatus[]>;
  /** Stops the health checks and the member (SIGTERM by PID); its data stay. */
  stop(): Promise<void>;
}

/** What a member needs to start again: written before the first start, read on every restart. */
interface MemberConfig {
  name: string;
  clientURL: string;
  peerURL: string;
  initialCluster: string;
  state: 'new' | 'existing';
  clusterToken: string;
}

/** The files every server of one cluster shares, relative to the data dir; the join sends exactly these. */
const SHARED_FILES = ['pki/ca.crt', 'pki/ca.key', 'pki/service-account.key', 'node-token', 'admin-token', 'server-token', 'etcd/pki/ca.crt', 'etcd/pki/ca.key'] as const;
const PUBLIC_FILES = new Set<string>(['pki/ca.crt', 'etcd/pki/ca.crt']);

interface JoinRequest {
  name: string;
  peerURL: string;
  clientURL: string;
}

interface JoinResponse {
  initialCluster: string;
  files: Record<string, string>;
}

const urlHost = (host: string) => (isIPv6(host) ? `[${host}]` : host);

export async function startManagedEtcd(o: ManagedEtcdOptions): Promise<ManagedEtcd> {
  const p = paths(o.dataDir);
  const log = o.log ?? ((line: string) => console.error(`tinykube: ${line}`));
  await mkdir(p.pki, { recursive: true, mode: 0o700 });
  let config = await readConfig(p.config);
  if (existsSync(p.member)) {
    if (!config) throw new ManagedEtcdError(`${p.member} holds etcd data but ${p.config} is missing: cannot tell this member's name and URLs`);
    log(`etcd member ${config.name}: restarting the existing member (data in ${p.data})`);
  } else {
    const clientURL = `https://${urlHost(o.host)}:${o.clientPort ?? DEFAULT_ETCD_CLIENT_PORT}`;
    const peerURL = `https://${urlHost(o.host)}:${o.peerPort ?? DEFAULT_ETCD_PEER_PORT}`;
    const name = o.name ?? config?.name ?? `${hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 54) || 'server'}-${randomBytes(4).toString('hex')}`;
    if (!MEMBER_NAME.test(name)) throw new ManagedEtcdError(`etcd member name ${JSON.stringify(name)}: lowercase letters, digits, '.' and '-', starting with a letter or digit, at most 63`);
    if (o.join) {
      const answer = await requestJoin(o.join.server, o.join.token, { name, peerURL, clientURL }, o.joinTimeoutMs ?? 120_000, log);
      for (const f of SHARED_FILES) {
        const content = answer.files[f];
        if (typeof content !== 'string') throw new ManagedEtcdError(`${o.join.server} answered the join without ${f}`);
        await writeFileAtomic(path.join(o.dataDir, f), content, PUBLIC_FILES.has(f) ? 0o644 : 0o600);
      }
      config = { name, clientURL, peerURL, initialCluster: answer.initialCluster, state: 'existing', clusterToken: '' };
    } else if (o.init) {
      // The cluster CA first: the server token names its hash.
      const pki = await ensurePki(o.dataDir, { createCa: true });
      if (!existsSync(p.serverToken)) await writeFileAtomic(p.serverToken, `K10${caHash(pki.caCertPem)}::server:${randomBytes(16).toString('hex')}\n`, 0o600);
      if (!existsSync(p.caCert) || !existsSync(p.caKey)) {
        const ca = await createCertificateAuthority(`tinykube-etcd-ca@${Math.floor(Date.now() / 1000)}`);
        await writeFileAtomic(p.caKey, ca.keyPem, 0o600);
        await writeFileAtomic(p.caCert, ca.certPem, 0o644);
      }
      config = { name, clientURL, peerURL, initialCluster: `${name}=${peerURL}`, state: 'new', clusterToken: `tinykube-${randomBytes(8).toString('hex')}` };
    } else {
      throw new ManagedEtcdError(`${o.dataDir} holds no etcd member: start the first server with --cluster-init, the others with --server URL --token-file F`);
    }
    await writeFileAtomic(p.config, JSON.stringify(config, null, 2) + '\n', 0o600);
  }
  const cfg = config;
  const ca: IssuedCert = { certPem: await readFile(p.caCert, 'utf8'), keyPem: await readFile(p.caKey, 'utf8') };
  // Issued on every start: a changed address is picked up, and a running year never expires them.
  const memberHosts = [new URL(cfg.clientURL).hostname.replace(/^\[(.*)\]$/, '$1'), new URL(cfg.peerURL).hostname.replace(/^\[(.*)\]$/, '$1'), '127.0.0.1', 'localhost'];
  const member = await issueFromCa(ca, { cn: cfg.name, hosts: memberHosts, usage: 'peer' });
  const client = await issueFromCa(ca, { cn: 'tinykube-apiserver-etcd-client', usage: 'client' });
  await writeFileAtomic(p.memberKey, member.keyPem, 0o600);
  await writeFileAtomic(p.memberCert, member.certPem, 0o644);
  await writeFileAtomic(p.clientKey, client.keyPem, 0o600);
  await writeFileAtomic(p.clientCert, client.certPem, 0o644);

  const proc = new EtcdMemberProcess({
    binary: o.binary ?? ETCD_BINARY,
    args: etcdArgs(cfg, p),
    name: cfg.name,
    dataDir: p.data,
    logFile: p.log,
    log,
    restartInitialMs: o.restartInitialMs,
  });
  await proc.start();
  log(`etcd member ${cfg.name} serving ${cfg.clientURL} (peers ${cfg.peerURL}; its log: ${p.log})`);

  const credentials = { rootCertificate: Buffer.from(ca.certPem), certChain: Buffer.from(client.certPem), privateKey: Buffer.from(client.keyPem) };
  let backend: Backend;
  try {
    backend = await openEtcdBackend([cfg.clientURL], { credentials });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const tls = { ca: ca.certPem, cert: client.certPem, key: client.keyPem };
  const cluster = membershipClient(cfg.clientURL, credentials);
  const members = () => memberStatuses(cluster, tls);
  const health = o.healthIntervalMs === 0 ? undefined : startHealthLog(members, o.healthIntervalMs ?? 10_000, log);
  return {
    name: cfg.name,
    clientURL: cfg.clientURL,
    peerURL: cfg.peerURL,
    backend,
    routes: joinRoute({ dataDir: o.dataDir, cluster, log }),
    serverTokenPath: p.serverToken,
    get pid() {
      return proc.pid;
    },
    members,
    async stop() {
      health?.stop();
      cluster.close();
      await proc.stop();
    },
  };
}

function etcdArgs(c: MemberConfig, p: ReturnType<typeof paths>): string[] {
  const args = [
    '--name', c.name,
    '--data-dir', p.data,
    '--listen-client-urls', c.clientURL,
    '--advertise-client-urls', c.clientURL,
    '--listen-peer-urls', c.peerURL,
    '--initial-advertise-peer-urls', c.peerURL,
    '--initial-cluster', c.initialCluster,
    '--initial-cluster-state', c.state,
    '--cert-file', p.memberCert,
    '--key-file', p.memberKey,
    '--trusted-ca-file', p.caCert,
    '--client-cert-auth',
    '--peer-cert-file', p.memberCert,
    '--peer-key-file', p.memberKey,
    '--peer-trusted-ca-file', p.caCert,
    '--peer-client-cert-auth',
  ];
  if (c.clusterToken) args.push('--initial-cluster-token', c.clusterToken);
  return args;
}

// --- membership -------------------------------------------------------------------------------------

async function memberStatuses(cluster: Etcd3, tls: { ca: string; cert: string; key: string }): Promise<MemberStatus[]> {
  const { members } = await cluster.cluster.memberList({});
  return Promise.all(
    (members ?? []).map(async (m: IMember) => {
      const clientURL = m.clientURLs?.[0] ?? '';
      const base = { id: String(m.ID), name: m.name, peerURL: m.peerURLs?.[0] ?? '', clientURL };
      if (!clientURL) return { ...base, healthy: false, reason: 'added but never started' };
      const reason = await probeHealth(clientURL, tls);
      return reason === undefined ? { ...base, healthy: true } : { ...base, healthy: false, reason };
    }),
  );
}

/** etcd's /health of one member; undefined when healthy, else why not. */
function probeHealth(clientURL: string, tls: { ca: string; cert: string; key: string }): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = https.get(`${clientURL}/health`, { ...tls, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          const h = JSON.parse(body) as { health?: string; reason?: string };
          resolve(h.health === 'true' ? undefined : `unhealthy${h.reason ? ` (${h.reason})` : ''}`);
        } catch {
          resolve(`answered ${res.statusCode}: ${body.slice(0, 200)}`);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Logs each member that turns unhealthy (and again when it recovers), never the same state twice. */
function startHealthLog(members: () => Promise<MemberStatus[]>, intervalMs: number, log: (line: string) => void): { stop(): void } {
  const last = new Map<string, boolean>();
  let running = false;
  // A member list that keeps failing (this server's member is down) is said once per reason.
  let lastError = '';
  const check = async () => {
    if (running) return;
    running = true;
    try {
      const list = await members();
      for (const m of list) {
        const label = m.name || `(unstarted ${m.peerURL})`;
        if (!m.healthy && last.get(m.id) !== false) log(`etcd member ${label} (${m.clientURL || m.peerURL}) is unhealthy: ${m.reason}; ${list.filter((x) => x.healthy).length} of ${list.length} members healthy`);
        if (m.healthy && last.get(m.id) === false) log(`etcd member ${label} is healthy again`);
        last.set(m.id, m.healthy);
      }
      for (const id of [...last.keys()]) if (!list.some((m) => m.id === id)) last.delete(id);
      lastError = '';
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== lastError) log(`etcd member list failed (members' health unknown until it answers): ${msg}`);
      lastError = msg;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  return { stop: () => clearInterval(timer) };
}

/** A client of the local member with the data dir's etcd client certificate, for the `tinykube etcd` commands. */
async function localCluster(dataDir: string): Promise<{ cluster: Etcd3; tls: { ca: string; cert: string; key: string } }> {
  const p = paths(dataDir);
  const cfg = await readConfig(p.config);
  if (!cfg) throw new ManagedEtcdError(`${dataDir} is not the data dir of a server with a managed etcd member (no ${p.config})`);
  const tls = { ca: await readFile(p.caCert, 'utf8'), cert: await readFile(p.clientCert, 'utf8'), key: await readFile(p.clientKey, 'utf8') };
  const cluster = membershipClient(cfg.clientURL, { rootCertificate: Buffer.from(tls.ca), certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) });
  return { cluster, tls };
}

/**
 * A client of one member for membership calls. Without etcd3's default circuit breaker: the
 * refusals reconfigure() retries would open it and turn the retries into instant failures.
 */
function membershipClient(clientURL: string, credentials: { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer }): Etcd3 {
  return new Etcd3({ hosts: [clientURL], credentials, faultHandling: { host: () => passThrough }, defaultCallOptions: () => ({ deadline: Date.now() + 10_000 }) });
}

/** The members and their health, through the member of the server owning `dataDir`. */
export async function listMembers(dataDir: string): Promise<MemberStatus[]> {
  const { cluster, tls } = await localCluster(dataDir);
  try {
    return await memberStatuses(cluster, tls);
  } finally {
    cluster.close();
  }
}

/** etcd MemberRemove of the member named `name` (or with that hex ID), through the server owning `dataDir`. */
export async function removeMember(dataDir: string, name: string): Promise<MemberStatus> {
  const { cluster, tls } = await localCluster(dataDir);
  try {
    const list = await memberStatuses(cluster, tls);
    const target = list.find((m) => m.name === name || BigInt(m.id).toString(16) === name.toLowerCase());
    if (!target) throw new ManagedEtcdError(`no etcd member named ${JSON.stringify(name)}; members: ${list.map((m) => m.name || `(unstarted ${BigInt(m.id).toString(16)})`).join(', ')}`);
    const outcome = await reconfigure(() => cluster.cluster.memberRemove({ ID: target.id }));
    if (typeof outcome === 'string') throw new ManagedEtcdError(`etcd refused to remove member ${name}: ${outcome}`);
    return target;
  } finally {
    cluster.close();
  }
}

// --- the join, server side ------------------------------------------------------------------------


function joinRoute(ctx: { dataDir: string; cluster: Etcd3; log: (line: string) => void }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if ((req.url ?? '').split('?')[0] !== JOIN_PATH) return false;
    void handleJoin(ctx, req, res).catch((err: unknown) => {
      ctx.log(`etcd join failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendStatus(res, 500, 'InternalError', `joining failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    return true;
  };
}

async function handleJoin(ctx: { dataDir: string; cluster: Etcd3; log: (line: string) => void }, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return sendStatus(res, 405, 'MethodNotAllowed', `${JOIN_PATH} takes POST`);
  const p = paths(ctx.dataDir);
  const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
  const serverToken = (await readFile(p.serverToken, 'utf8')).trim();
  if (!sameSecret(auth, serverToken)) {
    const nodeToken = (await readFile(path.join(ctx.dataDir, 'node-token'), 'utf8').catch(() => '')).trim();
    if (auth && nodeToken && sameSecret(auth, nodeToken)) {
      return sendStatus(res, 403, 'Forbidden', 'a node token cannot join a server to the cluster: use the server token (<data-dir>/server-token of a server)');
    }
    return sendStatus(res, 401, 'Unauthorized', 'joining a server needs the server token (<data-dir>/server-token of a server)');
  }
  const body = await readBody(req, 64 * 1024);
  let join: JoinRequest;
  try {
    join = JSON.parse(body) as JoinRequest;
  } catch {
    return sendStatus(res, 400, 'BadRequest', 'the join request is not JSON');
  }
  if (typeof join.name !== 'string' || !MEMBER_NAME.test(join.name)) return sendStatus(res, 400, 'BadRequest', `member name ${JSON.stringify(join.name)}: lowercase letters, digits, '.' and '-', starting with a letter or digit, at most 63`);
  for (const u of [join.peerURL, join.clientURL]) {
    if (typeof u !== 'string' || !/^https:\/\/[^/]+:\d+$/.test(u)) return sendStatus(res, 400, 'BadRequest', `member URL ${JSON.stringify(u)}: must be https://HOST:PORT`);
  }
  const { members } = await ctx.cluster.cluster.memberList({});
  const list = members ?? [];
  const samePeer = list.find((m) => m.peerURLs?.includes(join.peerURL));
  const sameName = list.find((m) => m.name === join.name);
  if (sameName && sameName !== samePeer) {
    return sendStatus(res, 409, 'AlreadyExists', `an etcd member named ${join.name} already exists: remove it first (tinykube etcd remove-member ${join.name}) or pick another name`);
  }
  if (samePeer && samePeer.name && samePeer.name !== join.name) {
    return sendStatus(res, 409, 'AlreadyExists', `etcd member ${samePeer.name} already uses peer URL ${join.peerURL}`);
  }
  let newId: string;
  if (samePeer) {
    // A joiner retrying after its member failed to start: the member is already added.
    newId = String(samePeer.ID);
  } else {
    const added = await reconfigure(() => ctx.cluster.cluster.memberAdd({ peerURLs: [join.peerURL] }));
    if (typeof added === 'string') return sendStatus(res, 503, 'ServiceUnavailable', `etcd refused to add the member: ${added}`);
    newId = String(added.member.ID);
    ctx.log(`etcd member ${join.name} (${join.peerURL}) added to the cluster`);
  }
  const now = (await ctx.cluster.cluster.memberList({})).members ?? [];
  const initialCluster = now
    .flatMap((m) => (m.peerURLs ?? []).map((u) => `${String(m.ID) === newId ? join.name : m.name || `unstarted-${BigInt(m.ID).toString(16)}`}=${u}`))
    .join(',');
  const files: Record<string, string> = {};
  for (const f of SHARED_FILES) files[f] = await readFile(path.join(ctx.dataDir, f), 'utf8');
  const answer: JoinResponse = { initialCluster, files };
  const out = JSON.stringify(answer);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out), 'Cache-Control': 'no-store' });
  res.end(out);
}

/**
 * A membership change, retried while etcd refuses it for the time being: it changes the voters only
 * when every member has been connected for 5 s and enough are started (its strict reconfiguration
 * check), so a third server joining right after the second, or a removal right after a member
 * restarted, waits a few seconds. Returns the answer, or etcd's reason for refusing.
 */
async function reconfigure<T>(change: () => Promise<T>): Promise<T | string> {
  const deadline = Date.now() + 20_000;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await change();
    } catch (err) {
      const msg = (err as Error).message;
      const transient = /unhealthy cluster|not enough started members|too many learner|timed out|leader changed/i.test(msg);
      if (!transient || Date.now() + delay > deadline) return msg;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return b !== '' && timingSafeEqual(h(a), h(b));
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new ManagedEtcdError('join request too large'));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// --- the join, joiner side ------------------------------------------------------------------------

/** Asks `server` to add this member; retries an unanswering or busy server with back-off until `timeoutMs`. */
async function requestJoin(server: string, token: string, join: JoinRequest, timeoutMs: number, log: (line: string) => void): Promise<JoinResponse> {
  const hash = caHashFromToken(token);
  if (!hash || !/::server:/.test(token)) {
    throw new ManagedEtcdError('the join token is not a server token (K10<ca hash>::server:<secret>, from <data-dir>/server-token of a server started with --cluster-init)');
  }
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
    let outcome: { code: number; body: string } | Error;
    try {
      const caPem = await fetchPinnedCa(server, hash);
      outcome = await post(new URL(JOIN_PATH, server), caPem, token, JSON.stringify(join));
    } catch (err) {
      outcome = err as Error;
    }
    if (!(outcome instanceof Error) && outcome.code === 200) return JSON.parse(outcome.body) as JoinResponse;
    const why = outcome instanceof Error ? outcome.message : statusMessage(outcome);
    // Refusals that a retry cannot change end the join at once.
    if (!(outcome instanceof Error) && outcome.code !== 503 && outcome.code < 500) {
      throw new ManagedEtcdError(`${server} refused the join (${outcome.code}): ${why}`);
    }
    if (outcome instanceof Error && outcome.name === 'CaPinError') throw new ManagedEtcdError(`cannot join through ${server}: ${why}`);
    if (Date.now() + delay > deadline) throw new ManagedEtcdError(`cannot join through ${server}: ${why} (gave up after ${Math.round(timeoutMs / 1000)} s)`);
    log(`joining through ${server}: ${why}; retrying in ${delay} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

function statusMessage(r: { code: number; body: string }): string {
  try {
    return (JSON.parse(r.body) as { message?: string }).message ?? r.body;
  } catch {
    return r.body.slice(0, 300) || `HTTP ${r.code}`;
  }
}

function post(url: URL, caPem: string, token: string, body: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca: caPem, timeout: 60_000, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let out = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (out += c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: out }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

// --- files ----------------------------------------------------------------------------------------

async function readConfig(file: string): Promise<MemberConfig | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as MemberConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ManagedEtcdError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
}
