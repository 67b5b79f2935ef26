// The Pod Security Standards' checks, one per control, with kube's forbidden reasons and details
// word for word (k8s.io/pod-security-admission/policy/check_*.go). A check sees a pod's metadata and
// spec (or a pod template's) and says whether it is allowed; several versions of one check apply
// from the policy version (1.X) each names. The list is in kube's registration order (its files'
// alphabetical order); the evaluator orders them by id, as kube prints violations.

import type { Container, ObjectMeta, PodSpec, Volume } from '../types.ts';
import { goQuote } from '../goquote.ts';
import type { Level } from './policy.ts';

export interface CheckResult {
  allowed: boolean;
  /** Always printed, e.g. "host namespaces". */
  forbiddenReason?: string;
  /** Printed in parentheses after the reason when checking one object, e.g. "hostNetwork, hostPID". */
  forbiddenDetail?: string;
}

export type CheckPodFn = (meta: ObjectMeta, spec: PodSpec) => CheckResult;

export interface VersionedCheck {
  /** The first policy minor (1.X) this version of the check applies to. */
  minimumMinor: number;
  checkPod: CheckPodFn;
  /** Baseline checks this restricted check replaces at the restricted level (it covers them). */
  overrides?: readonly string[];
}

export interface Check {
  id: string;
  level: Exclude<Level, 'privileged'>;
  /** Strictly increasing minimumMinor. */
  versions: readonly VersionedCheck[];
}

const ALLOWED: CheckResult = { allowed: true };
const forbid = (forbiddenReason: string, forbiddenDetail: string): CheckResult => ({ allowed: false, forbiddenReason, forbiddenDetail });

export function joinQuote(items: readonly string[]): string {
  return items.length ? `"${items.join('", "')}"` : '';
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** Go's sort.Strings order (bytewise) of a set's members: kube's sets.String.List(). */
function sortedSet(s: Set<string>): string[] {
  return [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Init containers, containers, then ephemeral containers (kube's visitContainers). */
function containers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as Container[])];
}

function containerSetters(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Since policy 1.25 some restricted controls do not apply to pods declared to run on Windows. */
function isWindows(spec: PodSpec): boolean {
  return spec.os?.name === 'windows';
}

// ---- baseline ----

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function appArmorProfile(meta: ObjectMeta, spec: PodSpec): CheckResult {
  const allowedType = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  const podProfile = spec.securityContext?.appArmorProfile;
  if (podProfile && !allowedType(podProfile.type)) {
    badSetters.push('pod');
    badValues.add(podProfile.type ?? '');
  }
  const badContainers: string[] = [];
  for (const c of containers(spec)) {
    const p = c.securityContext?.appArmorProfile;
    if (p && !allowedType(p.type)) {
      badContainers.push(c.name);
      badValues.add(p.type ?? '');
    }
  }
  if (badContainers.length) badSetters.push(containerSetters(badContainers));
  const badAnnotations: string[] = [];
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    if (k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !(v === '' || v === 'runtime/default' || v.startsWith('localhost/'))) badAnnotations.push(`${k}=${goQuote(v)}`);
  }
  const badValueList = sortedSet(badValues);
  if (badAnnotations.length) {
    badAnnotations.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    badValueList.push(...badAnnotations);
    badSetters.push(pluralize('annotation', 'annotations', badAnnotations.length));
  }
  if (!badSetters.length) return ALLOWED;
  return forbid(
    pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', badValueList.length),
    `${badSetters.join(' and ')} must not set AppArmor profile type to ${joinQuote(badValueList)}`,
  );
}

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

function capabilitiesBaseline(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badContainers: string[] = [];
  const nonDefault = new Set<string>();
  for (const c of containers(spec)) {
    let valid = true;
    for (const cap of c.securityContext?.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap)) {
        valid = false;
        nonDefault.add(cap);
      }
    }
    if (!valid) badContainers.push(c.name);
  }
  if (!badContainers.length) return ALLOWED;
  return forbid('non-default capabilities', `${containerSetters(badContainers)} must not include ${joinQuote(sortedSet(nonDefault))} in securityContext.capabilities.add`);
}

function hostNamespaces(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const used: string[] = [];
  if (spec.hostNetwork) used.push('hostNetwork=true');
  if (spec.hostPID) used.push('hostPID=true');
  if (spec.hostIPC) used.push('hostIPC=true');
  return used.length ? forbid('host namespaces', used.join(', ')) : ALLOWED;
}

function hostPathVolumes(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const names = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  if (!names.length) return ALLOWED;
  return forbid('hostPath volumes', `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}`);
}

function hostPorts(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badContainers: string[] = [];
  const ports = new Set<string>();
  for (const c of containers(spec)) {
    let valid = true;
    for (const p of c.ports ?? []) {
      if (p.hostPort) {
        valid = false;
        ports.add(String(p.hostPort));
      }
    }
    if (!valid) badContainers.push(c.name);
  }
  if (!badContainers.length) return ALLOWED;
  return forbid(
    'hostPort',
    `${containerSetters(badContainers)} ${pluralize('uses', 'use', badContainers.length)} ${pluralize('hostPort', 'hostPorts', ports.size)} ${sortedSet(ports).join(', ')}`,
  );
}

function privileged(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const bad = containers(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  if (!bad.length) return ALLOWED;
  return forbid('privileged', `${containerSetters(bad)} must not set securityContext.privileged=true`);
}

function procMount(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badContainers: string[] = [];
  const types = new Set<string>();
  for (const c of containers(spec)) {
    const pm = c.securityContext?.procMount;
    if (pm !== undefined && pm !== null && pm !== 'Default') {
      badContainers.push(c.name);
      types.add(pm);
    }
  }
  if (!badContainers.length) return ALLOWED;
  return forbid('procMount', `${containerSetters(badContainers)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`);
}

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);

function seLinuxOptions(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badTypes = new Set<string>();
  let setUser = false;
  let setRole = false;
  const valid = (o: { type?: string; user?: string; role?: string }): boolean => {
    let ok = true;
    if (!SELINUX_TYPES.has(o.type ?? '')) {
      ok = false;
      badTypes.add(o.type ?? '');
    }
    if (o.user) {
      ok = false;
      setUser = true;
    }
    if (o.role) {
      ok = false;
      setRole = true;
    }
    return ok;
  };
  const badSetters: string[] = [];
  const podOpts = spec.securityContext?.seLinuxOptions;
  if (podOpts && !valid(podOpts)) badSetters.push('pod');
  const badContainers = containers(spec).filter((c) => c.securityContext?.seLinuxOptions && !valid(c.securityContext.seLinuxOptions)).map((c) => c.name);
  if (badContainers.length) badSetters.push(containerSetters(badContainers));
  if (!badSetters.length) return ALLOWED;
  // As kube: user and role are only named beside a bad type.
  const badData: string[] = [];
  if (badTypes.size) {
    badData.push(`${pluralize('type', 'types', badTypes.size)} ${joinQuote(sortedSet(badTypes))}`);
    if (setUser) badData.push('user may not be set');
    if (setRole) badData.push('role may not be set');
  }
  return forbid('seLinuxOptions', `${badSetters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${badData.join('; ')}`);
}

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const validSeccomp = (t: string | undefined) => t === 'Localhost' || t === 'RuntimeDefault';
const validSeccompAnnotation = (v: string) => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');

/** Policy 1.0-1.18: the alpha annotations. */
function seccompProfileBaseline10(meta: ObjectMeta, spec: PodSpec): CheckResult {
  const bad = new Set<string>();
  const annotations = meta.annotations ?? {};
  const podValue = annotations[SECCOMP_POD_ANNOTATION];
  if (podValue !== undefined && !validSeccompAnnotation(podValue)) bad.add(`${SECCOMP_POD_ANNOTATION}=${goQuote(podValue)}`);
  for (const c of containers(spec)) {
    const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name;
    const v = annotations[key];
    if (v !== undefined && !validSeccompAnnotation(v)) bad.add(`${key}=${goQuote(v)}`);
  }
  if (!bad.size) return ALLOWED;
  return forbid('seccompProfile', `forbidden ${pluralize('annotation', 'annotations', bad.size)} ${sortedSet(bad).join(', ')}`);
}

/** Policy 1.19+: securityContext.seccompProfile, where set, must not be Unconfined. */
function seccompProfileBaseline119(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  const podProfile = spec.securityContext?.seccompProfile;
  if (podProfile && !validSeccomp(podProfile.type)) {
    badSetters.push('pod');
    badValues.add(podProfile.type ?? '');
  }
  const bad: string[] = [];
  for (const c of containers(spec)) {
    const p = c.securityContext?.seccompProfile;
    if (p && !validSeccomp(p.type)) {
      bad.push(c.name);
      badValues.add(p.type ?? '');
    }
  }
  if (bad.length) badSetters.push(containerSetters(bad));
  if (!badSetters.length) return ALLOWED;
  return forbid('seccompProfile', `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues))}`);
}

// The safe sysctls, growing with the policy version.
const SYSCTLS_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [...SYSCTLS_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

function sysctls(allowedNames: readonly string[]): CheckPodFn {
  const allowed = new Set(allowedNames);
  return (_meta, spec) => {
    const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !allowed.has(n));
    return bad.length ? forbid('forbidden sysctls', bad.join(', ')) : ALLOWED;
  };
}

function windowsHostProcess(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const bad = containers(spec).filter((c) => c.securityContext?.windowsOptions?.hostProcess === true).map((c) => c.name);
  const setters: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess === true) setters.push('pod');
  if (bad.length) setters.push(containerSetters(bad));
  if (!setters.length) return ALLOWED;
  return forbid('hostProcess', `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`);
}

// ---- restricted ----

function allowPrivilegeEscalation(windowsExempt: boolean): CheckPodFn {
  return (_meta, spec) => {
    if (windowsExempt && isWindows(spec)) return ALLOWED;
    const bad = containers(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
    if (!bad.length) return ALLOWED;
    return forbid('allowPrivilegeEscalation != false', `${containerSetters(bad)} must set securityContext.allowPrivilegeEscalation=false`);
  };
}

function capabilitiesRestricted(windowsExempt: boolean): CheckPodFn {
  return (_meta, spec) => {
    if (windowsExempt && isWindows(spec)) return ALLOWED;
    const missingDropAll: string[] = [];
    const addingForbidden: string[] = [];
    const forbiddenCaps = new Set<string>();
    for (const c of containers(spec)) {
      const caps = c.securityContext?.capabilities;
      if (!caps) {
        missingDropAll.push(c.name);
        continue;
      }
      if (!(caps.drop ?? []).includes('ALL')) missingDropAll.push(c.name);
      let added = false;
      for (const cap of caps.add ?? []) {
        if (cap !== 'NET_BIND_SERVICE') {
          added = true;
          forbiddenCaps.add(cap);
        }
      }
      if (added) addingForbidden.push(c.name);
    }
    const details: string[] = [];
    if (missingDropAll.length) details.push(`${containerSetters(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
    if (addingForbidden.length) details.push(`${containerSetters(addingForbidden)} must not include ${joinQuote(sortedSet(forbiddenCaps))} in securityContext.capabilities.add`);
    return details.length ? forbid('unrestricted capabilities', details.join('; ')) : ALLOWED;
  };
}

const RESTRICTED_ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'] as const;
// In kube's order: the first one a volume sets names its type.
const RESTRICTED_VOLUME_TYPES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker',
  'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
] as const;

function restrictedVolumes(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badVolumes: string[] = [];
  const badTypes = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const source = v as Volume & Record<string, unknown>;
    if (RESTRICTED_ALLOWED_VOLUMES.some((t) => source[t] !== undefined && source[t] !== null)) continue;
    badVolumes.push(v.name);
    badTypes.add(RESTRICTED_VOLUME_TYPES.find((t) => source[t] !== undefined && source[t] !== null) ?? 'unknown');
  }
  if (!badVolumes.length) return ALLOWED;
  return forbid(
    'restricted volume types',
    `${pluralize('volume', 'volumes', badVolumes.length)} ${joinQuote(badVolumes)} ${pluralize('uses', 'use', badVolumes.length)} ${pluralize('restricted volume type', 'restricted volume types', badTypes.size)} ${joinQuote(sortedSet(badTypes))}`,
  );
}

function runAsNonRoot(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badSetters: string[] = [];
  const podValue = spec.securityContext?.runAsNonRoot;
  if (podValue === false) badSetters.push('pod');
  const podRunAsNonRoot = podValue === true;
  const explicitlyBad: string[] = [];
  const implicitlyBad: string[] = [];
  for (const c of containers(spec)) {
    const v = c.securityContext?.runAsNonRoot;
    if (v === false) explicitlyBad.push(c.name);
    else if (v === undefined || v === null) {
      if (!podRunAsNonRoot) implicitlyBad.push(c.name);
    }
  }
  if (explicitlyBad.length) badSetters.push(containerSetters(explicitlyBad));
  if (badSetters.length) return forbid('runAsNonRoot != true', `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false`);
  if (implicitlyBad.length) return forbid('runAsNonRoot != true', `pod or ${containerSetters(implicitlyBad)} must set securityContext.runAsNonRoot=true`);
  return ALLOWED;
}

function runAsUser(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const badSetters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) badSetters.push('pod');
  const bad = containers(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
  if (bad.length) badSetters.push(containerSetters(bad));
  if (!badSetters.length) return ALLOWED;
  return forbid('runAsUser=0', `${badSetters.join(' and ')} must not set runAsUser=0`);
}

function seccompProfileRestricted(windowsExempt: boolean): CheckPodFn {
  return (_meta, spec) => {
    if (windowsExempt && isWindows(spec)) return ALLOWED;
    const badSetters: string[] = [];
    const badValues = new Set<string>();
    let podSet = false;
    const podProfile = spec.securityContext?.seccompProfile;
    if (podProfile) {
      if (!validSeccomp(podProfile.type)) {
        badSetters.push('pod');
        badValues.add(podProfile.type ?? '');
      } else podSet = true;
    }
    const explicitlyBad: string[] = [];
    const implicitlyBad: string[] = [];
    for (const c of containers(spec)) {
      const p = c.securityContext?.seccompProfile;
      if (p) {
        if (!validSeccomp(p.type)) {
          explicitlyBad.push(c.name);
          badValues.add(p.type ?? '');
        }
      } else if (!podSet) implicitlyBad.push(c.name);
    }
    if (explicitlyBad.length) badSetters.push(containerSetters(explicitlyBad));
    if (badSetters.length) return forbid('seccompProfile', `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues))}`);
    if (implicitlyBad.length) return forbid('seccompProfile', `pod or ${containerSetters(implicitlyBad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`);
    return ALLOWED;
  };
}

/** Every check of the current policy, in kube's order. */
export const CHECKS: readonly Check[] = [
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [{ minimumMinor: 8, checkPod: allowPrivilegeEscalation(false) }, { minimumMinor: 25, checkPod: allowPrivilegeEscalation(true) }] },
  { id: 'appArmorProfile', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: capabilitiesBaseline }] },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [
      { minimumMinor: 22, checkPod: capabilitiesRestricted(false), overrides: ['capabilities_baseline'] },
      { minimumMinor: 25, checkPod: capabilitiesRestricted(true), overrides: ['capabilities_baseline'] },
    ],
  },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: procMount }] },
  { id: 'restrictedVolumes', level: 'restricted', versions: [{ minimumMinor: 0, checkPod: restrictedVolumes, overrides: ['hostPathVolumes'] }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ minimumMinor: 0, checkPod: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ minimumMinor: 23, checkPod: runAsUser }] },
  { id: 'seLinuxOptions', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: seLinuxOptions }] },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: seccompProfileBaseline10 }, { minimumMinor: 19, checkPod: seccompProfileBaseline119 }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [
      { minimumMinor: 19, checkPod: seccompProfileRestricted(false), overrides: ['seccompProfile_baseline'] },
      { minimumMinor: 25, checkPod: seccompProfileRestricted(true), overrides: ['seccompProfile_baseline'] },
    ],
  },
  {
    id: 'sysctls',
    level: 'baseline',
    versions: [
      { minimumMinor: 0, checkPod: sysctls(SYSCTLS_1_0) },
      { minimumMinor: 27, checkPod: sysctls(SYSCTLS_1_27) },
      { minimumMinor: 29, checkPod: sysctls(SYSCTLS_1_29) },
      { minimumMinor: 32, checkPod: sysctls(SYSCTLS_1_32) },
    ],
  },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ minimumMinor: 0, checkPod: windowsHostProcess }] },
];
