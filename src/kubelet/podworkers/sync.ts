// The executor of one pod's sync, in the order of the kubelet's SyncPod
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go): list the pod's sandboxes and containers in the
// runtime once (by their labels, which is also how a restarted agent adopts what runs), read the exit
// codes of those that ended, ask computePodActions (./actions.ts) what to do, then carry it out: set up
// volumes, keep or re-create the sandbox, run the next init container, start, restart (with
// CrashLoopBackOff) or kill app containers, start ephemeral containers (kubectl debug), detect the
// terminal phase, and compute the pod's status
// from the listing as the actions changed it. Also the termination of a pod (preStop, SIGTERM with the
// grace period, sandbox stop) and its cleanup.
//
// Called only by the pod's worker (./pod-workers.ts), so calls for one pod never overlap; different
// pods' syncs run concurrently and share nothing mutable but the backoff table.
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container as SpecContainer, LifecycleHandler, Pod, PodStatus } from '../../api/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Container, ContainerRuntime, ContainerStatus, PodSandbox, PodSandboxConfig } from '../runtime/runtime.ts';
import { CriError } from '../runtime/errors.ts';
import type { PodCgroups } from '../cgroups/pod-cgroups.ts';
import { containerFieldPath, podRef, type EventRecorder } from '../events/recorder.ts';
import { hostsFile } from '../network/cni.ts';
import { PodDnsConfigurer } from '../network/dns.ts';
import type { ServiceLister } from '../envvars/envvars.ts';
import { httpGet } from '../prober/probe.ts';
import type { ProberManager } from '../prober/manager.ts';
import { generatePodStatus, type ContainerView, type ObservedContainer, type PodView } from '../status/generate.ts';
import { VolumeError, type MountedVolume, type VolumeManager } from '../volumes/manager.ts';
import type { ConfigSource } from '../volumes/sources.ts';
import {
  computeKillPod, computePodActions, terminalPhase, type ContainerOutcome, type ContainerRecord, type ContainerStep, type PodRuntimeStatus, type ProbeVerdict,
  type SandboxPlan, type SandboxRecord,
} from './actions.ts';
import { goDuration, type RestartBackoff } from './backoff.ts';
import { checkRunAsNonRoot, containerConfig, ContainerConfigError, sandboxConfig, specHash, type NodeFacts } from './container-config.ts';
import type { ImagePuller, PullOutcome } from './images.ts';
import {
  ANNOTATION_SPEC_HASH, ANNOTATION_TERMINATION_MESSAGE_HOST, ANNOTATION_TERMINATION_MESSAGE_POLICY, LABEL_CONTAINER_NAME, LABEL_POD_UID, restartCountOf,
  type ContainerKind,
} from './labels.ts';

/** What the agent remembers of a pod between syncs (all of it can be rebuilt from CRI). */
export interface PodState {
  uid: string;
  sandboxId?: string;
  sandboxConfig?: PodSandboxConfig;
  podIPs: string[];
  hostsWritten?: string;
  /** Waiting reasons set by the last sync, per container name. */
  waiting: Map<string, { reason: string; message?: string }>;
  view?: PodView;
  terminal?: 'Succeeded' | 'Failed';
  /** Why the pod was ended outside its lifecycle (an eviction): its status's reason and message. */
  abnormal?: { reason: string; message: string };
  /** Termination messages read so far, by container id. */
  messages: Map<string, string>;
  volumes?: Map<string, MountedVolume>;
  volumesAt: number;
  /** The pod labels and annotations the volumes were last set up with (downwardAPI files show them). */
  volumesMeta?: string;
  /** The latest instance per container name, for the prober's locator. */
  running: Map<string, { id: string; startedAt: number }>;
  /** Nothing of this pod is in the runtime yet (set by the agent for pods new since its start-up). */
  fresh?: boolean;
  /** The image of the pod's first container, made ready while its first sandbox starts. */
  prefetched?: { container: string; outcome: Promise<PullOutcome> };
}

export function newPodState(uid: string): PodState {
  return { uid, podIPs: [], waiting: new Map(), messages: new Map(), volumesAt: 0, running: new Map() };
}

export interface SyncResult {
  status: PodStatus;
  /**
   * Sync again at this time (epoch ms on the agent's clock) at the latest: a backoff ending, a mount retry.
   * Absolute, since the sync goes on awaiting the runtime after deciding it, and the clock moves meanwhile.
   */
  requeueAt?: number;
}

export interface PodSyncerOptions {
  runtime: ContainerRuntime;
  clock: Clock;
  recorder: EventRecorder;
  prober: ProberManager;
  volumes: VolumeManager;
  cgroups: PodCgroups;
  images: ImagePuller;
  backoff: RestartBackoff;
  source: ConfigSource;
  node: NodeFacts;
  /** The pods' resolv.conf settings (default: the node's /etc/resolv.conf, no cluster DNS). */
  dns?: PodDnsConfigurer;
  /** Services for the containers' service environment variables (absent: none). */
  services?: ServiceLister;
  /** /var/log/pods, or a test's directory. */
  logRoot: string;
  /** How often configMap/secret/projected volumes are refreshed (default 10 s; label and annotation changes at once). */
  volumeRefreshMs?: number;
}

const MOUNT_RETRY_MS = 2000;

function isNotFoundErr(err: unknown): boolean {
  return err instanceof CriError && err.code === 'ERR_CRI_NOT_FOUND';
}

export function podLogDir(logRoot: string, pod: Pod): string {
  return join(logRoot, `${pod.metadata?.namespace ?? 'default'}_${pod.metadata?.name ?? ''}_${pod.metadata?.uid ?? ''}`);
}

/** One listing's sandboxes and containers of a pod, as the records computePodActions reads. */
export function podRuntimeStatus(sandboxes: PodSandbox[], containers: Container[]): PodRuntimeStatus {
  const byName = new Map<string, Container[]>();
  for (const c of containers) {
    const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
    let list = byName.get(name);
    if (!list) byName.set(name, (list = []));
    list.push(c);
  }
  const out: PodRuntimeStatus = {
    sandboxes: [...sandboxes].sort((a, b) => b.createdAt - a.createdAt).map((s) => ({ id: s.id, state: s.state, attempt: s.metadata.attempt })),
    containers: new Map(),
  };
  for (const [name, list] of byName) {
    list.sort((a, b) => restartCountOf(b) - restartCountOf(a) || b.createdAt - a.createdAt);
    out.containers.set(name, list.map((c) => {
      const r: ContainerRecord = { id: c.id, state: c.state, restartCount: restartCountOf(c) };
      const hash = c.annotations[ANNOTATION_SPEC_HASH];
      if (hash !== undefined) r.specHash = hash;
      return r;
    }));
  }
  return out;
}

/**
 * What one sync knows of the runtime: the records of its one listing, kept up to date as the sync acts
 * (a sandbox made, a container started or killed), and the container statuses it read, by id.
 */
interface SyncView {
  rt: PodRuntimeStatus;
  statuses: Map<string, ContainerStatus>;
}

export class PodSyncer {
  readonly #o: PodSyncerOptions;
  readonly #dns: PodDnsConfigurer;

  constructor(o: PodSyncerOptions) {
    this.#o = o;
    // Without settings (unit tests), pods get the node's resolver, and no warning is recorded.
    this.#dns = o.dns ?? new PodDnsConfigurer({ nodeName: o.node.nodeName });
  }

  get options(): PodSyncerOptions {
    return this.#o;
  }

  // ---- observing ----

  async #observe(uid: string): Promise<PodRuntimeStatus> {
    const rt = this.#o.runtime;
    const [sandboxes, containers] = await Promise.all([rt.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } }), rt.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } })]);
    return podRuntimeStatus(sandboxes, containers);
  }

  /** Reads the status of each spec container's latest instance that has ended: its exit code decides. */
  async #inspect(pod: Pod, v: SyncView): Promise<void> {
    for (const c of allContainers(pod)) {
      const latest = v.rt.containers.get(c.name)?.[0];
      if (!latest || (latest.state !== 'exited' && latest.state !== 'unknown')) continue;
      const s = await this.#o.runtime.containerStatus(latest.id);
      v.statuses.set(s.id, s);
      latest.exitCode = s.exitCode;
    }
  }

  /** The prober's verdicts on the running app containers. */
  #condemned(pod: Pod, uid: string, rt: PodRuntimeStatus): Map<string, ProbeVerdict> {
    const out = new Map<string, ProbeVerdict>();
    for (const c of pod.spec?.containers ?? []) {
      const latest = rt.containers.get(c.name)?.[0];
      if (latest?.state !== 'running') continue;
      const verdict = this.#o.prober.mustRestart(uid, c.name, latest.id);
      if (verdict) out.set(latest.id, verdict);
    }
    return out;
  }

  async #observed(st: PodState, v: SyncView, c: ContainerRecord | undefined): Promise<ObservedContainer | undefined> {
    if (!c) return undefined;
    // An exited instance's status is final: one read this sync serves.
    let s = v.statuses.get(c.id);
    if (s?.state !== 'exited') {
      try {
        s = await this.#o.runtime.containerStatus(c.id);
      } catch (err) {
        if (isNotFoundErr(err)) return undefined;
        throw err;
      }
    }
    let message = s.message;
    if (s.state === 'exited') message = (await this.#terminationMessage(st, s)) || s.message;
    return {
      id: s.id,
      state: s.state,
      image: s.image,
      imageRef: s.imageRef,
      restartCount: c.restartCount,
      createdAt: s.createdAt,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      exitCode: s.exitCode,
      reason: s.reason,
      message,
    };
  }

  /** terminationMessagePath's file, or with FallbackToLogsOnError the log's tail after a failure. */
  async #terminationMessage(st: PodState, s: ContainerStatus): Promise<string> {
    const cached = st.messages.get(s.id);
    if (cached !== undefined) return cached;
    let msg = '';
    const file = s.annotations[ANNOTATION_TERMINATION_MESSAGE_HOST];
    if (file) msg = (await readFile(file, 'utf8').catch(() => '')).slice(0, 4096);
    if (!msg && s.exitCode !== 0 && s.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] === 'FallbackToLogsOnError' && s.logPath) {
      msg = await logTail(s.logPath, 80, 2048);
    }
    st.messages.set(s.id, msg);
    return msg;
  }

  // ---- the sync ----

  /**
   * One sync: list the pod in the runtime once, decide (./actions.ts), carry the decision out, and
   * compute the status from what the listing and the actions left.
   */
  async sync(pod: Pod, st: PodState): Promise<SyncResult> {
    const o = this.#o;
    // A pod new since the agent started has nothing in the runtime yet: no need to ask.
    const v: SyncView = { rt: st.fresh ? { sandboxes: [], containers: new Map() } : await this.#observe(st.uid), statuses: new Map() };
    st.fresh = false;
    if (!st.terminal) await this.#inspect(pod, v);
    const actions = computePodActions(pod, v.rt, { terminal: st.terminal, condemned: this.#condemned(pod, st.uid, v.rt) });

    if (actions.kind === 'terminal') {
      for (const id of actions.stopSandboxes) await o.runtime.stopPodSandbox(id);
      return { status: await this.#status(pod, st, v, false) };
    }

    // Volumes first: no sandbox for a pod whose mounts cannot be made.
    if (!(await this.#setUpVolumes(pod, st))) return { status: await this.#status(pod, st, v, false), requeueAt: o.clock.now() + MOUNT_RETRY_MS };

    if (actions.kind === 'sandboxLost') {
      await Promise.all(actions.kill.map((k) => this.killContainer(pod, k.container, k.id, gracePeriod(pod), k.message).catch(() => undefined)));
      for (const id of actions.stopSandboxes) await o.runtime.stopPodSandbox(id);
      st.sandboxId = undefined;
      st.running.clear();
      return { status: await this.#status(pod, st, v, false) };
    }

    if (actions.sandbox.action === 'keep') {
      await this.#adoptSandbox(pod, st, actions.sandbox.sandbox);
    } else if (!(await this.#createSandbox(pod, st, v, actions.sandbox))) {
      return { status: await this.#status(pod, st, v, false), requeueAt: o.clock.now() + MOUNT_RETRY_MS };
    }
    await this.#writeHosts(pod, st);

    let requeueAt: number | undefined;
    for (const step of actions.steps) {
      const at = await this.#carryOut(pod, st, v, step);
      if (at !== undefined) requeueAt = Math.min(requeueAt ?? at, at);
    }

    if (actions.failed) st.terminal = 'Failed';
    // A pod that does not always restart ends once its app containers are done; their latest
    // instances are looked at again, since some were started or killed just now.
    else if (actions.initialized && (pod.spec?.restartPolicy ?? 'Always') !== 'Always') st.terminal = terminalPhase(pod, await this.#outcomes(pod, v));
    if (st.terminal) {
      st.running.clear();
      for (const s of v.rt.sandboxes) if (s.state === 'ready') await o.runtime.stopPodSandbox(s.id);
    }
    await this.#gc(v.rt);
    return { status: await this.#status(pod, st, v, false), requeueAt };
  }

  /** Sets up (or refreshes) the pod's volumes; false when they were never set up and cannot be yet. */
  async #setUpVolumes(pod: Pod, st: PodState): Promise<boolean> {
    const o = this.#o;
    // A label or annotation change is written at once, as the kubelet remounts downwardAPI volumes
    // on a pod update; other contents (configMaps, secrets) are refreshed every volumeRefreshMs.
    const meta = JSON.stringify([pod.metadata?.labels ?? {}, pod.metadata?.annotations ?? {}]);
    if (st.volumes && st.volumesMeta === meta && o.clock.now() - st.volumesAt < (o.volumeRefreshMs ?? 10_000)) return true;
    try {
      st.volumes = await o.volumes.setUp(pod);
      st.volumesAt = o.clock.now();
      st.volumesMeta = meta;
      for (const [k, w] of st.waiting) if (w.reason === 'ContainerCreating' && w.message?.startsWith('MountVolume')) st.waiting.delete(k);
      return true;
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      o.recorder.event(podRef(pod), 'Warning', 'FailedMount', err.message);
      if (st.volumes) return true;
      for (const c of allContainers(pod)) st.waiting.set(c.name, { reason: 'ContainerCreating', message: err.message });
      return false;
    }
  }

  async #adoptSandbox(pod: Pod, st: PodState, sandbox: SandboxRecord): Promise<void> {
    if (st.sandboxId === sandbox.id && st.sandboxConfig) return;
    st.sandboxId = sandbox.id;
    st.sandboxConfig = this.#sandboxConfig(pod, sandbox.attempt);
    const s = await this.#o.runtime.podSandboxStatus(sandbox.id);
    st.podIPs = [s.ip, ...s.additionalIps].filter(Boolean);
  }

  /** Kills and removes the old sandboxes, then runs a new one; false when it could not be made. */
  async #createSandbox(pod: Pod, st: PodState, v: SyncView, plan: Extract<SandboxPlan, { action: 'create' }>): Promise<boolean> {
    const o = this.#o;
    if (plan.sandboxChanged) o.recorder.event(podRef(pod), 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    // As the kubelet: the old instances get their grace period (preStop, SIGTERM), then every old
    // sandbox is stopped, ready or not, before it goes.
    await Promise.all(plan.kill.map((k) => this.killContainer(pod, k.container, k.id, gracePeriod(pod), k.message).catch(() => undefined)));
    for (const s of plan.remove) await o.runtime.stopPodSandbox(s.id);
    for (const s of plan.remove) await o.runtime.removePodSandbox(s.id);
    v.rt.sandboxes = [];
    v.rt.containers = new Map();
    await Promise.all([o.cgroups.ensure(pod), mkdir(podLogDir(o.logRoot, pod), { recursive: true, mode: 0o755 })]);
    const cfg = this.#sandboxConfig(pod, plan.attempt);
    // The first container's image is checked (or pulled) while the sandbox starts, rather than after:
    // its Pulled event still comes before Created, as users know it.
    if (plan.prefetch) {
      const outcome = o.images.ensure(pod, plan.prefetch.container, plan.prefetch.init);
      outcome.catch(() => undefined); // awaited (and its failure seen) by #startContainer
      st.prefetched = { container: plan.prefetch.container.name, outcome };
    }
    let id: string;
    try {
      id = await o.runtime.runPodSandbox(cfg);
    } catch (err) {
      const msg = `Failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`;
      o.recorder.event(podRef(pod), 'Warning', 'FailedCreatePodSandBox', msg);
      for (const c of allContainers(pod)) st.waiting.set(c.name, { reason: 'ContainerCreating' });
      return false;
    }
    st.sandboxId = id;
    st.sandboxConfig = cfg;
    const s = await o.runtime.podSandboxStatus(id);
    st.podIPs = [s.ip, ...s.additionalIps].filter(Boolean);
    st.running.clear();
    v.rt.sandboxes = [{ id, state: 'ready', attempt: plan.attempt }];
    return true;
  }

  /** Carries out one container step; returns when to sync again (clock ms), if it matters. */
  async #carryOut(pod: Pod, st: PodState, v: SyncView, step: ContainerStep): Promise<number | undefined> {
    const o = this.#o;
    const name = step.container.name;
    switch (step.action) {
      case 'keep': {
        const known = st.running.get(name);
        st.running.set(name, { id: step.id, startedAt: known?.id === step.id ? known.startedAt : (await o.runtime.containerStatus(step.id)).startedAt });
        return undefined;
      }
      case 'kill': {
        await this.killContainer(pod, step.container, step.id, gracePeriod(pod), step.message);
        st.running.delete(name);
        markExited(v.rt, name, step.id);
        return undefined;
      }
      case 'startCreated':
        await this.#startCreated(pod, step.container, step.id, step.init);
        return undefined;
      case 'done':
        st.running.delete(name);
        st.waiting.delete(name);
        return undefined;
      case 'startEphemeral': {
        // The target must run now: its PID namespace is joined by the id of its running instance.
        let pidTarget: string | undefined;
        if (step.target) {
          const t = v.rt.containers.get(step.target)?.[0];
          if (t?.state !== 'running') {
            const message = `unable to find target container ${step.target}`;
            st.waiting.set(name, { reason: 'CreateContainerConfigError', message });
            o.recorder.event(podRef(pod, containerFieldPath(name, 'ephemeral')), 'Warning', 'Failed', `Error: ${message}`);
            return o.clock.now() + MOUNT_RETRY_MS;
          }
          pidTarget = t.id;
        }
        const started = await this.#startContainer(pod, st, v, step.container, 'ephemeral', 0, pidTarget);
        return started ? undefined : o.clock.now() + MOUNT_RETRY_MS;
      }
      case 'start': {
        const kind: ContainerKind = step.init ? 'init' : 'app';
        if (step.reason === 'Exited' && !step.init) st.running.delete(name);
        if (step.backoff) {
          const until = this.#backingOff(pod, st, step.container, kind, v);
          if (until !== undefined) return until;
        }
        const started = await this.#startContainer(pod, st, v, step.container, kind, step.restartCount);
        // A new app container that could not start (its image, its config) is retried soon.
        return !started && step.reason === 'New' && !step.init ? o.clock.now() + MOUNT_RETRY_MS : undefined;
      }
    }
  }

  /** The latest instance's outcome per app container, read again from the runtime, in order until one still runs. */
  async #outcomes(pod: Pod, v: SyncView): Promise<Map<string, ContainerOutcome>> {
    const out = new Map<string, ContainerOutcome>();
    for (const c of pod.spec?.containers ?? []) {
      const latest = v.rt.containers.get(c.name)?.[0];
      if (!latest) break;
      let s = v.statuses.get(latest.id);
      if (s?.state !== 'exited') {
        s = await this.#o.runtime.containerStatus(latest.id);
        v.statuses.set(s.id, s);
      }
      out.set(c.name, { state: s.state, exitCode: s.exitCode });
      if (s.state !== 'exited') break;
    }
    return out;
  }

  #sandboxConfig(pod: Pod, attempt: number): PodSandboxConfig {
    const o = this.#o;
    return sandboxConfig({ pod, attempt, nodeName: o.node.nodeName, logDirectory: podLogDir(o.logRoot, pod), cgroupParent: o.cgroups.parentFor(pod), dns: this.#dns.forPod(pod) });
  }

  async #writeHosts(pod: Pod, st: PodState): Promise<void> {
    if (pod.spec?.hostNetwork) return;
    const text = hostsFile(st.podIPs, pod.spec?.hostname ?? pod.metadata?.name ?? '', pod.spec?.subdomain, pod.metadata?.namespace, pod.spec?.hostAliases ?? [], this.#dns.settings.clusterDomain);
    if (st.hostsWritten === text) return;
    const dir = this.#o.volumes.podDir(st.uid);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'etc-hosts'), text);
    st.hostsWritten = text;
  }

  /**
   * Whether an exited container must still wait before it restarts (CrashLoopBackOff): returns when
   * the wait ends (clock ms), or undefined when it may restart now (and the next backoff step is taken).
   */
  #backingOff(pod: Pod, st: PodState, c: SpecContainer, kind: ContainerKind, v: SyncView): number | undefined {
    const o = this.#o;
    const key = `${st.uid}/${c.name}`;
    const latest = v.rt.containers.get(c.name)?.[0];
    const s = latest && v.statuses.get(latest.id);
    const wait = s ? o.backoff.remaining(key, s.startedAt, s.finishedAt) : 0;
    const podDesc = `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${st.uid})`;
    if (wait > 0) {
      const msg = `back-off ${goDuration(o.backoff.current(key))} restarting failed container=${c.name} pod=${podDesc}`;
      st.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: msg });
      o.recorder.event(podRef(pod, containerFieldPath(c.name, kind === 'init')), 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podDesc}`);
      return o.clock.now() + wait;
    }
    o.backoff.next(key);
    return undefined;
  }

  async #startCreated(pod: Pod, c: SpecContainer, id: string, init: boolean): Promise<void> {
    const ref = podRef(pod, containerFieldPath(c.name, init));
    try {
      await this.#o.runtime.startContainer(id);
      this.#o.recorder.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
    } catch (err) {
      this.#o.recorder.event(ref, 'Warning', 'Failed', `Error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Pull, create, start, postStart. Returns false when the container could not be started. */
  async #startContainer(pod: Pod, st: PodState, v: SyncView, c: SpecContainer, kind: ContainerKind, restartCount: number, pidTarget?: string): Promise<boolean> {
    const o = this.#o;
    const init = kind === 'init';
    const where = kind === 'ephemeral' ? 'ephemeral' : init;
    const ref = podRef(pod, containerFieldPath(c.name, where));
    const prefetched = st.prefetched?.container === c.name ? st.prefetched.outcome : undefined;
    st.prefetched = undefined;
    const pulled = await (prefetched ?? o.images.ensure(pod, c, where));
    if (!pulled.ok) {
      st.waiting.set(c.name, { reason: pulled.reason, message: pulled.message });
      return false;
    }
    let id: string;
    try {
      checkRunAsNonRoot(pod, c, pulled.info);
      await mkdir(join(podLogDir(o.logRoot, pod), c.name), { recursive: true });
      const cfg = await containerConfig({
        pod, container: c, kind, restartCount, image: c.image ?? '', volumes: st.volumes ?? new Map(), subPaths: o.volumes, podDir: o.volumes.podDir(st.uid),
        podIPs: st.podIPs, source: o.source, node: o.node, services: o.services, hostsFile: pod.spec?.hostNetwork ? undefined : join(o.volumes.podDir(st.uid), 'etc-hosts'), pidTarget,
      });
      id = await o.runtime.createContainer(st.sandboxId!, cfg, st.sandboxConfig!);
    } catch (err) {
      const reason = err instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError';
      const message = err instanceof Error ? (err instanceof CriError ? err.detail : err.message) : String(err);
      st.waiting.set(c.name, { reason, message });
      o.recorder.event(ref, 'Warning', 'Failed', `Error: ${message}`);
      return false;
    }
    st.waiting.delete(c.name);
    // This sync's view gains the new instance, as a second listing would show it.
    const record: ContainerRecord = { id, state: 'created', restartCount, specHash: specHash(c) };
    v.rt.containers.set(c.name, [record, ...(v.rt.containers.get(c.name) ?? [])]);
    o.recorder.event(ref, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await o.runtime.startContainer(id);
    } catch (err) {
      o.recorder.event(ref, 'Warning', 'Failed', `Error: ${err instanceof CriError ? err.detail : err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    o.recorder.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
    record.state = 'running';
    st.running.set(c.name, { id, startedAt: o.clock.now() });
    if (c.lifecycle?.postStart) {
      const failure = await this.#runHook(c.lifecycle.postStart, c, id, st.podIPs[0] ?? '', gracePeriod(pod));
      if (failure !== undefined) {
        o.recorder.event(ref, 'Warning', 'FailedPostStartHook', failure);
        await this.killContainer(pod, c, id, gracePeriod(pod), 'FailedPostStartHook', false);
        record.state = 'exited';
        st.running.delete(c.name);
        return true;
      }
    }
    if (kind === 'app') o.prober.containerStarted(st.uid, c.name);
    return true;
  }

  /** Runs a lifecycle hook; returns the failure message, or undefined on success. */
  async #runHook(h: LifecycleHandler, c: SpecContainer, id: string, podIP: string, timeoutSec: number): Promise<string | undefined> {
    try {
      if (h.exec) {
        const r = await this.#o.runtime.execSync(id, h.exec.command ?? [], Math.max(1, timeoutSec));
        if (r.exitCode !== 0) return `Exec lifecycle hook (${JSON.stringify(h.exec.command ?? [])}) for Container "${c.name}" failed - error: command '${(h.exec.command ?? []).join(' ')}' exited with ${r.exitCode}: ${r.stderr.toString()}, message: "${r.stdout.toString()}"`;
        return undefined;
      }
      if (h.httpGet) {
        const r = await httpGet(h.httpGet, { podIP, containerId: id, container: c }, Math.max(1, timeoutSec) * 1000);
        return r.ok ? undefined : `HTTP lifecycle hook (${h.httpGet.path ?? '/'}) for Container "${c.name}" failed - error: ${r.message}`;
      }
      if (h.sleep) {
        await this.#o.clock.sleep(Math.min(h.sleep.seconds, timeoutSec) * 1000);
        return undefined;
      }
    } catch (err) {
      return `lifecycle hook for Container "${c.name}" failed - error: ${err instanceof Error ? err.message : String(err)}`;
    }
    return undefined;
  }

  /**
   * Stops one container: Killing event, preStop (bounded by the grace period), then SIGTERM and
   * SIGKILL when what is left of the grace period runs out.
   */
  async killContainer(pod: Pod, c: SpecContainer | undefined, id: string, graceSec: number, message: string, runPreStop = true): Promise<void> {
    const o = this.#o;
    const name = c?.name ?? '';
    const init = pod.spec?.ephemeralContainers?.some((x) => x.name === name) ? 'ephemeral' : Boolean(pod.spec?.initContainers?.some((x) => x.name === name));
    o.recorder.event(podRef(pod, containerFieldPath(name, init)), 'Normal', 'Killing', message);
    const t0 = o.clock.now();
    if (runPreStop && c?.lifecycle?.preStop) {
      const failure = await this.#runHook(c.lifecycle.preStop, c, id, '', graceSec);
      if (failure !== undefined) o.recorder.event(podRef(pod, containerFieldPath(name, init)), 'Warning', 'FailedPreStopHook', failure);
    }
    const left = Math.max(0, graceSec - Math.floor((o.clock.now() - t0) / 1000));
    // The kubelet gives a container at least 2 s once preStop has used the grace period up.
    await o.runtime.stopContainer(id, runPreStop && c?.lifecycle?.preStop ? Math.max(2, left) : left);
  }

  /** Keeps the two newest instances of each container (current and previous); removes the rest. */
  async #gc(rt: PodRuntimeStatus): Promise<void> {
    for (const list of rt.containers.values()) {
      for (const c of list.slice(2)) if (c.state === 'exited' || c.state === 'created') await this.#o.runtime.removeContainer(c.id).catch(() => undefined);
    }
  }

  async #status(pod: Pod, st: PodState, v: SyncView, terminating: boolean): Promise<PodStatus> {
    const o = this.#o;
    const mk = async (c: SpecContainer, probed = true): Promise<ContainerView> => {
      const inst = v.rt.containers.get(c.name) ?? [];
      const current = await this.#observed(st, v, inst[0]);
      const previous = await this.#observed(st, v, inst[1]);
      const running = current?.state === 'running';
      const started = probed && running && o.prober.isStarted(st.uid, c.name, current!.id);
      const cv: ContainerView = { ready: probed && running && started && o.prober.isReady(st.uid, c.name, current!.id), started };
      if (current) cv.current = current;
      if (previous) cv.previous = previous;
      const w = st.waiting.get(c.name);
      if (w && !running) cv.waiting = w;
      if (running) st.waiting.delete(c.name);
      return cv;
    };
    const view: PodView = {
      sandboxReady: st.sandboxId !== undefined && !st.terminal && !terminating,
      podIPs: st.podIPs,
      hostIPs: o.node.hostIPs,
      init: new Map(),
      app: new Map(),
    };
    if (st.terminal) view.terminalPhase = st.terminal;
    if (st.abnormal) view.ended = st.abnormal;
    if (terminating) view.terminating = true;
    for (const c of pod.spec?.initContainers ?? []) view.init.set(c.name, await mk(c));
    for (const c of pod.spec?.containers ?? []) view.app.set(c.name, await mk(c));
    // Ephemeral containers are never probed, and never ready.
    if (pod.spec?.ephemeralContainers?.length) {
      view.ephemeral = new Map();
      for (const c of pod.spec.ephemeralContainers) view.ephemeral.set(c.name, await mk(c as SpecContainer, false));
    }
    st.view = view;
    return generatePodStatus(pod, view, o.clock.now());
  }

  // ---- termination and cleanup ----

  /**
   * Stops every container of the pod in parallel (preStop, SIGTERM, SIGKILL after `graceSec`), then
   * every sandbox, then kills what is left in the pod's cgroup. Returns the final status only once
   * nothing of the pod runs: the runtime lists no running container and no ready sandbox (else it
   * throws PodStillRunningError, and the caller tries again), as the kubelet checks after KillPod and
   * destroys the pod cgroup (killing its processes) before the pod's final status and deletion.
   */
  async terminate(pod: Pod, st: PodState, graceSec: number): Promise<PodStatus> {
    const o = this.#o;
    o.prober.removePod(st.uid);
    const rt = await this.#observe(st.uid);
    const plan = computeKillPod(pod, rt);
    await Promise.all(plan.kill.map((k) => this.killContainer(pod, k.container, k.id, graceSec, k.message).catch(() => undefined)));
    for (const id of plan.stopSandboxes) await o.runtime.stopPodSandbox(id);
    const after = await this.#observe(st.uid);
    const running = [...after.containers.values()].flat().filter((c) => c.state === 'running').map((c) => c.id);
    const ready = after.sandboxes.filter((s) => s.state === 'ready').map((s) => s.id);
    if (running.length || ready.length) {
      const err = new PodStillRunningError(st.uid, running, ready);
      o.recorder.event(podRef(pod), 'Warning', 'FailedKillPod', `error killing pod: ${err.message}`);
      throw err;
    }
    // A process the runtime does not account for (a sandbox containerd failed to load after a crash).
    await o.cgroups.killProcesses(st.uid);
    st.running.clear();
    st.waiting.clear();
    return this.#status(pod, st, { rt: after, statuses: new Map() }, true);
  }

  /**
   * Ends the pod outside its lifecycle (the kubelet's TerminatePodAbnormally for an eviction): it is
   * Failed from now on with the reason and message, and its containers are stopped as in a deletion,
   * within `t.gracePeriodSeconds`. Returns the status.
   */
  async terminateAbnormally(pod: Pod, st: PodState, t: { gracePeriodSeconds: number; reason: string; message: string }): Promise<PodStatus> {
    st.terminal = 'Failed';
    st.abnormal = { reason: t.reason, message: t.message };
    return this.terminate(pod, st, t.gracePeriodSeconds);
  }

  /** Unmounts and removes a terminated pod's volumes (its containers are gone; nothing sets them up again). */
  async releaseVolumes(st: PodState): Promise<void> {
    st.volumes = undefined;
    await this.#o.volumes.tearDown(st.uid);
  }

  /** Removes everything the pod left on the node: sandboxes, containers, volumes, cgroups, logs. */
  async cleanup(uid: string, pod: Pod | undefined): Promise<void> {
    const o = this.#o;
    o.prober.removePod(uid);
    o.backoff.forgetPod(uid);
    const { sandboxes } = await this.#observe(uid);
    for (const s of sandboxes) {
      await o.runtime.stopPodSandbox(s.id);
      await o.runtime.removePodSandbox(s.id);
    }
    // Whatever removing the sandboxes left behind.
    const { containers } = await this.#observe(uid);
    for (const list of containers.values()) for (const c of list) await o.runtime.removeContainer(c.id);
    await o.volumes.tearDown(uid);
    await o.cgroups.remove(uid);
    if (pod) await rm(podLogDir(o.logRoot, pod), { recursive: true, force: true });
    else await removeLogDirsOf(o.logRoot, uid);
  }
}

/** A pod's termination left something running; the pod worker tries the termination again. */
export class PodStillRunningError extends Error {
  readonly code = 'ERR_POD_STILL_RUNNING';
  constructor(uid: string, containers: string[], sandboxes: string[]) {
    super(`pod ${uid} still runs after its termination: ${[...containers.map((c) => `container ${c}`), ...sandboxes.map((s) => `sandbox ${s}`)].join(', ')}`);
    this.name = 'PodStillRunningError';
  }
}

function allContainers(pod: Pod): SpecContainer[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

function markExited(rt: PodRuntimeStatus, name: string, id: string): void {
  const r = rt.containers.get(name)?.find((c) => c.id === id);
  if (r) r.state = 'exited';
}

export function gracePeriod(pod: Pod): number {
  const g = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, g);
}

async function removeLogDirsOf(root: string, uid: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  for (const e of await readdir(root).catch(() => [] as string[])) if (e.endsWith(`_${uid}`)) await rm(join(root, e), { recursive: true, force: true });
}

/** The last `lines` lines (at most `bytes`) of a CRI log file, without the CRI prefixes. */
export async function logTail(path: string, lines: number, bytes: number): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await fh.stat()).size;
    const want = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(want);
    await fh.read(buf, 0, want, size - want);
    const text = buf.toString('utf8').split('\n').filter(Boolean).map((l) => {
      const m = /^\S+ (?:stdout|stderr) [FP] (.*)$/.exec(l);
      return m ? m[1] : l;
    });
    const out = text.slice(-lines).join('\n');
    return out.length > bytes ? out.slice(out.length - bytes) : out;
  } finally {
    await fh.close();
  }
}
