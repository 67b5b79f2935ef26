// Service-account tokens: JWTs the API server signs (TokenRequest, legacy token Secrets) and checks
// when they come back as bearer tokens, as kube-apiserver's serviceaccount token generator and
// authenticator do.
//
// Called by: the serviceaccounts/token subresource and the tokens controller (issue), the request
// pipeline and TokenReview (authenticateToken), the issuer discovery endpoints (discovery, jwks).
// Safe to call concurrently; the only state is the key and a bounded cache of verified signatures.
//
// Two kinds of token, told apart by their issuer:
//  - bound tokens (iss = the configured issuer): audiences, expiry, and the objects they are bound to
//    under the private claim "kubernetes.io" (service account, and a pod, secret or node). A token
//    stops working when one of them is gone or was recreated (another uid).
//  - legacy tokens (iss "kubernetes/serviceaccount"): no expiry and no audience; valid while their
//    Secret holds exactly this token and the service account is the one named.
// Only RS256 with our key is accepted: `alg: none`, HMAC with the public key as secret, and every
// other algorithm are refused by jose before a claim is read.

import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { exportJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { KubeObject } from '../../../api/types.ts';
import type { Clock } from '../../../util/clock.ts';
import type { BoundTokenSpec, IssuedToken, ObjectRef, TokenSigner } from '../../../registry/core/serviceaccounts/token.ts';
import type { TokenAuthenticator, TokenAuthResult, User } from '../user.ts';

export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** kube-apiserver's --service-account-issuer as kubeadm and k3s set it. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Projected tokens the kubelet asks for with this lifetime are issued for a year (--service-account-extend-token-expiration). */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
/** A bound object being deleted keeps its tokens valid this long past its deletion timestamp, as kube. */
const DELETION_GRACE_MS = 60_000;
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
    const r = await this.check(token, audiences);
    return 'user' in r ? r : null;
  }

  /** As authenticateToken, with the reason a token is refused (TokenReview's status.error). */
  async check(token: string, audiences: readonly string[]): Promise<TokenAuthResult | { error: string }> {
    if (token.split('.').length !== 3) return { error: 'not a service account token' };
    const payload = await this.#verify(token);
    if (!payload) return { error: 'invalid bearer token' };
    if (payload.iss === LEGACY_ISSUER) return this.#legacy(token, payload, audiences);
    if (payload.iss !== this.issuer) return { error: 'invalid bearer token' };
    const now = this.#clock.now() / 1000;
    if (typeof payload.exp !== 'number' || now >= payload.exp) return { error: 'service account token has expired' };
    if (typeof payload.nbf === 'number' && now < payload.nbf) return { error: 'service account token is not valid yet' };
    const want = audiences.length ? audiences : this.apiAudiences;
    const tokenAud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    const matched = want.filter((a) => tokenAud.includes(a));
    if (!matched.length) return { error: 'token audiences ' + JSON.stringify(tokenAud) + ' is invalid for the target audiences ' + JSON.stringify(want) };
    const kube = payload['kubernetes.io'] as KubeClaims | undefined;
    const ns = kube?.namespace;
    const sa = kube?.serviceaccount;
    if (!ns || !sa?.name || !sa.uid) return { error: 'service account token claims are missing' };
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

  async #verify(token: string): Promise<JWTPayload | null> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.#verified.get(key);
    if (hit) return hit;
    try {
      // Time claims are checked by the caller against the injected clock, not by jose's.
      const { payload } = await jwtVerify(token, this.#public, { algorithms: ['RS256'], clockTolerance: Number.MAX_SAFE_INTEGER });
      if (this.#verified.size >= CACHE_MAX) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(key, payload);
      return payload;
    } catch {
      return null;
    }
  }

  async #boundObjectsError(ns: string, kube: KubeClaims): Promise<string | undefined> {
    const sa = kube.serviceaccount!;
    const account = await this.#objects.get('serviceaccounts', ns, sa.name!);
    if (!account) return `service account ${ns}/${sa.name} has been deleted`;
    if (account.metadata?.uid !== sa.uid) return `service account UID (${sa.uid}) does not match claim (${account.metadata?.uid})`;
    const checks: Array<[string, 'pods' | 'secrets' | 'nodes', string | undefined, { name?: string; uid?: string } | undefined]> = [
      ['pod', 'pods', ns, kube.pod],
      ['secret', 'secrets', ns, kube.secret],
      ['node', 'nodes', undefined, kube.node],
    ];
    for (const [what, resource, namespace, ref] of checks) {
      if (!ref?.name) continue;
      // A pod's node is informative only: the pod is what the token is bound to (kube checks the
      // node only for tokens bound to a node).
      if (what === 'node' && kube.pod) continue;
      const obj = await this.#objects.get(resource, namespace, ref.name);
      const where = namespace ? `${namespace}/${ref.name}` : ref.name;
      if (!obj) return `${what} ${where} has been deleted`;
      if (obj.metadata?.uid !== ref.uid) return `${what} UID (${ref.uid}) does not match claim (${obj.metadata?.uid})`;
      const deleting = obj.metadata?.deletionTimestamp ? Date.parse(obj.metadata.deletionTimestamp) : NaN;
      if (deleting + DELETION_GRACE_MS < this.#clock.now()) return `${what} ${where} is being deleted`;
    }
    return undefined;
  }

  async #legacy(token: string, payload: JWTPayload, audiences: readonly string[]): Promise<TokenAuthResult | { error: string }> {
    const ns = payload['kubernetes.io/serviceaccount/namespace'];
    const secretName = payload['kubernetes.io/serviceaccount/secret.name'];
    const saName = payload['kubernetes.io/serviceaccount/service-account.name'];
    const saUid = payload['kubernetes.io/serviceaccount/service-account.uid'];
    if (typeof ns !== 'string' || typeof secretName !== 'string' || typeof saName !== 'string' || typeof saUid !== 'string') return { error: 'invalid bearer token' };
    const secret = await this.#objects.get('secrets', ns, secretName);
    const data = (secret as { data?: Record<string, string> } | null)?.data?.token;
    if (!secret || !data || Buffer.from(data, 'base64').toString() !== token) return { error: `secret ${ns}/${secretName} not found or does not hold this token` };
    if (secret.metadata?.deletionTimestamp) return { error: `token secret ${ns}/${secretName} is being deleted` };
    const account = await this.#objects.get('serviceaccounts', ns, saName);
    if (!account) return { error: `service account ${ns}/${saName} has been deleted` };
    if (account.metadata?.uid !== saUid) return { error: `service account UID (${saUid}) does not match claim (${account.metadata?.uid})` };
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
