// A promise-based CRI v1 client over a unix socket (@grpc/grpc-js, and our own api.proto through its
// generated descriptor, ./api.descriptor.ts: see ./grpc-methods.ts). Wire-level: requests and responses
// are the decoded protobuf objects (camelCase fields, int64 as decimal strings, enums as their names).
// CriRuntime turns them into the plain runtime types.
//
// Callers: CriRuntime (one per agent), the containerd launcher's readiness probe and the image
// importer. One client multiplexes concurrent calls over one HTTP/2 connection. Every call has a
// deadline; gRPC failures become CriError with an ERR_CRI_* code.
import * as grpc from '@grpc/grpc-js';
import { CriError, criErrorFromGrpc } from '../runtime/errors.ts';
import type { AuthConfig, ContainerConfig, LinuxContainerResources, PodSandboxConfig } from '../runtime/runtime.ts';
import { CRI_API } from './api.descriptor.ts';
import { GrpcMethods } from './grpc-methods.ts';

const methods = new GrpcMethods(CRI_API, {
  // Nanosecond timestamps exceed 2^53: keep int64 as exact decimal strings.
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
});

type Service = 'RuntimeService' | 'ImageService';

export type Wire = Record<string, unknown>;
type Int64 = string;
type Labels = Record<string, string>;

export interface WireVersionResponse { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }
export interface WireStatusResponse { status: { conditions: { type: string; status: boolean; reason: string; message: string }[] } | null; info: Labels }
export interface WireSandboxMetadata { name: string; uid: string; namespace: string; attempt: number }
export interface WireNamespaceOption { network: string; pid: string; ipc: string; targetId: string }
export interface WirePodSandbox {
  id: string; metadata: WireSandboxMetadata | null; state: string; createdAt: Int64;
  labels: Labels; annotations: Labels; runtimeHandler: string;
}
export interface WirePodSandboxStatus extends WirePodSandbox {
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: { namespaces: { options: WireNamespaceOption | null } | null } | null;
}
export interface WirePodSandboxStatusResponse { status: WirePodSandboxStatus | null; info: Labels }
export interface WireImageSpec { image: string; annotations: Labels; userSpecifiedImage: string }
export interface WireContainer {
  id: string; podSandboxId: string; metadata: { name: string; attempt: number } | null; image: WireImageSpec | null;
  imageRef: string; state: string; createdAt: Int64; labels: Labels; annotations: Labels; imageId: string;
}
export interface WireMount { containerPath: string; hostPath: string; readonly: boolean; selinuxRelabel: boolean; propagation: string }
export interface WireResources {
  cpuPeriod: Int64; cpuQuota: Int64; cpuShares: Int64; memoryLimitInBytes: Int64; oomScoreAdj: Int64;
  cpusetCpus: string; cpusetMems: string; unified: Labels; memorySwapLimitInBytes: Int64;
}
export interface WireContainerStatus {
  id: string; metadata: { name: string; attempt: number } | null; state: string;
  createdAt: Int64; startedAt: Int64; finishedAt: Int64; exitCode: number;
  image: WireImageSpec | null; imageRef: string; reason: string; message: string;
  labels: Labels; annotations: Labels; mounts: WireMount[]; logPath: string;
  resources: { linux: WireResources | null } | null; imageId: string;
}
export interface WireContainerStatusResponse { status: WireContainerStatus | null; info: Labels }
export interface WireUInt64 { value: Int64 }
export interface WireContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number } | null; labels: Labels; annotations: Labels } | null;
  cpu: { timestamp: Int64; usageCoreNanoSeconds: WireUInt64 | null; usageNanoCores: WireUInt64 | null } | null;
  memory: { timestamp: Int64; workingSetBytes: WireUInt64 | null; usageBytes: WireUInt64 | null; rssBytes: WireUInt64 | null } | null;
  writableLayer: { timestamp: Int64; usedBytes: WireUInt64 | null } | null;
}
export interface WireImage {
  id: string; repoTags: string[]; repoDigests: string[]; size: Int64;
  uid: { value: Int64 } | null; username: string; pinned: boolean;
}
export interface WireFilesystemUsage { timestamp: Int64; fsId: { mountpoint: string } | null; usedBytes: WireUInt64 | null; inodesUsed: WireUInt64 | null }
export interface WireExecSyncResponse { stdout: Buffer; stderr: Buffer; exitCode: number }

export interface CriClientOptions {
  /** Socket path ("/x/containerd.sock") or gRPC target ("unix:///x/containerd.sock"). */
  socket: string;
  /** Deadline of calls that pass none (default 2 minutes, the kubelet's runtime-request-timeout). */
  timeoutMs?: number;
}

export interface CallOptions {
  timeoutMs?: number;
}

/** ExecSync output may reach 16 MiB per stream (CRI caps it there); leave room for both. */
const MAX_MESSAGE = 40 * 1024 * 1024;

export class CriClient {
  readonly target: string;
  readonly #client: grpc.Client;
  readonly #timeoutMs: number;

  constructor(opts: CriClientOptions) {
    this.target = opts.socket.startsWith('unix:') ? opts.socket : `unix://${opts.socket}`;
    this.#timeoutMs = opts.timeoutMs ?? 120_000;
    this.#client = new grpc.Client(this.target, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE,
      'grpc.max_send_message_length': MAX_MESSAGE,
      // The default 1 s first reconnect backoff would dominate containerd's ~50 ms start-up.
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
  }

  close(): void {
    this.#client.close();
  }

  /** One unary RPC. Fails with CriError; a missing socket is ERR_CRI_UNAVAILABLE. */
  call<Res>(service: Service, method: string, request: Wire, opts: CallOptions = {}): Promise<Res> {
    const m = methods.unary<Wire, Res>(`runtime.v1.${service}`, method);
    if (!m) return Promise.reject(new CriError('ERR_CRI_UNIMPLEMENTED', method, `no such CRI method in api.proto: ${service}/${method}`));
    const deadline = Date.now() + (opts.timeoutMs ?? this.#timeoutMs);
    return new Promise<Res>((resolve, reject) => {
      this.#client.makeUnaryRequest<Wire, Res>(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline },
        (err, res) => {
          if (err) reject(criErrorFromGrpc(method, err.code, err.details || err.message));
          else resolve(res as Res);
        },
      );
    });
  }

  // ---- RuntimeService ----
  version(o?: CallOptions): Promise<WireVersionResponse> {
    return this.call('RuntimeService', 'Version', { version: 'v1' }, o);
  }
  status(verbose = false, o?: CallOptions): Promise<WireStatusResponse> {
    return this.call('RuntimeService', 'Status', { verbose }, o);
  }
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = '', o?: CallOptions): Promise<string> {
    const r = await this.call<{ podSandboxId: string }>('RuntimeService', 'RunPodSandbox', { config: toWire(config), runtimeHandler }, o);
    return r.podSandboxId;
  }
  async stopPodSandbox(podSandboxId: string, o?: CallOptions): Promise<void> {
    await this.call('RuntimeService', 'StopPodSandbox', { podSandboxId }, o);
  }
  async removePodSandbox(podSandboxId: string, o?: CallOptions): Promise<void> {
    await this.call('RuntimeService', 'RemovePodSandbox', { podSandboxId }, o);
  }
  podSandboxStatus(podSandboxId: string, verbose = false, o?: CallOptions): Promise<WirePodSandboxStatusResponse> {
    return this.call('RuntimeService', 'PodSandboxStatus', { podSandboxId, verbose }, o);
  }
  async listPodSandbox(filter: Wire | null = null, o?: CallOptions): Promise<WirePodSandbox[]> {
    const r = await this.call<{ items: WirePodSandbox[] }>('RuntimeService', 'ListPodSandbox', filter ? { filter } : {}, o);
    return r.items;
  }
  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, o?: CallOptions): Promise<string> {
    const r = await this.call<{ containerId: string }>('RuntimeService', 'CreateContainer', { podSandboxId, config: toWire(config), sandboxConfig: toWire(sandboxConfig) }, o);
    return r.containerId;
  }
  async startContainer(containerId: string, o?: CallOptions): Promise<void> {
    await this.call('RuntimeService', 'StartContainer', { containerId }, o);
  }
  async stopContainer(containerId: string, timeoutSeconds: number, o?: CallOptions): Promise<void> {
    await this.call('RuntimeService', 'StopContainer', { containerId, timeout: timeoutSeconds }, o);
  }
  async removeContainer(containerId: string, o?: CallOptions): Promise<void> {
    await this.call('RuntimeService', 'RemoveContainer', { containerId }, o);
  }
  async listContainers(filter: Wire | null = null, o?: CallOptions): Promise<WireContainer[]> {
    const r = await this.call<{ containers: WireContainer[] }>('RuntimeService', 'ListContainers', filter ? { filter } : {}, o);
    return r.containers;
  }
  containerStatus(containerId: string, verbose = false, o?: CallOptions): Promise<WireContainerStatusResponse> {
    return this.call('RuntimeService', 'ContainerStatus', { containerId, verbose }, o);
  }
  async updateContainerResources(containerId: string, linux: LinuxContainerResources, o?: CallOptions): Promise<void> {
    await this.call('RuntimeService', 'UpdateContainerResources', { containerId, linux: toWire(linux) }, o);
  }
  async reopenContainerLog(containerId: string, o?: CallOptions): Promise<void> {
    await this.call('RuntimeService', 'ReopenContainerLog', { containerId }, o);
  }
  execSync(containerId: string, cmd: string[], timeoutSeconds: number, o?: CallOptions): Promise<WireExecSyncResponse> {
    // The RPC must outlive the command's own timeout, or a slow probe surfaces as a deadline error.
    const timeoutMs = o?.timeoutMs ?? (timeoutSeconds > 0 ? timeoutSeconds * 1000 + 10_000 : undefined);
    return this.call('RuntimeService', 'ExecSync', { containerId, cmd, timeout: timeoutSeconds }, { timeoutMs });
  }
  async exec(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, o?: CallOptions): Promise<string> {
    return (await this.call<{ url: string }>('RuntimeService', 'Exec', { ...req }, o)).url;
  }
  async attach(req: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, o?: CallOptions): Promise<string> {
    return (await this.call<{ url: string }>('RuntimeService', 'Attach', { ...req }, o)).url;
  }
  async portForward(podSandboxId: string, port: number[], o?: CallOptions): Promise<string> {
    return (await this.call<{ url: string }>('RuntimeService', 'PortForward', { podSandboxId, port }, o)).url;
  }
  async containerStats(containerId: string, o?: CallOptions): Promise<WireContainerStats | null> {
    return (await this.call<{ stats: WireContainerStats | null }>('RuntimeService', 'ContainerStats', { containerId }, o)).stats;
  }
  async listContainerStats(filter: Wire | null = null, o?: CallOptions): Promise<WireContainerStats[]> {
    return (await this.call<{ stats: WireContainerStats[] }>('RuntimeService', 'ListContainerStats', filter ? { filter } : {}, o)).stats;
  }

  // ---- ImageService ----
  async listImages(image = '', o?: CallOptions): Promise<WireImage[]> {
    const req = image ? { filter: { image: { image } } } : {};
    return (await this.call<{ images: WireImage[] }>('ImageService', 'ListImages', req, o)).images;
  }
  async imageStatus(image: string, o?: CallOptions): Promise<WireImage | null> {
    return (await this.call<{ image: WireImage | null }>('ImageService', 'ImageStatus', { image: { image } }, o)).image;
  }
  async pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, o?: CallOptions): Promise<string> {
    const req: Wire = { image: { image } };
    if (auth) req.auth = toWire(auth);
    if (sandboxConfig) req.sandboxConfig = toWire(sandboxConfig);
    return (await this.call<{ imageRef: string }>('ImageService', 'PullImage', req, o)).imageRef;
  }
  async removeImage(image: string, o?: CallOptions): Promise<void> {
    await this.call('ImageService', 'RemoveImage', { image: { image } }, o);
  }
  async imageFsInfo(o?: CallOptions): Promise<WireFilesystemUsage[]> {
    return (await this.call<{ imageFilesystems: WireFilesystemUsage[] }>('ImageService', 'ImageFsInfo', {}, o)).imageFilesystems;
  }
}

/** Our config types are structurally the wire request; this only widens the static type. */
function toWire(v: object): Wire {
  return v as Wire;
}
