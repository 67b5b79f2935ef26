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
import { rootClients, ServiceAccountClients, type ControllerClients } from './credentials.ts';

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
  /**
   * Each controller talks to the API server as its own kube-system service account, with a
   * TokenRequest token kept fresh (kube-controller-manager's --use-service-account-credentials);
   * `client` then only makes the accounts, asks for their tokens and feeds the shared informers.
   * Default false: every controller uses `client`.
   */
  useServiceAccountCredentials?: boolean;
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
  /** The per-controller clients (each the root client itself without useServiceAccountCredentials). */
  clients: ControllerClients;
  stop(): Promise<void>;
}

export function startControllers(args: { client: ApiClient; clock?: Clock; options?: ControllerOptions }): Controllers {
  const { client } = args;
  const clock = args.clock ?? realClock;
  const o = args.options ?? {};
  const onError = o.onError ?? ((err: unknown) => console.error(`tinykube: controllers: ${err instanceof Error ? err.message : String(err)}`));
  const informers = new SharedInformers(client, { clock, onError });
  const clients: ControllerClients = o.useServiceAccountCredentials ? new ServiceAccountClients({ root: client, clock, onError }) : rootClients(client);
  // kube's account names (controller_policy.go), or tinykube's for its own controllers; a client is
  // made (and its account with it) only for a controller that runs.
  const as = (account: string) => clients.clientFor(account);
  const sinks: ApiEventSink[] = [];
  const sink = (account: string, component: string) => {
    const s = new ApiEventSink(as(account), clock, component);
    sinks.push(s);
    return s;
  };
  const out: Controllers = {
    informers,
    clients,
    async stop() {
      await Promise.all([out.nodeLifecycle?.stop(), out.garbageCollector?.stop(), out.podGC?.stop(), out.namespace?.stop(), out.serviceAccount?.stop(), out.rootCAPublisher?.stop(), out.tokens?.stop(), out.csrApproving?.stop(), out.csrSigning?.stop(), out.replicaSet?.stop(), out.replicationController?.stop(), out.deployment?.stop(), out.disruption?.stop(), out.daemonSet?.stop(), out.statefulSet?.stop(), out.job?.stop(), out.ttlAfterFinished?.stop(), out.cronJob?.stop(), out.endpointSlice?.stop(), out.endpoints?.stop(), out.serviceLB?.stop(), out.persistentVolume?.stop(), out.localPath?.stop(), out.localPathResizer?.stop(), out.ephemeralVolume?.stop(), out.pvcProtection?.stop(), out.pvProtection?.stop(), out.clusterRoleAggregation?.stop()]);
      await informers.stop();
      await Promise.all(sinks.map((s) => s.flush()));
      clients.stop();
    },
  };
  // First: joining nodes wait for their certificates. Their account and token are asked for before the
  // others', and their workers wait only for the informers registered so far (measured on
  // `up --nodes 3`: started last, approval waited ~0.7 s behind 30 accounts and 20 informers' lists).
  if (o.csrApproving !== false) out.csrApproving = new CSRApprovingController({ client: as('certificate-controller'), informers, authorize: o.csrApproving?.authorize, clock, events: sink('certificate-controller', 'csrapproving'), onError });
  if (o.signingCA) out.csrSigning = new CSRSigningController({ client: as('certificate-controller'), informers, ca: o.signingCA, certTTLMs: o.signingDurationMs, clock, onError });
  out.csrApproving?.start();
  out.csrSigning?.start();
  if (o.nodeLifecycle !== false) out.nodeLifecycle = new NodeLifecycleController({ ...o.nodeLifecycle, client: as('node-controller'), informers, clock, events: sink('node-controller', NODE_CONTROLLER_COMPONENT), onError });
  if (o.garbageCollector !== false) out.garbageCollector = new GarbageCollector({ ...o.garbageCollector, client: as('generic-garbage-collector'), informers, clock, onError });
  if (o.podGC !== false) out.podGC = new PodGarbageCollector({ ...o.podGC, client: as('pod-garbage-collector'), informers, clock, onError });
  if (o.namespace !== false) out.namespace = new NamespaceController({ client: as('namespace-controller'), informers, clock, onError });
  if (o.serviceAccount !== false) out.serviceAccount = new ServiceAccountController({ client: as('service-account-controller'), informers, clock, onError });
  if (o.disruption !== false) out.disruption = new DisruptionController({ client: as('disruption-controller'), informers, clock, events: sink('disruption-controller', DISRUPTION_COMPONENT), onError });
  if (o.daemonSet !== false) out.daemonSet = new DaemonSetController({ client: as('daemon-set-controller'), informers, clock, onError });
  if (o.statefulSet !== false) out.statefulSet = new StatefulSetController({ client: as('statefulset-controller'), informers, clock, onError });
  if (o.rootCA) out.rootCAPublisher = new RootCACertPublisher({ client: as('root-ca-cert-publisher'), informers, rootCA: o.rootCA, clock, onError });
  // On the root client, as kube starts its tokens controller (it writes every account's token Secret).
  if (o.rootCA && o.legacyTokenSigner) out.tokens = new TokensController({ client, informers, sign: o.legacyTokenSigner, rootCA: o.rootCA, clock, onError });
  if (o.replicaSet !== false) {
    out.replicaSet = new ReplicaSetController(replicaSetKind, { ...o.replicaSet, client: as('replicaset-controller'), informers, clock, onError });
    out.replicationController = new ReplicaSetController(replicationControllerKind, { ...o.replicaSet, client: as('replication-controller'), informers, clock, onError });
  }
  if (o.job !== false) {
    out.job = new JobController({ ...o.job, client: as('job-controller'), informers, clock, events: sink('job-controller', 'job-controller'), onError });
    out.ttlAfterFinished = new TTLAfterFinishedController({ client: as('ttl-after-finished-controller'), informers, clock, onError });
  }
  if (o.cronJob !== false) out.cronJob = new CronJobController({ client: as('cronjob-controller'), informers, clock, events: sink('cronjob-controller', 'cronjob-controller'), onError });
  if (o.serviceLB !== false) out.serviceLB = new ServiceLBController({ informers: fromShared(informers), writer: new ApiServiceStatusWriter(as('service-lb-controller')), clock, events: sink('service-lb-controller', SERVICELB_COMPONENT), onError });
  out.namespace?.start();
  out.replicaSet?.start();
  out.replicationController?.start();
  if (o.deployment !== false) out.deployment = new DeploymentController({ client: as('deployment-controller'), informers, clock, onError });
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
  if (o.endpointSlice !== false) out.endpointSlice = new EndpointSliceController({ ...o.endpointSlice, client: as('endpointslice-controller'), informers, clock, events: sink('endpointslice-controller', ENDPOINTSLICE_COMPONENT), onError });
  if (o.endpoints !== false) out.endpoints = new EndpointsController({ client: as('endpoint-controller'), informers, clock, events: sink('endpoint-controller', ENDPOINTS_COMPONENT), onError });
  out.endpointSlice?.start();
  out.endpoints?.start();
  out.serviceLB?.start();
  if (o.persistentVolume !== false) out.persistentVolume = new PersistentVolumeController({ ...o.persistentVolume, client: as('persistent-volume-binder'), informers, clock, events: sink('persistent-volume-binder', PV_CONTROLLER_COMPONENT), onError });
  if (o.localPath !== false) {
    out.localPath = new LocalPathProvisioner({ client: as('local-path-provisioner'), informers, clock, events: sink('local-path-provisioner', LOCAL_PATH_COMPONENT), onError });
    out.localPathResizer = new LocalPathResizer({ client: as('local-path-resizer'), informers, clock, events: sink('local-path-resizer', LOCAL_PATH_COMPONENT), onError });
  }
  out.persistentVolume?.start();
  out.localPath?.start();
  out.localPathResizer?.start();
  if (o.ephemeralVolume !== false) out.ephemeralVolume = new EphemeralVolumeController({ client: as('ephemeral-volume-controller'), informers, clock, events: sink('ephemeral-volume-controller', EPHEMERAL_COMPONENT), onError });
  if (o.pvcProtection !== false) out.pvcProtection = new PVCProtectionController({ client: as('pvc-protection-controller'), informers, clock, onError });
  if (o.pvProtection !== false) out.pvProtection = new PVProtectionController({ client: as('pv-protection-controller'), informers, clock, onError });
  out.ephemeralVolume?.start();
  out.pvcProtection?.start();
  out.pvProtection?.start();
  if (o.clusterRoleAggregation !== false) out.clusterRoleAggregation = new ClusterRoleAggregationController({ client: as('clusterrole-aggregation-controller'), informers, clock, onError });
  out.clusterRoleAggregation?.start();
  return out;
}
