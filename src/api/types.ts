// Wire types of the Kubernetes API. We use `kubernetes-types` (plain JSON-shaped interfaces, timestamps
// as strings) rather than @kubernetes/client-node's classes, whose Date fields do not match the wire.
export type * from 'kubernetes-types/core/v1';
export type { ObjectMeta, OwnerReference, ListMeta, Status as MetaStatus, Time, MicroTime, LabelSelector, ManagedFieldsEntry } from 'kubernetes-types/meta/v1';
export type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1';

/** Any API object as the server handles it generically. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: import('kubernetes-types/meta/v1').ObjectMeta;
  [key: string]: unknown;
}
