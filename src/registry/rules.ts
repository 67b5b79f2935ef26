// Strategy pieces several kinds share. prepareForUpdate gets `old` read-only (see
// Store.guaranteedUpdate): the parts an update must keep are moved from it, not copied, and nothing
// writes to them afterwards.

import type { KubeObject } from '../api/types.ts';
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
