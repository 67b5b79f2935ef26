// Computing a PodStatus from what the runtime shows and what the pod worker decided, as the kubelet's
// generateAPIPodStatus / getPhase / status.Generate*Condition do. Pure and synchronous: called by the
// pod worker after every sync; the status manager decides whether anything changed.
import type { ContainerState as ApiContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '../../api/types.ts';
import type { ContainerState as CriState } from '../runtime/runtime.ts';
import { rfc3339 } from '../../util/clock.ts';
import { qosClass } from './qos.ts';
import { jsonEqual } from '../../api/equality.ts';

/** One container instance as the runtime reports it (times in epoch ms, 0 = unset). */
export interface ObservedContainer {
  id: string;
  state: CriState;
  image: string;
  imageRef: string;
  restartCount: number;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** The runtime's reason ("OOMKilled", "Error", "Completed") or ''. */
  reason: string;
  /** The termination message (from terminationMessagePath or the log tail), or the runtime's message. */
  message: string;
}

/** What the agent knows of one container of the pod spec. */
export interface ContainerView {
  /** The newest instance, if any was created. */
  current?: ObservedContainer;
  /** The instance before it, for lastState. */
  previous?: ObservedContainer;
  /** A waiting reason the worker set (CrashLoopBackOff, ErrImagePull, CreateContainerConfigError...). */
  waiting?: { reason: string; message?: string };
  /** Readiness probe result (true when there is no readiness probe and the container runs). */
  ready: boolean;
  /** Startup probe passed (true when there is no startup probe and the container runs). */
  started: boolean;
}

export interface PodView {
  /** A sandbox exists, is ready and has its network. */
  sandboxReady: boolean;
  podIPs: string[];
  hostIPs: string[];
  init: Map<string, ContainerView>;
  app: Map<string, ContainerView>;
  /** The pod's ephemeral containers (kubectl debug), when it has some. */
  ephemeral?: Map<string, ContainerView>;
  /** Set once the worker has decided the pod is over and nothing restarts (terminal phase). */
  terminalPhase?: 'Succeeded' | 'Failed';
  /** The pod is being torn down (deletion): containers that ended are not waiting for a restart. */
  terminating?: boolean;
  /** The pod was ended outside its lifecycle (an eviction): the status's reason and message. */
  ended?: { reason: string; message: string };
}

function iso(ms: number): string | undefined {
  return ms > 0 ? rfc3339(ms) : undefined;
}

function criId(id: string): string {
  return `containerd://${id}`;
}

function terminated(c: ObservedContainer): ApiContainerState {
  const reason = c.reason || (c.exitCode === 0 ? 'Completed' : 'Error');
  const t: NonNullable<ApiContainerState['terminated']> = { exitCode: c.exitCode, reason, containerID: criId(c.id) };
  const started = iso(c.startedAt);
  const finished = iso(c.finishedAt);
  if (started) t.startedAt = started;
  if (finished) t.finishedAt = finished;
  if (c.message) t.message = c.message;
  return { terminated: t };
}

export function containerStatus(name: string, specImage: string, v: ContainerView | undefined, defaultWaiting: string): ContainerStatus {
  const cur = v?.current;
  const out: ContainerStatus = {
    name,
    state: { waiting: { reason: defaultWaiting } },
    lastState: {},
    ready: false,
    restartCount: cur?.restartCount ?? 0,
    image: cur?.image || specImage,
    imageID: cur?.imageRef ?? '',
  };
  if (cur) out.containerID = criId(cur.id);
  if (v?.previous && v.previous.state === 'exited') out.lastState = terminated(v.previous);
  if (cur?.state === 'running') {
    out.state = { running: { startedAt: iso(cur.startedAt) ?? rfc3339(cur.createdAt) } };
    out.ready = v!.ready;
    out.started = v!.started;
  } else if (cur?.state === 'exited' || cur?.state === 'unknown') {
    if (v?.waiting) {
      out.state = { waiting: { reason: v.waiting.reason, ...(v.waiting.message ? { message: v.waiting.message } : {}) } };
      out.lastState = terminated(cur);
    } else {
      out.state = terminated(cur);
    }
    out.started = false;
  } else {
    // created but not started, or never created
    const w = v?.waiting ?? { reason: defaultWaiting };
    out.state = { waiting: { reason: w.reason, ...(w.message ? { message: w.message } : {}) } };
    if (cur) out.started = false;
  }
  return out;
}

interface Counts {
  running: number;
  waiting: number;
  stopped: number;
  succeeded: number;
  failed: number;
  unknown: number;
}

/** The pod phase by the kubelet's getPhase rules (pkg/kubelet/kubelet_pods.go). */
export function podPhase(pod: Pod, init: ContainerStatus[], app: ContainerStatus[]): PodStatus['phase'] {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = false;
  for (const s of init) {
    if (s.state?.terminated) {
      if (s.state.terminated.exitCode === 0) continue;
      failedInit = true;
      pendingInit++;
    } else if (s.state?.waiting && s.lastState?.terminated && s.lastState.terminated.exitCode !== 0) {
      failedInit = true;
      pendingInit++;
    } else {
      pendingInit++;
    }
  }
  const c: Counts = { running: 0, waiting: 0, stopped: 0, succeeded: 0, failed: 0, unknown: 0 };
  for (const s of app) {
    if (s.state?.running) c.running++;
    else if (s.state?.terminated) {
      c.stopped++;
      if (s.state.terminated.exitCode === 0) c.succeeded++;
      else c.failed++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) c.stopped++;
      else c.waiting++;
    } else c.unknown++;
  }
  if (failedInit && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || c.waiting > 0) return 'Pending';
  if (c.running > 0 && c.unknown === 0) return 'Running';
  if (c.running === 0 && c.stopped > 0 && c.unknown === 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (c.stopped === c.succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(old: PodCondition[] | undefined, type: string, status: boolean, now: number, reason?: string, message?: string): PodCondition {
  const s = status ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  const c: PodCondition = { type, status: s, lastTransitionTime: prev && prev.status === s && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now) };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/**
 * The full PodStatus. `old` is the status the API holds (its PodScheduled condition, startTime and
 * condition transition times are kept).
 */
export function generatePodStatus(pod: Pod, view: PodView, now: number): PodStatus {
  const old = pod.status ?? {};
  const spec = pod.spec ?? { containers: [] };
  const initSpecs = spec.initContainers ?? [];
  const appSpecs = spec.containers ?? [];
  const initDone = (name: string): boolean => {
    const cur = view.init.get(name)?.current;
    return cur?.state === 'exited' && cur.exitCode === 0;
  };
  const allInitDone = initSpecs.every((c) => initDone(c.name));
  const creating = !view.sandboxReady;
  const initStatuses = initSpecs.map((c) => containerStatus(c.name, c.image ?? '', view.init.get(c.name), creating ? 'PodInitializing' : 'PodInitializing'));
  const appStatuses = appSpecs.map((c) => containerStatus(c.name, c.image ?? '', view.app.get(c.name), allInitDone ? 'ContainerCreating' : 'PodInitializing'));

  let phase = view.terminalPhase ?? podPhase(pod, initStatuses, appStatuses);
  // A terminal phase never goes back (kubelet: the pod worker refuses to leave it).
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  const terminal = phase === 'Succeeded' || phase === 'Failed';

  const incompleteInit = initSpecs.filter((c) => !initDone(c.name)).map((c) => c.name);
  const unready = appStatuses.filter((s) => !s.ready).map((s) => s.name);
  const conds: PodCondition[] = [];
  conds.push(condition(old.conditions, 'PodReadyToStartContainers', view.sandboxReady, now));
  conds.push(incompleteInit.length === 0
    ? condition(old.conditions, 'Initialized', true, now, terminal && initSpecs.length > 0 ? 'PodCompleted' : undefined)
    : condition(old.conditions, 'Initialized', false, now, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`));
  if (terminal) {
    conds.push(condition(old.conditions, 'Ready', false, now, 'PodCompleted'));
    conds.push(condition(old.conditions, 'ContainersReady', false, now, 'PodCompleted'));
  } else if (unready.length === 0 && incompleteInit.length === 0) {
    conds.push(condition(old.conditions, 'Ready', true, now));
    conds.push(condition(old.conditions, 'ContainersReady', true, now));
  } else {
    const msg = unready.length > 0 ? `containers with unready status: [${unready.join(' ')}]` : `containers with incomplete status: [${incompleteInit.join(' ')}]`;
    conds.push(condition(old.conditions, 'Ready', false, now, 'ContainersNotReady', msg));
    conds.push(condition(old.conditions, 'ContainersReady', false, now, 'ContainersNotReady', msg));
  }
  const scheduled = old.conditions?.find((c) => c.type === 'PodScheduled');
  conds.push(scheduled ?? condition(undefined, 'PodScheduled', true, now));

  const status: PodStatus = {
    phase,
    conditions: conds,
    qosClass: qosClass(pod),
    startTime: old.startTime ?? rfc3339(now),
    containerStatuses: appStatuses,
  };
  if (view.hostIPs.length > 0) {
    status.hostIP = view.hostIPs[0];
    status.hostIPs = view.hostIPs.map((ip) => ({ ip }));
  }
  const ips = view.podIPs.length > 0 ? view.podIPs : (old.podIPs ?? []).map((p) => p.ip ?? '').filter(Boolean);
  if (ips.length > 0) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
  // Ephemeral containers count for neither phase nor readiness. Their statuses are the kubelet's
  // (convertToAPIContainerStatuses as for init containers: ContainerCreating until created), without
  // `started`, which only the prober sets and which never probes them.
  const ephemeral = spec.ephemeralContainers ?? [];
  if (ephemeral.length > 0) {
    status.ephemeralContainerStatuses = ephemeral.map((c) => {
      const s = containerStatus(c.name, c.image ?? '', view.ephemeral?.get(c.name), 'ContainerCreating');
      delete s.started;
      s.ready = false;
      return s;
    });
  }
  // A reason and message belong to the phase they came with (an admission rejection, an eviction):
  // kept while the phase lasts, as the kubelet's generateAPIPodStatus does.
  if (view.ended) {
    status.reason = view.ended.reason;
    status.message = view.ended.message;
  } else if (phase === old.phase) {
    if (old.reason) status.reason = old.reason;
    if (old.message) status.message = old.message;
  }
  return status;
}

/**
 * Whether two statuses say the same thing. Transition and probe times are ignored when the rest is
 * equal, so a status is only written when it really changed.
 */
export function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return jsonEqual(a ?? {}, b ?? {});
}
