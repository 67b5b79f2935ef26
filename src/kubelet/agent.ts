// The node agent: wires the kubelet's subsystems over a ContainerRuntime and an ApiClient, each
// running its own loop: node status + lease (./node), the pod informer feeding the pod workers
// (./podworkers), the PLEG relister, the prober (./prober), the status manager (./status), and the
// event recorder (./events). Building is separate from starting: unit tests build an Agent over a
// FakeRuntime and a fake API; src/cmd/agent.ts builds it over containerd and a real API server.
//
// Restart safety: nothing the agent needs lives only in memory. A new Agent (after a crash or kill -9)
// lists the pods bound to its node, and each pod worker's first sync finds the sandbox and containers
// by their labels and adopts them: nothing is restarted, restart counts and container IDs stay.
//
// stop() leaves containers running (the kubelet's semantics: a kubelet restart is invisible to pods);
// stop({ removePods: true }) terminates and removes every pod first (tinykube up's shutdown, tests).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiClient } from '../client/client.ts';
import { Informer, listWatch } from '../client/informer.ts';
import { Pods } from '../client/resources.ts';
import type { Pod } from '../api/types.ts';
import { realClock, type Clock } from '../util/clock.ts';
import type { ContainerRuntime } from './cri/runtime.ts';
import type { StreamingPod } from './streaming/pods.ts';
import { NoopPodCgroups, type PodCgroups } from './cgroups/pod-cgroups.ts';
import { ApiEventRecorder, type EventRecorder } from './events/recorder.ts';
import { bridgeName, ensureMasquerade, writeConflist } from './network/cni.ts';
import { NodeLease } from './node/lease.ts';
import { defaultNodeIP, readMachineInfo, type MachineInfo } from './node/machine.ts';
import { NodeStatusManager } from './node/node-status.ts';
import { RestartBackoff, type BackoffPolicy } from './podworkers/backoff.ts';
import { ImagePuller } from './podworkers/images.ts';
import type { RegistriesConfig } from './registry/index.ts';
import { LABEL_NODE, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './podworkers/labels.ts';
import { Pleg } from './podworkers/pleg.ts';
import { PodWorkers } from './podworkers/pod-workers.ts';
import { PodSyncer } from './podworkers/sync.ts';
import { ProberManager } from './prober/manager.ts';
import { ApiStatusWriter, StatusManager, confirmPodDeletion, type StatusWriter } from './status/manager.ts';
import { VolumeManager } from './volumes/manager.ts';
import { ApiConfigSource, type ConfigSource } from './volumes/sources.ts';

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
  plegPeriodMs?: number;
  nodeStatusPeriodMs?: number;
  leaseRenewMs?: number;
  /** Real tmpfs/nfs mounts (default true). */
  mounts?: boolean;
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
  readonly pleg: Pleg;
  readonly informer: Informer<Pod>;
  readonly cgroups: PodCgroups;
  readonly #cfg: AgentConfig;
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
    const onError = (ctx: string) => (err: unknown) => cfg.onError?.(err, ctx);
    this.recorder = cfg.recorder ?? new ApiEventRecorder({ client: cfg.client, host: cfg.nodeName, clock, onError: onError('event') });
    this.status = new StatusManager({ writer: cfg.statusWriter ?? new ApiStatusWriter(cfg.client), clock, onError: onError('pod status') });
    const source = cfg.configSource ?? new ApiConfigSource(cfg.client, clock);
    const machine = cfg.machine ?? readMachineInfo(cfg.dataDir);
    const backoff = new RestartBackoff(clock, cfg.crashLoopBackoff);
    this.cgroups = cfg.cgroups ?? new NoopPodCgroups();
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
    this.syncer = new PodSyncer({
      runtime: cfg.runtime,
      clock,
      recorder: this.recorder,
      prober: this.prober,
      volumes: new VolumeManager({ root: cfg.dataDir, source, mounts: cfg.mounts }),
      cgroups: this.cgroups,
      images: new ImagePuller({ images: cfg.runtime, recorder: this.recorder, source, backoff, registries: cfg.registries, now: () => clock.now() }),
      backoff,
      source,
      node: { nodeName: cfg.nodeName, hostIPs: [this.nodeIP], cpuMilli: machine.cpus * 1000, memoryBytes: machine.memoryBytes },
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
    });
    this.lease = new NodeLease({ client: cfg.client, clock, nodeName: cfg.nodeName, renewMs: cfg.leaseRenewMs, onError: onError('node lease') });
    this.pleg = new Pleg({ runtime: cfg.runtime, clock, nodeName: cfg.nodeName, periodMs: cfg.plegPeriodMs, onChange: (uid) => this.workers.kick(uid), onError: onError('pleg') });
    this.informer = new Informer<Pod>(listWatch<Pod>(cfg.client, Pods, undefined, { fieldSelector: `spec.nodeName=${cfg.nodeName}` }), { clock, onError: onError('pod informer') });
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
    const cidr = await this.nodeStatus.register();
    if (cfg.cniConfDir) {
      await writeConflist(cfg.cniConfDir, {
        name: 'tinykube',
        bridge: bridgeName(this.nodeName),
        podCidr: cidr,
        ipamDataDir: cfg.cniIpamDir ?? join(cfg.dataDir, 'cni', 'ipam'),
      });
      // Egress NAT for the pod range; pods still start (and talk to each other) if this fails.
      await ensureMasquerade(cidr, bridgeName(this.nodeName)).catch((err: unknown) => cfg.onError?.(err, 'pod network masquerade'));
      this.#networkConfigured = true;
    }
    this.nodeStatus.start();
    this.lease.start();
    this.informer.addEventHandler({
      onAdd: (pod) => this.workers.update(pod),
      onUpdate: (_old, pod) => this.workers.update(pod),
      onDelete: (pod) => this.workers.remove(pod),
    });
    this.informer.start();
    await this.informer.waitForSync();
    await this.#cleanupOrphans();
    this.pleg.start();
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

  /** The streaming server's PodResolver (src/kubelet/streaming): `resolvePod: (ns, n) => agent.streamingPod(ns, n)`. */
  streamingPod(namespace: string, name: string): StreamingPod | undefined {
    const pod = this.informer.store.get(namespace, name);
    if (!pod) return undefined;
    const uid = pod.metadata?.uid ?? '';
    const st = this.workers.state(uid);
    const containers: StreamingPod['containers'] = {};
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const cur = st?.view?.init.get(c.name)?.current ?? st?.view?.app.get(c.name)?.current;
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
