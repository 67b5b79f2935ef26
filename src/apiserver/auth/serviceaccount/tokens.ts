// Service-account tokens: JWTs the API server signs (TokenRequest, legacy token Secrets) and checks
// when they come back as bearer tokens, as kube-apiserver's serviceaccount token generator and
// authenticator do.
//
// Called by: the serviceaccounts/token subresource and the tokens controller (issue), the request
// pipeline (authenticateToken) and TokenReview (reviewToken, which also gives kube's reason for a
// refused token), the issuer discovery endpoints (discovery, jwks).
// Safe to call concurrently; the only state is the key and a bounded cache of verified signatures.
//
// Two kinds of token, told apart by their issuer:
//  - bound tokens (iss = the configured issuer): audiences, times (nbf, exp, iat, each with kube's
//    minute of leeway for skewed clocks), and the objects they are bound to under the private claim
//    "kubernetes.io" (service account, and a pod, secret or node). A token stops working when one of
//    them is gone or was recreated (another uid).
//  - legacy tokens (iss "kubernetes/serviceaccount"): no expiry and no audience; valid while their
//    Secret holds exactly this token and the service account is the one named.
// Only RS256 with our key is accepted: `alg: none`, HMAC with the public key as secret, and every
// other algorithm are refused by jose before a claim is read.

import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { KubeObject } from '../../../api/types.ts';
import type { Clock } from '../../../util/clock.ts';
import type { BoundTokenSpec, IssuedToken, ObjectRef, TokenSigner } from '../../../registry/core/serviceaccounts/token.ts';
import type { TokenAuthenticator, TokenAuthResult, TokenRefusal, User } from '../user.ts';

export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** kube-apiserver's --service-account-issuer as kubeadm and k3s set it. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Projected tokens the kubelet asks for with this lifetime are issued for a year (--service-account-extend-token-expiration). */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
/** go-jose's DefaultLeeway, which kube's validator uses for nbf, exp and iat. */
const CLAIM_LEEWAY_MS = 60_000;
/** A bound object being deleted keeps its tokens valid this long past its deletion timestamp (kube: the same leeway). */
const DELETION_GRACE_MS = CLAIM_LEEWAY_MS;
const CACHE_MAX = 4096;

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';

/** The user name of a service account. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** The groups every service account is in. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/** Reads the objects tokens name (the API server's storage). Null when absent. */
export interface BoundObjectGetter {
  get(resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string): Promise<KubeObject | null>;
}


export interface ServiceAccountTokensOptions {
  /** PKCS#8 PEM (the PKI's service-account.key). */
  keyPem: string;
  issuer?: string;
  /** The API server's own audiences (--api-audiences); default [issuer]. */
  apiAudiences?: string[];
  /** Where the key set is served (the discovery document's jwks_uri); may be set later, once the server listens. */
  jwksUri?: string;
  objects: BoundObjectGetter;
  clock: Clock;
  /** --service-account-extend-token-expiration (default true). */
  extendExpiration?: boolean;
}

interface KubeClaims {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
  pod?: { name?: string; uid?: string };
  secret?: { name?: string; uid?: string };
  node?: { name?: string; uid?: string };
  warnafter?: number;
}

export class ServiceAccountTokens implements TokenAuthenticator, TokenSigner {
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  readonly keyId: string;
  /** The discovery document's jwks_uri: the API server's external address, as kube-apiserver's default. */
  jwksUri: string;
  readonly #private: KeyObject;
  readonly #public: KeyObject;
  readonly #objects: BoundObjectGetter;
  readonly #clock: Clock;
  readonly #extend: boolean;
  // Verified signatures by token digest: the RSA check is the expensive part, the claims are read
  // again (bound objects, expiry) on every use.
  readonly #verified = new Map<string, JWTPayload>();

  constructor(o: ServiceAccountTokensOptions) {
    this.#private = createPrivateKey(o.keyPem);
    this.#public = createPublicKey(this.#private);
    this.issuer = o.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = o.apiAudiences?.length ? [...o.apiAudiences] : [this.issuer];
    this.jwksUri = o.jwksUri ?? '';
    this.#objects = o.objects;
    this.#clock = o.clock;
    this.#extend = o.extendExpiration ?? true;
    // kube's key id: the unpadded base64url SHA-256 of the public key's DER (PKIX).
    this.keyId = createHash('sha256').update(this.#public.export({ type: 'spki', format: 'der' })).digest('base64url');
  }

  /** Signs a bound token (TokenRequest). Audiences default to the API server's. */
  async issue(spec: BoundTokenSpec): Promise<IssuedToken> {
    const now = Math.floor(this.#clock.now() / 1000);
    const audiences = spec.audiences.length ? spec.audiences : [...this.apiAudiences];
    let exp = now + spec.expirationSeconds;
    const kube: KubeClaims = { namespace: spec.namespace };
    if (spec.node) kube.node = { name: spec.node.name, uid: spec.node.uid };
    if (spec.pod) kube.pod = { name: spec.pod.name, uid: spec.pod.uid };
    if (spec.secret) kube.secret = { name: spec.secret.name, uid: spec.secret.uid };
    kube.serviceaccount = { name: spec.serviceAccount.name, uid: spec.serviceAccount.uid };
    // The kubelet's 3607-second tokens for pods are issued for a year and only warned about after
    // 3607 s, so programs that never reread their token keep working (kube's extended expiration).
    if (this.#extend && spec.pod && spec.expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS && audiences.every((a) => this.apiAudiences.includes(a))) {
      kube.warnafter = exp;
      exp = now + EXTENDED_EXPIRATION_SECONDS;
    }
    const token = await new SignJWT({ 'kubernetes.io': kube as Record<string, unknown> })
      .setProtectedHeader({ alg: 'RS256', kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUser(spec.namespace, spec.serviceAccount.name))
      .setAudience(audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.#private);
    // The answer states the lifetime asked for, also when the token itself lasts longer (kube's
    // TokenREST): the kubelet renews on that schedule, so extended tokens are still rotated hourly.
    const stated = now + spec.expirationSeconds;
    return { token, expirationTimestamp: new Date(stated * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** Signs a legacy token for a `kubernetes.io/service-account-token` Secret (no expiry, no audience). */
  async issueLegacy(namespace: string, serviceAccount: ObjectRef, secretName: string): Promise<string> {
    return new SignJWT({
      'kubernetes.io/serviceaccount/namespace': namespace,
      'kubernetes.io/serviceaccount/secret.name': secretName,
      'kubernetes.io/serviceaccount/service-account.name': serviceAccount.name,
      'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.uid,
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.keyId })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(serviceAccountUser(namespace, serviceAccount.name))
      .sign(this.#private);
  }

  /** The user of a token, if it is ours, valid now, and good for one of `audiences` (empty: the API server's). */
  async authenticateToken(token: string, audiences: readonly string[]): Promise<TokenAuthResult | null> {
    const r = await this.reviewToken(token, audiences);
    return r && 'user' in r ? r : null;
  }

  /**
   * As authenticateToken, with kube's reason when a token of one of our issuers is refused
   * (TokenReview's status.error). A token that is not a JWT naming one of our issuers is not ours:
   * null, as kube's authenticator answers no error for it. The checks run in kube's order (signature,
   * audiences, then times and the objects the token is bound to), so a token wrong in several ways
   * gets kube's reason.
   */
  async reviewToken(token: string, audiences: readonly string[]): Promise<TokenAuthResult | TokenRefusal | null> {
    // A token verified before is ours: its issuer need not be read again (this runs per request).
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    if (!this.#verified.has(cacheKey)) {
      const iss = unverifiedIssuer(token);
      if (iss !== this.issuer && iss !== LEGACY_ISSUER) return null;
    }
    const verified = await this.#verify(token, cacheKey);
    if (verified === null) return null;
    if ('error' in verified) return verified;
    const payload = verified.payload;
    if (payload.iss === LEGACY_ISSUER) return this.#legacy(token, payload, audiences);
    const want = audiences.length ? audiences : this.apiAudiences;
    const tokenAud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    const matched = want.filter((a) => tokenAud.includes(a));
    if (!matched.length) return { error: `token audiences ${goQuoted(tokenAud)} is invalid for the target audiences ${goQuoted(want)}` };
    const timeError = claimTimesError(payload, this.#clock.now());
    if (timeError) return { error: timeError };
    const kube = payload['kubernetes.io'] as KubeClaims | undefined;
    const ns = kube?.namespace;
    const sa = kube?.serviceaccount;
    // kube looks the account up by these claims and answers its getter's NotFound for empty ones.
    if (!ns || !sa?.name || !sa.uid) return { error: `serviceaccounts "${sa?.name ?? ''}" not found` };
    const bad = await this.#boundObjectsError(ns, kube);
    if (bad) return { error: bad };
    const extra: Record<string, string[]> = {};
    if (kube.pod?.name) extra['authentication.kubernetes.io/pod-name'] = [kube.pod.name];
    if (kube.pod?.uid) extra['authentication.kubernetes.io/pod-uid'] = [kube.pod.uid];
    if (kube.node?.name) extra['authentication.kubernetes.io/node-name'] = [kube.node.name];
    if (kube.node?.uid) extra['authentication.kubernetes.io/node-uid'] = [kube.node.uid];
    if (typeof payload.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
    return { user: accountUser(ns, sa.name, sa.uid, extra), audiences: audiences.length ? matched : [] };
  }

  /** The key set, as /openid/v1/jwks serves it. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK(this.#public);
    return { keys: [{ use: 'sig', kty: jwk.kty!, kid: this.keyId, alg: 'RS256', n: jwk.n, e: jwk.e }] };
  }

  /** The OpenID discovery document (/.well-known/openid-configuration). */
  discovery(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  /**
   * The payload of a token signed with our key, or kube's reason it is not: a key id that is not ours
   * finds no key, a bad signature is go-jose's crypto failure. A token whose algorithm is not RS256
   * (`alg: none`, HMAC) is one kube's parser refuses, with no reason (null).
   */
  async #verify(token: string, key: string): Promise<{ payload: JWTPayload } | TokenRefusal | null> {
    const hit = this.#verified.get(key);
    if (hit) return { payload: hit };
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return null;
    }
    if (header.alg !== 'RS256') return null;
    if (header.kid !== undefined && header.kid !== this.keyId) return { error: 'invalid signature, no keys found' };
    try {
      // Time claims are checked by the caller against the injected clock, not by jose's.
      const { payload } = await jwtVerify(token, this.#public, { algorithms: ['RS256'], clockTolerance: Number.MAX_SAFE_INTEGER });
      if (this.#verified.size >= CACHE_MAX) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(key, payload);
      return { payload };
    } catch {
      return { error: 'go-jose/go-jose: error in cryptographic primitive' };
    }
  }

  /** kube's bound-token validator: the account, then the secret, pod or node the token is bound to. */
  async #boundObjectsError(ns: string, kube: KubeClaims): Promise<string | undefined> {
    const sa = kube.serviceaccount!;
    const now = this.#clock.now();
    // Objects deleted more than a minute ago no longer count (kube's leeway).
    const gone = (o: KubeObject) => o.metadata?.deletionTimestamp !== undefined && Date.parse(o.metadata.deletionTimestamp) + DELETION_GRACE_MS < now;
    const account = await this.#objects.get('serviceaccounts', ns, sa.name!);
    if (!account) return `serviceaccounts "${sa.name}" not found`;
    if (account.metadata?.uid !== sa.uid) return `service account UID (${account.metadata?.uid ?? ''}) does not match claim (${sa.uid})`;
    if (gone(account)) return `service account ${ns}/${sa.name} has been deleted`;
    const checks: Array<[string, 'pods' | 'secrets' | 'nodes', string | undefined, { name?: string; uid?: string } | undefined]> = [
      ['secret', 'secrets', ns, kube.secret],
      ['pod', 'pods', ns, kube.pod],
      ['node', 'nodes', undefined, kube.node],
    ];
    for (const [what, resource, namespace, ref] of checks) {
      if (!ref?.name) continue;
      // A pod's node is informative only: the pod is what the token is bound to (kube checks the
      // node only for tokens bound to a node).
      if (what === 'node' && kube.pod) continue;
      const obj = await this.#objects.get(resource, namespace, ref.name);
      if (!obj) return 'service account token has been invalidated';
      if (obj.metadata?.uid !== ref.uid) return `${what} UID (${obj.metadata?.uid ?? ''}) does not match service account ${what} ref claim (${ref.uid ?? ''})`;
      if (gone(obj)) return 'service account token has been invalidated';
    }
    return undefined;
  }

  /** kube's legacy validator (with lookup, as kube-apiserver runs it). */
  async #legacy(token: string, payload: JWTPayload, audiences: readonly string[]): Promise<TokenAuthResult | TokenRefusal> {
    const claim = (k: string) => (typeof payload[k] === 'string' ? (payload[k] as string) : '');
    if (!payload.sub) return { error: 'sub claim is missing' };
    const ns = claim('kubernetes.io/serviceaccount/namespace');
    if (!ns) return { error: 'namespace claim is missing' };
    const secretName = claim('kubernetes.io/serviceaccount/secret.name');
    if (!secretName) return { error: 'secretName claim is missing' };
    const saName = claim('kubernetes.io/serviceaccount/service-account.name');
    if (!saName) return { error: 'serviceAccountName claim is missing' };
    const saUid = claim('kubernetes.io/serviceaccount/service-account.uid');
    if (!saUid) return { error: 'serviceAccountUID claim is missing' };
    if (payload.sub !== serviceAccountUser(ns, saName)) return { error: 'sub claim is invalid' };
    const secret = await this.#objects.get('secrets', ns, secretName);
    if (!secret || secret.metadata?.deletionTimestamp) return { error: 'Token has been invalidated' };
    const data = (secret as { data?: Record<string, string> }).data?.token;
    if (!data || Buffer.from(data, 'base64').toString() !== token) return { error: "Token does not match server's copy" };
    const account = await this.#objects.get('serviceaccounts', ns, saName);
    if (!account) return { error: `serviceaccounts "${saName}" not found` };
    if (account.metadata?.deletionTimestamp) return { error: `ServiceAccount ${ns}/${saName} has been deleted` };
    if (account.metadata?.uid !== saUid) return { error: `ServiceAccount UID (${account.metadata?.uid ?? ''}) does not match claim (${saUid})` };
    // Legacy tokens have no audience: they are good for whatever the caller asked (kube's
    // audience-agnostic authenticator answers with the requested audiences).
    return { user: accountUser(ns, saName, saUid, {}), audiences: [...audiences] };
  }
}

function accountUser(ns: string, name: string, uid: string, extra: Record<string, string[]>): User {
  const user: User = { name: serviceAccountUser(ns, name), uid, groups: [...serviceAccountGroups(ns), 'system:authenticated'], via: 'token' };
  if (Object.keys(extra).length) user.extra = extra;
  return user;
}

/**
 * kube's check of a bound token's times (go-jose's Claims.Validate with its default leeway of a
 * minute, for clocks that differ between the issuer and whoever presents the token): nbf, then exp,
 * then iat, each only when present, in kube-apiserver's words.
 */
function claimTimesError(payload: JWTPayload, nowMs: number): string | undefined {
  if (typeof payload.nbf === 'number' && nowMs + CLAIM_LEEWAY_MS < payload.nbf * 1000) return 'service account token is not valid yet';
  if (typeof payload.exp === 'number' && nowMs - CLAIM_LEEWAY_MS > payload.exp * 1000) return 'service account token has expired';
  if (typeof payload.iat === 'number' && nowMs + CLAIM_LEEWAY_MS < payload.iat * 1000) return 'service account token is issued in the future';
  return undefined;
}

/** The unverified `iss` of a compact JWT, as kube's hasCorrectIssuer reads it; undefined for anything else. */
function unverifiedIssuer(token: string): string | undefined {
  if (token.trimStart().startsWith('{')) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    const iss = claims && typeof claims === 'object' ? (claims as { iss?: unknown }).iss : undefined;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** Go's %q of a []string: ["a" "b"]. */
function goQuoted(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}
