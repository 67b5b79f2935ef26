// The cluster's PKI and shared secrets, kept in the server's data dir.
//
// Called by: `tinykube up` / `tinykube server` once at start (ensurePki), before the HTTPS listener is
// built; by the server later (issueClientCert / issueServingCert) when a node agent or an in-process
// component needs an identity. Not meant to be called concurrently for one data dir (the server owns it);
// idempotent: a second call re-uses what is on disk and only regenerates what is missing, expiring, not
// signed by the current CA, not matching its key, or (for the serving cert) lacking a requested name.
// The running server calls it again on its renewal timer (src/apiserver/auth/rotation.ts) and
// `tinykube certs rotate` with `renew`: both take the PKI lock, so neither reads a certificate whose
// key is being replaced.
//
// Layout (k3s-like):
//   <dataDir>/pki/ca.crt ca.key           cluster CA, ECDSA P-256, 10 years
//   <dataDir>/pki/server.crt server.key   API server serving cert (SANs below), 1 year
//   <dataDir>/pki/admin.crt admin.key     client cert CN=admin O=system:masters, 1 year
//   <dataDir>/pki/apiserver-kubelet-client.crt .key
//                                         the API server's client cert toward node agents
//                                         (CN=kube-apiserver-kubelet-client, kubeadm's name), 1 year
//   <dataDir>/pki/service-account.key     RSA 2048 key signing service-account tokens (RS256, as
//                                         kube-apiserver's --service-account-signing-key-file)
//   <dataDir>/admin-token                 bearer token of the admin user
//   <dataDir>/node-token                  join token for agents: K10<sha256(CA DER)>::node:<secret>
// Keys and tokens are written 0600, the directories 0700.
//
// The node token carries the CA's hash (as k3s does) so an agent that only knows the server URL and the
// token can fetch the CA over an unverified connection and then pin it (see src/client/bootstrap.ts).

import '../../util/reflect-shim.ts';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeX509, createHash, createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { webcrypto } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import { kubernetesServiceIP } from '../../api/network.ts';

x509.cryptoProvider.set(globalThis.crypto);

export interface PkiPaths {
  dataDir: string;
  pkiDir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  agentClientCert: string;
  agentClientKey: string;
  adminToken: string;
  nodeToken: string;
  serviceAccountKey: string;
}

export interface Pki {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  /** The API server's client certificate toward node agents (logs, exec, attach, port-forward). */
  agentClientCertPem: string;
  agentClientKeyPem: string;
  adminToken: string;
  nodeToken: string;
  /** PKCS#8 PEM of the key service-account tokens are signed with. */
  serviceAccountKeyPem: string;
  /** Every DNS name and IP in the serving certificate. */
  serverHosts: string[];
  paths: PkiPaths;
}

export interface EnsurePkiOptions {
  /** Extra names/IPs for the serving cert (node IPs, public names). Defaults are always included. */
  hosts?: string[];
  /** Epoch ms; injected so expiry-driven renewal can be tested. */
  now?: () => number;
  /** Leaf certificates to re-issue even if they are still good (`tinykube certs rotate`). */
  renew?: readonly LeafName[];
  /**
   * false: a missing CA is an error instead of a new cluster (renewal of a running server, `certs
   * rotate`): a new CA would cut off every node that pinned the old one.
   */
  createCa?: boolean;
}

/** The leaf certificates the server keeps and renews: the API server's serving cert, the admin's, and the API server's toward agents. */
export const LEAF_NAMES = ['serving', 'admin', 'agent-client'] as const;
export type LeafName = (typeof LEAF_NAMES)[number];

/** The CN of the client certificate the API server holds toward agents (kubeadm's apiserver-kubelet-client). */
export const AGENT_CLIENT_CN = 'kube-apiserver-kubelet-client';

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export class PkiError extends Error {
  readonly code = 'ERR_PKI';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiError';
  }
}

const DAY = 24 * 60 * 60 * 1000;
const CA_LIFETIME = 3650 * DAY;
const LEAF_LIFETIME = 365 * DAY;
/** Leaf certs are renewed (at start and while running) when less than this is left, as k3s does (90 days). */
export const RENEW_BEFORE_MS = 90 * DAY;
/** A CA with less than this left is reported loudly: replacing it means re-joining every node. */
export const CA_WARN_BEFORE_MS = 365 * DAY;
// Backdate notBefore so nodes with slightly slow clocks accept fresh certs.
const BACKDATE = 60 * 60 * 1000;

const generateRsaKeyPair = promisify(generateKeyPair);

const KEY_ALG: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN_ALG: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/**
 * The names the API server's serving certificate gives beyond the defaults: the listen host (unless a
 * wildcard), the kubernetes Service's address in the cluster's Service range, and the advertise address
 * nodes and pods dial. Shared by the control plane and `up --nodes`, which makes the PKI before it.
 */
export function apiServingHosts(listenHost: string, serviceCidr: string | undefined, advertiseAddress?: string | false): string[] {
  const serviceIP = kubernetesServiceIP(serviceCidr);
  const hosts = listenHost === '0.0.0.0' || listenHost === '::' ? [serviceIP] : [listenHost, serviceIP];
  if (typeof advertiseAddress === 'string') hosts.push(advertiseAddress);
  return hosts;
}

/**
 * Names every serving cert carries besides the caller's: loopback, this host's name and interface
 * addresses (so agents on other machines can dial any of them, as k3s' node IP SANs allow), and the
 * in-cluster names of the `kubernetes` service.
 */
export function defaultServerHosts(): string[] {
  return [
    '127.0.0.1',
    '::1',
    'localhost',
    hostname(),
    ...interfaceAddresses(),
    // The kubernetes Service's ClusterIP (default Service CIDR), which in-cluster clients dial.
    kubernetesServiceIP(),
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
}

// IPv6 link-local addresses are left out: they are only reachable with a zone id, which no URL a
// client would use carries.
function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal || (a.family === 'IPv6' && /^fe80:/i.test(a.address))) continue;
      out.push(a.address);
    }
  }
  return out;
}

export function pkiPaths(dataDir: string): PkiPaths {
  const pkiDir = path.join(dataDir, 'pki');
  return {
    dataDir,
    pkiDir,
    caCert: path.join(pkiDir, 'ca.crt'),
    caKey: path.join(pkiDir, 'ca.key'),
    serverCert: path.join(pkiDir, 'server.crt'),
    serverKey: path.join(pkiDir, 'server.key'),
    adminCert: path.join(pkiDir, 'admin.crt'),
    adminKey: path.join(pkiDir, 'admin.key'),
    agentClientCert: path.join(pkiDir, 'apiserver-kubelet-client.crt'),
    agentClientKey: path.join(pkiDir, 'apiserver-kubelet-client.key'),
    adminToken: path.join(dataDir, 'admin-token'),
    nodeToken: path.join(dataDir, 'node-token'),
    serviceAccountKey: path.join(pkiDir, 'service-account.key'),
  };
}

export async function ensurePki(dataDir: string, options: EnsurePkiOptions = {}): Promise<Pki> {
  const paths = pkiPaths(dataDir);
  await mkdir(paths.pkiDir, { recursive: true, mode: 0o700 });
  return withPkiLock(paths.pkiDir, () => ensureLocked(paths, options));
}

async function ensureLocked(paths: PkiPaths, options: EnsurePkiOptions): Promise<Pki> {
  const now = options.now ?? Date.now;
  const renew = new Set(options.renew ?? []);

  let caCertPem = await readOptional(paths.caCert);
  let caKeyPem = await readOptional(paths.caKey);
  let caIsNew = false;
  if (caCertPem === undefined || caKeyPem === undefined) {
    if (options.createCa === false) throw new PkiError(`no cluster CA in ${paths.pkiDir} (ca.crt and ca.key): is this a tinykube server's data dir?`);
    const ca = await createCa(now());
    caCertPem = ca.certPem;
    caKeyPem = ca.keyPem;
    caIsNew = true;
    await writeSecret(paths.caKey, caKeyPem);
    await writePublic(paths.caCert, caCertPem);
  }
  const ca = await loadCa(caCertPem, caKeyPem);
  // Never rotated by itself: every token it signed would stop working (kube-apiserver keeps its
  // signing key until the administrator replaces it). A new RSA key takes 10-100 ms to find: on
  // libuv's thread pool, while the certificates below are made on this thread.
  const serviceAccountKey = readOptional(paths.serviceAccountKey).then(async (pem) => {
    if (pem) return pem;
    const { privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
    const made = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeSecret(paths.serviceAccountKey, made);
    return made;
  });
  // Awaited below; a failure before then is not left unhandled.
  serviceAccountKey.catch(() => undefined);

  const serverHosts = normalizeHosts([...defaultServerHosts(), ...(options.hosts ?? [])]);
  const leaf = async (name: LeafName, certFile: string, keyFile: string, spec: LeafSpec, extraCheck: (pem: string) => boolean = () => true): Promise<IssuedCert> => {
    const certPem = caIsNew || renew.has(name) ? undefined : await readOptional(certFile);
    const keyPem = caIsNew || renew.has(name) ? undefined : await readOptional(keyFile);
    if (certPem !== undefined && keyPem !== undefined && leafIsUsable(certPem, keyPem, ca.node, now()) && extraCheck(certPem)) return { certPem, keyPem };
    const issued = await issueWith(ca, spec, now());
    await writeSecret(keyFile, issued.keyPem);
    await writePublic(certFile, issued.certPem);
    return issued;
  };
  const serving = await leaf('serving', paths.serverCert, paths.serverKey, { cn: 'kube-apiserver', orgs: [], hosts: serverHosts, usage: 'server' }, (pem) => coversHosts(pem, serverHosts));
  const admin = await leaf('admin', paths.adminCert, paths.adminKey, { cn: 'admin', orgs: ['system:masters'], hosts: [], usage: 'client' });
  const agentClient = await leaf('agent-client', paths.agentClientCert, paths.agentClientKey, { cn: AGENT_CLIENT_CN, orgs: ['system:masters'], hosts: [], usage: 'client' });

  let adminToken = (await readOptional(paths.adminToken))?.trim();
  if (!adminToken) {
    adminToken = randomBytes(32).toString('hex');
    await writeSecret(paths.adminToken, adminToken + '\n');
  }

  const hash = caHash(caCertPem);
  let nodeToken = (await readOptional(paths.nodeToken))?.trim();
  // A node token minted for a previous CA would make agents pin the wrong CA: re-mint it.
  if (!nodeToken || parseNodeTokenHash(nodeToken) !== hash) {
    nodeToken = `K10${hash}::node:${randomBytes(16).toString('hex')}`;
    await writeSecret(paths.nodeToken, nodeToken + '\n');
  }

  const serviceAccountKeyPem = await serviceAccountKey;

  return {
    caCertPem,
    caKeyPem,
    serverCertPem: serving.certPem,
    serverKeyPem: serving.keyPem,
    adminCertPem: admin.certPem,
    adminKeyPem: admin.keyPem,
    agentClientCertPem: agentClient.certPem,
    agentClientKeyPem: agentClient.keyPem,
    adminToken,
    nodeToken,
    serviceAccountKeyPem,
    serverHosts,
    paths,
  };
}

/** The PEM of one leaf certificate of a Pki. */
export function leafCertPem(pki: Pki, name: LeafName): string {
  return name === 'serving' ? pki.serverCertPem : name === 'admin' ? pki.adminCertPem : pki.agentClientCertPem;
}

/** What a certificate says about itself, for `tinykube certs check` and the start-up warnings. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** DNS names and IP addresses (serving certificates). */
  sans: string[];
  notBefore: number;
  notAfter: number;
  isCa: boolean;
  serialNumber: string;
}

export function certificateFacts(pem: string): CertificateFacts {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    sans: san ? san.names.items.map((n) => n.value) : [],
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    isCa: cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
    serialNumber: cert.serialNumber,
  };
}

/** True when a leaf certificate has less than RENEW_BEFORE_MS left at `now`. */
export function needsRenewal(certPem: string, now: number): boolean {
  return new NodeX509(certPem).validToDate.getTime() - now <= RENEW_BEFORE_MS;
}

/**
 * The loud words for a CA with less than a year left (or none), else undefined. The CA is never
 * replaced automatically: every node pinned it (the node token carries its hash), so a new CA means
 * a new node token and every agent re-joined.
 */
export function caExpiryWarning(caCertPem: string, now: number): string | undefined {
  const notAfter = new NodeX509(caCertPem).validToDate.getTime();
  const left = notAfter - now;
  if (left > CA_WARN_BEFORE_MS) return undefined;
  const when = new Date(notAfter).toISOString();
  const head = left <= 0 ? `the cluster CA EXPIRED on ${when}` : `the cluster CA expires on ${when} (in ${Math.floor(left / DAY)} days)`;
  return `${head}: no certificate it signs will be accepted after that. Replacing the CA is not automatic: it needs a new CA (move ca.crt and ca.key away and restart the server), then every node re-joined with the new node token, and every kubeconfig re-distributed.`;
}

/**
 * Issues a client certificate signed by the cluster CA: CN becomes the user name, each O a group
 * (Kubernetes' x509 authenticator convention). For node agents: cn `system:node:<name>`, orgs
 * `['system:nodes']`. Nothing is written to disk.
 */
export async function issueClientCert(pki: Pki, cn: string, orgs: string[] = [], options: { now?: number } = {}): Promise<IssuedCert> {
  const ca = await loadCa(pki.caCertPem, pki.caKeyPem);
  return issueWith(ca, { cn, orgs, hosts: [], usage: 'client' }, options.now ?? Date.now());
}

/** Issues a serving certificate (e.g. for a node agent's streaming/log server the API server proxies to). */
export async function issueServingCert(pki: Pki, cn: string, hosts: string[], options: { now?: number } = {}): Promise<IssuedCert> {
  const ca = await loadCa(pki.caCertPem, pki.caKeyPem);
  return issueWith(ca, { cn, orgs: [], hosts: normalizeHosts(hosts), usage: 'server' }, options.now ?? Date.now());
}

/**
 * A CA of its own trust domain, apart from the cluster's (the managed etcd's: certificates the cluster
 * CA signs for nodes must never open etcd). Nothing is written to disk.
 */
export function createCertificateAuthority(cn: string, now: number = Date.now()): Promise<IssuedCert> {
  return createCa(now, cn);
}

/**
 * Issues a certificate from the CA pair `ca`; usage 'peer' is both serving and client (an etcd
 * member's certificate, which it serves with and dials its peers with). Nothing is written to disk.
 */
export async function issueFromCa(ca: IssuedCert, spec: { cn: string; orgs?: string[]; hosts?: string[]; usage: 'server' | 'client' | 'peer' }, now: number = Date.now()): Promise<IssuedCert> {
  return issueWith(await loadCa(ca.certPem, ca.keyPem), { cn: spec.cn, orgs: spec.orgs ?? [], hosts: normalizeHosts(spec.hosts ?? []), usage: spec.usage }, now);
}

/** Hex SHA-256 of the CA certificate's DER, as embedded in the node token. */
export function caHash(caCertPem: string): string {
  return createHash('sha256').update(new NodeX509(caCertPem).raw).digest('hex');
}

/** The CA hash of a `K10<hash>::<user>:<secret>` token, or undefined for an opaque token. */
export function parseNodeTokenHash(token: string): string | undefined {
  const m = /^K10([0-9a-f]{64})::/.exec(token);
  return m ? m[1] : undefined;
}

// --- internals -------------------------------------------------------------------------------------

interface LoadedCa {
  certPem: string;
  node: NodeX509;
  signingKey: webcrypto.CryptoKey;
  subject: string;
  keyId: string | undefined;
}

interface LeafSpec {
  cn: string;
  orgs: string[];
  hosts: string[];
  usage: 'server' | 'client' | 'peer';
}

async function createCa(now: number, cn = `tinykube-ca@${Math.floor(now / 1000)}`): Promise<IssuedCert> {
  const keys = await globalThis.crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [cn] }],
    notBefore: new Date(now - BACKDATE),
    notAfter: new Date(now + CA_LIFETIME),
    signingAlgorithm: SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

async function loadCa(certPem: string, keyPem: string): Promise<LoadedCa> {
  try {
    const cert = new x509.X509Certificate(certPem);
    const signingKey = await globalThis.crypto.subtle.importKey('pkcs8', pemBody(keyPem), KEY_ALG, false, ['sign']);
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    return { certPem, node: new NodeX509(certPem), signingKey, subject: cert.subject, keyId: ski?.keyId };
  } catch (err) {
    throw new PkiError(`cannot load the cluster CA: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

async function issueWith(ca: LoadedCa, spec: LeafSpec, now: number): Promise<IssuedCert> {
  const keys = await globalThis.crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const subject: x509.JsonName = [{ CN: [spec.cn] }];
  for (const o of spec.orgs) subject.push({ O: [o] });
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(
      spec.usage === 'peer' ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [spec.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (ca.keyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(ca.keyId));
  if (spec.hosts.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(spec.hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca.subject,
    notBefore: new Date(now - BACKDATE),
    notAfter: new Date(now + LEAF_LIFETIME),
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

// A pair whose key does not match (a crash between the two renames, two writers) is re-issued.
function leafIsUsable(certPem: string, keyPem: string, ca: NodeX509, now: number): boolean {
  try {
    const leaf = new NodeX509(certPem);
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return false;
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) return false;
    return leaf.validToDate.getTime() - now > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

function coversHosts(certPem: string, hosts: string[]): boolean {
  const cert = new NodeX509(certPem);
  // checkIP/checkHost compare canonically (IPv6 forms, case), which string matching of SANs would not.
  return hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h, { subject: 'never', wildcards: false }) !== undefined));
}

function normalizeHosts(hosts: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of hosts) {
    const h = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (!h) continue;
    const key = isIP(h) ? h : h.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(key);
  }
  return out;
}

// Positive, non-zero leading byte: Go (kubectl) rejects negative serial numbers.
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x40;
  return b.toString('hex');
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await globalThis.crypto.subtle.exportKey('pkcs8', key);
  return toPem('PRIVATE KEY', Buffer.from(der));
}

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function pemBody(pem: string): Buffer {
  const m = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END [A-Z ]+-----/.exec(pem);
  if (!m) throw new PkiError('not a PEM document');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeSecret(file: string, content: string): Promise<void> {
  await writeAtomic(file, content, 0o600);
}

async function writePublic(file: string, content: string): Promise<void> {
  await writeAtomic(file, content, 0o644);
}

// Write-then-rename so a crash never leaves a truncated key that the next start would fail to parse.
async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}

const LOCK_STALE_MS = 60_000;

/**
 * Runs `fn` holding `<pkiDir>/.lock` (created exclusively, holding the holder's pid). The server's
 * renewal and `tinykube certs rotate` may run at once: without the lock one could read a new key
 * beside an old certificate, or the two could leave one's key beside the other's certificate. A lock
 * left by a dead process, or older than a minute, is taken over. The wait is real time: it is about
 * another process's file I/O, not the cluster's clock.
 */
async function withPkiLock<T>(pkiDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(pkiDir, '.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(`${process.pid} ${Date.now()}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await lockIsStale(lock)) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (attempt > 500) throw new PkiError(`${lock} is held by another process (a running \`tinykube certs rotate\`?); remove it if no tinykube process is using ${pkiDir}`);
      await sleep(20);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  let age: number;
  try {
    age = Date.now() - (await stat(lock)).mtimeMs;
  } catch {
    return false;
  }
  if (age > LOCK_STALE_MS) return true;
  // Empty: its holder has just created it and not yet written its pid.
  const pid = Number((await readOptional(lock))?.trim().split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
