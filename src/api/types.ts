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

// Workloads (apps/v1, batch/v1, policy/v1) and their history. Their status fields are written by
// controllers through the status subresource; the mutable forms let the strategies set them.
import type * as apps from 'kubernetes-types/apps/v1.js';
import type * as batch from 'kubernetes-types/batch/v1.js';
import type * as policy from 'kubernetes-types/policy/v1.js';
export type {
  DeploymentSpec, DeploymentStatus, DeploymentCondition, DeploymentStrategy, RollingUpdateDeployment,
  ReplicaSetSpec, ReplicaSetStatus, ReplicaSetCondition,
  DaemonSetSpec, DaemonSetStatus, DaemonSetUpdateStrategy, RollingUpdateDaemonSet, DaemonSetCondition,
  StatefulSetSpec, StatefulSetStatus, StatefulSetUpdateStrategy, RollingUpdateStatefulSetStrategy, StatefulSetCondition,
  StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetOrdinals,
} from 'kubernetes-types/apps/v1.js';
export type { JobSpec, JobStatus, JobCondition, CronJobSpec, CronJobStatus, JobTemplateSpec, PodFailurePolicy, PodFailurePolicyRule, UncountedTerminatedPods, SuccessPolicy } from 'kubernetes-types/batch/v1.js';
export type { PodDisruptionBudgetSpec, PodDisruptionBudgetStatus, Eviction } from 'kubernetes-types/policy/v1.js';
export type Deployment = Mutable<Omit<apps.Deployment, 'metadata'>> & { metadata?: ObjectMeta };
export type ReplicaSet = Mutable<Omit<apps.ReplicaSet, 'metadata'>> & { metadata?: ObjectMeta };
export type DaemonSet = Mutable<Omit<apps.DaemonSet, 'metadata'>> & { metadata?: ObjectMeta };
export type StatefulSet = Mutable<Omit<apps.StatefulSet, 'metadata'>> & { metadata?: ObjectMeta };
export type ControllerRevision = Mutable<Omit<apps.ControllerRevision, 'metadata'>> & { metadata?: ObjectMeta };
export type Job = Mutable<Omit<batch.Job, 'metadata'>> & { metadata?: ObjectMeta };
export type CronJob = Mutable<Omit<batch.CronJob, 'metadata'>> & { metadata?: ObjectMeta };
export type PodDisruptionBudget = Mutable<Omit<policy.PodDisruptionBudget, 'metadata'>> & { metadata?: ObjectMeta };
export type ReplicationController = Mutable<Omit<core.ReplicationController, 'metadata'>> & { metadata?: ObjectMeta };

// Services and their endpoints (core/v1 Endpoints, discovery.k8s.io/v1 EndpointSlice): written by the
// endpoint controllers, read by the node proxy and the cluster DNS.
import type * as discovery from 'kubernetes-types/discovery/v1.js';
export type { Endpoint as SliceEndpoint, EndpointConditions, EndpointPort as SliceEndpointPort, EndpointHints, ForZone } from 'kubernetes-types/discovery/v1.js';
export type Endpoints = Mutable<Omit<core.Endpoints, 'metadata'>> & { metadata?: ObjectMeta };
export type EndpointSlice = Mutable<Omit<discovery.EndpointSlice, 'metadata'>> & { metadata?: ObjectMeta };

// Storage: PersistentVolumes (core/v1) and StorageClasses (storage.k8s.io/v1); their status and
// defaulted fields are written by the server and the volume controllers.
import type * as storage from 'kubernetes-types/storage/v1.js';
export type PersistentVolume = Mutable<Omit<core.PersistentVolume, 'metadata'>> & { metadata?: ObjectMeta };
export type StorageClass = Mutable<Omit<storage.StorageClass, 'metadata'>> & { metadata?: ObjectMeta };
