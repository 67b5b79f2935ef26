// Which resources the garbage collector watches, and how an owner reference's apiVersion/kind maps to
// a REST resource: read from the API server's (legacy) discovery documents, so resources the server
// learns to serve later (apps/v1) are collected without changing this code. The preferred version of
// each group is watched; an owner reference resolves by group and kind whatever its version, as the
// RESTMapper lets Kubernetes' collector do.

import type { ApiClient } from '../../client/client.ts';
import type { ResourceRef } from '../../client/resources.ts';

export interface CollectedResource {
  ref: ResourceRef;
  group: string;
  kind: string;
  namespaced: boolean;
}

interface APIResource {
  name?: string;
  kind?: string;
  namespaced?: boolean;
  verbs?: string[];
}

const NEEDED_VERBS = ['list', 'watch', 'delete', 'get', 'patch'];

export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** Resources of one discovery document the collector can watch and delete. */
export function collectable(apiVersion: string, resources: readonly APIResource[]): CollectedResource[] {
  const out: CollectedResource[] = [];
  for (const r of resources) {
    if (!r.name || r.name.includes('/') || !r.kind) continue;
    if (!NEEDED_VERBS.every((v) => r.verbs?.includes(v))) continue;
    out.push({ ref: { apiVersion, resource: r.name }, group: groupOf(apiVersion), kind: r.kind, namespaced: !!r.namespaced });
  }
  return out;
}

/** Lists the collectable resources the server serves (core v1 plus each group's preferred version). */
export async function discoverResources(client: ApiClient): Promise<CollectedResource[]> {
  const core = await client.requestJson<{ resources?: APIResource[] }>('GET', '/api/v1');
  const out = collectable('v1', core.resources ?? []);
  const groups = await client.requestJson<{ groups?: Array<{ preferredVersion?: { groupVersion?: string }; versions?: Array<{ groupVersion?: string }> }> }>('GET', '/apis');
  for (const g of groups.groups ?? []) {
    const gv = g.preferredVersion?.groupVersion ?? g.versions?.[0]?.groupVersion;
    if (!gv) continue;
    const doc = await client.requestJson<{ resources?: APIResource[] }>('GET', `/apis/${gv}`);
    out.push(...collectable(gv, doc.resources ?? []));
  }
  return out;
}

/** Owner kind lookup: group + kind → resource. */
export class KindMap {
  readonly #byKind = new Map<string, CollectedResource>();

  constructor(resources: readonly CollectedResource[] = []) {
    for (const r of resources) this.add(r);
  }

  add(r: CollectedResource): void {
    this.#byKind.set(`${r.group}/${r.kind}`, r);
  }

  resolve(apiVersion: string, kind: string): CollectedResource | undefined {
    return this.resolveGroupKind(groupOf(apiVersion), kind);
  }

  resolveGroupKind(group: string, kind: string): CollectedResource | undefined {
    return this.#byKind.get(`${group}/${kind}`);
  }
}
