// The runtime seam of the node agent: what the pod workers, the PLEG-style relister, probes, logs and
// streaming need from a container runtime, in plain TypeScript types shaped after CRI v1.
//
// Implementations: CriRuntime (containerd over CRI, ../cri/cri-runtime.ts) and FakeRuntime (in memory,
// ./fake-runtime.ts, for unit tests and simulated nodes). Both pass ./runtime-suite.ts.
//
// Callers: one pod worker per pod, so calls for different pods run concurrently; calls for one pod
// are serialised by its worker. Every method may be called concurrently with any other.
// Idempotent (must not fail when already done): stopPodSandbox, removePodSandbox, stopContainer,
// removeContainer, removeImage. An unknown id is CriError ERR_CRI_NOT_FOUND for everything else.
// Expected outcomes are values (an absent image is `undefined`, a failed command is an exit code);
// real failures throw CriError (./errors.ts).
//
// Times are epoch milliseconds (fractional: CRI's nanoseconds divided by 1e6); 0 means "not set".
// Enum-like fields use CRI's own names so config objects pass to the wire unchanged.

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type SecurityProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost';

export type SandboxState = 'ready' | 'notready';
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface NamespaceOption {
  network?: NamespaceMode;
  /** containerd defaults to POD: send CONTAINER unless the pod sets shareProcessNamespace. */
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}

export interface Int64Value {
  value: number;
}

export interface SecurityProfile {
  profileType: SecurityProfileType;
  localhostRef?: string;
}

export interface SELinuxOption {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  unified?: Record<string, string>;
  memorySwapLimitInBytes?: number;
}

export interface PortMapping {
  protocol?: Protocol;
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export interface DNSConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Absolute host directory for container logs: /var/log/pods/<ns>_<name>_<uid>. */
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    securityContext?: LinuxSandboxSecurityContext;
    sysctls?: Record<string, string>;
    overhead?: LinuxContainerResources;
    resources?: LinuxContainerResources;
  };
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
}

export interface Device {
  containerPath: string;
  hostPath: string;
  permissions: string;
}

export interface LinuxContainerSecurityContext {
  capabilities?: { addCapabilities?: string[]; dropCapabilities?: string[] };
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface ContainerConfig {
  /** (name, attempt) must be unique within a sandbox for the sandbox's whole life. */
  metadata: { name: string; attempt: number };
  image: { image: string; userSpecifiedImage?: string };
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: { key: string; value: string }[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's logDirectory: `<container>/<restartCount>.log`. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
}

export interface PodSandboxFilter {
  id?: string;
  state?: SandboxState;
  labelSelector?: Record<string, string>;
}

export interface ContainerFilter {
  id?: string;
  state?: ContainerState;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: SandboxState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler: string;
}

export interface PodSandboxStatus extends PodSandbox {
  /** Empty when the sandbox has no pod network (host network, or torn down). */
  ip: string;
  additionalIps: string[];
  namespaceOptions?: NamespaceOption;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number };
  /** The image as requested in ContainerConfig. */
  image: string;
  /** The image digest reference or ID the runtime resolved it to. */
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStatus extends Omit<Container, 'podSandboxId'> {
  startedAt: number;
  finishedAt: number;
  /** Meaningful only once finishedAt is set. */
  exitCode: number;
  /** "OOMKilled", "Error", "Completed", ... as the runtime reports it. */
  reason: string;
  message: string;
  mounts: Mount[];
  /** Absolute host path of the CRI log file. */
  logPath: string;
  resources?: LinuxContainerResources;
}

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface StreamRequest {
  containerId: string;
  stdin: boolean;
  stdout: boolean;
  /** Must be false when tty is true (the streams are merged). */
  stderr: boolean;
  tty: boolean;
}

export interface ExecStreamRequest extends StreamRequest {
  cmd: string[];
}

export interface RuntimeVersion {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  /** "RuntimeReady" and "NetworkReady" are the ones a node's readiness depends on. */
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface ContainerStats {
  id: string;
  name: string;
  labels: Record<string, string>;
  timestamp: number;
  cpuUsageCoreNanoSeconds?: number;
  cpuUsageNanoCores?: number;
  memoryWorkingSetBytes?: number;
  memoryUsageBytes?: number;
  memoryRssBytes?: number;
  writableLayerUsedBytes?: number;
}

export interface ImageInfo {
  /** The config digest, "sha256:...". */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid?: number;
  username: string;
  pinned: boolean;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as in a docker config.json. */
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface FilesystemUsage {
  timestamp: number;
  mountpoint: string;
  usedBytes: number;
  inodesUsed: number;
}

export interface RuntimeService {
  version(): Promise<RuntimeVersion>;
  /** Runtime conditions; the node is Ready only if RuntimeReady and NetworkReady are true. */
  status(): Promise<RuntimeCondition[]>;
  /** Creates and starts a sandbox; resolves once it is ready. Returns its id. */
  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>;
  /** Kills every container in it and releases its network. Idempotent; an unknown id is done. */
  stopPodSandbox(id: string): Promise<void>;
  /** Removes the sandbox and its containers. Idempotent. */
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;
  /** The image must be present (this does not pull); sandboxConfig is required (see design.md). */
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after timeoutSeconds (0 = at once). Idempotent; an unknown id is done. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes the container, killing it first if running. Idempotent. */
  removeContainer(id: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  containerStatus(id: string): Promise<ContainerStatus>;
  updateContainerResources(id: string, resources: LinuxContainerResources): Promise<void>;
  /** Asks the runtime to reopen the container's log file after the caller rotated it. */
  reopenContainerLog(id: string): Promise<void>;
  /** Runs a command to completion; timeoutSeconds 0 = no limit. A non-zero exit is a value. */
  execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult>;
  /** A single-use URL on the runtime's streaming server for an interactive exec. */
  exec(req: ExecStreamRequest): Promise<string>;
  attach(req: StreamRequest): Promise<string>;
  portForward(podSandboxId: string, ports: number[]): Promise<string>;
  containerStats(id: string): Promise<ContainerStats>;
  listContainerStats(filter?: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> }): Promise<ContainerStats[]>;
}

export interface ImageService {
  /** All images, or those matching one reference. */
  listImages(image?: string): Promise<ImageInfo[]>;
  /** undefined when the image is not present (an expected outcome, not an error). */
  imageStatus(image: string): Promise<ImageInfo | undefined>;
  /** Returns the image reference the runtime resolved (its ID or digest). */
  pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string>;
  /** Idempotent. */
  removeImage(image: string): Promise<void>;
  imageFsInfo(): Promise<FilesystemUsage[]>;
}

/** What a node agent holds: both halves of CRI behind one object. */
export interface ContainerRuntime extends RuntimeService, ImageService {}
