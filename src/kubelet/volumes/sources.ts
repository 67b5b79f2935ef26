// Where the API objects a pod's volumes and env name come from: configMaps and secrets (volumes,
// configMapKeyRef, secretKeyRef, envFrom), claims and their volumes (persistentVolumeClaim and
// ephemeral volumes), and service-account tokens (projected serviceAccountToken sources). The agent
// reads them from the API server with a short cache, so a pod's several references cost one GET, and
// a refresh (configMap volumes are rewritten on resync) sees updates within `ttlMs`. Unit tests use
// MapConfigSource.
//
// Callers: pod workers and the volume manager, concurrently. get* resolve to undefined when the object
// does not exist (an expected outcome); other failures throw.
import type { ApiClient } from '../../client/client.ts';
import { isNotFound, type ApiError } from '../../client/errors.ts';
import { ConfigMaps, PersistentVolumeClaims, PersistentVolumes, Secrets, ServiceAccounts } from '../../client/resources.ts';
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret } from '../../api/types.ts';
import type { TokenRequest, TokenRequestSpec } from 'kubernetes-types/authentication/v1.js';
import type { Clock } from '../../util/clock.ts';

/**
 * A TokenRequest's answer. `token`: with the lifetime the server states (its `spec.expirationSeconds`,
 * which a server may shorten; absent when it sent none); `unserved`: the API server has no
 * `serviceaccounts/token` subresource (a 404 that is not about the service account); `notFound`: the
 * service account does not exist.
 */
export type TokenOutcome =
  | { kind: 'token'; token: string; expirationTimestamp: string; expirationSeconds?: number }
  | { kind: 'unserved'; message: string }
  | { kind: 'notFound'; message: string };

export interface ConfigSource {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  getPersistentVolume(name: string): Promise<PersistentVolume | undefined>;
  /** POST serviceaccounts/<name>/token (never cached here: the volume manager keeps tokens until they near expiry). */
  requestToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<TokenOutcome>;
}

export class ApiConfigSource implements ConfigSource {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(client: ApiClient, clock: Clock, ttlMs = 2000) {
    this.#client = client;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.#get(`cm/${namespace}/${name}`, () => this.#client.get<ConfigMap>(ConfigMaps, namespace, name)) as Promise<ConfigMap | undefined>;
  }

  getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.#get(`secret/${namespace}/${name}`, () => this.#client.get<Secret>(Secrets, namespace, name)) as Promise<Secret | undefined>;
  }

  getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.#get(`pvc/${namespace}/${name}`, () => this.#client.get<PersistentVolumeClaim>(PersistentVolumeClaims, namespace, name)) as Promise<PersistentVolumeClaim | undefined>;
  }

  getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return this.#get(`pv/${name}`, () => this.#client.get<PersistentVolume>(PersistentVolumes, undefined, name)) as Promise<PersistentVolume | undefined>;
  }

  async requestToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<TokenOutcome> {
    const body: TokenRequest = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec };
    try {
      const r = await this.#client.createSubresource<TokenRequest, TokenRequest>(ServiceAccounts, namespace, serviceAccount, 'token', body);
      const out: TokenOutcome = { kind: 'token', token: r.status?.token ?? '', expirationTimestamp: r.status?.expirationTimestamp ?? '' };
      return r.spec?.expirationSeconds !== undefined ? { ...out, expirationSeconds: r.spec.expirationSeconds } : out;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // A missing service account is a NotFound about it; a server without the subresource answers a
      // bare 404 (or one about some other thing).
      const details = (err as ApiError).status.details;
      if (details?.kind === 'serviceaccounts' && details.name === serviceAccount) return { kind: 'notFound', message: (err as ApiError).message };
      return { kind: 'unserved', message: `the API server does not serve TokenRequest (POST serviceaccounts/${serviceAccount}/token: ${(err as ApiError).message})` };
    }
  }

  #get(key: string, fetch: () => Promise<unknown>): Promise<unknown> {
    const now = this.#clock.now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.value;
    const value = fetch().catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      this.#cache.delete(key);
      throw err;
    });
    this.#cache.set(key, { at: now, value });
    if (this.#cache.size > 1024) this.#cache.delete(this.#cache.keys().next().value as string);
    return value;
  }
}

export class MapConfigSource implements ConfigSource {
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  /** Claims by `namespace/name`, volumes by name. */
  readonly claims = new Map<string, PersistentVolumeClaim>();
  readonly volumes = new Map<string, PersistentVolume>();
  /** Answers TokenRequests; absent, the server is one without the subresource. */
  tokens: ((namespace: string, serviceAccount: string, spec: TokenRequestSpec) => TokenOutcome) | undefined;
  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.claims.get(`${namespace}/${name}`);
  }
  async getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return this.volumes.get(name);
  }
  async requestToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<TokenOutcome> {
    return this.tokens?.(namespace, serviceAccount, spec) ?? { kind: 'unserved', message: `the API server does not serve TokenRequest (POST serviceaccounts/${serviceAccount}/token: the server could not find the requested resource)` };
  }
  async getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.configMaps.get(`${namespace}/${name}`);
  }
  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.secrets.get(`${namespace}/${name}`);
  }
}
