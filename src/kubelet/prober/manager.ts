// The prober: one worker per (pod, container, probe type), each a loop on the injected clock, as in
// pkg/kubelet/prober/worker.go. A worker probes only a running container, restarts its counters when
// the container ID changes, waits initialDelaySeconds after the container started, applies the
// success/failure thresholds and reports changes of the result. Liveness and readiness wait until the
// startup probe (if any) has succeeded. A liveness or startup failure stops the worker's probing
// until the container is replaced (the pod worker kills and restarts it).
//
// Callers: the pod worker calls addPod/removePod (serially per pod); workers read containers through
// the ContainerLocator and report through onResult. Results are read with isReady/isStarted.
import type { Container, Pod, Probe } from '../../api/types.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import type { RuntimeService } from '../runtime/runtime.ts';
import { containerFieldPath, podRef, type EventRecorder } from '../events/recorder.ts';
import { probeTiming, runProbe, type ProbeOutcome, type ProbeTarget } from './probe.ts';

export type ProbeType = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** Where a worker finds the container it probes. */
export interface ContainerLocator {
  /** The running instance of the container, or undefined when it is not running. */
  runningContainer(uid: string, name: string): { id: string; startedAt: number } | undefined;
  podIP(uid: string): string;
}

export interface ProberOptions {
  runtime: Pick<RuntimeService, 'execSync'>;
  clock: Clock;
  recorder: EventRecorder;
  locator: ContainerLocator;
  /** A result changed (after thresholds): the pod worker re-syncs the pod. */
  onResult(uid: string, container: string, type: ProbeType, result: ProbeResult): void;
  /** Replaces the probe runner (tests). */
  run?: (probe: Probe, target: ProbeTarget) => Promise<ProbeOutcome>;
}

const LABEL: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

class Worker {
  readonly #m: ProberManager;
  readonly pod: Pod;
  readonly container: Container;
  readonly type: ProbeType;
  readonly probe: Probe;
  result: ProbeResult;
  /** The container the current result is about. */
  resultFor = '';
  #containerId = '';
  #successes = 0;
  #failures = 0;
  #onHold = false;
  #timer: Timer | undefined;
  #stopped = false;
  #busy = false;

  constructor(m: ProberManager, pod: Pod, container: Container, type: ProbeType, probe: Probe) {
    this.#m = m;
    this.pod = pod;
    this.container = container;
    this.type = type;
    this.probe = probe;
    this.result = this.#initial();
  }

  #initial(): ProbeResult {
    return this.type === 'liveness' ? 'success' : this.type === 'readiness' ? 'failure' : 'unknown';
  }

  start(): void {
    // The first probe goes at a random point within a period in the kubelet, to spread load; a short
    // fixed delay keeps tests deterministic.
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** Runs a probe now if due (the pod worker calls this when a container starts). */
  poke(): void {
    if (!this.#busy && !this.#stopped) {
      this.#timer?.cancel();
      this.#schedule(0);
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#m.clock.setTimeout(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    this.#busy = true;
    const t = probeTiming(this.probe);
    let next = t.periodMs;
    try {
      next = await this.#probeOnce(t);
    } finally {
      this.#busy = false;
    }
    this.#schedule(next);
  }

  /** Returns the delay until the next tick. */
  async #probeOnce(t: ReturnType<typeof probeTiming>): Promise<number> {
    const uid = this.pod.metadata?.uid ?? '';
    const c = this.#m.locator.runningContainer(uid, this.container.name);
    if (!c) {
      if (this.#containerId !== '') this.#set(this.#initial(), false);
      this.#containerId = '';
      return t.periodMs;
    }
    if (c.id !== this.#containerId) {
      this.#containerId = c.id;
      this.#successes = 0;
      this.#failures = 0;
      this.#onHold = false;
      this.#set(this.#initial(), true);
    }
    if (this.#onHold) return t.periodMs;
    // Liveness and readiness wait for the startup probe.
    if (this.type !== 'startup' && !this.#m.isStarted(uid, this.container.name, c.id)) return t.periodMs;
    const sinceStart = this.#m.clock.now() - c.startedAt;
    if (sinceStart < t.initialDelayMs) return Math.min(t.periodMs, t.initialDelayMs - sinceStart);
    const outcome = await this.#m.run(this.probe, { podIP: this.#m.locator.podIP(uid), containerId: c.id, container: this.container });
    if (this.#stopped || c.id !== this.#containerId) return t.periodMs;
    if (outcome.ok) {
      this.#failures = 0;
      this.#successes++;
      if (this.#successes >= t.successThreshold || (this.type !== 'readiness' && this.#successes >= 1)) this.#set('success', false);
    } else {
      this.#successes = 0;
      this.#failures++;
      this.#m.recorder.event(podRef(this.pod, containerFieldPath(this.container.name)), 'Warning', 'Unhealthy', `${LABEL[this.type]} probe failed: ${outcome.message}`);
      if (this.#failures >= t.failureThreshold) {
        this.#set('failure', false);
        // The container will be killed: probing it further would only repeat the verdict.
        if (this.type !== 'readiness') this.#onHold = true;
      }
    }
    return t.periodMs;
  }

  #set(r: ProbeResult, silent: boolean): void {
    this.resultFor = this.#containerId;
    if (this.result === r) return;
    this.result = r;
    if (!silent || r === 'failure') this.#m.changed(this, r);
  }
}

export class ProberManager {
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  readonly locator: ContainerLocator;
  readonly #runtime: Pick<RuntimeService, 'execSync'>;
  readonly #onResult: ProberOptions['onResult'];
  readonly #run: ProberOptions['run'];
  /** uid → "container/type" → worker */
  readonly #workers = new Map<string, Map<string, Worker>>();

  constructor(opts: ProberOptions) {
    this.clock = opts.clock;
    this.recorder = opts.recorder;
    this.locator = opts.locator;
    this.#runtime = opts.runtime;
    this.#onResult = opts.onResult;
    this.#run = opts.run;
  }

  run(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
    return this.#run ? this.#run(probe, target) : runProbe(this.#runtime, probe, target);
  }

  /** Starts workers for the pod's probes (idempotent). */
  addPod(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.#workers.has(uid)) return;
    const ws = new Map<string, Worker>();
    this.#workers.set(uid, ws);
    for (const c of pod.spec?.containers ?? []) {
      const probes: [ProbeType, Probe | undefined][] = [['startup', c.startupProbe], ['liveness', c.livenessProbe], ['readiness', c.readinessProbe]];
      for (const [type, probe] of probes) {
        if (!probe) continue;
        const w = new Worker(this, pod, c, type, probe);
        ws.set(`${c.name}/${type}`, w);
        w.start();
      }
    }
  }

  removePod(uid: string): void {
    for (const w of this.#workers.get(uid)?.values() ?? []) w.stop();
    this.#workers.delete(uid);
  }

  /** A container (re)started: probe without waiting for the current period to run out. */
  containerStarted(uid: string, name: string): void {
    for (const [k, w] of this.#workers.get(uid) ?? []) if (k.startsWith(`${name}/`)) w.poke();
  }

  result(uid: string, name: string, type: ProbeType): ProbeResult | undefined {
    return this.#workers.get(uid)?.get(`${name}/${type}`)?.result;
  }

  /** Readiness of this container instance: true without a readiness probe. */
  isReady(uid: string, name: string, containerId: string): boolean {
    const w = this.#workers.get(uid)?.get(`${name}/readiness`);
    return !w || (w.result === 'success' && w.resultFor === containerId);
  }

  /** The startup probe of this container instance passed: true without a startup probe. */
  isStarted(uid: string, name: string, containerId: string): boolean {
    const w = this.#workers.get(uid)?.get(`${name}/startup`);
    return !w || (w.result === 'success' && w.resultFor === containerId);
  }

  /** Liveness or startup said this container instance must be restarted. */
  mustRestart(uid: string, name: string, containerId: string): 'liveness' | 'startup' | undefined {
    for (const type of ['liveness', 'startup'] as const) {
      const w = this.#workers.get(uid)?.get(`${name}/${type}`);
      if (w && w.result === 'failure' && w.resultFor === containerId) return type;
    }
    return undefined;
  }

  changed(w: Worker, r: ProbeResult): void {
    this.#onResult(w.pod.metadata?.uid ?? '', w.container.name, w.type, r);
  }

  stop(): void {
    for (const uid of [...this.#workers.keys()]) this.removePod(uid);
  }
}
