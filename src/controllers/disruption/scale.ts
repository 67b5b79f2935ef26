// The scale of a pod's controller, for budgets measured in percentages or maxUnavailable
// (getExpectedScale's finders): a ReplicaSet owned by a Deployment counts as the Deployment; any other
// owner is read through its scale subresource (ReplicaSets, StatefulSets, ReplicationControllers and
// custom resources alike), found by the owner reference's apiVersion and kind in the server's
// discovery, as the RESTMapper lets kube's controller do.
//
// ReplicaSets and Deployments are read from the caches they are given (the shared informers, as kube's
// listers), and fetched only when a cache does not hold them yet (just made): budgets are synced on
// every pod event, and a GET per controller per sync would put the API server on that path.
//
// Called by the disruption controller's workers; concurrent calls share the discovery cache.

import type { OwnerReference } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import type { ResourceRef } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';

export interface ControllerScale {
  uid: string;
  replicas: number;
}

/** A failure to work out an owner's scale that a retry may cure: the sync fails and says this. */
export class ScaleLookupError extends Error {
  override readonly name = 'ScaleLookupError';
}

/** Who asks the scale of pods' controllers (the controller; a fake in tests). */
export interface ScaleFinder {
  /** The controller's uid and replicas; undefined when it is gone or is not the one the reference names. */
  find(ref: OwnerReference, namespace: string): Promise<ControllerScale | undefined>;
}

interface APIResource {
  name?: string;
  kind?: string;
}

interface Mapping {
  ref: ResourceRef;
  /** The resource serves the scale subresource. */
  scale: boolean;
}

/** How long a discovery document is trusted before a kind it lacks is looked up again. */
const DISCOVERY_TTL_MS = 10_000;

type Scaled = { metadata?: { uid?: string; ownerReferences?: OwnerReference[] }; spec?: { replicas?: number } };

/** Read-only caches of apps/v1 ReplicaSets and Deployments, by namespace and name. */
export interface ScaleCaches {
  replicaSet(namespace: string, name: string): Scaled | undefined;
  deployment(namespace: string, name: string): Scaled | undefined;
}

export class ApiScaleFinder implements ScaleFinder {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #caches: ScaleCaches | undefined;
  readonly #docs = new Map<string, { at: number; resources: APIResource[] | undefined }>();

  constructor(client: ApiClient, clock: Clock, caches?: ScaleCaches) {
    this.#client = client;
    this.#clock = clock;
    this.#caches = caches;
  }

  async find(ref: OwnerReference, namespace: string): Promise<ControllerScale | undefined> {
    const group = groupOf(ref.apiVersion);
    if (ref.kind === 'ReplicaSet' && (group === 'apps' || group === 'extensions')) return this.#replicaSet(ref, namespace);
    return this.#viaScale(ref, namespace);
  }

  /** getPodDeployment + getPodReplicaSet: a Deployment's ReplicaSet counts as the Deployment. */
  async #replicaSet(ref: OwnerReference, namespace: string): Promise<ControllerScale | undefined> {
    const rs = this.#caches?.replicaSet(namespace, ref.name) ?? (await this.#get<Scaled>(await this.#mapping(ref.apiVersion, ref.kind), namespace, ref.name));
    if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
    const owner = rs.metadata?.ownerReferences?.find((r) => r?.controller === true);
    if (owner && owner.kind === 'Deployment' && ['apps', 'extensions'].includes(groupOf(owner.apiVersion))) {
      const d = this.#caches?.deployment(namespace, owner.name) ?? (await this.#get<Scaled>(await this.#mapping(owner.apiVersion, owner.kind), namespace, owner.name));
      if (!d || d.metadata?.uid !== owner.uid) return undefined;
      return { uid: owner.uid, replicas: d.spec?.replicas ?? 1 };
    }
    return { uid: ref.uid, replicas: rs.spec?.replicas ?? 1 };
  }

  /** getScaleController: the owner's Scale, which must be served. */
  async #viaScale(ref: OwnerReference, namespace: string): Promise<ControllerScale | undefined> {
    const m = await this.#mapping(ref.apiVersion, ref.kind);
    if (!m.scale) throw new ScaleLookupError(`${m.ref.resource}${groupOf(ref.apiVersion) ? `.${groupOf(ref.apiVersion)}` : ''} does not implement the scale subresource`);
    try {
      const s = await this.#client.get<{ metadata?: { uid?: string }; spec?: { replicas?: number } }>(m.ref, namespace, ref.name, { subresource: 'scale' });
      if (s.metadata?.uid !== ref.uid) return undefined;
      return { uid: ref.uid, replicas: s.spec?.replicas ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #get<T>(m: Mapping, namespace: string, name: string): Promise<T | undefined> {
    try {
      return await this.#client.get<T>(m.ref, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** RESTMapping: the resource of a kind in a group version, from discovery (refreshed when it lacks the kind). */
  async #mapping(apiVersion: string, kind: string): Promise<Mapping> {
    let resources = await this.#discover(apiVersion, false);
    let m = mappingIn(apiVersion, kind, resources);
    if (!m) {
      resources = await this.#discover(apiVersion, true);
      m = mappingIn(apiVersion, kind, resources);
    }
    if (!m) throw new ScaleLookupError(`no matches for kind "${kind}" in version "${apiVersion}"`);
    return m;
  }

  async #discover(apiVersion: string, refresh: boolean): Promise<APIResource[] | undefined> {
    const now = this.#clock.now();
    const cached = this.#docs.get(apiVersion);
    if (cached && (!refresh || now - cached.at < DISCOVERY_TTL_MS)) return cached.resources;
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let resources: APIResource[] | undefined;
    try {
      resources = (await this.#client.requestJson<{ resources?: APIResource[] }>('GET', path)).resources ?? [];
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#docs.set(apiVersion, { at: now, resources });
    return resources;
  }
}

function mappingIn(apiVersion: string, kind: string, resources: APIResource[] | undefined): Mapping | undefined {
  const main = resources?.find((r) => r.kind === kind && r.name && !r.name.includes('/'));
  if (!main?.name) return undefined;
  const scale = resources!.some((r) => r.name === `${main.name}/scale`);
  return { ref: { apiVersion, resource: main.name }, scale };
}

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}
