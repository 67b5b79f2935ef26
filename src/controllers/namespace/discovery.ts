// Which namespaced resources a terminating namespace is emptied of: every namespaced resource in the
// server's discovery that can be listed and deleted (the preferred version of each group), as
// kube-controller-manager's namespaced-resources deleter finds them.

import type { ApiClient } from '../../client/client.ts';
import type { ResourceRef } from '../../client/resources.ts';

export interface NamespacedResource {
  ref: ResourceRef;
  /** "pods", "leases.coordination.k8s.io": how conditions name it. */
  qualified: string;
  deleteCollection: boolean;
}

interface APIResource {
  name?: string;
  namespaced?: boolean;
  verbs?: string[];
}

/** The namespaced resources of one discovery document that can be listed and deleted. */
export function deletable(apiVersion: string, resources: readonly APIResource[]): NamespacedResource[] {
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const out: NamespacedResource[] = [];
  for (const r of resources) {
    if (!r.name || r.name.includes('/') || !r.namespaced) continue;
    const verbs = r.verbs ?? [];
    if (!verbs.includes('list') || !(verbs.includes('delete') || verbs.includes('deletecollection'))) continue;
    out.push({ ref: { apiVersion, resource: r.name }, qualified: group ? `${r.name}.${group}` : r.name, deleteCollection: verbs.includes('deletecollection') });
  }
  return out;
}

export async function namespacedResources(client: ApiClient): Promise<NamespacedResource[]> {
  const core = await client.requestJson<{ resources?: APIResource[] }>('GET', '/api/v1');
  const out = deletable('v1', core.resources ?? []);
  const groups = await client.requestJson<{ groups?: Array<{ preferredVersion?: { groupVersion?: string } }> }>('GET', '/apis');
  for (const g of groups.groups ?? []) {
    const gv = g.preferredVersion?.groupVersion;
    if (!gv) continue;
    const doc = await client.requestJson<{ resources?: APIResource[] }>('GET', `/apis/${gv}`);
    out.push(...deletable(gv, doc.resources ?? []));
  }
  return out;
}
