// What one sync of one pod must do, decided from the pod and one look at the runtime, without touching
// anything: the kubelet's computePodActions (pkg/kubelet/kuberuntime/kuberuntime_manager.go). Whether
// to keep the pod's sandbox or kill and re-create it, which init container runs next, which app
// containers to start, kill or restart, which ephemeral containers to start, and why, each reason a value. ./sync.ts lists the runtime once,
// asks here, and carries the answer out; the restart backoff stays with it (as the kubelet's doBackOff
// stays in SyncPod), since whether a backoff has run out is a question of the clock.
//
// Pure: no I/O, no clock, the same answer for the same input. Called by the pod's worker only.
import type { Container as SpecContainer, Pod } from '../../api/types.ts';
import type { ContainerState, SandboxState } from '../runtime/runtime.ts';
import { specHash } from './container-config.ts';

/** One instance of a container, as the runtime reported it. */
export interface ContainerRecord {
  id: string;
  state: ContainerState;
  restartCount: number;
  /** The spec hash it was created with (absent on containers the agent did not label with one). */
  specHash?: string;
  /** Known once the instance exited and its status was read. */
  exitCode?: number;
}

export interface SandboxRecord {
  id: string;
  state: SandboxState;
  attempt: number;
}

/** What the runtime holds of one pod (the kubelet's kubecontainer.PodStatus). */
export interface PodRuntimeStatus {
  /** Newest first. */
  sandboxes: SandboxRecord[];
  /** Instances by container name, the newest (highest restart count) first. */
  containers: Map<string, ContainerRecord[]>;
}

export type ProbeVerdict = 'liveness' | 'startup';

export interface PodActionsContext {
  /** The phase the pod already ended in (the worker remembers it): nothing starts again. */
  terminal?: 'Succeeded' | 'Failed';
  /** Instances a liveness or startup probe condemned, by container id. */
  condemned?: ReadonlyMap<string, ProbeVerdict>;
}

/** Why a new sandbox is made: the pod has none yet, or the one it had is no longer ready. */
export type SandboxReason = 'NoSandbox' | 'SandboxNotReady';

export type SandboxPlan =
  | { action: 'keep'; sandbox: SandboxRecord }
  | {
      action: 'create';
      reason: SandboxReason;
      attempt: number;
      /**
       * What may still run in the old sandboxes, killed with the grace period first (the kubelet's
       * killPodWithSyncResult when the sandbox changed): a NOTREADY sandbox's containers can outlive it.
       */
      kill: KillPodActions['kill'];
      /** Every old sandbox, then stopped and removed (removing one removes its containers). */
      remove: SandboxRecord[];
      /** Containers ran in the old sandboxes: the kubelet's SandboxChanged event is due. */
      sandboxChanged: boolean;
      /** A pod seen for the first time: its first container's image is made ready while the sandbox starts. */
      prefetch?: { container: SpecContainer; init: boolean };
    };

/**
 * Why a container is started: it never was (New); its last instance exited and the restart policy
 * asks for another (Exited: the restart backoff applies); its running instance is being killed and
 * replaced (Killed: no backoff, as in the kubelet).
 */
export type StartReason = 'New' | 'Exited' | 'Killed';

/** Why a running container is killed (the kubelet's reasons for ContainersToKill). */
export type KillReason = 'LivenessProbe' | 'StartupProbe' | 'SpecChanged';

export type ContainerStep =
  /** Create and start a new instance with this restart count. */
  | { action: 'start'; container: SpecContainer; init: boolean; restartCount: number; reason: StartReason; backoff: boolean }
  /**
   * Create and start an ephemeral container (kubectl debug): once, in the running sandbox, never
   * restarted. With a target, it joins that container's PID namespace.
   */
  | { action: 'startEphemeral'; container: SpecContainer; target?: string }
  /** Start an instance that was created but never started (an agent restarted in between). */
  | { action: 'startCreated'; container: SpecContainer; init: boolean; id: string }
  | { action: 'kill'; container: SpecContainer; id: string; reason: KillReason; message: string }
  /** A running app container that stays as it is. */
  | { action: 'keep'; container: SpecContainer; id: string }
  /** An exited app container its restart policy does not run again. */
  | { action: 'done'; container: SpecContainer; id: string; exitCode: number };

export type PodActions =
  /** The pod ended in an earlier sync: stop its ready sandboxes, start nothing. */
  | { kind: 'terminal'; phase: 'Succeeded' | 'Failed'; stopSandboxes: string[] }
  /**
   * A restartPolicy Never pod lost its sandbox after its containers ran: they are over, nothing restarts.
   * What still runs in the lost sandbox is killed with the grace period and the sandboxes stopped, as
   * the kubelet's SyncPod kills such a pod without making it a new sandbox.
   */
  | { kind: 'sandboxLost'; kill: KillPodActions['kill']; stopSandboxes: string[] }
  | {
      kind: 'run';
      sandbox: SandboxPlan;
      /**
       * In the order to carry them out: new ephemeral containers (before init containers, so a pod
       * stuck initializing can still be debugged), init containers one at a time, then app containers
       * in spec order.
       */
      steps: ContainerStep[];
      /** Every init container succeeded: the app containers' steps are in `steps`. */
      initialized: boolean;
      /** An init container failed under restartPolicy Never: the pod fails, its sandbox is stopped after. */
      failed?: 'InitContainerFailed';
    };

const NO_CONTAINERS: ReadonlyMap<string, ContainerRecord[]> = new Map();

export function computePodActions(pod: Pod, rt: PodRuntimeStatus, ctx: PodActionsContext = {}): PodActions {
  if (ctx.terminal) return { kind: 'terminal', phase: ctx.terminal, stopSandboxes: rt.sandboxes.filter((s) => s.state === 'ready').map((s) => s.id) };
  const spec = pod.spec ?? { containers: [] };
  const policy = spec.restartPolicy ?? 'Always';
  const ready = rt.sandboxes.find((s) => s.state === 'ready');
  const ran = (names: SpecContainer[]) => names.some((c) => (rt.containers.get(c.name)?.length ?? 0) > 0);
  if (!ready && rt.sandboxes.length > 0 && policy === 'Never' && ran(spec.containers)) {
    const { kill } = computeKillPod(pod, rt);
    // Stopped once, with what ran in them: a later sync finds nothing to kill and leaves them be.
    return { kind: 'sandboxLost', kill, stopSandboxes: kill.length ? rt.sandboxes.map((s) => s.id) : [] };
  }

  let sandbox: SandboxPlan;
  let containers: ReadonlyMap<string, ContainerRecord[]> = rt.containers;
  if (ready) {
    sandbox = { action: 'keep', sandbox: ready };
  } else {
    const anyContainer = [...rt.containers.values()].some((l) => l.length > 0);
    sandbox = {
      action: 'create',
      reason: rt.sandboxes.length > 0 ? 'SandboxNotReady' : 'NoSandbox',
      attempt: rt.sandboxes.length > 0 ? Math.max(...rt.sandboxes.map((s) => s.attempt)) + 1 : 0,
      kill: computeKillPod(pod, rt).kill,
      remove: rt.sandboxes,
      sandboxChanged: rt.sandboxes.length > 0 && anyContainer,
    };
    const first = spec.initContainers?.[0] ?? spec.containers[0];
    if (rt.containers.size === 0 && first) sandbox.prefetch = { container: first, init: first === spec.initContainers?.[0] };
    // Removing the old sandboxes removes their containers: the new sandbox starts from nothing.
    containers = NO_CONTAINERS;
  }

  const steps: ContainerStep[] = [];
  const latestOf = (c: SpecContainer) => containers.get(c.name)?.[0];

  // Ephemeral containers join a sandbox that runs; one that ever had an instance is never started
  // again, whatever became of it (the kubelet's EphemeralContainersToStart). A new sandbox starts
  // without them, as in the kubelet.
  if (sandbox.action === 'keep') {
    for (const ec of spec.ephemeralContainers ?? []) {
      if (latestOf(ec as SpecContainer)) continue;
      const step: ContainerStep = { action: 'startEphemeral', container: ec as SpecContainer };
      if (ec.targetContainerName) step.target = ec.targetContainerName;
      steps.push(step);
    }
  }

  // Init containers, one at a time: the first that has not succeeded is the only one acted on.
  for (const c of spec.initContainers ?? []) {
    const latest = latestOf(c);
    if (!latest) {
      steps.push({ action: 'start', container: c, init: true, restartCount: 0, reason: 'New', backoff: false });
      return { kind: 'run', sandbox, steps, initialized: false };
    }
    if (latest.state === 'created') {
      steps.push({ action: 'startCreated', container: c, init: true, id: latest.id });
      return { kind: 'run', sandbox, steps, initialized: false };
    }
    if (latest.state !== 'exited') return { kind: 'run', sandbox, steps, initialized: false }; // still running
    if (latest.exitCode === 0) continue;
    if (policy === 'Never') return { kind: 'run', sandbox, steps, initialized: false, failed: 'InitContainerFailed' };
    steps.push({ action: 'start', container: c, init: true, restartCount: latest.restartCount + 1, reason: 'Exited', backoff: true });
    return { kind: 'run', sandbox, steps, initialized: false };
  }

  for (const c of spec.containers) {
    const latest = latestOf(c);
    if (!latest) {
      steps.push({ action: 'start', container: c, init: false, restartCount: 0, reason: 'New', backoff: false });
    } else if (latest.state === 'running') {
      const verdict = ctx.condemned?.get(latest.id);
      const outdated = latest.specHash !== undefined && latest.specHash !== specHash(c);
      if (!verdict && !outdated) {
        steps.push({ action: 'keep', container: c, id: latest.id });
        continue;
      }
      const kill: ContainerStep = verdict
        ? { action: 'kill', container: c, id: latest.id, reason: verdict === 'liveness' ? 'LivenessProbe' : 'StartupProbe', message: `Container ${c.name} failed ${verdict} probe, will be restarted` }
        : { action: 'kill', container: c, id: latest.id, reason: 'SpecChanged', message: `Container ${c.name} definition changed, will be restarted` };
      steps.push(kill);
      if (policy !== 'Never') steps.push({ action: 'start', container: c, init: false, restartCount: latest.restartCount + 1, reason: 'Killed', backoff: false });
    } else if (latest.state === 'created') {
      steps.push({ action: 'startCreated', container: c, init: false, id: latest.id });
    } else {
      // Exited, or unknown to the runtime: the restart policy decides.
      const code = latest.exitCode ?? 0;
      if (policy === 'Always' || (policy === 'OnFailure' && code !== 0)) {
        steps.push({ action: 'start', container: c, init: false, restartCount: latest.restartCount + 1, reason: 'Exited', backoff: true });
      } else {
        steps.push({ action: 'done', container: c, id: latest.id, exitCode: code });
      }
    }
  }
  return { kind: 'run', sandbox, steps, initialized: true };
}

/** The last instance of an app container, as seen once this sync's steps were carried out. */
export interface ContainerOutcome {
  state: ContainerState;
  exitCode: number;
}

/**
 * The phase a pod ends in once its app containers are done, or undefined while it has not ended
 * (the kubelet's getPhase for a pod that will not restart): with restartPolicy Never when every app
 * container exited (Failed if one failed), with OnFailure when every one exited 0. A pod whose
 * policy is Always never ends by itself.
 */
export function terminalPhase(pod: Pod, outcomes: ReadonlyMap<string, ContainerOutcome>): 'Succeeded' | 'Failed' | undefined {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Always') return undefined;
  let failed = false;
  for (const c of pod.spec?.containers ?? []) {
    const o = outcomes.get(c.name);
    if (!o || o.state !== 'exited') return undefined;
    if (o.exitCode !== 0) {
      if (policy === 'OnFailure') return undefined;
      failed = true;
    }
  }
  return failed ? 'Failed' : 'Succeeded';
}

export interface KillPodActions {
  /**
   * Every instance that may have processes, killed in parallel: running, created, and unknown (a
   * runtime that could not load a container's task, as containerd after a crash, still stops it).
   */
  kill: { name: string; container?: SpecContainer; id: string; message: string }[];
  /**
   * Then every sandbox, whatever its state, as the kubelet's killPodWithSyncResult stops them all:
   * containerd reports a sandbox whose task it could not load as NOTREADY while its processes run, and
   * stopping it is what ends them (and the containers in it).
   */
  stopSandboxes: string[];
}

/** What terminating a pod (deleted, or gone from the API) does: the kubelet's killPodWithSyncResult. */
export function computeKillPod(pod: Pod, rt: PodRuntimeStatus): KillPodActions {
  const specs = new Map<string, SpecContainer>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...((pod.spec?.ephemeralContainers ?? []) as SpecContainer[])]) specs.set(c.name, c);
  const kill: KillPodActions['kill'] = [];
  for (const [name, list] of rt.containers) {
    for (const c of list) {
      if (c.state === 'exited') continue;
      const container = specs.get(name);
      kill.push({ name, id: c.id, message: `Stopping container ${name}`, ...(container ? { container } : {}) });
    }
  }
  return { kill, stopSandboxes: rt.sandboxes.map((s) => s.id) };
}
