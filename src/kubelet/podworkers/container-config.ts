// Turning a pod's container spec into the CRI ContainerConfig and its sandbox into a PodSandboxConfig:
// command/args with $(VAR) expansion, env (value, fieldRef, resourceFieldRef, configMapKeyRef,
// secretKeyRef) and envFrom, mounts (volumes with readOnly/subPath, /etc/hosts, the termination
// message file), resources mapped to CRI Linux resources, and the security context. Mirrors
// pkg/kubelet/kuberuntime/kuberuntime_container.go and kubelet_pods.go.
//
// Called by the pod worker of the pod before each container start. A spec the agent cannot turn into
// a container (a missing configMap key, runAsNonRoot with a root image) is a ContainerConfigError: the
// container waits with CreateContainerConfigError, as in Kubernetes.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, EnvVar, Pod } from '../../api/types.ts';
import { milliValue, tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';
import type { ContainerConfig, DNSConfig, LinuxContainerResources, LinuxContainerSecurityContext, Mount, NamespaceOption, PodSandboxConfig, PortMapping } from '../runtime/runtime.ts';
import { milliToShares } from '../cgroups/pod-cgroups.ts';
import type { ServiceLister } from '../envvars/envvars.ts';
import { SERVICES_NOT_SYNCED, serviceEnvVars } from '../envvars/envvars.ts';
import { qosClass } from '../status/qos.ts';
import { containerResourceValue, findContainer, podMetadataField, type Allocatable } from '../downward/values.ts';
import type { MountedVolume } from '../volumes/manager.ts';
import type { ConfigSource } from '../volumes/sources.ts';
import type { SubPathPreparer } from '../volumes/subpath.ts';
import {
  ANNOTATION_GRACE, ANNOTATION_RESTART_COUNT, ANNOTATION_SPEC_HASH, ANNOTATION_TERMINATION_MESSAGE_HOST, ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY, LABEL_CONTAINER_KIND, LABEL_CONTAINER_NAME, LABEL_NODE, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
  type ContainerKind,
} from './labels.ts';

export class ContainerConfigError extends Error {
  readonly code = 'ERR_CONTAINER_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** The node as env and downward API values see it; cpuMilli, memoryBytes... are its allocatable. */
export interface NodeFacts extends Allocatable {
  nodeName: string;
  hostIPs: string[];
}

export interface SandboxParams {
  pod: Pod;
  attempt: number;
  nodeName: string;
  logDirectory: string;
  cgroupParent: string;
  /** The pod's resolver settings (../network/dns.ts); absent = the runtime's default. */
  dns?: DNSConfig;
}

function podLabels(pod: Pod, nodeName: string): Record<string, string> {
  return {
    [LABEL_POD_NAME]: pod.metadata?.name ?? '',
    [LABEL_POD_NAMESPACE]: pod.metadata?.namespace ?? 'default',
    [LABEL_POD_UID]: pod.metadata?.uid ?? '',
    [LABEL_NODE]: nodeName,
  };
}

function namespaceOptions(pod: Pod): NamespaceOption {
  const s = pod.spec;
  return {
    network: s?.hostNetwork ? 'NODE' : 'POD',
    pid: s?.hostPID ? 'NODE' : s?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s?.hostIPC ? 'NODE' : 'POD',
  };
}

/** The pod's sandbox config; must be rebuilt identically for every CreateContainer of the pod. */
export function sandboxConfig(p: SandboxParams): PodSandboxConfig {
  const pod = p.pod;
  const spec = pod.spec;
  const ports: PortMapping[] = [];
  for (const c of spec?.containers ?? []) {
    for (const port of c.ports ?? []) {
      if (!port.hostPort) continue;
      ports.push({ protocol: (port.protocol ?? 'TCP') as PortMapping['protocol'], containerPort: port.containerPort, hostPort: port.hostPort, hostIp: port.hostIP ?? '' });
    }
  }
  const psc = spec?.securityContext;
  const sc: NonNullable<NonNullable<PodSandboxConfig['linux']>['securityContext']> = { namespaceOptions: namespaceOptions(pod) };
  if (psc?.runAsUser !== undefined) sc.runAsUser = { value: psc.runAsUser };
  if (psc?.runAsGroup !== undefined) sc.runAsGroup = { value: psc.runAsGroup };
  const groups = [...(psc?.supplementalGroups ?? []), ...(psc?.fsGroup !== undefined ? [psc.fsGroup] : [])];
  if (groups.length) sc.supplementalGroups = groups;
  const sysctls: Record<string, string> = {};
  for (const s of psc?.sysctls ?? []) sysctls[s.name] = s.value;
  const hostname = spec?.hostname ?? (spec?.hostNetwork ? undefined : pod.metadata?.name);
  const cfg: PodSandboxConfig = {
    metadata: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', uid: pod.metadata?.uid ?? '', attempt: p.attempt },
    logDirectory: p.logDirectory,
    portMappings: ports,
    labels: { ...(pod.metadata?.labels ?? {}), ...podLabels(pod, p.nodeName) },
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    linux: { cgroupParent: p.cgroupParent, securityContext: sc, sysctls },
  };
  if (p.dns) cfg.dnsConfig = p.dns;
  if (hostname) cfg.hostname = hostname.slice(0, 63);
  return cfg;
}

/** Kubernetes' $(VAR) expansion: `$$(X)` escapes; unknown references stay as written. */
export function expand(s: string, vars: ReadonlyMap<string, string>): string {
  return expandWith(s, (name) => vars.get(name));
}

function expandWith(s: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (s[i] === '$' && s[i + 1] === '(') {
      const end = s.indexOf(')', i + 2);
      if (end > 0) {
        const name = s.slice(i + 2, end);
        const v = lookup(name);
        out += v ?? `$(${name})`;
        i = end;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

/**
 * subPathExpr expanded with the container's environment (kubecontainer.ExpandContainerVolumeMounts):
 * unlike command and args, a reference to a variable that is unset or empty is an error, so the
 * mount never lands on a path the user did not name.
 */
export function expandSubPathExpr(expr: string, vars: ReadonlyMap<string, string>): string {
  const missing = new Set<string>();
  const out = expandWith(expr, (name) => {
    const v = vars.get(name);
    if (!v) missing.add(name);
    return v ?? '';
  });
  if (missing.size > 0) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * podFieldSelectorRuntimeValue: the spec and status fields only environment variables may name, then
 * the pod metadata a downwardAPI volume names too (one implementation, ../downward/values.ts).
 */
function fieldRefValue(pod: Pod, path: string, node: NodeFacts, podIPs: readonly string[]): string {
  switch (path) {
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? node.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return node.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return node.hostIPs.join(',');
    case 'status.podIP':
      return podIPs[0] ?? '';
    case 'status.podIPs':
      return podIPs.join(',');
  }
  const r = podMetadataField(pod, path);
  if (!r.ok) throw new ContainerConfigError(r.message);
  return r.value;
}

/**
 * The container's environment, in the kubelet's order (makeEnvironmentVariables): envFrom, then env
 * (each $(VAR) in a value resolved against the variables declared before it, then the service
 * variables), then the service variables the container did not set itself. `services` absent = an
 * agent without an API server's Services (the kubelet's nil serviceLister): no service variables.
 */
export async function resolveEnv(pod: Pod, c: Container, source: ConfigSource, node: NodeFacts, podIPs: readonly string[], services?: ServiceLister): Promise<{ key: string; value: string }[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  if (services && !services.hasSynced()) throw new ContainerConfigError(SERVICES_NOT_SYNCED);
  const serviceEnv = services ? serviceEnvVars(services.list(), ns, pod.spec?.enableServiceLinks ?? true) : new Map<string, string>();
  const vars = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await source.getConfigMap(ns, from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name ?? ''}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) if (ENV_NAME.test(prefix + k)) vars.set(prefix + k, v);
    }
    if (from.secretRef) {
      const s = await source.getSecret(ns, from.secretRef.name ?? '');
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name ?? ''}" not found`);
      }
      for (const [k, v] of Object.entries(s.data ?? {})) if (ENV_NAME.test(prefix + k)) vars.set(prefix + k, Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  const lookup = (name: string) => vars.get(name) ?? serviceEnv.get(name);
  for (const e of c.env ?? []) vars.set(e.name, await envValue(pod, c, e, lookup, source, node, podIPs, ns));
  const out = [...vars].map(([key, value]) => ({ key, value }));
  for (const [key, value] of serviceEnv) if (!vars.has(key)) out.push({ key, value });
  return out;
}

async function envValue(pod: Pod, c: Container, e: EnvVar, lookup: (name: string) => string | undefined, source: ConfigSource, node: NodeFacts, podIPs: readonly string[], ns: string): Promise<string> {
  const vf = e.valueFrom;
  if (!vf) return expandWith(e.value ?? '', lookup);
  if (vf.fieldRef) return fieldRefValue(pod, vf.fieldRef.fieldPath, node, podIPs);
  if (vf.resourceFieldRef) {
    const ref = vf.resourceFieldRef;
    const found = ref.containerName ? findContainer(pod, ref.containerName) : { ok: true as const, value: '', container: c };
    if (!found.ok) throw new ContainerConfigError(found.message);
    const r = containerResourceValue(found.container ?? c, ref.resource, ref.divisor, node);
    if (!r.ok) throw new ContainerConfigError(r.message);
    return r.value;
  }
  if (vf.configMapKeyRef) {
    const ref = vf.configMapKeyRef;
    const cm = await source.getConfigMap(ns, ref.name ?? '');
    if (!cm) {
      if (ref.optional) return '';
      throw new ContainerConfigError(`configmap "${ref.name ?? ''}" not found`);
    }
    const v = cm.data?.[ref.key] ?? (cm.binaryData?.[ref.key] !== undefined ? Buffer.from(cm.binaryData[ref.key], 'base64').toString('utf8') : undefined);
    if (v === undefined) {
      if (ref.optional) return '';
      throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name ?? ''}`);
    }
    return v;
  }
  if (vf.secretKeyRef) {
    const ref = vf.secretKeyRef;
    const s = await source.getSecret(ns, ref.name ?? '');
    if (!s) {
      if (ref.optional) return '';
      throw new ContainerConfigError(`secret "${ref.name ?? ''}" not found`);
    }
    const v = s.data?.[ref.key];
    if (v === undefined) {
      if (ref.optional) return '';
      throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name ?? ''}`);
    }
    return Buffer.from(v, 'base64').toString('utf8');
  }
  return '';
}

/** CRI Linux resources of a container (kuberuntime_container_linux.go). */
export function containerResources(pod: Pod, c: Container, memoryCapacity: number): LinuxContainerResources {
  const req = (c.resources?.requests ?? {}) as Record<string, unknown>;
  const lim = (c.resources?.limits ?? {}) as Record<string, unknown>;
  const cpuReq = tryParseQuantity(req.cpu ?? lim.cpu);
  const cpuLim = tryParseQuantity(lim.cpu);
  const memLim = tryParseQuantity(lim.memory);
  const memReq = tryParseQuantity(req.memory ?? lim.memory);
  const r: LinuxContainerResources = { cpuShares: milliToShares(cpuReq ? milliValue(cpuReq) : 0) };
  if (cpuLim) {
    r.cpuPeriod = 100_000;
    r.cpuQuota = Math.max(1000, Math.floor((milliValue(cpuLim) * 100_000) / 1000));
  }
  if (memLim) r.memoryLimitInBytes = quantityValue(memLim);
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') r.oomScoreAdj = -997;
  else if (qos === 'BestEffort') r.oomScoreAdj = 1000;
  else {
    const reqBytes = memReq ? quantityValue(memReq) : 0;
    const adj = 1000 - Math.floor((1000 * reqBytes) / Math.max(1, memoryCapacity));
    r.oomScoreAdj = Math.min(999, Math.max(2, adj));
  }
  return r;
}

function securityContext(pod: Pod, c: Container, pidTarget: string | undefined): LinuxContainerSecurityContext {
  const psc = pod.spec?.securityContext;
  const csc = c.securityContext;
  const ns = namespaceOptions(pod);
  // An ephemeral container with a target sees the target's processes (the kubelet does this only
  // when the pod's containers have PID namespaces of their own: shared or host PID already shows them).
  if (pidTarget && ns.pid === 'CONTAINER') {
    ns.pid = 'TARGET';
    ns.targetId = pidTarget;
  }
  const out: LinuxContainerSecurityContext = { namespaceOptions: ns };
  const user = csc?.runAsUser ?? psc?.runAsUser;
  const group = csc?.runAsGroup ?? psc?.runAsGroup;
  if (user !== undefined) out.runAsUser = { value: user };
  if (group !== undefined) out.runAsGroup = { value: group };
  if (csc?.privileged) out.privileged = true;
  if (csc?.readOnlyRootFilesystem) out.readonlyRootfs = true;
  if (csc?.allowPrivilegeEscalation === false) out.noNewPrivs = true;
  const add = csc?.capabilities?.add ?? [];
  const drop = csc?.capabilities?.drop ?? [];
  if (add.length || drop.length) out.capabilities = { addCapabilities: [...add], dropCapabilities: [...drop] };
  const groups = [...(psc?.supplementalGroups ?? []), ...(psc?.fsGroup !== undefined ? [psc.fsGroup] : [])];
  if (groups.length) out.supplementalGroups = groups;
  return out;
}

/**
 * runAsNonRoot is enforced by the agent before the container is created (the runtime knows nothing
 * of it): the effective user is the spec's runAsUser, else the image's.
 */
export function checkRunAsNonRoot(pod: Pod, c: Container, imageUser: { uid?: number; username: string } | undefined): void {
  const nonRoot = c.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
  if (!nonRoot) return;
  const user = c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
  const where = `(pod: "${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${pod.metadata?.uid ?? ''})", container: ${c.name})`;
  if (user !== undefined) {
    if (user === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  const uid = imageUser?.uid;
  const name = imageUser?.username ?? '';
  if (uid === 0 || (uid === undefined && (name === '' || name === 'root' || name === '0'))) {
    if (uid === undefined && name !== '' && name !== 'root' && name !== '0') {
      throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${name}), cannot verify user is non-root ${where}`);
    }
    throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
  }
}

export interface ContainerParams {
  pod: Pod;
  container: Container;
  kind: ContainerKind;
  restartCount: number;
  /** The image reference to run (the resolved image ID or the spec's name). */
  image: string;
  volumes: ReadonlyMap<string, MountedVolume>;
  /** Resolves subPath/subPathExpr mounts (the volume manager). */
  subPaths: SubPathPreparer;
  podDir: string;
  podIPs: readonly string[];
  source: ConfigSource;
  node: NodeFacts;
  /** The Services for service environment variables (absent: none). */
  services?: ServiceLister;
  /** The hosts file to mount at /etc/hosts (absent for host-network pods). */
  hostsFile?: string;
  /** An ephemeral container's target: the runtime id of the running container whose PID namespace it joins. */
  pidTarget?: string;
}

/** A short stable hash of what makes a running container out of date (the image). */
export function specHash(c: Container): string {
  let h = 0;
  for (const ch of `${c.image ?? ''}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h.toString(16);
}

export async function containerConfig(p: ContainerParams): Promise<ContainerConfig> {
  const { pod, container: c } = p;
  const env = await resolveEnv(pod, c, p.source, p.node, p.podIPs, p.services);
  const vars = new Map(env.map((e) => [e.key, e.value]));
  const mounts: Mount[] = [];
  for (const [i, vm] of (c.volumeMounts ?? []).entries()) {
    const vol = p.volumes.get(vm.name);
    if (!vol) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${c.name}"`);
    let hostPath = vol.hostPath;
    const sub = vm.subPathExpr ? expandSubPathExpr(vm.subPathExpr, vars) : vm.subPath;
    if (sub) {
      // Never a path joined and handed to the runtime: a link a container left in the volume would be
      // followed out of it (CVE-2017-1002101). The preparer resolves, checks and binds it safely.
      const r = await p.subPaths.prepareSubPath({
        volumeName: vm.name, volumePath: vol.hostPath, subPath: sub, podDir: p.podDir, containerName: c.name, mountIndex: i, create: !vol.readOnly,
      });
      if (!r.ok) throw new ContainerConfigError(r.message);
      hostPath = r.hostPath;
    }
    const m: Mount = { containerPath: vm.mountPath, hostPath, readonly: Boolean(vm.readOnly) || vol.readOnly };
    if (vm.mountPropagation === 'HostToContainer') m.propagation = 'PROPAGATION_HOST_TO_CONTAINER';
    else if (vm.mountPropagation === 'Bidirectional') m.propagation = 'PROPAGATION_BIDIRECTIONAL';
    mounts.push(m);
  }
  const mounted = new Set(mounts.map((m) => m.containerPath));
  if (p.hostsFile && !mounted.has('/etc/hosts')) mounts.push({ containerPath: '/etc/hosts', hostPath: p.hostsFile, readonly: false });
  const tmPath = c.terminationMessagePath ?? '/dev/termination-log';
  let tmHost = '';
  if (tmPath && !mounted.has(tmPath)) {
    const dir = join(p.podDir, 'containers', c.name);
    await mkdir(dir, { recursive: true });
    tmHost = join(dir, randomBytes(4).toString('hex'));
    await writeFile(tmHost, '', { mode: 0o666 });
    mounts.push({ containerPath: tmPath, hostPath: tmHost, readonly: false });
  }
  const ns = pod.metadata?.namespace ?? 'default';
  const cfg: ContainerConfig = {
    metadata: { name: c.name, attempt: p.restartCount },
    image: { image: p.image, userSpecifiedImage: c.image ?? '' },
    envs: env,
    mounts,
    labels: { [LABEL_POD_NAME]: pod.metadata?.name ?? '', [LABEL_POD_NAMESPACE]: ns, [LABEL_POD_UID]: pod.metadata?.uid ?? '', [LABEL_CONTAINER_NAME]: c.name, [LABEL_NODE]: p.node.nodeName, [LABEL_CONTAINER_KIND]: p.kind },
    annotations: {
      [ANNOTATION_RESTART_COUNT]: String(p.restartCount),
      [ANNOTATION_TERMINATION_MESSAGE_PATH]: tmPath,
      [ANNOTATION_TERMINATION_MESSAGE_HOST]: tmHost,
      [ANNOTATION_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
      [ANNOTATION_GRACE]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      [ANNOTATION_SPEC_HASH]: specHash(c),
    },
    logPath: `${c.name}/${p.restartCount}.log`,
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: { resources: containerResources(pod, c, p.node.memoryBytes), securityContext: securityContext(pod, c, p.pidTarget) },
  };
  if (c.command?.length) cfg.command = c.command.map((s) => expand(s, vars));
  if (c.args?.length) cfg.args = c.args.map((s) => expand(s, vars));
  if (c.workingDir) cfg.workingDir = c.workingDir;
  return cfg;
}
