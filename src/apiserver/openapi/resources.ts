// The resources whose schemas and operations the OpenAPI documents describe, derived from the kind
// definitions (src/registry/kinds.ts).

import type { KindDefinition } from '../../registry/kind.ts';

export interface SubresourceSpec {
  name: string;
  /** Kind of the request/response body when it is not the parent's kind. */
  kind?: string;
  /** Group/version of that kind when it differs from the parent's (pods/eviction → policy/v1). */
  group?: string;
  version?: string;
  verbs: readonly ('get' | 'update' | 'patch' | 'create')[];
}

export interface ResourceSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: readonly ('get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'watch')[];
  subresources: readonly SubresourceSpec[];
  /** A custom resource's structural schema (built-in kinds are described from their models). */
  customSchema?: { [key: string]: unknown };
}

type Verb = ResourceSpec['verbs'][number];
type SubVerb = SubresourceSpec['verbs'][number];

/** What the OpenAPI documents describe of the served kinds: the main resource and the subresources kube-apiserver publishes. */
export function resourceSpecs(kinds: readonly KindDefinition[]): ResourceSpec[] {
  return kinds.map((k) => ({
    group: k.info.group,
    version: k.info.version,
    kind: k.info.kind,
    plural: k.info.resource,
    namespaced: k.info.namespaced,
    verbs: k.info.verbs as Verb[],
    ...('openAPIV3' in k.schema ? { customSchema: k.schema.openAPIV3 as { [key: string]: unknown } } : {}),
    subresources: Object.entries(k.subresources)
      .filter(([, s]) => s.openapi)
      .map(([name, s]) => ({
        name,
        verbs: s.verbs as SubVerb[],
        ...(s.kind ? { kind: s.kind.kind } : {}),
        ...(s.kind && (s.kind.group !== k.info.group || s.kind.version !== k.info.version) ? { group: s.kind.group, version: s.kind.version } : {}),
      })),
  }));
}

/** `api/v1`, `apis/coordination.k8s.io/v1`: the OpenAPI v3 index key of a group-version. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}
