// Starts every controller of one process on shared informers (kube-controller-manager, reduced to what
// tinykube needs).
//
// Called once by src/cmd (tinykube server, tinykube up) with a client for the API server; stop() ends
// the controllers, then the informers, and waits for the writes in flight.

import type { ApiClient } from '../client/client.ts';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { ApiEventSink } from './events.ts';
import { GarbageCollector } from './garbagecollector/controller.ts';
import type { GarbageCollectorOptions } from './garbagecollector/controller.ts';
import { SharedInformers } from './informers.ts';
import { NODE_CONTROLLER_COMPONENT, NodeLifecycleController } from './nodelifecycle/controller.ts';
import type { NodeLifecycleOptions } from './nodelifecycle/controller.ts';
import { PodGarbageCollector } from './podgc/controller.ts';
import type { PodGCOptions } from './podgc/controller.ts';
import { NamespaceController } from './namespace/controller.ts';
import { ServiceAccountController } from './serviceaccount/controller.ts';
import { RootCACertPublisher } from './rootcacertpublisher/controller.ts';
import { TokensController, type LegacyTokenSigner } from './serviceaccount/tokens.ts';
import { StatefulSetController } from './statefulset/controller.ts';
import { ReplicaSetController } from './replicaset/controller.ts';
import type { ReplicaSetControllerOptions } from './replicaset/controller.ts';
import { replicaSetKind, replicationControllerKind, type RC, type RS } from './replicaset/kinds.ts';
import { DeploymentController } from './deployment/controller.ts';
import { DISRUPTION_COMPONENT, DisruptionController } from './disruption/controller.ts';
import { DaemonSetController } from './daemonset/controller.ts';
import { JobController, type JobControllerOptions } from './job/controller.ts';
import { CronJobController } from './cronjob/controller.ts';
import { TTLAfterFinishedController } from './ttlafterfinished/controller.ts';
import { ENDPOINTSLICE_COMPONENT, EndpointSliceController, type EndpointSliceControllerOptions } from './endpointslice/controller.ts';
import { ENDPOINTS_COMPONENT, EndpointsController } from './endpoints/controller.ts';
import { ApiServiceStatusWriter, fromShared, SERVICELB_COMPONENT, ServiceLBController } from './servicelb/controller.ts';
import { PersistentVolumeController, PV_CONTROLLER_COMPONENT, type PersistentVolumeControllerOptions } from './persistentvolume/controller.ts';
import { LOCAL_PATH_COMPONENT, LocalPathProvisioner } from './localpath/provisioner.ts';
import { LocalPathResizer } from './localpath/resizer.ts';
import { EPHEMERAL_COMPONENT, EphemeralVolumeController } from './ephemeral/controller.ts';
import { PVCProtectionController } from './pvcprotection/controller.ts';
import { PVProtectionController } from './pvprotection/controller.ts';
import { ClusterRoleAggregationController } from './clusterroleaggregation/controller.ts';
import { CSRApprovingController, type ApprovalAuthorizer } from './certificates/approver.ts';
import { CSRSigningController } from './certificates/signer.ts';
import type { SigningCA } from './certificates/sign.ts';

type Tunables<T> = Omit<T, 'client' | 'informers' | 'clock' | 'events' | 'onError'>;

export interface ControllerOptions {
  /** Node lifecycle tunables (nodeMonitorGracePeriodMs, clusterCIDR, nodeCIDRMaskSize...); false disables it. */
  nodeLifecycle?: Tunables<NodeLifecycleOptions> | false;
  /** Garbage collector tunables; false disables it. */
  garbageCollector?: Tunables<GarbageCollectorOptions> | false;
  /** Pod GC tunables (terminatedPodThreshold, periodMs, quarantineMs); false disables it. */
  podGC?: Tunables<PodGCOptions> | false;
  /** The namespace controller (empties and releases deleted namespaces); false disables it. */
  namespace?: false;
  /** The serviceaccount controller (a `default` ServiceAccount per namespace); false disables it. */
  serviceAccount?: false;
  /** The statefulset controller; false disables it. */
  statefulSet?: false;
  /** The ReplicaSet controller (also keeps ReplicationControllers) tunables; false disables both. */
  replicaSet?: Tunables<ReplicaSetControllerOptions> | false;
  /** The deployment controller (rolls Deployments out through ReplicaSets); false disables it. */
  deployment?: false;
  /** The disruption controller (PodDisruptionBudgets' status); false disables it. */
  disruption?: false;
  /** The DaemonSet controller; false disables it. */
  daemonSet?: false;
  /** The Job controller (backoffBaseMs, backoffMaxMs...) and the TTL-after-finished controller with it; false disables both. */
  job?: Tunables<JobControllerOptions> | false;
  /** The CronJob controller; false disables it. */
  cronJob?: false;
  /** The EndpointSlice controller (maxEndpointsPerSlice); false disables it. */
  endpointSlice?: Tunables<EndpointSliceControllerOptions> | false;
  /** The Endpoints controller; false disables it. */
  endpoints?: false;
  /** ServiceLB (LoadBalancer Services get the nodes' addresses, as k3s' ServiceLB); false disables it. */
  serviceLB?: false;
  /** The PersistentVolume controller (binds claims to volumes; resyncMs); false disables it. */
  persistentVolume?: Tunables<PersistentVolumeControllerOptions> | false;
  /** The built-in local-path provisioner (hostPath volumes under each node's storage root); false disables it. */
  localPath?: false;
  /** The ephemeral-volume controller (claims of pods' generic ephemeral volumes); false disables it. */
  ephemeralVolume?: false;
  /** The PVC protection controller (kubernetes.io/pvc-protection: claims in use stay until unused); false disables it. */
  pvcProtection?: false;
  /** The PV protection controller (kubernetes.io/pv-protection: volumes stay while Bound); false disables it. */
  pvProtection?: false;
  /** The ClusterRole aggregation controller (aggregationRule → rules); false disables it. */
  clusterRoleAggregation?: false;
  /** The cluster CA to publish as `kube-root-ca.crt` in every namespace; absent disables the publisher. */
  rootCA?: string;
  /** Signs legacy tokens for kubernetes.io/service-account-token Secrets (with rootCA); absent disables the tokens controller. */
  legacyTokenSigner?: LegacyTokenSigner;
  /** The CSR approver (kubelet client and serving requests); false disables it. `authorize` replaces its default grants. */
  csrApproving?: { authorize?: ApprovalAuthorizer } | false;
  /** The CA the CSR signer issues with (kubernetes.io/kube-apiserver-client, -kubelet, kubelet-serving); absent disables the signer. */
  signingCA?: SigningCA;
  /** Longest certificate the CSR signer issues (--cluster-signing-duration; default one year). */
  signingDurationMs?: number;
  /** Failures the controllers recover from (default: console.error). */
  onError?: (err: unknown) => void;
}

export interface Controllers {
  informers: SharedInformers;
  nodeLifecycle?: NodeLifecycleController;
  garbageCollector?: GarbageCollector;
  podGC?: PodGarbageCollector;
  namespace?: NamespaceController;
  serviceAccount?: ServiceAccountController;
  rootCAPublisher?: RootCACertPublisher;
  tokens?: TokensController;
  statefulSet?: StatefulSetController;
  replicaSet?: ReplicaSetController<RS>;
  replicationController?: ReplicaSetController<RC>;
  deployment?: DeploymentController;
  disruption?: DisruptionController;
  daemonSet?: DaemonSetController;
  job?: JobController;
  ttlAfterFinished?: TTLAfterFinishedController;
  cronJob?: CronJobController;
  endpointSlice?: EndpointSliceController;
  endpoints?: EndpointsController;
  serviceLB?: ServiceLBController;
  persistentVolume?: PersistentVolumeController;
  localPath?: LocalPathProvisioner;
  localPathResizer?: LocalPathResizer;
  ephemeralVolume?: EphemeralVolumeController;
  pvcProtection?: PVCProtectionController;
  pvProtection?: PVProtectionController;
  clusterRoleAggregation?: ClusterRoleAggregationController;
  csrApproving?: CSRApprovingController;
  csrSigning?: CSRSigningController;
  stop(): Promise<void>;
}

export function startControllers(args: { client: ApiClient; clock?: Clock; options?: ControllerOptions }): Controllers {
  const { client } = args;
  const clock = args.clock ?? realClock;
  const o = args.options ?? {};
  const onError = o.onError ?? ((err: unknown) => console.error(`tinykube: controllers: ${err instanceof Error ? err.message : String(err)}`));
  const informers = new SharedInformers(client, { clock, onError });
  const events = new ApiEventSink(client, clock, NODE_CONTROLLER_COMPONENT);
  const disruptionEvents = new ApiEventSink(client, clock, DISRUPTION_COMPONENT);
  const jobEvents = new ApiEventSink(client, clock, 'job-controller');
  const cronJobEvents = new ApiEventSink(client, clock, 'cronjob-controller');
  const sliceEvents = new ApiEventSink(client, clock, ENDPOINTSLICE_COMPONENT);
  const endpointsEvents = new ApiEventSink(client, clock, ENDPOINTS_COMPONENT);
  const serviceLBEvents = new ApiEventSink(client, clock, SERVICELB_COMPONENT);
  const volumeEvents = new ApiEventSink(client, clock, PV_CONTROLLER_COMPONENT);
  const localPathEvents = new ApiEventSink(client, clock, LOCAL_PATH_COMPONENT);
  const ephemeralEvents = new ApiEventSink(client, clock, EPHEMERAL_COMPONENT);
  const out: Controllers = {
    informers,
    async stop() {
      await Promise.all([out.nodeLifecycle?.stop(), out.garbageCollector?.stop(), out.podGC?.stop(), out.namespace?.stop(), out.serviceAccount?.stop(), out.rootCAPublisher?.stop(), out.tokens?.stop(), out.csrApproving?.stop(), out.csrSigning?.stop(), out.replicaSet?.stop(), out.replicationController?.stop(), out.deployment?.stop(), out.disruption?.stop(), out.daemonSet?.stop(), out.statefulSet?.stop(), out.job?.stop(), out.ttlAfterFinished?.stop(), out.cronJob?.stop(), out.endpointSlice?.stop(), out.endpoints?.stop(), out.serviceLB?.stop(), out.persistentVolume?.stop(), out.localPath?.stop(), out.localPathResizer?.stop(), out.ephemeralVolume?.stop(), out.pvcProtection?.stop(), out.pvProtection?.stop(), out.clusterRoleAggregation?.stop()]);
      await informers.stop();
      await Promise.all([events.flush(), disruptionEvents.flush(), jobEvents.flush(), cronJobEvents.flush(), sliceEvents.flush(), endpointsEvents.flush(), serviceLBEvents.flush(), volumeEvents.flush(), localPathEvents.flush(), ephemeralEvents.flush()]);
    },
  };
  if (o.nodeLifecycle !== false) out.nodeLifecycle = new NodeLifecycleController({ ...o.nodeLifecycle, client, informers, clock, events, onError });
  if (o.garbageCollector !== false) out.garbageCollector = new GarbageCollector({ ...o.garbageCollector, client, informers, clock, onError });
  if (o.podGC !== false) out.podGC = new PodGarbageCollector({ ...o.podGC, client, informers, clock, onError });
  if (o.namespace !== false) out.namespace = new NamespaceController({ client, informers, clock, onError });
  if (o.serviceAccount !== false) out.serviceAccount = new ServiceAccountController({ client, informers, clock, onError });
  if (o.disruption !== false) out.disruption = new DisruptionController({ client, informers, clock, events: disruptionEvents, onError });
  if (o.daemonSet !== false) out.daemonSet = new DaemonSetController({ client, informers, clock, onError });
  if (o.statefulSet !== false) out.statefulSet = new StatefulSetController({ client, informers, clock, onError });
  if (o.rootCA) out.rootCAPublisher = new RootCACertPublisher({ client, informers, rootCA: o.rootCA, clock, onError });
  if (o.rootCA && o.legacyTokenSigner) out.tokens = new TokensController({ client, informers, sign: o.legacyTokenSigner, rootCA: o.rootCA, clock, onError });
  if (o.replicaSet !== false) {
    out.replicaSet = new ReplicaSetController(replicaSetKind, { ...o.replicaSet, client, informers, clock, onError });
    out.replicationController = new ReplicaSetController(replicationControllerKind, { ...o.replicaSet, client, informers, clock, onError });
  }
  if (o.job !== false) {
    out.job = new JobController({ ...o.job, client, informers, clock, events: jobEvents, onError });
    out.ttlAfterFinished = new TTLAfterFinishedController({ client, informers, clock, onError });
  }
  if (o.cronJob !== false) out.cronJob = new CronJobController({ client, informers, clock, events: cronJobEvents, onError });
  if (o.serviceLB !== false) out.serviceLB = new ServiceLBController({ informers: fromShared(informers), writer: new ApiServiceStatusWriter(client), clock, events: serviceLBEvents, onError });
  out.namespace?.start();
  out.replicaSet?.start();
  out.replicationController?.start();
  if (o.deployment !== false) out.deployment = new DeploymentController({ client, informers, clock, onError });
  out.deployment?.start();
  out.serviceAccount?.start();
  out.rootCAPublisher?.start();
  out.tokens?.start();
  out.disruption?.start();
  out.nodeLifecycle?.start();
  out.garbageCollector?.start();
  out.podGC?.start();
  out.daemonSet?.start();
  out.statefulSet?.start();
  out.job?.start();
  out.ttlAfterFinished?.start();
  out.cronJob?.start();
  if (o.endpointSlice !== false) out.endpointSlice = new EndpointSliceController({ ...o.endpointSlice, client, informers, clock, events: sliceEvents, onError });
  if (o.endpoints !== false) out.endpoints = new EndpointsController({ client, informers, clock, events: endpointsEvents, onError });
  out.endpointSlice?.start();
  out.endpoints?.start();
  out.serviceLB?.start();
  if (o.persistentVolume !== false) out.persistentVolume = new PersistentVolumeController({ ...o.persistentVolume, client, informers, clock, events: volumeEvents, onError });
  if (o.localPath !== false) {
    out.localPath = new LocalPathProvisioner({ client, informers, clock, events: localPathEvents, onError });
    out.localPathResizer = new LocalPathResizer({ client, informers, clock, events: localPathEvents, onError });
  }
  out.persistentVolume?.start();
  out.localPath?.start();
  out.localPathResizer?.start();
  if (o.ephemeralVolume !== false) out.ephemeralVolume = new EphemeralVolumeController({ client, informers, clock, events: ephemeralEvents, onError });
  if (o.pvcProtection !== false) out.pvcProtection = new PVCProtectionController({ client, informers, clock, onError });
  if (o.pvProtection !== false) out.pvProtection = new PVProtectionController({ client, informers, clock, onError });
  out.ephemeralVolume?.start();
  out.pvcProtection?.start();
  out.pvProtection?.start();
  if (o.clusterRoleAggregation !== false) out.clusterRoleAggregation = new ClusterRoleAggregationController({ client, informers, clock, onError });
  out.clusterRoleAggregation?.start();
  if (o.csrApproving !== false) out.csrApproving = new CSRApprovingController({ client, informers, authorize: o.csrApproving?.authorize, clock, events: new ApiEventSink(client, clock, 'csrapproving'), onError });
  if (o.signingCA) out.csrSigning = new CSRSigningController({ client, informers, ca: o.signingCA, certTTLMs: o.signingDurationMs, clock, onError });
  out.csrApproving?.start();
  out.csrSigning?.start();
  return out;
}
