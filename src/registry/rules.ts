// Strategy pieces several kinds share. prepareForUpdate gets `old` read-only (see
// Store.guaranteedUpdate): the parts an update must keep are moved from it, not copied, and nothing
// writes to them afterwards.

import type { FieldError } from '../api/field.ts';
import type { KubeObject } from '../api/types.ts';
import type { SubresourceDefinition } from './kind.ts';
import { isDNS1123Subdomain, type NameValidator } from '../api/validation/names.ts';

export const subdomainName: NameValidator = (name) => isDNS1123Subdomain(name);

/** Keep what a main-resource update must not touch (status), as Kubernetes' strategies do. */
export function keepStatus<T extends object>(obj: T, old: T): void {
  const o = obj as KubeObject;
  const was = old as KubeObject;
  if (was.status === undefined) delete o.status;
  else o.status = was.status;
}

/** Every top-level part of `obj` but its metadata, type and `keep` becomes `old`'s (what a subresource may not change). */
export function restFromOld<T extends object>(obj: T, old: T, keep?: string): void {
  const o = obj as KubeObject;
  const was = old as KubeObject;
  const own = (k: string) => k !== keep && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind';
  for (const k of Object.keys(o)) if (own(k)) delete o[k];
  for (const k of Object.keys(was)) if (own(k)) o[k] = was[k];
}

/** A status update changes only status. */
export function statusOnly<T extends object>(obj: T, old: T): void {
  restFromOld(obj, old, 'status');
}

/**
 * The scale subresource of a kind whose desired count is `spec.replicas` (ReplicaSets, Deployments,
 * StatefulSets, ReplicationControllers): a Scale write changes spec.replicas and nothing else, and the
 * object must still pass the kind's update validation. `selector` gives the Scale's status.selector.
 */
export function specReplicasScale<T extends object>(validateUpdate: (obj: T, old: T) => FieldError[], selector: (obj: T) => string | undefined): SubresourceDefinition<T> {
  type WithReplicas = { spec?: { replicas?: number }; status?: { replicas?: number } };
  return {
    verbs: ['get', 'patch', 'update'],
    kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
    openapi: true,
    scale: {
      get: (obj) => {
        const o = obj as WithReplicas;
        const sel = selector(obj);
        return { spec: { replicas: o.spec?.replicas ?? 0 }, status: { replicas: o.status?.replicas ?? 0, ...(sel !== undefined ? { selector: sel } : {}) } };
      },
      setReplicas: (obj, n) => {
        const o = obj as WithReplicas;
        o.spec = { ...o.spec, replicas: n };
      },
    },
    update: {
      prepareForUpdate(obj, old) {
        const replicas = (obj as WithReplicas).spec?.replicas;
        restFromOld(obj, old);
        // `old` is shared and read-only: the spec is copied before its replicas are written.
        const o = obj as WithReplicas;
        o.spec = { ...(old as WithReplicas).spec, ...(replicas !== undefined ? { replicas } : {}) };
      },
      validateUpdate,
    },
  };
}
