// Pod defaults: what the apiserver fills in before validation. Two layers, as in Kubernetes:
//  - scheme defaults (pkg/apis/core/v1/defaults.go, the generated +default markers and the v1
//    conversion of deprecated mirror fields), applied to every incoming pod, create and update;
//  - admission defaults (ServiceAccount, Priority and DefaultTolerationSeconds plugins), which
//    Kubernetes applies on create only.
// `defaultPod` does both; the registry calls it from Strategy.defaults on create. For updates call
// `applyPodSchemeDefaults` only, so that an update is judged as the real apiserver judges it.
// All functions mutate their argument in place, are idempotent, and do no I/O.

import type {
  Container,
  EnvVar,
  HTTPGetAction,
  Pod,
  PodSpec,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
} from '../types.ts';
import { imageTag } from '../imageref.ts';
import { formatQuantity, roundUpToMilli, tryParseQuantity } from '../quantity.ts';

export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const DEFAULT_SERVICE_ACCOUNT_NAME = 'default';
export const TERMINATION_MESSAGE_PATH_DEFAULT = '/dev/termination-log';
/** 0644, the mode of projected files unless the manifest says otherwise. */
export const DEFAULT_FILE_MODE = 0o644;
export const DEFAULT_NOT_READY_TOLERATION_SECONDS = 300;
export const DEFAULT_UNREACHABLE_TOLERATION_SECONDS = 300;
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';

/** The priority classes every cluster has (scheduling.k8s.io system classes). */
export const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/** imagePullPolicy Kubernetes picks when none is given: Always for ":latest" or no tag, else IfNotPresent. */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  return typeof image === 'string' && imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
}

/**
 * Rewrites every quantity of a ResourceList in canonical form, rounded up to milli-units
 * (SetDefaults_ResourceList plus the decode/encode round trip: "1000m" is stored as "1").
 * Values that are not quantities are left for validation to report.
 */
export function canonicalizeResourceList(list: Record<string, unknown> | undefined): void {
  if (!list || typeof list !== 'object') return;
  for (const [k, v] of Object.entries(list)) {
    const q = tryParseQuantity(v);
    if (q) list[k] = formatQuantity(roundUpToMilli(q));
  }
}

function defaultResources(r: ResourceRequirements | undefined): void {
  if (!r) return;
  canonicalizeResourceList(r.limits as Record<string, unknown> | undefined);
  canonicalizeResourceList(r.requests as Record<string, unknown> | undefined);
}

function defaultHTTPGet(h: HTTPGetAction | undefined): void {
  if (!h) return;
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

function defaultProbe(p: Probe | undefined): void {
  if (!p || typeof p !== 'object') return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultHTTPGet(p.httpGet);
  if (p.grpc && p.grpc.service === undefined) p.grpc.service = '';
}

function defaultEnv(env: EnvVar[] | undefined): void {
  if (!Array.isArray(env)) return;
  for (const e of env) {
    const ref = e?.valueFrom?.fieldRef;
    if (ref && !ref.apiVersion) ref.apiVersion = 'v1';
  }
}

/** SetDefaults_Container and the defaults of everything a container holds. */
export function defaultContainer(c: Container): void {
  if (!c || typeof c !== 'object') return;
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultImagePullPolicy(c.image ?? '');
  if (!c.terminationMessagePath) c.terminationMessagePath = TERMINATION_MESSAGE_PATH_DEFAULT;
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const port of Array.isArray(c.ports) ? c.ports : []) if (port && typeof port === 'object' && !port.protocol) port.protocol = 'TCP';
  defaultEnv(c.env);
  defaultResources(c.resources);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultHTTPGet(c.lifecycle?.postStart?.httpGet);
  defaultHTTPGet(c.lifecycle?.preStop?.httpGet);
}

/** Volume source keys, to decide whether a volume names none (then it becomes an emptyDir). */
const volumeSourceKeys = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi', 'downwardAPI', 'emptyDir',
  'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'gitRepo', 'glusterfs', 'hostPath', 'image', 'iscsi',
  'nfs', 'persistentVolumeClaim', 'photonPersistentDisk', 'portworxVolume', 'projected', 'quobyte', 'rbd', 'scaleIO',
  'secret', 'storageos', 'vsphereVolume',
] as const;

/** SetDefaults_Volume and the defaults of each volume source. */
export function defaultVolume(v: Volume): void {
  if (!v || typeof v !== 'object') return;
  const src = v as unknown as Record<string, unknown>;
  if (!volumeSourceKeys.some((k) => src[k] !== undefined && src[k] !== null)) v.emptyDir = {};
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = DEFAULT_FILE_MODE;
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = DEFAULT_FILE_MODE;
  if (v.downwardAPI) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = DEFAULT_FILE_MODE;
    for (const item of v.downwardAPI.items ?? []) if (item?.fieldRef && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
  }
  if (v.projected) {
    if (v.projected.defaultMode === undefined) v.projected.defaultMode = DEFAULT_FILE_MODE;
    for (const s of v.projected.sources ?? []) {
      if (!s) continue;
      if (s.serviceAccountToken && s.serviceAccountToken.expirationSeconds === undefined) s.serviceAccountToken.expirationSeconds = 3600;
      for (const item of s.downwardAPI?.items ?? []) if (item?.fieldRef && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
    }
  }
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = '';
  if (v.iscsi && !v.iscsi.iscsiInterface) v.iscsi.iscsiInterface = 'default';
  if (v.rbd) {
    v.rbd.pool ||= 'rbd';
    v.rbd.user ||= 'admin';
    v.rbd.keyring ||= '/etc/ceph/keyring';
  }
  if (v.azureDisk) {
    v.azureDisk.cachingMode ||= 'ReadWrite';
    v.azureDisk.fsType ||= 'ext4';
    if (v.azureDisk.readOnly === undefined) v.azureDisk.readOnly = false;
    v.azureDisk.kind ||= 'Shared';
  }
}

/** Limits stand in for absent requests (SetDefaults_Pod; not done for pod templates). */
function defaultRequestsFromLimits(c: Container): void {
  const limits = c.resources?.limits;
  if (!limits || typeof limits !== 'object') return;
  const r = c.resources as ResourceRequirements;
  const requests = (r.requests ??= {});
  for (const [k, v] of Object.entries(limits)) if (!Object.hasOwn(requests, k)) requests[k] = v;
}

/** SetDefaults_PodSpec plus everything nested in a spec; also right for pod templates. */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!spec.securityContext) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    spec.terminationGracePeriodSeconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  }
  if (!spec.schedulerName) spec.schedulerName = DEFAULT_SCHEDULER_NAME;
  // v1 conversion: the deprecated `serviceAccount` feeds serviceAccountName, and is then written back.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) defaultVolume(v);
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers : []) defaultContainer(c);
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) defaultContainer(c);
  for (const c of Array.isArray(spec.ephemeralContainers) ? spec.ephemeralContainers : []) defaultContainer(c as Container);
  canonicalizeResourceList(spec.overhead as Record<string, unknown> | undefined);
}

/** Scheme defaults of a Pod: everything Kubernetes defaults on every write (create and update). */
export function applyPodSchemeDefaults(pod: Pod): void {
  // A spec that is not an object cannot be decoded by Kubernetes; validation then reports it empty.
  if (!pod.spec || typeof pod.spec !== 'object' || Array.isArray(pod.spec)) pod.spec = { containers: [] };
  const spec = pod.spec;
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) if (c && typeof c === 'object') defaultRequestsFromLimits(c);
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers : []) if (c && typeof c === 'object') defaultRequestsFromLimits(c);
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork) {
    for (const list of [spec.containers, spec.initContainers]) {
      for (const c of Array.isArray(list) ? list : []) {
        for (const p of Array.isArray(c?.ports) ? c.ports : []) if (p && typeof p === 'object' && !p.hostPort) p.hostPort = p.containerPort;
      }
    }
  }
  defaultPodSpec(spec);
  // v1 conversion of status: the singular IP fields mirror the first entry of the plural ones.
  const st = pod.status;
  if (st && typeof st === 'object') {
    if ((!st.podIPs || st.podIPs.length === 0) && st.podIP) st.podIPs = [{ ip: st.podIP }];
    if (st.podIPs?.length && st.podIPs[0]?.ip) st.podIP = st.podIPs[0].ip;
    if ((!st.hostIPs || st.hostIPs.length === 0) && st.hostIP) st.hostIPs = [{ ip: st.hostIP }];
    if (st.hostIPs?.length && st.hostIPs[0]?.ip) st.hostIP = st.hostIPs[0].ip;
  }
}

function tolerates(tolerations: Toleration[], key: string): boolean {
  return tolerations.some((t) => t && (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
}

/**
 * What Kubernetes' default admission plugins add to a new pod: the "default" service account,
 * priority (0, or a system class's value) with preemptionPolicy PreemptLowerPriority, and the
 * NoExecute tolerations for not-ready/unreachable nodes (300 s) unless the pod already tolerates them.
 * The ServiceAccount plugin's token volume is not added: tinykube has no token controller.
 */
export function applyPodAdmissionDefaults(pod: Pod): void {
  if (!pod.spec || typeof pod.spec !== 'object' || Array.isArray(pod.spec)) pod.spec = { containers: [] };
  const spec = pod.spec;
  if (!spec.serviceAccountName) spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT_NAME;
  spec.serviceAccount = spec.serviceAccountName;
  if (spec.priority === undefined || spec.priority === null) {
    const cls = spec.priorityClassName;
    spec.priority = cls && Object.hasOwn(SYSTEM_PRIORITY_CLASSES, cls) ? SYSTEM_PRIORITY_CLASSES[cls] : 0;
  }
  if (!spec.preemptionPolicy) spec.preemptionPolicy = 'PreemptLowerPriority';
  const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  const add: Toleration[] = [];
  if (!tolerates(tolerations, TAINT_NODE_NOT_READY)) {
    add.push({ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_NOT_READY_TOLERATION_SECONDS });
  }
  if (!tolerates(tolerations, TAINT_NODE_UNREACHABLE)) {
    add.push({ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_UNREACHABLE_TOLERATION_SECONDS });
  }
  if (add.length) spec.tolerations = [...tolerations, ...add];
}

/** Everything a new pod gets from the apiserver before validation: scheme then admission defaults. */
export function defaultPod(pod: Pod): void {
  applyPodSchemeDefaults(pod);
  applyPodAdmissionDefaults(pod);
}
