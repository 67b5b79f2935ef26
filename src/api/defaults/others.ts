// Defaults of the other core resources, only where Kubernetes defaults something (scheme
// defaults and the v1 conversion's mirror fields). In place, idempotent, no I/O.
// ConfigMaps, ServiceAccounts, Events and Leases have nothing to default.

import type { Namespace, Node, Secret } from '../types.ts';
import { formatQuantity, tryParseQuantity } from '../quantity.ts';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The kubernetes.io/metadata.name label (always equal to the name) and status.phase Active. */
export function defaultNamespace(ns: Namespace): void {
  const name = ns.metadata?.name;
  if (name) (ns.metadata!.labels ??= {})[NAMESPACE_NAME_LABEL] = name;
  if (ns.status && !ns.status.phase) ns.status.phase = 'Active';
}

function canonical(list: Record<string, string> | undefined): void {
  if (!list) return;
  for (const [k, v] of Object.entries(list)) {
    const q = tryParseQuantity(v);
    if (q) list[k] = formatQuantity(q);
  }
}

/**
 * spec.podCIDR mirrors spec.podCIDRs[0] (v1 conversion); status.allocatable defaults to capacity;
 * quantities are stored in canonical form.
 */
export function defaultNode(node: Node): void {
  const spec = node.spec;
  if (spec) {
    if ((!spec.podCIDRs || spec.podCIDRs.length === 0) && spec.podCIDR) spec.podCIDRs = [spec.podCIDR];
    if (spec.podCIDRs?.length) spec.podCIDR = spec.podCIDRs[0];
  }
  const st = node.status;
  if (st) {
    canonical(st.capacity);
    canonical(st.allocatable);
    if (!st.allocatable && st.capacity) st.allocatable = { ...st.capacity };
  }
}

/** type Opaque by default; stringData is merged into data (base64) and dropped, as the v1 conversion does. */
export function defaultSecret(secret: Secret): void {
  if (!secret.type) secret.type = 'Opaque';
  const sd = secret.stringData;
  if (sd && typeof sd === 'object') {
    const data = (secret.data ??= {});
    for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete secret.stringData;
}
