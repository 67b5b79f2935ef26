// Discovery documents, built from the resource table. kubectl prefers aggregated discovery (one round
// trip, recognised only by the response Content-Type) and falls back to the legacy documents.

import type { KindDefinition } from '../registry/kind.ts';

export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

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

/** GET /api or /apis in aggregated form. */
export function aggregatedDiscovery(kinds: readonly KindDefinition[], core: boolean) {
  const gvs = groupVersions(kinds).filter((g) => (g.group === '') === core);
  const byGroup = new Map<string, GroupVersion[]>();
  for (const gv of gvs) byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), gv]);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
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
