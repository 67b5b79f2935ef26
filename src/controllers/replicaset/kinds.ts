// The two kinds the ReplicaSet controller keeps: apps/v1 ReplicaSets and their predecessor, core/v1
// ReplicationControllers (kube-controller-manager runs the same code for both, through an adapter).

import type { LabelSelectorValue } from '../../api/labels.ts';
import { selectorFromSet } from '../../api/labels.ts';
import type { ObjectMeta, PodTemplateSpec, ReplicaSet, ReplicaSetStatus, ReplicationController } from '../../api/types.ts';
import { selectorOf } from '../../api/validation/workloads.ts';
import type { HasMetadata } from '../../client/client.ts';
import { ReplicaSets, ReplicationControllers, type ResourceRef } from '../../client/resources.ts';

export interface ReplicatedKind<T extends Owner> {
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  /** The event source component (kube-controller-manager's names). */
  component: string;
  selector(obj: T): LabelSelectorValue | undefined;
  replicas(obj: T): number;
  minReadySeconds(obj: T): number;
  template(obj: T): PodTemplateSpec | undefined;
  status(obj: T): ReplicaSetStatus | undefined;
}

/** An object with full metadata, as the owners' informers hold them. */
export type Owner = HasMetadata & { metadata?: ObjectMeta };
export type RS = ReplicaSet & Owner;
export type RC = ReplicationController & Owner;

export const replicaSetKind: ReplicatedKind<RS> = {
  ref: ReplicaSets,
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  component: 'replicaset-controller',
  selector: (rs) => selectorOf(rs.spec?.selector),
  replicas: (rs) => rs.spec?.replicas ?? 1,
  minReadySeconds: (rs) => rs.spec?.minReadySeconds ?? 0,
  template: (rs) => rs.spec?.template,
  status: (rs) => rs.status,
};

export const replicationControllerKind: ReplicatedKind<RC> = {
  ref: ReplicationControllers,
  apiVersion: 'v1',
  kind: 'ReplicationController',
  component: 'replication-controller',
  selector: (rc) => (rc.spec?.selector && Object.keys(rc.spec.selector).length ? selectorFromSet(rc.spec.selector) : undefined),
  replicas: (rc) => rc.spec?.replicas ?? 1,
  minReadySeconds: (rc) => rc.spec?.minReadySeconds ?? 0,
  template: (rc) => rc.spec?.template,
  status: (rc) => rc.status as ReplicaSetStatus | undefined,
};
