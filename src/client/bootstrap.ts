// Joining a cluster with only a server URL and the node token, as `tinykube agent --server URL --token T`
// does. The token is `K10<sha256 of the CA certificate's DER>::node:<secret>` (k3s' format; minted by
// src/apiserver/auth/pki.ts, parsed here again because the client must not depend on the server). The
// API server sends the CA in its certificate chain, so the agent reads the chain over a connection it
// does not yet verify, keeps the certificate whose hash the token names, checks that it signed the
// server's certificate, and from then on verifies the server normally against that CA.
//
// With the CA pinned, the agent gets its own identity as kubelet TLS bootstrapping does: the join
// token only creates a CertificateSigningRequest for CN=system:node:<name>, O=system:nodes (signer
// kubernetes.io/kube-apiserver-client-kubelet), which the approver auto-approves and the signer
// issues; the key and certificate are kept under the agent's data dir and used from then on, and
// reused on restart while valid. Rotation (src/client/certificates.ts) renews it as the node itself.
//
// As k3s' agent keeps /etc/rancher/node/password, the agent keeps a random password in
// `<dataDir>/node-password` (0600, made once) and sends it with each bootstrap request; the server
// records it on the node's first join and refuses a join of that name with another password
// (src/controllers/certificates/nodepassword.ts), so a second machine with an existing node's name
// stops with an error that says what to do, instead of taking over the node.
//
// Called by: the node agent at start, once. fetchPinnedCa is read-only; the certificate functions
// write only the agent's pki directory.

import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DetailedPeerCertificate } from 'node:tls';
import tls from 'node:tls';
import { KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, NODE_PASSWORD_REJECTED, NODE_USER_PREFIX, NODES_GROUP } from '../api/certificates/request.ts';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { CertificateRequestError, loadKeyPair, requestCertificate, rotationDeadline, saveKeyPair, type CertificateRequest, type KeyPair } from './certificates.ts';
import { ApiClient } from './client.ts';
import { ClientConfigError } from './errors.ts';

/** kubelet's file names under its pki directory: certificate and key in one PEM file each. */
export const NODE_CLIENT_FILE = 'kubelet-client-current.pem';
export const NODE_SERVING_FILE = 'kubelet-server-current.pem';
/** The node password's file name in the agent's data dir (k3s: /etc/rancher/node/password). */
export const NODE_PASSWORD_FILE = 'node-password';

/** The kubelet client request: the usages of an ECDSA key (no key encipherment), no SANs. */
export function nodeClientRequest(nodeName: string, expirationSeconds?: number): CertificateRequest {
  return { signerName: KUBELET_CLIENT_SIGNER, commonName: NODE_USER_PREFIX + nodeName, organizations: [NODES_GROUP], usages: ['digital signature', 'client auth'], expirationSeconds };
}

/** The kubelet serving request for the node's own names (its name and addresses, as its Node lists them). */
export function nodeServingRequest(nodeName: string, hosts: string[]): CertificateRequest {
  return { signerName: KUBELET_SERVING_SIGNER, commonName: NODE_USER_PREFIX + nodeName, organizations: [NODES_GROUP], hosts, usages: ['digital signature', 'server auth'] };
}

export interface NodeClientCertificateOptions {
  server: string;
  caPem: string;
  /** The join token; used only when there is no valid certificate yet. */
  token: string;
  nodeName: string;
  /** Where the pair is kept (the agent's `<dataDir>/pki`). */
  pkiDir: string;
  /** The node password's file (default `<pkiDir>/../node-password`, i.e. `<dataDir>/node-password`); made when absent. */
  passwordFile?: string;
  clock?: Clock;
  /** spec.expirationSeconds of the request (default: the signer's lifetime). */
  expirationSeconds?: number;
  timeoutMs?: number;
}

/** The node's client certificate: the stored one while it is valid, else a new one asked for with the join token. */
export async function bootstrapNodeClientCertificate(o: NodeClientCertificateOptions): Promise<{ pair: KeyPair; file: string; bootstrapped: boolean }> {
  const clock = o.clock ?? realClock;
  const file = path.join(o.pkiDir, NODE_CLIENT_FILE);
  const stored = await loadKeyPair(file, { caPem: o.caPem, commonName: NODE_USER_PREFIX + o.nodeName, now: clock.now() });
  if (stored) return { pair: stored, file, bootstrapped: false };
  const passwordFile = o.passwordFile ?? path.join(path.dirname(o.pkiDir), NODE_PASSWORD_FILE);
  const password = await ensureNodePassword(passwordFile);
  const bootstrap = new ApiClient({ server: o.server, caPem: o.caPem, token: o.token, userAgent: `tinykube-agent/${o.nodeName} (bootstrap)` });
  try {
    const pair = await requestCertificate(bootstrap, { ...nodeClientRequest(o.nodeName, o.expirationSeconds), challengePassword: password }, { clock, timeoutMs: o.timeoutMs });
    await saveKeyPair(file, pair);
    return { pair, file, bootstrapped: true };
  } catch (err) {
    if (err instanceof CertificateRequestError && err.condition?.reason === NODE_PASSWORD_REJECTED) throw new NodePasswordRejectedError(o.nodeName, passwordFile, err.condition.message ?? '');
    throw err;
  } finally {
    bootstrap.close();
  }
}

/**
 * The node's serving certificate for `hosts`: the stored one while it names them all and is less
 * than 70% through its life, else a new one asked for by the node (`client` holds its identity).
 */
export async function nodeServingCertificate(client: ApiClient, o: { caPem: string; nodeName: string; hosts: string[]; pkiDir: string; clock?: Clock; timeoutMs?: number }): Promise<KeyPair> {
  const clock = o.clock ?? realClock;
  const file = path.join(o.pkiDir, NODE_SERVING_FILE);
  const stored = await loadKeyPair(file, { caPem: o.caPem, commonName: NODE_USER_PREFIX + o.nodeName, hosts: o.hosts, now: clock.now() });
  if (stored && rotationDeadline(stored.certPem, 0) > clock.now()) return stored;
  const pair = await requestCertificate(client, nodeServingRequest(o.nodeName, o.hosts), { clock, timeoutMs: o.timeoutMs });
  await saveKeyPair(file, pair);
  return pair;
}

/** The server refused this machine's join: another machine joined with this node name first. */
export class NodePasswordRejectedError extends Error {
  readonly code = 'ERR_NODE_PASSWORD_REJECTED';
  readonly nodeName: string;
  constructor(nodeName: string, passwordFile: string, serverMessage: string) {
    super(
      `node "${nodeName}": the server refused this machine's join (${serverMessage}). Another machine already joined as "${nodeName}" ` +
        `with another password than this one's (${passwordFile}). If that machine is gone, run \`kubectl delete node ${nodeName}\` ` +
        `(or, if no such Node is listed, \`kubectl -n kube-system delete secret ${nodeName}.node-password.tinykube\`) and start this agent again; ` +
        'otherwise start this agent with another --name.',
    );
    this.name = 'NodePasswordRejectedError';
    this.nodeName = nodeName;
  }
}

/**
 * The node password kept in `file`, made (random, 0600) when the file does not exist yet. An empty
 * file is an error rather than replaced: a new password would lock this machine out of its own name.
 */
export async function ensureNodePassword(file: string): Promise<string> {
  for (;;) {
    try {
      const text = (await readFile(file, 'utf8')).trim();
      if (!text) throw new ClientConfigError(`${file} is empty: restore this node's password, or remove the file to join with a new one (as a new machine)`);
      return text;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Written aside and linked into place: a reader never sees a half-written file, and of two agents
    // starting on one data dir, one link wins and both read the same password.
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, randomBytes(16).toString('hex') + '\n', { mode: 0o600 });
    try {
      await link(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp);
    }
  }
}

export class CaPinError extends Error {
  readonly code = 'ERR_CA_PIN';
  constructor(message: string) {
    super(message);
    this.name = 'CaPinError';
  }
}

/** The CA hash a `K10…` token pins, or undefined for an opaque token (then the CA must be given). */
export function caHashFromToken(token: string): string | undefined {
  const m = /^K10([0-9a-f]{64})::/.exec(token);
  return m ? m[1] : undefined;
}

/**
 * Fetches the cluster CA from `server` (an https URL, or several comma-separated: each is tried in
 * turn until one answers with the pinned CA) and returns it as PEM, if it matches `caHash`.
 */
export async function fetchPinnedCa(server: string, caHash: string, options: { timeoutMs?: number } = {}): Promise<string> {
  const servers = server.split(',').map((s) => s.trim()).filter(Boolean);
  if (servers.length === 0) throw new ClientConfigError('no server URL');
  let last: unknown;
  for (const s of servers) {
    try {
      return await fetchPinnedCaFrom(s, caHash, options);
    } catch (err) {
      if (err instanceof ClientConfigError) throw err;
      last = err;
    }
  }
  throw last;
}

async function fetchPinnedCaFrom(server: string, caHash: string, options: { timeoutMs?: number }): Promise<string> {
  const url = new URL(server);
  if (url.protocol !== 'https:') throw new ClientConfigError('joining needs an https server URL');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 443);
  const chain = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    // Verification is deliberately off here: the pin below replaces it for this one connection, which
    // sends nothing but the TLS handshake.
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], servername: isIpLiteral(host) ? undefined : host });
    socket.setTimeout(options.timeoutMs ?? 10_000, () => socket.destroy(new CaPinError(`timed out connecting to ${server}`)));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate(true);
      socket.end();
      resolve(peer);
    });
    socket.once('error', reject);
  });
  const certs: DetailedPeerCertificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = chain; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    certs.push(c);
  }
  if (certs.length === 0) throw new CaPinError(`${server} presented no certificate`);
  const ca = certs.find((c) => createHash('sha256').update(c.raw).digest('hex') === caHash);
  if (!ca) throw new CaPinError(`${server} did not present the CA the token names (hash ${caHash.slice(0, 12)}…)`);
  const caCert = new X509Certificate(ca.raw);
  const leaf = new X509Certificate(certs[0].raw);
  if (leaf.fingerprint256 !== caCert.fingerprint256 && !(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey))) {
    throw new CaPinError(`${server}'s certificate is not signed by the pinned CA`);
  }
  return caCert.toString();
}

function isIpLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
