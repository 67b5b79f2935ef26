// ContainerRuntime over CRI v1 (containerd). Converts the wire objects of ./client.ts into the plain
// runtime types of ../runtime/runtime.ts and applies the containerd 1.6 facts measured on these machines
// (design.md): sandbox_config is always sent with CreateContainer, the PID namespace defaults to
// CONTAINER, and NOT_FOUND on stop means "already gone". Created by the agent's composition root;
// safe for concurrent use (it holds no state beyond the client).
import { CriClient, type Wire, type WireContainer, type WireContainerStats, type WireContainerStatus, type WireImage, type WirePodSandbox, type WireResources } from './client.ts';
import { CriError, isCriNotFound } from '../runtime/errors.ts';
import type {
  AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerRuntime, ContainerState, ContainerStats,
  ContainerStatus, ExecStreamRequest, ExecSyncResult, FilesystemUsage, ImageInfo, LinuxContainerResources, NamespaceMode,
  PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStatus, RuntimeCondition, RuntimeVersion, SandboxState, StreamRequest,
} from '../runtime/runtime.ts';

const SANDBOX_STATE: Record<string, SandboxState> = { SANDBOX_READY: 'ready', SANDBOX_NOTREADY: 'notready' };
const CONTAINER_STATE: Record<string, ContainerState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};
const WIRE_SANDBOX_STATE: Record<SandboxState, string> = { ready: 'SANDBOX_READY', notready: 'SANDBOX_NOTREADY' };
const WIRE_CONTAINER_STATE: Record<ContainerState, string> = {
  created: 'CONTAINER_CREATED',
  running: 'CONTAINER_RUNNING',
  exited: 'CONTAINER_EXITED',
  unknown: 'CONTAINER_UNKNOWN',
};

/** CRI nanoseconds (decimal string) → epoch milliseconds, keeping sub-millisecond precision. */
export function nsToMs(ns: string | number | null | undefined): number {
  if (ns === null || ns === undefined || ns === '' || ns === '0' || ns === 0) return 0;
  const big = BigInt(ns);
  return Number(big / 1_000_000n) + Number(big % 1_000_000n) / 1e6;
}

function num(v: string | number | null | undefined): number {
  return v === null || v === undefined || v === '' ? 0 : Number(v);
}

function optNum(v: { value: string } | null | undefined): number | undefined {
  return v ? Number(v.value) : undefined;
}

function resources(r: WireResources | null | undefined): LinuxContainerResources | undefined {
  if (!r) return undefined;
  return {
    cpuPeriod: num(r.cpuPeriod),
    cpuQuota: num(r.cpuQuota),
    cpuShares: num(r.cpuShares),
    memoryLimitInBytes: num(r.memoryLimitInBytes),
    oomScoreAdj: num(r.oomScoreAdj),
    cpusetCpus: r.cpusetCpus,
    cpusetMems: r.cpusetMems,
    unified: r.unified,
    memorySwapLimitInBytes: num(r.memorySwapLimitInBytes),
  };
}

function sandbox(s: WirePodSandbox): PodSandbox {
  return {
    id: s.id,
    metadata: s.metadata ?? { name: '', uid: '', namespace: '', attempt: 0 },
    state: SANDBOX_STATE[s.state] ?? 'notready',
    createdAt: nsToMs(s.createdAt),
    labels: s.labels,
    annotations: s.annotations,
    runtimeHandler: s.runtimeHandler,
  };
}

function container(c: WireContainer): Container {
  return {
    id: c.id,
    podSandboxId: c.podSandboxId,
    metadata: c.metadata ?? { name: '', attempt: 0 },
    image: c.image?.image ?? '',
    imageRef: c.imageRef,
    state: CONTAINER_STATE[c.state] ?? 'unknown',
    createdAt: nsToMs(c.createdAt),
    labels: c.labels,
    annotations: c.annotations,
  };
}

function containerStatus(s: WireContainerStatus): ContainerStatus {
  const out: ContainerStatus = {
    id: s.id,
    metadata: s.metadata ?? { name: '', attempt: 0 },
    image: s.image?.image ?? '',
    imageRef: s.imageRef,
    state: CONTAINER_STATE[s.state] ?? 'unknown',
    createdAt: nsToMs(s.createdAt),
    startedAt: nsToMs(s.startedAt),
    finishedAt: nsToMs(s.finishedAt),
    exitCode: s.exitCode,
    reason: s.reason,
    message: s.message,
    labels: s.labels,
    annotations: s.annotations,
    mounts: s.mounts.map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readonly, selinuxRelabel: m.selinuxRelabel, propagation: m.propagation as 'PROPAGATION_PRIVATE' })),
    logPath: s.logPath,
  };
  const r = resources(s.resources?.linux);
  if (r) out.resources = r;
  return out;
}

function stats(s: WireContainerStats): ContainerStats {
  return {
    id: s.attributes?.id ?? '',
    name: s.attributes?.metadata?.name ?? '',
    labels: s.attributes?.labels ?? {},
    timestamp: nsToMs(s.cpu?.timestamp ?? s.memory?.timestamp ?? null),
    cpuUsageCoreNanoSeconds: optNum(s.cpu?.usageCoreNanoSeconds),
    cpuUsageNanoCores: optNum(s.cpu?.usageNanoCores),
    memoryWorkingSetBytes: optNum(s.memory?.workingSetBytes),
    memoryUsageBytes: optNum(s.memory?.usageBytes),
    memoryRssBytes: optNum(s.memory?.rssBytes),
    writableLayerUsedBytes: optNum(s.writableLayer?.usedBytes),
  };
}

function image(i: WireImage): ImageInfo {
  const out: ImageInfo = { id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: num(i.size), username: i.username, pinned: i.pinned };
  if (i.uid) out.uid = Number(i.uid.value);
  return out;
}

/**
 * The PID namespace containerd gets. CRI's default is POD, Kubernetes' is CONTAINER: without an
 * explicit CONTAINER every container would see its neighbours' processes.
 */
function withPidDefault<T extends { linux?: { securityContext?: { namespaceOptions?: { pid?: NamespaceMode } } } }>(config: T): T {
  const pid = config.linux?.securityContext?.namespaceOptions?.pid;
  if (pid !== undefined) return config;
  const linux = config.linux ?? {};
  const sc = linux.securityContext ?? {};
  return { ...config, linux: { ...linux, securityContext: { ...sc, namespaceOptions: { ...sc.namespaceOptions, pid: 'CONTAINER' } } } };
}

/**
 * containerd 1.6 reports several expected conditions as UNKNOWN with a telling message; give them
 * the codes FakeRuntime uses, so callers can branch on codes rather than on containerd's wording.
 */
export function refineCriError(e: unknown): never {
  if (e instanceof CriError) {
    const d = e.detail;
    let code: CriError['code'] | undefined;
    if (e.code === 'ERR_CRI_UNKNOWN' && /is reserved for/.test(d)) code = 'ERR_CRI_ALREADY_EXISTS';
    else if (e.code === 'ERR_CRI_UNKNOWN' && /is in CONTAINER_[A-Z]+ state/.test(d)) code = 'ERR_CRI_FAILED_PRECONDITION';
    // CreateContainer in a stopped sandbox: the sandbox exists, its task does not.
    else if (e.code === 'ERR_CRI_NOT_FOUND' && e.method === 'CreateContainer' && /no running task found/.test(d)) code = 'ERR_CRI_FAILED_PRECONDITION';
    if (code) throw new CriError(code, e.method, d, e.grpcCode);
  }
  throw e;
}

export interface CriRuntimeOptions {
  /** Socket path; ignored when `client` is given. */
  socket?: string;
  client?: CriClient;
  /**
   * Settles once the node's built-in images are in containerd: sandboxes, image lookups and pulls wait
   * for it (the agent imports them once the node has registered).
   */
  ready?: Promise<unknown>;
}

export class CriRuntime implements ContainerRuntime {
  readonly client: CriClient;
  readonly #ownsClient: boolean;
  readonly #ready: Promise<unknown> | undefined;

  constructor(opts: CriRuntimeOptions) {
    this.#ready = opts.ready;
    if (opts.client) this.client = opts.client;
    else if (opts.socket) this.client = new CriClient({ socket: opts.socket });
    else throw new TypeError('CriRuntime needs a socket or a client');
    this.#ownsClient = !opts.client;
  }

  close(): void {
    if (this.#ownsClient) this.client.close();
  }

  async version(): Promise<RuntimeVersion> {
    const v = await this.client.version();
    return { version: v.version, runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion, runtimeApiVersion: v.runtimeApiVersion };
  }

  async status(): Promise<RuntimeCondition[]> {
    const s = await this.client.status();
    return (s.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    await this.#ready;
    return this.client.runPodSandbox(withPidDefault(config), runtimeHandler).catch(refineCriError);
  }

  async stopPodSandbox(id: string): Promise<void> {
    try {
      await this.client.stopPodSandbox(id);
    } catch (err) {
      // containerd answers NOT_FOUND for a sandbox that is already removed: that is "stopped".
      if (!isCriNotFound(err)) throw err;
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    try {
      await this.client.removePodSandbox(id);
    } catch (err) {
      if (!isCriNotFound(err)) throw err;
    }
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const r = await this.client.podSandboxStatus(id);
    const s = r.status;
    if (!s) throw new CriError('ERR_CRI_NOT_FOUND', 'PodSandboxStatus', `sandbox ${id} not found`);
    const out: PodSandboxStatus = {
      ...sandbox(s),
      ip: s.network?.ip ?? '',
      additionalIps: (s.network?.additionalIps ?? []).map((a) => a.ip),
    };
    const ns = s.linux?.namespaces?.options;
    if (ns) out.namespaceOptions = { network: ns.network as NamespaceMode, pid: ns.pid as NamespaceMode, ipc: ns.ipc as NamespaceMode, targetId: ns.targetId };
    return out;
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    let f: Wire | null = null;
    if (filter) {
      f = {};
      if (filter.id) f.id = filter.id;
      if (filter.state) f.state = { state: WIRE_SANDBOX_STATE[filter.state] };
      if (filter.labelSelector) f.labelSelector = filter.labelSelector;
    }
    return (await this.client.listPodSandbox(f)).map(sandbox);
  }

  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    return this.client.createContainer(podSandboxId, withPidDefault(config), withPidDefault(sandboxConfig)).catch(refineCriError);
  }

  startContainer(id: string): Promise<void> {
    return this.client.startContainer(id).catch(refineCriError);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.client.stopContainer(id, timeoutSeconds, { timeoutMs: timeoutSeconds * 1000 + 30_000 });
    } catch (err) {
      if (!isCriNotFound(err)) throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.client.removeContainer(id);
    } catch (err) {
      if (!isCriNotFound(err)) throw err;
    }
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    let f: Wire | null = null;
    if (filter) {
      f = {};
      if (filter.id) f.id = filter.id;
      if (filter.state) f.state = { state: WIRE_CONTAINER_STATE[filter.state] };
      if (filter.podSandboxId) f.podSandboxId = filter.podSandboxId;
      if (filter.labelSelector) f.labelSelector = filter.labelSelector;
    }
    return (await this.client.listContainers(f)).map(container);
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const r = await this.client.containerStatus(id);
    if (!r.status) throw new CriError('ERR_CRI_NOT_FOUND', 'ContainerStatus', `container ${id} not found`);
    return containerStatus(r.status);
  }

  updateContainerResources(id: string, r: LinuxContainerResources): Promise<void> {
    return this.client.updateContainerResources(id, r);
  }

  reopenContainerLog(id: string): Promise<void> {
    return this.client.reopenContainerLog(id).catch(refineCriError);
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const r = await this.client.execSync(id, cmd, timeoutSeconds).catch(refineCriError);
    return { stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr), exitCode: r.exitCode };
  }

  exec(req: ExecStreamRequest): Promise<string> {
    return this.client.exec(req).catch(refineCriError);
  }

  attach(req: StreamRequest): Promise<string> {
    return this.client.attach(req).catch(refineCriError);
  }

  portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return this.client.portForward(podSandboxId, ports);
  }

  async containerStats(id: string): Promise<ContainerStats> {
    const s = await this.client.containerStats(id);
    if (!s) throw new CriError('ERR_CRI_NOT_FOUND', 'ContainerStats', `container ${id} not found`);
    return stats(s);
  }

  async listContainerStats(filter?: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> }): Promise<ContainerStats[]> {
    return (await this.client.listContainerStats(filter ? { ...filter } : null)).map(stats);
  }

  async listImages(ref?: string): Promise<ImageInfo[]> {
    return (await this.client.listImages(ref ?? '')).map(image);
  }

  async imageStatus(ref: string): Promise<ImageInfo | undefined> {
    await this.#ready;
    const i = await this.client.imageStatus(ref);
    return i ? image(i) : undefined;
  }

  async pullImage(ref: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    await this.#ready;
    // Large images take minutes and containerd 1.6 has no stalled-pull timeout of its own: be generous.
    return this.client.pullImage(ref, auth, sandboxConfig ? withPidDefault(sandboxConfig) : undefined, { timeoutMs: 30 * 60_000 });
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.client.removeImage(ref);
    } catch (err) {
      if (!isCriNotFound(err)) throw err;
    }
  }

  async imageFsInfo(): Promise<FilesystemUsage[]> {
    return (await this.client.imageFsInfo()).map((f) => ({
      timestamp: nsToMs(f.timestamp),
      mountpoint: f.fsId?.mountpoint ?? '',
      usedBytes: optNum(f.usedBytes) ?? 0,
      inodesUsed: optNum(f.inodesUsed) ?? 0,
    }));
  }
}
