// Wire types of the Kubernetes API. We use `kubernetes-types` (plain JSON-shaped interfaces, timestamps
// as strings) rather than @kubernetes/client-node's classes, whose Date fields do not match the wire.
// That package marks server-set fields readonly; the server sets them, so we re-export mutable forms.
import type * as core from 'kubernetes-types/core/v1.js';
import type * as meta from 'kubernetes-types/meta/v1.js';

export type * from 'kubernetes-types/core/v1.js';
export type { OwnerReference, Status as MetaStatus, Time, MicroTime, LabelSelector, LabelSelectorRequirement, ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
export type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
export type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type ObjectMeta = Mutable<meta.ObjectMeta>;
export type ListMeta = Mutable<meta.ListMeta>;
export type Pod = Mutable<Omit<core.Pod, 'metadata'>> & { metadata?: ObjectMeta };
export type Node = Mutable<Omit<core.Node, 'metadata'>> & { metadata?: ObjectMeta };
export type Service = Mutable<Omit<core.Service, 'metadata'>> & { metadata?: ObjectMeta };

/** Any API object as the server handles it generically. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}
