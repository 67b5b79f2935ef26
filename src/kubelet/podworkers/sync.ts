// What one sync of one pod does against the runtime, in the order of the kubelet's SyncPod
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go): observe the pod's sandboxes and containers in CRI
// (by their labels, which is also how a restarted agent adopts what runs), set up volumes, make sure
// one ready sandbox exists (SandboxChanged when it died), run init containers one at a time, start or
// restart app containers by restartPolicy with CrashLoopBackOff, kill containers their liveness or
// startup probe condemned, detect the terminal phase, and compute the pod's status. Also the
// termination of a pod (preStop, SIGTERM with the grace period, sandbox stop) and its cleanup.
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
import { httpGet } from '../prober/probe.ts';
import type { ProberManager } from '../prober/manager.ts';
import { generatePodStatus, type ContainerView, type ObservedContainer, type PodView } from '../status/generate.ts';
import { VolumeError, type MountedVolume, type VolumeManager } from '../volumes/manager.ts';
import type { ConfigSource } from '../volumes/sources.ts';
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
  /** Termination messages read so far, by container id. */
  messages: Map<string, string>;
  volumes?: Map<string, MountedVolume>;
  volumesAt: number;
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
  /** Sync again after this long at the latest (a backoff ending, a mount retry). */
  requeueMs?: number;
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
  /** /var/log/pods, or a test's directory. */
  logRoot: string;
  /** How often configMap/secret volumes are refreshed (default 10 s). */
  volumeRefreshMs?: number;
}

/** Instances of one container name, newest first. */
interface Instances {
  list: Container[];
}

const MOUNT_RETRY_MS = 2000;

function isNotFoundErr(err: unknown): boolean {
  return err instanceof CriError && err.code === 'TK_CRI_NOT_FOUND';
}

export function podLogDir(logRoot: string, pod: Pod): string {
  return join(logRoot, `${pod.metadata?.namespace ?? 'default'}_${pod.metadata?.name ?? ''}_${pod.metadata?.uid ?? ''}`);
}

export class PodSyncer {
  readonly #o: PodSyncerOptions;

  constructor(o: PodSyncerOptions) {
    this.#o = o;
  }

  get options(): PodSyncerOptions {
    return this.#o;
  }

  // ---- observing ----

  async #observe(uid: string): Promise<{ sandboxes: PodSandbox[]; byName: Map<string, Instances> }> {
    const rt = this.#o.runtime;
    const [sandboxes, containers] = await Promise.all([rt.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } }), rt.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } })]);
    sandboxes.sort((a, b) => b.createdAt - a.createdAt);
    const byName = new Map<string, Instances>();
    for (const c of containers) {
      const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
      let e = byName.get(name);
      if (!e) byName.set(name, (e = { list: [] }));
      e.list.push(c);
    }
    for (const e of byName.values()) e.list.sort((a, b) => restartCountOf(b) - restartCountOf(a) || b.createdAt - a.createdAt);
    return { sandboxes, byName };
  }

  async #observed(st: PodState, c: Container | undefined): Promise<ObservedContainer | undefined> {
    if (!c) return undefined;
    let s: ContainerStatus;
    try {
      s = await this.#o.runtime.containerStatus(c.id);
    } catch (err) {
      if (isNotFoundErr(err)) return undefined;
      throw err;
    }
    let message = s.message;
    if (s.state === 'exited') message = (await this.#terminationMessage(st, s)) || s.message;
    return {
      id: s.id,
      state: s.state,
      image: s.image,
      imageRef: s.imageRef,
      restartCount: restartCountOf(c),
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

  async sync(pod: Pod, st: PodState): Promise<SyncResult> {
    const o = this.#o;
    const uid = st.uid;
    const now = () => o.clock.now();
    let requeue: number | undefined;
    const want = (ms: number) => {
      requeue = requeue === undefined ? ms : Math.min(requeue, ms);
    };
    const spec = pod.spec ?? { containers: [] };
    const restartPolicy = spec.restartPolicy ?? 'Always';
    let { sandboxes, byName } = st.fresh ? { sandboxes: [] as PodSandbox[], byName: new Map<string, Instances>() } : await this.#observe(uid);
    st.fresh = false;

    if (st.terminal) {
      await this.#stopSandboxes(sandboxes);
      return { status: await this.#status(pod, st, byName, false) };
    }

    // Volumes first: no sandbox for a pod whose mounts cannot be made.
    if (!st.volumes || now() - st.volumesAt >= (o.volumeRefreshMs ?? 10_000)) {
      try {
        st.volumes = await o.volumes.setUp(pod);
        st.volumesAt = now();
        for (const [k, w] of st.waiting) if (w.reason === 'ContainerCreating' && w.message?.startsWith('MountVolume')) st.waiting.delete(k);
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        o.recorder.event(podRef(pod), 'Warning', 'FailedMount', err.message);
        if (!st.volumes) {
          for (const c of [...(spec.initContainers ?? []), ...spec.containers]) st.waiting.set(c.name, { reason: 'ContainerCreating', message: err.message });
          return { status: await this.#status(pod, st, byName, false), requeueMs: MOUNT_RETRY_MS };
        }
      }
    }

    // The sandbox.
    const ready = sandboxes.find((s) => s.state === 'ready');
    const neverAgain = restartPolicy === 'Never' && spec.containers.some((c) => (byName.get(c.name)?.list.length ?? 0) > 0);
    if (!ready && neverAgain && sandboxes.length > 0) {
      // A pod that must not restart lost its sandbox: its containers are over.
      st.sandboxId = undefined;
      st.running.clear();
      return { status: await this.#status(pod, st, byName, false) };
    }
    if (ready) {
      if (st.sandboxId !== ready.id || !st.sandboxConfig) {
        st.sandboxId = ready.id;
        st.sandboxConfig = this.#sandboxConfig(pod, ready.metadata.attempt);
        const s = await o.runtime.podSandboxStatus(ready.id);
        st.podIPs = [s.ip, ...s.additionalIps].filter(Boolean);
      }
    } else {
      const hadContainers = [...byName.values()].some((i) => i.list.length > 0);
      if (sandboxes.length > 0 && hadContainers) {
        o.recorder.event(podRef(pod), 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      }
      const attempt = sandboxes.length > 0 ? Math.max(...sandboxes.map((s) => s.metadata.attempt)) + 1 : 0;
      await this.#stopSandboxes(sandboxes);
      for (const s of sandboxes) await o.runtime.removePodSandbox(s.id);
      await Promise.all([o.cgroups.ensure(pod), mkdir(podLogDir(o.logRoot, pod), { recursive: true, mode: 0o755 })]);
      const cfg = this.#sandboxConfig(pod, attempt);
      // A new pod's first container image is checked (or pulled) while the sandbox starts, rather than
      // after: its Pulled event still comes before Created, as users know it.
      const first = byName.size === 0 ? (spec.initContainers?.[0] ?? spec.containers[0]) : undefined;
      if (first) {
        const outcome = o.images.ensure(pod, first, first === spec.initContainers?.[0]);
        outcome.catch(() => undefined); // awaited (and its failure seen) by #startContainer
        st.prefetched = { container: first.name, outcome };
      }
      let id: string;
      try {
        id = await o.runtime.runPodSandbox(cfg);
      } catch (err) {
        const msg = `Failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`;
        o.recorder.event(podRef(pod), 'Warning', 'FailedCreatePodSandBox', msg);
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) st.waiting.set(c.name, { reason: 'ContainerCreating' });
        return { status: await this.#status(pod, st, new Map(), false), requeueMs: MOUNT_RETRY_MS };
      }
      st.sandboxId = id;
      st.sandboxConfig = cfg;
      const s = await o.runtime.podSandboxStatus(id);
      st.podIPs = [s.ip, ...s.additionalIps].filter(Boolean);
      st.running.clear();
      // A pod seen for the first time had nothing before this sandbox: no need to list again.
      if (sandboxes.length > 0 || byName.size > 0) ({ byName } = await this.#observe(uid));
    }
    await this.#writeHosts(pod, st);

    // Init containers, one at a time.
    let initDone = true;
    for (const c of spec.initContainers ?? []) {
      const latest = byName.get(c.name)?.list[0];
      if (latest && latest.state === 'exited') {
        const s = await o.runtime.containerStatus(latest.id);
        if (s.exitCode === 0) continue;
        initDone = false;
        if (restartPolicy === 'Never') {
          st.terminal = 'Failed';
          break;
        }
        const w = await this.#restartWithBackoff(pod, st, c, 'init', latest, s);
        if (w !== undefined) want(w);
        break;
      }
      initDone = false;
      if (latest && latest.state === 'created') await this.#startCreated(pod, st, c, latest, true);
      else if (!latest) await this.#startContainer(pod, st, c, 'init', 0);
      break;
    }

    if (initDone && !st.terminal) {
      for (const c of spec.containers) {
        const latest = byName.get(c.name)?.list[0];
        if (!latest) {
          if (!(await this.#startContainer(pod, st, c, 'app', 0))) want(MOUNT_RETRY_MS);
          continue;
        }
        if (latest.state === 'running') {
          st.running.set(c.name, { id: latest.id, startedAt: st.running.get(c.name)?.id === latest.id ? st.running.get(c.name)!.startedAt : (await o.runtime.containerStatus(latest.id)).startedAt });
          const condemned = o.prober.mustRestart(uid, c.name, latest.id);
          const outdated = latest.annotations[ANNOTATION_SPEC_HASH] !== undefined && latest.annotations[ANNOTATION_SPEC_HASH] !== specHash(c);
          if (condemned || outdated) {
            const why = condemned ? `Container ${c.name} failed ${condemned} probe, will be restarted` : `Container ${c.name} definition changed, will be restarted`;
            await this.killContainer(pod, c, latest.id, gracePeriod(pod), why);
            st.running.delete(c.name);
            if (restartPolicy !== 'Never') await this.#startContainer(pod, st, c, 'app', restartCountOf(latest) + 1);
          }
          continue;
        }
        if (latest.state === 'created') {
          await this.#startCreated(pod, st, c, latest, false);
          continue;
        }
        // exited (or unknown): restart by policy
        st.running.delete(c.name);
        const s = await o.runtime.containerStatus(latest.id);
        const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && s.exitCode !== 0);
        if (!restart) {
          st.waiting.delete(c.name);
          continue;
        }
        const w = await this.#restartWithBackoff(pod, st, c, 'app', latest, s);
        if (w !== undefined) want(w);
      }
      ({ byName } = await this.#observe(uid));
      // Terminal: nothing runs and nothing will restart.
      if (restartPolicy !== 'Always') {
        let allDone = true;
        let anyFailed = false;
        for (const c of spec.containers) {
          const latest = byName.get(c.name)?.list[0];
          if (!latest || latest.state !== 'exited') {
            allDone = false;
            break;
          }
          const code = (await o.runtime.containerStatus(latest.id)).exitCode;
          if (code !== 0) {
            anyFailed = true;
            if (restartPolicy === 'OnFailure') allDone = false;
          }
        }
        if (allDone) st.terminal = anyFailed ? 'Failed' : 'Succeeded';
      }
    } else {
      ({ byName } = await this.#observe(uid));
    }
    if (st.terminal) {
      st.running.clear();
      ({ sandboxes } = await this.#observe(uid));
      await this.#stopSandboxes(sandboxes);
    }
    await this.#gc(byName);
    return { status: await this.#status(pod, st, byName, false), requeueMs: requeue };
  }

  #sandboxConfig(pod: Pod, attempt: number): PodSandboxConfig {
    return sandboxConfig({ pod, attempt, nodeName: this.#o.node.nodeName, logDirectory: podLogDir(this.#o.logRoot, pod), cgroupParent: this.#o.cgroups.parentFor(pod) });
  }

  async #writeHosts(pod: Pod, st: PodState): Promise<void> {
    if (pod.spec?.hostNetwork) return;
    const text = hostsFile(st.podIPs, pod.spec?.hostname ?? pod.metadata?.name ?? '', pod.spec?.subdomain, pod.metadata?.namespace, pod.spec?.hostAliases ?? []);
    if (st.hostsWritten === text) return;
    const dir = this.#o.volumes.podDir(st.uid);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'etc-hosts'), text);
    st.hostsWritten = text;
  }

  /** Restarts an exited container unless its backoff still runs; returns the wait, if any. */
  async #restartWithBackoff(pod: Pod, st: PodState, c: SpecContainer, kind: ContainerKind, latest: Container, s: ContainerStatus): Promise<number | undefined> {
    const o = this.#o;
    const key = `${st.uid}/${c.name}`;
    const wait = o.backoff.remaining(key, s.startedAt, s.finishedAt);
    const podDesc = `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${st.uid})`;
    if (wait > 0) {
      const msg = `back-off ${goDuration(o.backoff.current(key))} restarting failed container=${c.name} pod=${podDesc}`;
      st.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: msg });
      o.recorder.event(podRef(pod, containerFieldPath(c.name, kind === 'init')), 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podDesc}`);
      return wait;
    }
    o.backoff.next(key);
    await this.#startContainer(pod, st, c, kind, restartCountOf(latest) + 1);
    return undefined;
  }

  async #startCreated(pod: Pod, st: PodState, c: SpecContainer, latest: Container, init: boolean): Promise<void> {
    const ref = podRef(pod, containerFieldPath(c.name, init));
    try {
      await this.#o.runtime.startContainer(latest.id);
      this.#o.recorder.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
    } catch (err) {
      this.#o.recorder.event(ref, 'Warning', 'Failed', `Error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Pull, create, start, postStart. Returns false when the container could not be started. */
  async #startContainer(pod: Pod, st: PodState, c: SpecContainer, kind: ContainerKind, restartCount: number): Promise<boolean> {
    const o = this.#o;
    const init = kind === 'init';
    const ref = podRef(pod, containerFieldPath(c.name, init));
    const prefetched = st.prefetched?.container === c.name ? st.prefetched.outcome : undefined;
    st.prefetched = undefined;
    const pulled = await (prefetched ?? o.images.ensure(pod, c, init));
    if (!pulled.ok) {
      st.waiting.set(c.name, { reason: pulled.reason, message: pulled.message });
      return false;
    }
    let id: string;
    try {
      checkRunAsNonRoot(pod, c, pulled.info);
      await mkdir(join(podLogDir(o.logRoot, pod), c.name), { recursive: true });
      const cfg = await containerConfig({
        pod, container: c, kind, restartCount, image: c.image ?? '', volumes: st.volumes ?? new Map(), podDir: o.volumes.podDir(st.uid),
        podIPs: st.podIPs, source: o.source, node: o.node, hostsFile: pod.spec?.hostNetwork ? undefined : join(o.volumes.podDir(st.uid), 'etc-hosts'),
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
    o.recorder.event(ref, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await o.runtime.startContainer(id);
    } catch (err) {
      o.recorder.event(ref, 'Warning', 'Failed', `Error: ${err instanceof CriError ? err.detail : err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    o.recorder.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
    st.running.set(c.name, { id, startedAt: o.clock.now() });
    if (c.lifecycle?.postStart) {
      const failure = await this.#runHook(c.lifecycle.postStart, c, id, st.podIPs[0] ?? '', gracePeriod(pod));
      if (failure !== undefined) {
        o.recorder.event(ref, 'Warning', 'FailedPostStartHook', failure);
        await this.killContainer(pod, c, id, gracePeriod(pod), 'FailedPostStartHook', false);
        st.running.delete(c.name);
        return true;
      }
    }
    if (!init) o.prober.containerStarted(st.uid, c.name);
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
    const init = Boolean(pod.spec?.initContainers?.some((x) => x.name === name));
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

  async #stopSandboxes(sandboxes: PodSandbox[]): Promise<void> {
    for (const s of sandboxes) if (s.state === 'ready') await this.#o.runtime.stopPodSandbox(s.id);
  }

  /** Keeps the two newest instances of each container (current and previous); removes the rest. */
  async #gc(byName: Map<string, Instances>): Promise<void> {
    for (const inst of byName.values()) {
      for (const c of inst.list.slice(2)) if (c.state === 'exited' || c.state === 'created') await this.#o.runtime.removeContainer(c.id).catch(() => undefined);
    }
  }

  async #status(pod: Pod, st: PodState, byName: Map<string, Instances>, terminating: boolean): Promise<PodStatus> {
    const o = this.#o;
    const mk = async (c: SpecContainer): Promise<ContainerView> => {
      const inst = byName.get(c.name)?.list ?? [];
      const current = await this.#observed(st, inst[0]);
      const previous = await this.#observed(st, inst[1]);
      const running = current?.state === 'running';
      const started = running && o.prober.isStarted(st.uid, c.name, current!.id);
      const v: ContainerView = { ready: running && started && o.prober.isReady(st.uid, c.name, current!.id), started };
      if (current) v.current = current;
      if (previous) v.previous = previous;
      const w = st.waiting.get(c.name);
      if (w && !running) v.waiting = w;
      if (running) st.waiting.delete(c.name);
      return v;
    };
    const view: PodView = {
      sandboxReady: st.sandboxId !== undefined && !st.terminal && !terminating,
      podIPs: st.podIPs,
      hostIPs: o.node.hostIPs,
      init: new Map(),
      app: new Map(),
    };
    if (st.terminal) view.terminalPhase = st.terminal;
    if (terminating) view.terminating = true;
    for (const c of pod.spec?.initContainers ?? []) view.init.set(c.name, await mk(c));
    for (const c of pod.spec?.containers ?? []) view.app.set(c.name, await mk(c));
    st.view = view;
    return generatePodStatus(pod, view, o.clock.now());
  }

  // ---- termination and cleanup ----

  /**
   * Stops every container of the pod in parallel (preStop, SIGTERM, SIGKILL after `graceSec`), then
   * the sandbox. Returns the final status.
   */
  async terminate(pod: Pod, st: PodState, graceSec: number): Promise<PodStatus> {
    const o = this.#o;
    o.prober.removePod(st.uid);
    const { sandboxes, byName } = await this.#observe(st.uid);
    const specs = new Map<string, SpecContainer>();
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) specs.set(c.name, c);
    const kills: Promise<void>[] = [];
    for (const [name, inst] of byName) {
      for (const c of inst.list) {
        if (c.state !== 'running' && c.state !== 'created') continue;
        kills.push(this.killContainer(pod, specs.get(name), c.id, graceSec, `Stopping container ${name}`).catch(() => undefined));
      }
    }
    await Promise.all(kills);
    await this.#stopSandboxes(sandboxes);
    st.running.clear();
    st.waiting.clear();
    const after = await this.#observe(st.uid);
    return this.#status(pod, st, after.byName, true);
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
    const { byName } = await this.#observe(uid);
    for (const inst of byName.values()) for (const c of inst.list) await o.runtime.removeContainer(c.id);
    await o.volumes.tearDown(uid);
    await o.cgroups.remove(uid);
    if (pod) await rm(podLogDir(o.logRoot, pod), { recursive: true, force: true });
    else await removeLogDirsOf(o.logRoot, uid);
  }
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
