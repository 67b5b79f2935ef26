// Request authentication for the API server: bearer tokens and client certificates.
//
// Called by: the HTTP layer, once per request, before routing (safe to call concurrently; static
// tokens and certificates are answered without I/O, service-account JWTs read the objects they are
// bound to).
//
// Identities (our decision, documented for the rest of the project):
//  - admin bearer token              → user `admin`, groups `system:masters`, `system:authenticated`
//  - node join token (`node-token`, `K10<CA hash>::<id>:<secret>`) → user `system:bootstrap:<id>`,
//    groups `system:bootstrappers`, `system:authenticated`: kube's bootstrap-token identity, the <id>
//    (`node` in the tokens the server mints) standing for the bootstrap token's public id. The join
//    token is shared by all agents (k3s-style), so it cannot name a node, and it is not in
//    `system:nodes`: RBAC lets it only ask for a node's client certificate (kube's
//    system:node-bootstrapper and nodeclient auto-approval); the agent then is `system:node:<name>`
//    with the certificate a CertificateSigningRequest gave it (CN `system:node:<name>`, O `system:nodes`).
//  - client certificate verified against the cluster CA → user = CN, groups = each O, plus
//    `system:authenticated` (Kubernetes' x509 authenticator convention).
//  - extra static tokens added with addToken (in-process components, tests).
//  - tokens that are not in the table go to the token authenticators added with
//    addTokenAuthenticator (service-account JWTs), for the API server's own audiences.
// The static tokens are also a TokenAuthenticator (TokenReview): like kube's token file, they are not
// audience-aware, so they are good only for the API server's own audiences (kube's
// WrapAudienceAgnosticToken). TokenAuthenticators composes them with the others (service-account JWTs).
// When both a valid certificate and an Authorization header are present the certificate wins, as in
// kube-apiserver's union authenticator (x509 is consulted first). A *wrong* bearer token is not
// rescued by a certificate, though: a request that sends a bad token is rejected (401) rather than
// silently authenticated otherwise, so misconfigured clients notice.

import type { IncomingMessage } from 'node:http';
import type { ServerOptions } from 'node:https';
import { createHash } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { BOOTSTRAP_USER_PREFIX, BOOTSTRAPPERS_GROUP } from '../../api/certificates/request.ts';
import type { Pki } from './pki.ts';
import { DEFAULT_ISSUER } from './serviceaccount/tokens.ts';
import type { TokenAuthenticator, TokenAuthResult, TokenRefusal, User } from './user.ts';

export type { User };

export interface Authenticator {
  /** The caller's identity, or null when it sent no credentials or invalid ones (→ 401 unless anonymous path). */
  authenticate(req: IncomingMessage): User | null | Promise<User | null>;
}

export const ADMIN_USER = 'admin';
/** The user the join token authenticates as (see the header): `system:bootstrap:<id>`. */
export function joinTokenUser(token: string): string {
  // The token's user part, as k3s' `K10<hash>::<user>:<password>` tokens name it; a token in no such
  // shape (tests, hand-made ones) is the one id the server mints.
  const id = /^K10[0-9a-f]{64}::([^:]+):/.exec(token)?.[1] ?? 'node';
  return BOOTSTRAP_USER_PREFIX + id;
}
const AUTHENTICATED = 'system:authenticated';
/** The audiences the API server accepts (kube-apiserver's --api-audiences, which default to its service-account issuer). */
export const DEFAULT_API_AUDIENCES: readonly string[] = [DEFAULT_ISSUER];

export class TokenCertAuthenticator implements Authenticator, TokenAuthenticator {
  // Keyed by the token's SHA-256 so lookups compare fixed-length digests (no early-exit string compare
  // on the secret itself leaks its prefix through timing).
  readonly #tokens = new Map<string, { name: string; groups: string[] }>();
  readonly #others: TokenAuthenticator[] = [];

  readonly #apiAudiences: readonly string[];

  constructor(pki: Pick<Pki, 'adminToken' | 'nodeToken'>, opts: { apiAudiences?: readonly string[] } = {}) {
    this.#apiAudiences = opts.apiAudiences ?? DEFAULT_API_AUDIENCES;
    this.addToken(pki.adminToken, ADMIN_USER, ['system:masters']);
    this.addToken(pki.nodeToken, joinTokenUser(pki.nodeToken), [BOOTSTRAPPERS_GROUP]);
  }

  /** Registers another static bearer token (idempotent; the last registration of a token wins). */
  addToken(token: string, name: string, groups: string[] = []): void {
    this.#tokens.set(digest(token), { name, groups: withAuthenticated(groups) });
  }

  removeToken(token: string): void {
    this.#tokens.delete(digest(token));
  }

  /** Consulted, in the order added, for bearer tokens the static table does not hold. */
  addTokenAuthenticator(t: TokenAuthenticator): void {
    this.#others.push(t);
  }

  authenticate(req: IncomingMessage): User | null | Promise<User | null> {
    const cert = verifiedPeerCert(req);
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = bearer(header);
      if (token === undefined) return null;
      const entry = this.#lookup(token);
      if (entry) return cert ? certUser(cert) : { name: entry.name, groups: [...entry.groups], via: 'token' };
      if (!this.#others.length) return null;
      return this.#fromOthers(token).then((user) => (user && cert ? certUser(cert) : user));
    }
    if (cert) return certUser(cert);
    return null;
  }

  async #fromOthers(token: string): Promise<User | null> {
    for (const t of this.#others) {
      const r = await t.authenticateToken(token, []);
      if (r) return r.user;
    }
    return null;
  }

  /** A static token's user; with audiences asked, only when one of them is the API server's own. */
  authenticateToken(token: string, audiences: readonly string[]): Promise<TokenAuthResult | null> {
    const entry = this.#lookup(token);
    if (!entry) return Promise.resolve(null);
    const good = audiences.length ? this.#apiAudiences.filter((a) => audiences.includes(a)) : [];
    if (audiences.length && !good.length) return Promise.resolve(null);
    return Promise.resolve({ user: { name: entry.name, groups: [...entry.groups], via: 'token' }, audiences: good });
  }

  #lookup(token: string): { name: string; groups: string[] } | undefined {
    return this.#tokens.get(digest(token));
  }
}

/**
 * Token authenticators asked in turn, the first that knows the token answering (kube's union token
 * authenticator): the static tokens first, then those added (service-account JWTs). Safe to call
 * concurrently; add() is for start-up.
 */
export class TokenAuthenticators implements TokenAuthenticator {
  readonly #all: TokenAuthenticator[];

  constructor(...authenticators: TokenAuthenticator[]) {
    this.#all = authenticators;
  }

  add(a: TokenAuthenticator): void {
    this.#all.push(a);
  }

  async authenticateToken(token: string, audiences: readonly string[]): Promise<TokenAuthResult | null> {
    for (const a of this.#all) {
      const r = await a.authenticateToken(token, audiences);
      if (r) return r;
    }
    return null;
  }

  /**
   * The first authenticator's user, or the reasons of those that recognised the token and refused it,
   * joined as kube's union authenticator aggregates errors ("msg", or "[msg1, msg2]" for several);
   * null when none recognised it.
   */
  async reviewToken(token: string, audiences: readonly string[]): Promise<TokenAuthResult | TokenRefusal | null> {
    const errors: string[] = [];
    for (const a of this.#all) {
      const r = a.reviewToken ? await a.reviewToken(token, audiences) : await a.authenticateToken(token, audiences);
      if (r && 'user' in r) return r;
      if (r) errors.push(r.error);
    }
    if (errors.length === 0) return null;
    return { error: errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]` };
  }
}

export function createAuthenticator(pki: Pick<Pki, 'adminToken' | 'nodeToken'>, opts: { apiAudiences?: readonly string[] } = {}): TokenCertAuthenticator {
  return new TokenCertAuthenticator(pki, opts);
}

/**
 * Paths Kubernetes serves to anyone (the `system:public-info-viewer` role): `/version`, `/healthz`,
 * `/livez`, `/readyz`, with or without a trailing slash, and the individual health checks below them
 * (`/healthz/ping`, `/readyz/etcd`...). `path` may carry a query string.
 */
export function isAnonymousPath(path: string): boolean {
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  if (p === '/version' || p === '/version/') return true;
  // Service-account issuer discovery, for relying parties outside the cluster (design: served anonymously).
  if (p === '/.well-known/openid-configuration' || p === '/openid/v1/jwks') return true;
  for (const base of ['/healthz', '/livez', '/readyz']) {
    if (p === base || p.startsWith(base + '/')) return true;
  }
  return false;
}

/**
 * Options for `https.createServer`. Client certs are requested but not required (token users and
 * anonymous health checks have none); `authenticate` trusts a cert only when OpenSSL verified it against
 * the CA (`socket.authorized`). The serving chain includes the CA so an agent holding only the node
 * token can read and pin it (src/client/bootstrap.ts). HTTP/1.1 only: exec/attach/port-forward are
 * HTTP/1.1 upgrades, and Go would otherwise negotiate HTTP/2 (kubectl-wire.md §1.1).
 */
export function createSecureServerOptions(pki: Pick<Pki, 'serverCertPem' | 'serverKeyPem' | 'caCertPem'>): ServerOptions {
  return {
    key: pki.serverKeyPem,
    cert: pki.serverCertPem.trimEnd() + '\n' + pki.caCertPem,
    ca: pki.caCertPem,
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
    minVersion: 'TLSv1.2',
  };
}

// --- internals -------------------------------------------------------------------------------------

// A connection's client certificate is fixed by its handshake; asking OpenSSL for it on every request
// (keep-alive connections carry thousands) cost ~15% of the API server's CPU under load.
const peerCerts = new WeakMap<object, PeerCertificate | null>();

function verifiedPeerCert(req: IncomingMessage): PeerCertificate | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) return undefined;
  let cert = peerCerts.get(socket);
  if (cert === undefined) {
    const c = socket.getPeerCertificate();
    // An empty object means the client sent no certificate.
    cert = c && typeof c.subject === 'object' && c.subject !== null ? c : null;
    peerCerts.set(socket, cert);
  }
  return cert ?? undefined;
}

function certUser(cert: PeerCertificate): User | null {
  const cn = first(cert.subject.CN);
  if (!cn) return null;
  return { name: cn, groups: withAuthenticated(all(cert.subject.O)), via: 'x509' };
}

// Node reports a repeated RDN (several O=) as an array, a single one as a string.
function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function first(v: string | string[] | undefined): string | undefined {
  return all(v)[0];
}

function bearer(header: string): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function withAuthenticated(groups: string[]): string[] {
  return groups.includes(AUTHENTICATED) ? [...groups] : [...groups, AUTHENTICATED];
}
