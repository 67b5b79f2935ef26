// Discovery documents, built from the resource table. kubectl prefers aggregated discovery (one round
// trip, recognised only by the response Content-Type) and falls back to the legacy documents.

import { createHash } from 'node:crypto';
import type { KindDefinition } from '../registry/kind.ts';

/** The aggregated discovery versions served, most preferred first (kubectl 1.32 offers v2, then v2beta1: same JSON shape). */
export const aggregatedVersions = ['v2', 'v2beta1'] as const;
export type AggregatedVersion = (typeof aggregatedVersions)[number];

export function aggregatedContentType(version: AggregatedVersion = 'v2'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

/**
 * The aggregated discovery version an Accept header asks for (its first alternative that names one we
 * serve), or undefined for legacy discovery. Parameter order is free and extra parameters are allowed.
 */
export function negotiateAggregated(accept: string | undefined): AggregatedVersion | undefined {
  if (!accept) return undefined;
  for (const alt of accept.split(',')) {
    const [type, ...params] = alt.split(';').map((x) => x.trim());
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue;
    const p = new Map(params.map((x) => { const i = x.indexOf('='); return [x.slice(0, i).trim(), x.slice(i + 1).trim()] as const; }));
    if (p.get('g') !== 'apidiscovery.k8s.io' || p.get('as') !== 'APIGroupDiscoveryList') {
      // A plain JSON alternative before any aggregated one: legacy discovery is what the client prefers.
      if (!p.has('as')) return undefined;
      continue;
    }
    const v = p.get('v');
    if (v === 'v2' || v === 'v2beta1') return v;
  }
  return undefined;
}

/**
 * kube-apiserver's storageVersionHash (endpoints/discovery.StorageVersionHash): base64 of the first 8
 * bytes of sha256("<group>/<version>/<kind>") of the version objects are stored in. Clients (the
 * storage version migrator, garbage collector caches) compare it to notice a storage version change.
 */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

/**
 * A kind's storageVersionHash, or undefined for kinds never stored (reviews computed per request, as
 * kube-apiserver sets it only for storages with a storage version).
 */
export function kindStorageVersionHash(k: KindDefinition): string | undefined {
  if (k.compute) return undefined;
  if (k.storage) return storageVersionHash(k.storage.group, k.storage.version, k.storage.kind);
  return storageVersionHash(k.info.group, k.storageVersion ?? k.info.version, k.info.kind);
}

/** The kind a subresource answers with (responseKind is required, or kubectl drops the entry). */
function subKind(k: KindDefinition, sub: string): { group: string; version: string; kind: string; verbs: readonly string[] } {
  const s = k.subresources[sub]!;
  const gvk = s.kind ?? { group: k.info.group, version: k.info.version, kind: k.info.kind };
  return { ...gvk, verbs: s.verbs };
}

export interface GroupVersion {
  group: string;
  version: string;
  kinds: KindDefinition[];
}

export function groupVersions(kinds: readonly KindDefinition[]): GroupVersion[] {
  const out: GroupVersion[] = [];
  for (const k of kinds) {
    const r = k.info;
    let gv = out.find((g) => g.group === r.group && g.version === r.version);
    if (!gv) out.push((gv = { group: r.group, version: r.version, kinds: [] }));
    gv.kinds.push(k);
  }
  return out;
}

function aggregatedResource(k: KindDefinition) {
  const r = k.info;
  const entry: Record<string, unknown> = {
    resource: r.resource,
    singularResource: r.singular,
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    verbs: r.verbs,
  };
  if (r.shortNames?.length) entry.shortNames = r.shortNames;
  if (r.categories?.length) entry.categories = r.categories;
  if (r.subresources?.length) {
    entry.subresources = r.subresources.map((s) => {
      const sk = subKind(k, s);
      return { subresource: s, responseKind: { group: sk.group, version: sk.version, kind: sk.kind }, verbs: sk.verbs };
    });
  }
  return entry;
}

/** GET /api or /apis in aggregated form (APIResourceDiscovery carries no storageVersionHash). */
export function aggregatedDiscovery(kinds: readonly KindDefinition[], core: boolean, version: AggregatedVersion = 'v2') {
  const gvs = groupVersions(kinds).filter((g) => (g.group === '') === core);
  const byGroup = new Map<string, GroupVersion[]>();
  for (const gv of gvs) byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), gv]);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: [...byGroup].map(([group, versions]) => ({
      metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
      versions: versions.map((v) => ({ version: v.version, freshness: 'Current', resources: v.kinds.map(aggregatedResource) })),
    })),
  };
}

/** Legacy GET /api. */
export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string, versions: string[]) {
  const vs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

/** Legacy GET /apis. */
export function apiGroupList(kinds: readonly KindDefinition[]) {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions(kinds)) if (gv.group) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([g, vs]) => apiGroup(g, vs)) };
}

/** Legacy GET /apis/{group}. */
export function apiGroupDoc(kinds: readonly KindDefinition[], group: string) {
  const versions = groupVersions(kinds).filter((g) => g.group === group).map((g) => g.version);
  if (!versions.length) return null;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) };
}

/** Legacy GET /api/v1 or /apis/{group}/{version}. */
export function apiResourceList(kinds: readonly KindDefinition[], group: string, version: string) {
  const ks = kinds.filter((k) => k.info.group === group && k.info.version === version);
  if (!ks.length) return null;
  const list: Record<string, unknown>[] = [];
  for (const kind of ks) {
    const r = kind.info;
    const e: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames?.length) e.shortNames = r.shortNames;
    if (r.categories?.length) e.categories = r.categories;
    const hash = kindStorageVersionHash(kind);
    if (hash) e.storageVersionHash = hash;
    list.push(e);
    for (const s of r.subresources ?? []) {
      const k = subKind(kind, s);
      const se: Record<string, unknown> = { name: `${r.resource}/${s}`, singularName: r.singular, namespaced: r.namespaced, kind: k.kind, verbs: k.verbs };
      if (k.group !== group || k.version !== version) {
        se.group = k.group;
        se.version = k.version;
      }
      list.push(se);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: list };
}
