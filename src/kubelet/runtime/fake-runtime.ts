// An in-memory ContainerRuntime for unit tests of the node agent and for simulated nodes (thousands of
// them in one process, no containers). It passes the same shared suite as containerd
// (./runtime-suite.ts) and mirrors containerd 1.6's observable behaviour, errors included
// (measured against the real thing: duplicate names, starting twice, exec in an exited container...).
//
// What containers "do" is scripted: by default a container runs until stopped, except for a few
// busybox command shapes the fake understands (`true`, `false`, `sh -c '...; exit N'`, `sleep N`,
// `echo`), so one test spec drives both runtimes. Tests add programs, exec results, pull sources and
// one-shot failures, and advance an injected Clock to make time-based exits happen.
import { randomBytes } from 'node:crypto';
import { realClock, type Clock, type Timer } from '../../util/clock.ts';
import { normalizeImageName } from '../images/reference.ts';
import { CriError, type CriErrorCode } from './errors.ts';
import type {
  AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerRuntime, ContainerState, ContainerStats, ContainerStatus,
  ExecStreamRequest, ExecSyncResult, FilesystemUsage, ImageInfo, LinuxContainerResources, PodSandbox, PodSandboxConfig,
  PodSandboxFilter, PodSandboxStatus, RuntimeCondition, RuntimeVersion, StreamRequest,
} from './runtime.ts';

/** How a started container behaves. */
export interface FakeProgram {
  /** Exit by itself this many ms after start (0 = at once); undefined = run until stopped. */
  exitAfterMs?: number;
  exitCode?: number;
  /** Defaults: "Completed" for exit code 0, "Error" otherwise; "OOMKilled" to fake an OOM kill. */
  reason?: string;
  message?: string;
  /** StartContainer itself fails with this (e.g. a missing executable). */
  startError?: CriError;
}

export interface ProgramContext {
  id: string;
  config: ContainerConfig;
  sandbox: PodSandboxConfig;
  /** command + args, as the process would see them (image defaults are not modelled). */
  argv: string[];
}

/** Return undefined to fall through to the next script (and finally to the built-in behaviour). */
export type ProgramScript = (c: ProgramContext) => FakeProgram | undefined;

export interface ExecContext extends ProgramContext {
  cmd: string[];
  timeoutSeconds: number;
}

/** An ExecSyncResult, or 'timeout' to behave like a command outliving its timeout. */
export type ExecScript = (c: ExecContext) => ExecSyncResult | 'timeout' | undefined;

export interface RegistryImage {
  id?: string;
  size?: number;
  /** When set, pulls must carry these credentials (username/password or base64 auth). */
  credentials?: { username: string; password: string };
}

export interface FakeRuntimeOptions {
  clock?: Clock;
  /** Images present from the start (normalised names). */
  images?: string[];
  /** Images a pull can fetch. */
  registry?: Record<string, RegistryImage>;
  /** Pod IPs are handed out from this /16 or smaller IPv4 CIDR (default 10.88.0.0/16). */
  podCidr?: string;
  /** Whether the runtime reports NetworkReady (default true). */
  networkReady?: boolean;
}

export interface FakeCall {
  method: string;
  args: unknown[];
}

interface SandboxRec {
  id: string;
  config: PodSandboxConfig;
  state: 'ready' | 'notready';
  createdAt: number;
  ip: string;
  runtimeHandler: string;
}

interface ContainerRec {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  imageId: string;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  resources: LinuxContainerResources | undefined;
  timer: Timer | undefined;
}

interface ImageRec {
  id: string;
  names: Set<string>;
  size: number;
}

function err(code: CriErrorCode, method: string, message: string): CriError {
  return new CriError(code, method, message);
}

function matchLabels(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function fakeDigest(seed: string): string {
  return 'sha256:' + Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64);
}

/** Splits a tiny shell script on `;` and `&&` (no quoting inside): enough for test one-liners. */
function shellSteps(script: string): string[][] {
  return script.split(/;|&&|\n/).map((s) => s.trim()).filter(Boolean).map((s) => s.split(/\s+/));
}

/** Servers and followers: a script reaching one of these runs until stopped. */
const LONG_RUNNING = new Set(['httpd', 'nc', 'tail', 'top', 'watch', 'yes', 'crond', 'syslogd']);

/** The built-in program: what busybox would do with these argv, as far as a test needs. */
function builtinProgram(argv: readonly string[], stdin: boolean): FakeProgram {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return {};
  if (cmd === 'true') return { exitAfterMs: 0, exitCode: 0 };
  if (cmd === 'false') return { exitAfterMs: 0, exitCode: 1 };
  if (cmd === 'echo') return { exitAfterMs: 0, exitCode: 0 };
  if (cmd === 'sleep') {
    const s = Number(args[0]);
    return Number.isFinite(s) ? { exitAfterMs: s * 1000, exitCode: 0 } : {};
  }
  if (cmd === 'sh' && args[0] === '-c' && args[1] !== undefined) {
    const steps = shellSteps(args[1]);
    let at = 0;
    for (const step of steps) {
      if (step[0] === 'exit') return { exitAfterMs: at, exitCode: Number(step[1] ?? 0) };
      if (step[0] === 'sleep') {
        const s = Number(step[1]);
        if (!Number.isFinite(s)) return {};
        at += s * 1000;
      } else if (LONG_RUNNING.has(step[0])) return {};
    }
    return { exitAfterMs: at, exitCode: 0 };
  }
  // A bare shell without stdin reads EOF and exits, as busybox's default `sh` does under containerd.
  if (cmd === 'sh' && args.length === 0 && !stdin) return { exitAfterMs: 0, exitCode: 0 };
  return {};
}

/** The built-in exec: hostname, true/false, echo and `sh -c` one-liners of those plus exit. */
function builtinExec(c: ExecContext): ExecSyncResult {
  const out: string[] = [];
  const errOut: string[] = [];
  const hostname = c.sandbox.hostname || c.sandbox.metadata.name;
  const run = (step: string[]): number | undefined => {
    const [cmd, ...args] = step;
    switch (cmd) {
      case 'hostname':
        out.push(hostname + '\n');
        return 0;
      case 'true':
        return 0;
      case 'false':
        return 1;
      case 'echo': {
        const toErr = args[args.length - 1] === '>&2';
        const words = (toErr ? args.slice(0, -1) : args).map((w) => w.replace(/^['"]|['"]$/g, ''));
        (toErr ? errOut : out).push(words.join(' ') + '\n');
        return 0;
      }
      default:
        return 0;
    }
  };
  let code = 0;
  if (c.cmd[0] === 'sh' && c.cmd[1] === '-c' && c.cmd[2] !== undefined) {
    for (const step of shellSteps(c.cmd[2])) {
      if (step[0] === 'exit') {
        code = Number(step[1] ?? 0);
        break;
      }
      code = run(step) ?? 0;
    }
  } else {
    code = run(c.cmd) ?? 0;
  }
  return { stdout: Buffer.from(out.join('')), stderr: Buffer.from(errOut.join('')), exitCode: code };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export class FakeRuntime implements ContainerRuntime {
  readonly clock: Clock;
  /** Every call, in order, with its arguments (for asserting what the agent sent). */
  readonly calls: FakeCall[] = [];
  networkReady: boolean;
  readonly #sandboxes = new Map<string, SandboxRec>();
  readonly #containers = new Map<string, ContainerRec>();
  readonly #images = new Map<string, ImageRec>(); // by id
  readonly #registry = new Map<string, RegistryImage>();
  readonly #programs: ProgramScript[] = [];
  readonly #execs: ExecScript[] = [];
  readonly #failures = new Map<string, Error[]>();
  readonly #freeIps: number[] = [];
  #nextIp: number;
  readonly #lastIp: number;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.networkReady = opts.networkReady ?? true;
    for (const name of opts.images ?? []) this.addImage(name);
    for (const [name, img] of Object.entries(opts.registry ?? {})) this.addRegistryImage(name, img);
    const [base, bits] = (opts.podCidr ?? '10.88.0.0/16').split('/');
    const start = ipv4ToInt(base);
    this.#nextIp = start + 2; // .1 is the bridge's gateway
    this.#lastIp = start + 2 ** (32 - Number(bits)) - 2;
  }

  // ---- scripting ----

  /** Adds a program script; later scripts take precedence over earlier ones. */
  program(script: ProgramScript): this {
    this.#programs.unshift(script);
    return this;
  }

  /** Adds an exec script; later scripts take precedence over earlier ones. */
  execScript(script: ExecScript): this {
    this.#execs.unshift(script);
    return this;
  }

  /** The next call of `method` fails with `error` (queued: several calls fail in order). */
  failNext(method: keyof ContainerRuntime, error: Error): this {
    const q = this.#failures.get(method) ?? [];
    q.push(error);
    this.#failures.set(method, q);
    return this;
  }

  /** Makes an image present locally (as an import would); returns its ID. */
  addImage(name: string, opts: { id?: string; size?: number } = {}): string {
    const n = normalizeImageName(name);
    const id = opts.id ?? fakeDigest(n);
    for (const rec of this.#images.values()) rec.names.delete(n);
    const rec = this.#images.get(id) ?? { id, names: new Set<string>(), size: opts.size ?? 1_000_000 };
    rec.names.add(n);
    this.#images.set(id, rec);
    return id;
  }

  /** Makes an image pullable. */
  addRegistryImage(name: string, img: RegistryImage = {}): void {
    this.#registry.set(normalizeImageName(name), img);
  }

  /** Ends a running container now, as a crash or an OOM kill would. */
  exitContainer(id: string, exitCode: number, reason?: string, message = ''): void {
    const c = this.#containers.get(id);
    if (!c || c.state !== 'running') throw err('ERR_CRI_FAILED_PRECONDITION', 'exitContainer', `container ${id} is not running`);
    this.#finish(c, exitCode, reason ?? (exitCode === 0 ? 'Completed' : 'Error'), message);
  }

  /**
   * The sandbox's own process ends while its containers go on running: the runtime reports it NOT_READY
   * (as containerd does when the pause process dies, or when it cannot reload the sandbox's task).
   */
  loseSandbox(id: string): void {
    const s = this.#sandboxes.get(id);
    if (!s || s.state !== 'ready') throw err('ERR_CRI_FAILED_PRECONDITION', 'loseSandbox', `sandbox ${id} is not ready`);
    s.state = 'notready';
  }

  // ---- RuntimeService ----

  async version(): Promise<RuntimeVersion> {
    this.#enter('version', []);
    return { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '0.0.0', runtimeApiVersion: 'v1' };
  }

  async status(): Promise<RuntimeCondition[]> {
    this.#enter('status', []);
    return [
      { type: 'RuntimeReady', status: true, reason: '', message: '' },
      this.networkReady
        ? { type: 'NetworkReady', status: true, reason: '', message: '' }
        : { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'Network plugin returns error: cni plugin not initialized' },
    ];
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const m = 'RunPodSandbox';
    this.#enter('runPodSandbox', [config, runtimeHandler]);
    const md = config.metadata;
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    if (!hostNetwork && !this.networkReady) throw err('ERR_CRI_UNKNOWN', m, 'failed to setup network for sandbox: cni plugin not initialized');
    const name = `${md.name}_${md.namespace}_${md.uid}_${md.attempt}`;
    for (const s of this.#sandboxes.values()) {
      const o = s.config.metadata;
      if (`${o.name}_${o.namespace}_${o.uid}_${o.attempt}` === name) throw err('ERR_CRI_ALREADY_EXISTS', m, `failed to reserve sandbox name "${name}": name "${name}" is reserved for "${s.id}"`);
    }
    const id = randomBytes(32).toString('hex');
    this.#sandboxes.set(id, { id, config: structuredClone(config), state: 'ready', createdAt: this.clock.now(), ip: hostNetwork ? '' : this.#allocIp(m), runtimeHandler });
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.#enter('stopPodSandbox', [id]);
    const s = this.#sandboxes.get(id);
    if (!s) return; // containerd: NOT_FOUND for a removed sandbox, which the seam defines as done
    for (const c of this.#containers.values()) {
      if (c.sandboxId === id && c.state === 'running') this.#finish(c, 137, 'Error', '');
    }
    if (s.state === 'ready') {
      s.state = 'notready';
      this.#releaseIp(s);
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    this.#enter('removePodSandbox', [id]);
    const s = this.#sandboxes.get(id);
    if (!s) return;
    for (const c of [...this.#containers.values()]) {
      if (c.sandboxId !== id) continue;
      c.timer?.cancel();
      this.#containers.delete(c.id);
    }
    this.#releaseIp(s);
    this.#sandboxes.delete(id);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    this.#enter('podSandboxStatus', [id]);
    const s = this.#sandbox('PodSandboxStatus', id);
    const ns = s.config.linux?.securityContext?.namespaceOptions;
    return {
      ...this.#sandboxView(s),
      ip: s.state === 'ready' ? s.ip : '',
      additionalIps: [],
      namespaceOptions: { network: ns?.network ?? 'POD', pid: ns?.pid ?? 'CONTAINER', ipc: ns?.ipc ?? 'POD', targetId: ns?.targetId ?? '' },
    };
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    this.#enter('listPodSandbox', [filter]);
    return [...this.#sandboxes.values()]
      .filter((s) => (!filter.id || s.id.startsWith(filter.id)) && (!filter.state || s.state === filter.state) && matchLabels(s.config.labels, filter.labelSelector))
      .map((s) => this.#sandboxView(s));
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const m = 'CreateContainer';
    this.#enter('createContainer', [podSandboxId, config, sandboxConfig]);
    // containerd 1.6.20 crashes without it (design.md); the fake refuses, so tests catch the omission.
    if (!sandboxConfig) throw err('ERR_CRI_INVALID_ARGUMENT', m, 'sandbox config must not be nil');
    const s = this.#sandbox(m, podSandboxId);
    if (s.state !== 'ready') throw err('ERR_CRI_FAILED_PRECONDITION', m, `sandbox ${podSandboxId} is not running`);
    const img = this.#imageByRef(config.image.image);
    if (!img) throw err('ERR_CRI_NOT_FOUND', m, `failed to resolve image "${config.image.image}": not found`);
    const sm = s.config.metadata;
    const name = `${config.metadata.name}_${sm.name}_${sm.namespace}_${sm.uid}_${config.metadata.attempt}`;
    for (const c of this.#containers.values()) {
      if (c.sandboxId === podSandboxId && c.config.metadata.name === config.metadata.name && c.config.metadata.attempt === config.metadata.attempt) {
        throw err('ERR_CRI_ALREADY_EXISTS', m, `failed to reserve container name "${name}": name "${name}" is reserved for "${c.id}"`);
      }
    }
    const id = randomBytes(32).toString('hex');
    this.#containers.set(id, {
      id,
      sandboxId: podSandboxId,
      config: structuredClone(config),
      sandboxConfig: structuredClone(sandboxConfig),
      imageId: img.id,
      state: 'created',
      createdAt: this.clock.now(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      resources: config.linux?.resources ? { ...config.linux.resources } : undefined,
      timer: undefined,
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const m = 'StartContainer';
    this.#enter('startContainer', [id]);
    const c = this.#container(m, id);
    if (c.state !== 'created') throw err('ERR_CRI_FAILED_PRECONDITION', m, `failed to set starting state for container "${id}": container is in ${wireState(c.state)} state`);
    const s = this.#sandboxes.get(c.sandboxId);
    if (!s || s.state !== 'ready') throw err('ERR_CRI_FAILED_PRECONDITION', m, `sandbox container "${c.sandboxId}" is not running`);
    const p = this.#programFor(c);
    if (p.startError) {
      c.state = 'exited';
      c.finishedAt = this.clock.now();
      c.exitCode = 128;
      c.reason = 'StartError';
      c.message = p.startError.message;
      throw p.startError;
    }
    c.state = 'running';
    c.startedAt = this.clock.now();
    if (p.exitAfterMs !== undefined) {
      const code = p.exitCode ?? 0;
      c.timer = this.clock.setTimeout(() => {
        if (c.state === 'running') this.#finish(c, code, p.reason ?? (code === 0 ? 'Completed' : 'Error'), p.message ?? '');
      }, p.exitAfterMs);
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.#enter('stopContainer', [id, timeoutSeconds]);
    const c = this.#containers.get(id);
    if (!c) return;
    // Busybox programs run as PID 1 ignore SIGTERM, so containerd SIGKILLs them: 137. containerd
    // leaves a container that never started in CREATED.
    if (c.state === 'running') this.#finish(c, 137, 'Error', '');
  }

  async removeContainer(id: string): Promise<void> {
    this.#enter('removeContainer', [id]);
    const c = this.#containers.get(id);
    if (!c) return;
    c.timer?.cancel();
    this.#containers.delete(id);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    this.#enter('listContainers', [filter]);
    return [...this.#containers.values()]
      .filter((c) => (!filter.id || c.id.startsWith(filter.id))
        && (!filter.state || c.state === filter.state)
        && (!filter.podSandboxId || c.sandboxId.startsWith(filter.podSandboxId))
        && matchLabels(c.config.labels, filter.labelSelector))
      .map((c) => ({
        id: c.id,
        podSandboxId: c.sandboxId,
        metadata: { ...c.config.metadata },
        image: c.config.image.image,
        imageRef: c.imageId,
        state: c.state,
        createdAt: c.createdAt,
        labels: { ...c.config.labels },
        annotations: { ...c.config.annotations },
      }));
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    this.#enter('containerStatus', [id]);
    const c = this.#container('ContainerStatus', id);
    const s = this.#sandboxes.get(c.sandboxId);
    const dir = s?.config.logDirectory ?? '';
    const out: ContainerStatus = {
      id: c.id,
      metadata: { ...c.config.metadata },
      image: c.config.image.image,
      imageRef: c.imageId,
      state: c.state,
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      reason: c.reason,
      message: c.message,
      labels: { ...c.config.labels },
      annotations: { ...c.config.annotations },
      mounts: (c.config.mounts ?? []).map((x) => ({ ...x })),
      logPath: c.config.logPath && dir ? `${dir}/${c.config.logPath}` : '',
    };
    if (c.resources) out.resources = { ...c.resources };
    return out;
  }

  async updateContainerResources(id: string, resources: LinuxContainerResources): Promise<void> {
    this.#enter('updateContainerResources', [id, resources]);
    const c = this.#container('UpdateContainerResources', id);
    c.resources = { ...c.resources, ...resources };
  }

  async reopenContainerLog(id: string): Promise<void> {
    this.#enter('reopenContainerLog', [id]);
    const c = this.#container('ReopenContainerLog', id);
    if (c.state !== 'running') throw err('ERR_CRI_FAILED_PRECONDITION', 'ReopenContainerLog', 'container is not running');
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const m = 'ExecSync';
    this.#enter('execSync', [id, cmd, timeoutSeconds]);
    const c = this.#container(m, id);
    if (c.state !== 'running') throw err('ERR_CRI_FAILED_PRECONDITION', m, `failed to exec in container: container is in ${wireState(c.state)} state`);
    const ctx: ExecContext = { ...this.#programContext(c), cmd: [...cmd], timeoutSeconds };
    let r: ExecSyncResult | 'timeout' | undefined;
    for (const script of this.#execs) if ((r = script(ctx)) !== undefined) break;
    r ??= builtinExec(ctx);
    if (r === 'timeout') throw err('ERR_CRI_DEADLINE_EXCEEDED', m, `failed to exec in container: timeout ${timeoutSeconds}s exceeded: context deadline exceeded`);
    return { stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr), exitCode: r.exitCode };
  }

  async exec(req: ExecStreamRequest): Promise<string> {
    this.#enter('exec', [req]);
    this.#streamable('Exec', req.containerId);
    return `http://127.0.0.1:0/exec/${randomBytes(6).toString('base64url')}`;
  }

  async attach(req: StreamRequest): Promise<string> {
    this.#enter('attach', [req]);
    this.#streamable('Attach', req.containerId);
    return `http://127.0.0.1:0/attach/${randomBytes(6).toString('base64url')}`;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    this.#enter('portForward', [podSandboxId, ports]);
    this.#sandbox('PortForward', podSandboxId);
    return `http://127.0.0.1:0/portforward/${randomBytes(6).toString('base64url')}`;
  }

  async containerStats(id: string): Promise<ContainerStats> {
    this.#enter('containerStats', [id]);
    return this.#stats(this.#container('ContainerStats', id));
  }

  async listContainerStats(filter: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> } = {}): Promise<ContainerStats[]> {
    this.#enter('listContainerStats', [filter]);
    return [...this.#containers.values()]
      .filter((c) => c.state === 'running' && (!filter.id || c.id === filter.id) && (!filter.podSandboxId || c.sandboxId === filter.podSandboxId) && matchLabels(c.config.labels, filter.labelSelector))
      .map((c) => this.#stats(c));
  }

  // ---- ImageService ----

  async listImages(ref?: string): Promise<ImageInfo[]> {
    this.#enter('listImages', [ref]);
    if (ref) {
      const i = this.#imageByRef(ref);
      return i ? [this.#imageView(i)] : [];
    }
    return [...this.#images.values()].map((i) => this.#imageView(i));
  }

  async imageStatus(ref: string): Promise<ImageInfo | undefined> {
    this.#enter('imageStatus', [ref]);
    const i = this.#imageByRef(ref);
    return i ? this.#imageView(i) : undefined;
  }

  async pullImage(ref: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const m = 'PullImage';
    this.#enter('pullImage', [ref, auth, sandboxConfig]);
    const name = normalizeImageName(ref);
    const src = this.#registry.get(name);
    if (!src) throw err('ERR_CRI_UNKNOWN', m, `failed to pull and unpack image "${name}": failed to resolve reference "${name}": ${name}: not found`);
    if (src.credentials) {
      const basic = Buffer.from(`${src.credentials.username}:${src.credentials.password}`).toString('base64');
      const ok = (auth?.username === src.credentials.username && auth?.password === src.credentials.password) || auth?.auth === basic;
      if (!ok) throw err('ERR_CRI_UNKNOWN', m, `failed to pull and unpack image "${name}": failed to resolve reference "${name}": pulling from host failed with status code [manifests ${name}]: 401 Unauthorized`);
    }
    return this.addImage(name, { id: src.id, size: src.size });
  }

  async removeImage(ref: string): Promise<void> {
    this.#enter('removeImage', [ref]);
    const i = this.#imageByRef(ref);
    if (!i) return;
    if (ref.startsWith('sha256:')) this.#images.delete(i.id);
    else {
      i.names.delete(normalizeImageName(ref));
      if (i.names.size === 0) this.#images.delete(i.id);
    }
  }

  async imageFsInfo(): Promise<FilesystemUsage[]> {
    this.#enter('imageFsInfo', []);
    let used = 0;
    for (const i of this.#images.values()) used += i.size;
    return [{ timestamp: this.clock.now(), mountpoint: '/fake/images', usedBytes: used, inodesUsed: this.#images.size }];
  }

  // ---- internals ----

  #enter(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    const q = this.#failures.get(method);
    const e = q?.shift();
    if (q && q.length === 0) this.#failures.delete(method);
    if (e) throw e;
  }

  #sandbox(method: string, id: string): SandboxRec {
    const s = this.#sandboxes.get(id);
    if (!s) throw err('ERR_CRI_NOT_FOUND', method, `an error occurred when try to find sandbox "${id}": not found`);
    return s;
  }

  #container(method: string, id: string): ContainerRec {
    const c = this.#containers.get(id);
    if (!c) throw err('ERR_CRI_NOT_FOUND', method, `an error occurred when try to find container "${id}": not found`);
    return c;
  }

  #streamable(method: string, id: string): void {
    const c = this.#container(method, id);
    if (c.state !== 'running') throw err('ERR_CRI_FAILED_PRECONDITION', method, `container is in ${wireState(c.state)} state`);
  }

  #sandboxView(s: SandboxRec): PodSandbox {
    return {
      id: s.id,
      metadata: { ...s.config.metadata },
      state: s.state,
      createdAt: s.createdAt,
      labels: { ...s.config.labels },
      annotations: { ...s.config.annotations },
      runtimeHandler: s.runtimeHandler,
    };
  }

  #imageByRef(ref: string): ImageRec | undefined {
    if (ref.startsWith('sha256:')) return this.#images.get(ref);
    let n: string;
    try {
      n = normalizeImageName(ref);
    } catch {
      return undefined;
    }
    for (const i of this.#images.values()) if (i.names.has(n)) return i;
    return undefined;
  }

  #imageView(i: ImageRec): ImageInfo {
    return { id: i.id, repoTags: [...i.names].sort(), repoDigests: [], size: i.size, username: '', pinned: false };
  }

  #programContext(c: ContainerRec): ProgramContext {
    return { id: c.id, config: c.config, sandbox: c.sandboxConfig, argv: [...(c.config.command ?? []), ...(c.config.args ?? [])] };
  }

  #programFor(c: ContainerRec): FakeProgram {
    const ctx = this.#programContext(c);
    for (const script of this.#programs) {
      const p = script(ctx);
      if (p) return p;
    }
    return builtinProgram(ctx.argv, c.config.stdin ?? false);
  }

  #finish(c: ContainerRec, exitCode: number, reason: string, message: string): void {
    c.timer?.cancel();
    c.timer = undefined;
    c.state = 'exited';
    c.finishedAt = this.clock.now();
    c.exitCode = exitCode;
    c.reason = reason;
    c.message = message;
  }

  #stats(c: ContainerRec): ContainerStats {
    return { id: c.id, name: c.config.metadata.name, labels: { ...c.config.labels }, timestamp: this.clock.now(), cpuUsageCoreNanoSeconds: 0, cpuUsageNanoCores: 0, memoryWorkingSetBytes: 0, memoryUsageBytes: 0, memoryRssBytes: 0, writableLayerUsedBytes: 0 };
  }

  #allocIp(method: string): string {
    const n = this.#freeIps.shift() ?? (this.#nextIp <= this.#lastIp ? this.#nextIp++ : undefined);
    if (n === undefined) throw err('ERR_CRI_UNKNOWN', method, 'failed to setup network for sandbox: no IP addresses available in range set');
    return intToIpv4(n);
  }

  #releaseIp(s: SandboxRec): void {
    if (s.ip) this.#freeIps.push(ipv4ToInt(s.ip));
    s.ip = '';
  }
}

function wireState(s: ContainerState): string {
  return `CONTAINER_${s.toUpperCase()}`;
}
