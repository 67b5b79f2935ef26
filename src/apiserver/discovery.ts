// Discovery documents, built from the resource table. kubectl prefers aggregated discovery (one round
// trip, recognised only by the response Content-Type) and falls back to the legacy documents.

import type { ResourceInfo } from '../registry/strategy.ts';

export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** The kind each subresource answers with (responseKind is required, or kubectl drops the entry). */
const subresourceKinds: Record<string, { group: string; version: string; kind: string; verbs: string[] }> = {
  status: { group: '', version: '', kind: '', verbs: ['get', 'patch', 'update'] },
  binding: { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  log: { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
  exec: { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { group: '', version: 'v1', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  finalize: { group: '', version: '', kind: '', verbs: ['update'] },
};

function subKind(r: ResourceInfo, sub: string) {
  const s = subresourceKinds[sub]!;
  const kind = s.kind || r.kind;
  const version = s.version || r.version;
  const group = s.kind ? s.group : r.group;
  if (r.resource === 'nodes' && sub === 'proxy') return { group: '', version: 'v1', kind: 'NodeProxyOptions', verbs: s.verbs };
  return { group, version, kind, verbs: s.verbs };
}

export interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceInfo[];
}

export function groupVersions(resources: ResourceInfo[]): GroupVersion[] {
  const out: GroupVersion[] = [];
  for (const r of resources) {
    let gv = out.find((g) => g.group === r.group && g.version === r.version);
    if (!gv) out.push((gv = { group: r.group, version: r.version, resources: [] }));
    gv.resources.push(r);
  }
  return out;
}

function aggregatedResource(r: ResourceInfo) {
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
      const k = subKind(r, s);
      return { subresource: s, responseKind: { group: k.group, version: k.version, kind: k.kind }, verbs: k.verbs };
    });
  }
  return entry;
}

/** GET /api or /apis in aggregated form. */
export function aggregatedDiscovery(resources: ResourceInfo[], core: boolean) {
  const gvs = groupVersions(resources).filter((g) => (g.group === '') === core);
  const byGroup = new Map<string, GroupVersion[]>();
  for (const gv of gvs) byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), gv]);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [...byGroup].map(([group, versions]) => ({
      metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
      versions: versions.map((v) => ({ version: v.version, freshness: 'Current', resources: v.resources.map(aggregatedResource) })),
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
export function apiGroupList(resources: ResourceInfo[]) {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions(resources)) if (gv.group) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([g, vs]) => apiGroup(g, vs)) };
}

/** Legacy GET /apis/{group}. */
export function apiGroupDoc(resources: ResourceInfo[], group: string) {
  const versions = groupVersions(resources).filter((g) => g.group === group).map((g) => g.version);
  if (!versions.length) return null;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) };
}

/** Legacy GET /api/v1 or /apis/{group}/{version}. */
export function apiResourceList(resources: ResourceInfo[], group: string, version: string) {
  const rs = resources.filter((r) => r.group === group && r.version === version);
  if (!rs.length) return null;
  const list: Record<string, unknown>[] = [];
  for (const r of rs) {
    const e: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames?.length) e.shortNames = r.shortNames;
    if (r.categories?.length) e.categories = r.categories;
    list.push(e);
    for (const s of r.subresources ?? []) {
      const k = subKind(r, s);
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
