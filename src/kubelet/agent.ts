// The node agent: wires the kubelet's subsystems over a ContainerRuntime and an ApiClient, each
// running its own loop: node status + lease (./node), the pod informer feeding the pod workers
// (./podworkers), the PLEG relister, the prober (./prober), the status manager (./status), the event
// recorder (./events), and the Service informer behind the containers' service environment variables
// (./envvars); pods' resolv.conf settings come from ./network/dns.ts. Building is separate from
// starting: unit tests build an Agent over a FakeRuntime and a fake API; src/cmd/agent.ts builds it
// over containerd and a real API server.
//
// Admission (./admission): a pod seen for the first time is judged before it reaches a pod worker, as
// the kubelet's HandlePodAdditions does: it must fit beside the pods already admitted (resources, host
// ports, node selector and affinity, NoExecute taints); a pod that does not is Failed with the kubelet's
// reason and message and never started. Pod events go through one loop (#enqueue), in order, so pods
// are judged one at a time in the order they arrive.
//
// Restart safety: nothing the agent needs lives only in memory. A new Agent (after a crash or kill -9)
// lists the pods bound to its node, and each pod worker's first sync finds the sandbox and containers
// by their labels and adopts them: nothing is restarted, restart counts and container IDs stay. Pods an
// earlier agent started are admitted again without being judged, oldest first; pods that arrived while
// it was down are judged after them, oldest first.
//
// stop() leaves containers running (the kubelet's semantics: a kubelet restart is invisible to pods);
// stop({ removePods: true }) terminates and removes every pod first (tinykube up's shutdown, tests).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiClient } from '../client/client.ts';
import { Informer, listWatch } from '../client/informer.ts';
import { Nodes, Pods, Services } from '../client/resources.ts';
import type { Node, Pod, Service } from '../api/types.ts';
import { clusterDNSIP, DEFAULT_CLUSTER_DOMAIN } from '../api/network.ts';
import { realClock, rfc3339, type Clock } from '../util/clock.ts';
import { PodAdmitter, startupOrder } from './admission/admitter.ts';
import { rejectedStatus, standInNode, type Rejection } from './admission/predicates.ts';
import type { ContainerRuntime } from './runtime/runtime.ts';
import type { StreamingPod } from './streaming/pods.ts';
import { NoopPodCgroups, type PodCgroups } from './cgroups/pod-cgroups.ts';
import { ApiEventRecorder, podRef, type EventRecorder } from './events/recorder.ts';
import { bridgeName, ensureMasquerade, writeConflist } from './network/cni.ts';
import { PodDnsConfigurer } from './network/dns.ts';
import { NodeLease } from './node/lease.ts';
import { defaultNodeIP, readMachineInfo, type MachineInfo } from './node/machine.ts';
import { machineCapacity, nodeLabels, NodeStatusManager } from './node/node-status.ts';
import { RestartBackoff, type BackoffPolicy } from './podworkers/backoff.ts';
import { ImagePuller } from './podworkers/images.ts';
import type { RegistriesConfig } from './images/registries/index.ts';
import { LABEL_NODE, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './podworkers/labels.ts';
import { Pleg } from './pleg/pleg.ts';
import { PodWorkers } from './podworkers/pod-workers.ts';
import { PodSyncer } from './podworkers/sync.ts';
import { ProberManager } from './prober/manager.ts';
import { qosClass } from './status/qos.ts';
import { ApiStatusWriter, StatusManager, confirmPodDeletion, type StatusWriter } from './status/manager.ts';
import { VolumeManager } from './volumes/manager.ts';
import { LocalPathDeleter, nodeHostname } from './volumes/localpath-deleter.ts';
import { ANN_LOCAL_PATH_ROOT } from '../api/volumes/localpath.ts';
import { ApiConfigSource, type ConfigSource } from './volumes/sources.ts';
import { EvictionManager } from './eviction/manager.ts';
import { SummaryProvider, type StatsPod } from './stats/summary.ts';
import { podLogDir } from './podworkers/sync.ts';

export interface AgentConfig {
  client: ApiClient;
  runtime: ContainerRuntime;
  nodeName: string;
  /** Pod volumes and per-pod files live under `<dataDir>/pods/<uid>`. */
  dataDir: string;
  /** Root of the pods' CRI log files (default /var/log/pods). */
  logRoot?: string;
  /** The node's InternalIP (default: the machine's first non-loopback IPv4 address). */
  nodeIP?: string;
  /** Where containerd reads its CNI config; undefined = the network is configured by someone else. */
  cniConfDir?: string;
  /** host-local IPAM state dir (default `<dataDir>/cni/ipam`). */
  cniIpamDir?: string;
  /** The pods' MTU (default: the bridge plugin's, the host link's); below it when an overlay encapsulates. */
  podMTU?: number;
  cgroups?: PodCgroups;
  clock?: Clock;
  recorder?: EventRecorder;
  statusWriter?: StatusWriter;
  configSource?: ConfigSource;
  /** The node's registries.yaml (mirrors, credentials). */
  registries?: RegistriesConfig;
  machine?: MachineInfo;
  crashLoopBackoff?: Partial<BackoffPolicy>;
  /** Quiet pods are re-synced this often (default 10 s). */
  resyncMs?: number;
  /** How often local-storage limits are checked (the eviction manager's housekeeping; default 10 s). */
  evictionPeriodMs?: number;
  plegPeriodMs?: number;
  nodeStatusPeriodMs?: number;
  leaseRenewMs?: number;
  /** Real tmpfs/nfs mounts (default true). */
  mounts?: boolean;
  /**
   * The cluster DNS addresses ClusterFirst pods resolve with (the kubelet's --cluster-dns; default the
   * `kube-system/kube-dns` address of the default Service CIDR). Empty: no cluster DNS, ClusterFirst
   * pods get the node's resolver and a MissingClusterDNS warning, as with a kubelet without one.
   */
  clusterDNS?: readonly string[];
  /** The kubelet's --cluster-domain (default cluster.local). */
  clusterDomain?: string;
  /** The node's resolver file pods with dnsPolicy Default get (the kubelet's --resolv-conf; default /etc/resolv.conf). */
  resolvConf?: string;
  /** How long registration waits for the control plane's podCIDR before picking one (default 5 s; 0 without node IPAM). */
  podCIDRWaitMs?: number;
  /**
   * Where this node's local-path volumes live (default `<dataDir>/storage`, as k3s'
   * /var/lib/rancher/k3s/storage); published on the Node for the provisioner, and released volumes
   * there are removed by the agent. false: the node offers no local-path storage.
   */
  localPathRoot?: string | false;
  onError?(err: unknown, context: string): void;
}

/** What the streaming server needs to find a pod's containers (kubelet's GetPodByName + runtime). */
export interface ResolvedPod {
  pod: Pod;
  uid: string;
  sandboxId: string | undefined;
  /** container name → id of the running (or newest) instance */
  containers: Map<string, string>;
}

export class Agent {
  readonly nodeName: string;
  readonly runtime: ContainerRuntime;
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly logRoot: string;
  readonly nodeIP: string;
  readonly recorder: EventRecorder;
  readonly status: StatusManager;
  readonly prober: ProberManager;
  readonly workers: PodWorkers;
  readonly syncer: PodSyncer;
  readonly nodeStatus: NodeStatusManager;
  readonly lease: NodeLease;
  /** This node's local-path storage root, or undefined when it offers none. */
  readonly localPathRoot: string | undefined;
  readonly localPathDeleter: LocalPathDeleter | undefined;
  readonly pleg: Pleg;
  readonly informer: Informer<Pod>;
  /** This agent's Node (labels, taints, allocatable), for admission. */
  readonly nodeInformer: Informer<Node>;
  /** Every Service, for the containers' service environment variables (the kubelet's serviceLister). */
  readonly serviceInformer: Informer<Service>;
  readonly admission: PodAdmitter;
  readonly cgroups: PodCgroups;
  /** The node's Summary (GET /stats/summary), also what the eviction manager measures with. */
  readonly summary: SummaryProvider;
  readonly eviction: EvictionManager;
  readonly #cfg: AgentConfig;
  readonly #standInNode: Node;
  /** The pod config loop: informer events are handled in order, one at a time. */
  #config: Promise<void> = Promise.resolve();
  #kubeletPort = 0;
  #networkConfigured: boolean;
  #started = false;
  #stopped: Promise<void> | undefined;

  constructor(cfg: AgentConfig) {
    this.#cfg = cfg;
    const clock = (this.clock = cfg.clock ?? realClock);
    this.nodeName = cfg.nodeName;
    this.runtime = cfg.runtime;
    this.client = cfg.client;
    this.logRoot = cfg.logRoot ?? '/var/log/pods';
    this.nodeIP = cfg.nodeIP ?? defaultNodeIP();
    this.#networkConfigured = cfg.cniConfDir === undefined;
    this.localPathRoot = cfg.localPathRoot === false ? undefined : (cfg.localPathRoot ?? join(cfg.dataDir, 'storage'));
    const onError = (ctx: string) => (err: unknown) => cfg.onError?.(err, ctx);
    this.recorder = cfg.recorder ?? new ApiEventRecorder({ client: cfg.client, host: cfg.nodeName, clock, onError: onError('event') });
    this.status = new StatusManager({ writer: cfg.statusWriter ?? new ApiStatusWriter(cfg.client), clock, onError: onError('pod status') });
    const source = cfg.configSource ?? new ApiConfigSource(cfg.client, clock);
    const machine = cfg.machine ?? readMachineInfo(cfg.dataDir);
    const backoff = new RestartBackoff(clock, cfg.crashLoopBackoff);
    this.cgroups = cfg.cgroups ?? new NoopPodCgroups();
    this.serviceInformer = new Informer<Service>(listWatch<Service>(cfg.client, Services), { clock, onError: onError('service informer') });
    const services = this.serviceInformer;
    // The prober finds containers through the pod workers, which are built after it.
    let workers: PodWorkers | undefined;
    this.prober = new ProberManager({
      runtime: cfg.runtime,
      clock,
      recorder: this.recorder,
      locator: {
        runningContainer: (uid, name) => workers?.runningContainer(uid, name),
        podIP: (uid) => workers?.podIP(uid) ?? '',
      },
      onResult: (uid) => workers?.kick(uid),
    });
    const nodeFacts = { nodeName: cfg.nodeName, hostIPs: [this.nodeIP], cpuMilli: machine.cpus * 1000, memoryBytes: machine.memoryBytes, ephemeralStorageBytes: machine.storageBytes };
    this.syncer = new PodSyncer({
      runtime: cfg.runtime,
      clock,
      recorder: this.recorder,
      prober: this.prober,
      volumes: new VolumeManager({ root: cfg.dataDir, source, mounts: cfg.mounts, node: nodeFacts, clock }),
      cgroups: this.cgroups,
      images: new ImagePuller({ images: cfg.runtime, recorder: this.recorder, source, backoff, registries: cfg.registries, now: () => clock.now() }),
      backoff,
      source,
      node: nodeFacts,
      dns: new PodDnsConfigurer({
        nodeName: cfg.nodeName, clusterDNS: cfg.clusterDNS ?? [clusterDNSIP()], clusterDomain: cfg.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN, resolvConf: cfg.resolvConf, recorder: this.recorder,
      }),
      services: { hasSynced: () => services.hasSynced(), list: () => services.store.list() },
      logRoot: this.logRoot,
    });
    workers = this.workers = new PodWorkers({
      syncer: this.syncer,
      status: this.status,
      prober: this.prober,
      clock,
      resyncMs: cfg.resyncMs,
      confirmDeletion: (pod) => this.#confirmDeletion(pod),
      onError: (err, pod) => cfg.onError?.(err, `pod ${pod?.metadata?.namespace}/${pod?.metadata?.name}`),
    });
    this.nodeStatus = new NodeStatusManager({
      client: cfg.client,
      runtime: cfg.runtime,
      clock,
      nodeName: cfg.nodeName,
      nodeIP: this.nodeIP,
      machine,
      dataDir: cfg.dataDir,
      kubeletPort: () => this.#kubeletPort,
      networkConfigured: () => this.#networkConfigured,
      periodMs: cfg.nodeStatusPeriodMs,
      onError: onError('node status'),
      annotations: this.localPathRoot ? { [ANN_LOCAL_PATH_ROOT]: this.localPathRoot } : undefined,
      podCIDRWaitMs: cfg.podCIDRWaitMs,
      watched: {
        get: () => this.nodeInformer.store.get(undefined, cfg.nodeName),
        onChange: (fn) => this.nodeInformer.addEventHandler({ onAdd: fn, onUpdate: fn }),
      },
    });
    if (this.localPathRoot) {
      this.localPathDeleter = new LocalPathDeleter({
        client: cfg.client,
        clock,
        root: this.localPathRoot,
        hostname: () => nodeHostname(this.nodeInformer.store.get(undefined, cfg.nodeName), cfg.nodeName),
        recorder: this.recorder,
        onError: onError('local-path deleter'),
      });
    }
    this.lease = new NodeLease({ client: cfg.client, clock, nodeName: cfg.nodeName, renewMs: cfg.leaseRenewMs, onError: onError('node lease') });
    this.pleg = new Pleg({ runtime: cfg.runtime, clock, nodeName: cfg.nodeName, periodMs: cfg.plegPeriodMs, onChange: (uid) => this.workers.kick(uid), onError: onError('pleg') });
    this.informer = new Informer<Pod>(listWatch<Pod>(cfg.client, Pods, undefined, { fieldSelector: `spec.nodeName=${cfg.nodeName}` }), { clock, onError: onError('pod informer') });
    this.nodeInformer = new Informer<Node>(listWatch<Node>(cfg.client, Nodes, undefined, { fieldSelector: `metadata.name=${cfg.nodeName}` }), { clock, onError: onError('node informer') });
    this.#standInNode = standInNode(cfg.nodeName, nodeLabels(cfg.nodeName, machine.architecture), machineCapacity(machine));
    this.summary = new SummaryProvider({
      nodeName: cfg.nodeName,
      clock,
      rootDir: cfg.dataDir,
      runtime: cfg.runtime,
      pods: { activePods: () => this.#statsPods() },
    });
    this.eviction = new EvictionManager({
      clock,
      activePods: () => this.#activePods(),
      summary: (maxAgeMs) => this.summary.get(maxAgeMs),
      terminator: this.workers,
      recorder: this.recorder,
      periodMs: cfg.evictionPeriodMs,
      onError: onError('eviction manager'),
    });
    this.admission = new PodAdmitter({
      nodeName: cfg.nodeName,
      holdsResources: (uid) => this.workers.couldHaveRunningContainers(uid),
    });
  }

  /** The port published as status.daemonEndpoints.kubeletEndpoint.Port (the streaming server's). */
  setKubeletPort(port: number): void {
    this.#kubeletPort = port;
    if (this.#started) this.nodeStatus.kick();
  }

  get kubeletPort(): number {
    return this.#kubeletPort;
  }

  get podCIDR(): string {
    return this.nodeStatus.podCIDR;
  }

  /** Registers the node, writes the CNI config, starts every loop; resolves once pods are listed. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const cfg = this.#cfg;
    await mkdir(this.logRoot, { recursive: true });
    await mkdir(join(cfg.dataDir, 'pods'), { recursive: true });
    // The node informer first: registration takes the podCIDR from its watch the moment it is assigned.
    this.nodeInformer.start();
    const cidr = await this.nodeStatus.register();
    if (cfg.cniConfDir) {
      // The two are independent: side by side (the rule's iptables runs are on the way to Ready).
      await Promise.all([
        writeConflist(cfg.cniConfDir, {
          name: 'tinykube',
          bridge: bridgeName(this.nodeName),
          podCidr: cidr,
          ipamDataDir: cfg.cniIpamDir ?? join(cfg.dataDir, 'cni', 'ipam'),
          mtu: cfg.podMTU,
        }),
        // Egress NAT for the pod range; pods still start (and talk to each other) if this fails.
        ensureMasquerade(cidr, bridgeName(this.nodeName)).catch((err: unknown) => cfg.onError?.(err, 'pod network masquerade')),
      ]);
      this.#networkConfigured = true;
    }
    this.nodeStatus.start();
    this.lease.start();
    // Not awaited: as the kubelet, pods are not held back by it; a container that needs the service
    // variables before the first list waits in CreateContainerConfigError and is retried once it is in.
    this.serviceInformer.start();
    void this.serviceInformer.waitForSync().then(() => {
      for (const uid of this.workers.uids()) this.workers.kick(uid);
    });
    await this.nodeInformer.waitForSync();
    if (this.localPathRoot) await mkdir(this.localPathRoot, { recursive: true, mode: 0o700 });
    this.localPathDeleter?.start();
    // The first list is judged as one batch, in the kubelet's order (see the top of this file).
    const listed: Pod[] = [];
    this.informer.addEventHandler({
      onAdd: (pod) => {
        // After the start-up list, a pod the agent has not seen has nothing in the runtime yet.
        if (this.informer.hasSynced()) this.#enqueue(() => this.#podChanged(pod, true));
        else listed.push(pod);
      },
      onUpdate: (_old, pod) => this.#enqueue(() => this.#podChanged(pod)),
      onDelete: (pod) => this.#enqueue(() => this.#podRemoved(pod)),
    });
    this.informer.start();
    await this.informer.waitForSync();
    await this.#enqueue(() => this.#podsListed(listed));
    await this.#cleanupOrphans();
    this.pleg.start();
    this.eviction.start();
  }

  /** The pods whose containers may run (the kubelet's GetActivePods), as the API last showed them. */
  #activePods(): Pod[] {
    return this.informer.store.list().filter((p) => this.workers.couldHaveRunningContainers(p.metadata?.uid ?? ''));
  }

  #statsPods(): StatsPod[] {
    return this.#activePods().map((pod) => {
      const st = this.workers.state(pod.metadata?.uid ?? '');
      const volumes = new Map<string, string>();
      for (const [name, v] of st?.volumes ?? []) volumes.set(name, v.hostPath);
      const started = new Map<string, number>();
      for (const [name, c] of st?.running ?? []) started.set(name, c.startedAt);
      const out: StatsPod = { pod, volumes, logDir: podLogDir(this.logRoot, pod), started };
      if (st?.hostsWritten !== undefined) out.etcHosts = join(this.#cfg.dataDir, 'pods', st.uid, 'etc-hosts');
      return out;
    });
  }

  /** Runs `fn` after every pod event before it; a failure is reported and the loop goes on. */
  #enqueue(fn: () => void | Promise<void>): Promise<void> {
    this.#config = this.#config.then(fn).catch((err: unknown) => this.#cfg.onError?.(err, 'pod admission'));
    return this.#config;
  }

  #node(): Node {
    return this.nodeInformer.store.get(undefined, this.nodeName) ?? this.#standInNode;
  }

  async #podsListed(pods: Pod[]): Promise<void> {
    const { started, rest } = startupOrder(pods);
    for (const p of started) {
      this.admission.add(p);
      this.workers.update(p);
    }
    for (const p of rest) await this.#podChanged(p);
  }

  async #podChanged(pod: Pod, added = false): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (this.admission.isRejected(uid)) {
      // Never started; a worker only confirms its deletion (with the rejection as its last status).
      if (pod.metadata?.deletionTimestamp || this.workers.has(uid)) this.workers.update(this.#asRejected(pod));
      return;
    }
    // Known, finished, or on its way out: nothing to judge (the kubelet judges only live new pods).
    if (this.workers.has(uid) || isTerminal(pod) || pod.metadata?.deletionTimestamp) {
      this.workers.update(pod);
      return;
    }
    const r = await this.admission.admit(pod, this.#node(), () => this.client.get<Node>(Nodes, undefined, this.nodeName));
    if (r.admit) this.workers.update(pod, added);
    else this.#reject(pod, r);
  }

  #podRemoved(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const rejected = this.admission.isRejected(uid);
    this.admission.forget(uid);
    if (rejected && !this.workers.has(uid)) this.status.removePod(uid);
    else this.workers.remove(rejected ? this.#asRejected(pod) : pod);
  }

  /** The kubelet's rejectPod: a Warning event, and the pod Failed with the reason and message. */
  #reject(pod: Pod, r: Rejection): void {
    this.recorder.event(podRef(pod), 'Warning', r.reason, r.message);
    const status = rejectedStatus(r, pod.status?.qosClass ?? qosClass(pod), pod.status?.startTime ?? rfc3339(this.clock.now()));
    this.status.setPodStatus(pod, status);
  }

  /** A rejected pod as its worker must see it: Failed with our status, even before the API shows it. */
  #asRejected(pod: Pod): Pod {
    return { ...pod, status: this.status.getPodStatus(pod.metadata?.uid ?? '') ?? pod.status };
  }

  /** Pods the runtime or the cgroup tree still hold but the API no longer has (deleted while we were down). */
  async #cleanupOrphans(): Promise<void> {
    const known = new Set(this.informer.store.list().map((p) => p.metadata?.uid ?? ''));
    const seen = new Map<string, Pod>();
    for (const s of await this.runtime.listPodSandbox({ labelSelector: { [LABEL_NODE]: this.nodeName } })) {
      const uid = s.labels[LABEL_POD_UID] ?? '';
      if (!uid || known.has(uid) || seen.has(uid)) continue;
      seen.set(uid, { metadata: { uid, name: s.labels[LABEL_POD_NAME] ?? s.metadata.name, namespace: s.labels[LABEL_POD_NAMESPACE] ?? s.metadata.namespace }, spec: { containers: [] } });
    }
    for (const uid of await this.cgroups.list()) {
      if (!known.has(uid) && !seen.has(uid)) seen.set(uid, { metadata: { uid, name: '', namespace: '' }, spec: { containers: [] } });
    }
    for (const pod of seen.values()) this.workers.remove(pod);
  }

  #confirmDeletion(pod: Pod): Promise<void> {
    return confirmPodDeletion(this.client, pod);
  }

  /** Finds a pod bound here by namespace and name (for logs/exec/attach/port-forward). */
  resolvePod(namespace: string, name: string): ResolvedPod | undefined {
    const pod = this.informer.store.get(namespace, name);
    if (!pod) return undefined;
    const uid = pod.metadata?.uid ?? '';
    const st = this.workers.state(uid);
    const containers = new Map<string, string>();
    for (const [n, c] of st?.running ?? []) containers.set(n, c.id);
    for (const [n, v] of [...(st?.view?.init ?? []), ...(st?.view?.app ?? [])]) if (!containers.has(n) && v.current) containers.set(n, v.current.id);
    return { pod, uid, sandboxId: st?.sandboxId, containers };
  }

  /**
   * The pods bound to this node with the status the agent last computed for each (the kubelet's
   * /pods: its pod manager's pods, which may be ahead of what the API server has stored).
   */
  pods(): Pod[] {
    return this.informer.store.list().map((p) => ({ apiVersion: 'v1', kind: 'Pod', ...p, status: this.status.getPodStatus(p.metadata?.uid ?? '') ?? p.status }));
  }

  /** The streaming server's PodResolver (src/kubelet/streaming): `resolvePod: (ns, n) => agent.streamingPod(ns, n)`. */
  streamingPod(namespace: string, name: string): StreamingPod | undefined {
    const pod = this.informer.store.get(namespace, name);
    if (!pod) return undefined;
    const uid = pod.metadata?.uid ?? '';
    const st = this.workers.state(uid);
    const containers: StreamingPod['containers'] = {};
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) {
      const cur = st?.view?.init.get(c.name)?.current ?? st?.view?.app.get(c.name)?.current ?? st?.view?.ephemeral?.get(c.name)?.current;
      const running = st?.running.get(c.name);
      containers[c.name] = { restartCount: cur?.restartCount ?? 0, ...(running || cur ? { containerId: running?.id ?? cur!.id } : {}) };
    }
    const out: StreamingPod = { uid, containers };
    if (st?.sandboxId) out.sandboxId = st.sandboxId;
    return out;
  }

  /**
   * Stops every loop. Containers keep running unless `removePods`, which terminates and removes
   * every pod on the node (their API objects stay; the next agent would recreate them).
   */
  stop(opts: { removePods?: boolean } = {}): Promise<void> {
    this.#stopped ??= (async () => {
      await this.informer.stop();
      await this.nodeInformer.stop();
      await this.serviceInformer.stop();
      await this.localPathDeleter?.stop();
      await this.eviction.stop();
      await this.#config;
      await this.pleg.stop();
      if (opts.removePods) await this.workers.drain();
      else await this.workers.stop();
      this.prober.stop();
      this.status.stop();
      await this.lease.stop();
      await this.nodeStatus.stop();
      if (this.recorder instanceof ApiEventRecorder) await this.recorder.flush();
    })();
    return this.#stopped;
  }
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
