// Where configMap and secret contents come from, for volumes and for env (configMapKeyRef,
// secretKeyRef, envFrom). The agent reads them from the API server with a short cache, so a pod's
// several references cost one GET, and a refresh (configMap volumes are rewritten on resync) sees
// updates within `ttlMs`. Unit tests use MapConfigSource.
//
// Callers: pod workers and the volume manager, concurrently. get* resolve to undefined when the object
// does not exist (an expected outcome); other failures throw.
import type { ApiClient } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { ConfigMaps, Secrets } from '../../client/resources.ts';
import type { ConfigMap, Secret } from '../../api/types.ts';
import type { Clock } from '../../util/clock.ts';

export interface ConfigSource {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
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
  async getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.configMaps.get(`${namespace}/${name}`);
  }
  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.secrets.get(`${namespace}/${name}`);
  }
}
