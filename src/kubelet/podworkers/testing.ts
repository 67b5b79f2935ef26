// A pod-worker stack over FakeRuntime and a FakeClock, with no API server: statuses go to a recording
// writer, events to a MemoryEventRecorder. Used by the unit tests of the pod workers, status, prober
// and backoff; each test builds its own stack (cheap) and calls close().
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, PodStatus } from '../../api/types.ts';
import { makePod as sharedMakePod, type PodBuilder } from '../../testing/objects.ts';
import { until } from '../../testing/until.ts';
import { FakeClock } from '../../util/clock.ts';
import { FakeRuntime } from '../runtime/fake-runtime.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';
import { NoopPodCgroups, type PodCgroups } from '../cgroups/pod-cgroups.ts';
import { MemoryEventRecorder } from '../events/recorder.ts';
import { ProberManager } from '../prober/manager.ts';
import { StatusManager, type StatusWriter } from '../status/manager.ts';
import { VolumeManager } from '../volumes/manager.ts';
import { MapConfigSource } from '../volumes/sources.ts';
import { RestartBackoff } from './backoff.ts';
import { ImagePuller } from './images.ts';
import { PodWorkers } from './pod-workers.ts';
import { Pleg } from '../pleg/pleg.ts';
import { PodSyncer } from './sync.ts';
import type { ServiceLister } from '../envvars/envvars.ts';
import type { PodDnsConfigurer } from '../network/dns.ts';

export type { PodBuilder };

export class RecordingWriter implements StatusWriter {
  readonly writes: { name: string; status: PodStatus }[] = [];
  readonly latest = new Map<string, PodStatus>();
  async writeStatus(_ns: string, name: string, _uid: string, status: PodStatus): Promise<void> {
    this.writes.push({ name, status });
    this.latest.set(name, status);
  }
}

/**
 * A pod bound to this stack's node, as the agent receives it: restartPolicy Always, a 30 s grace period,
 * PodScheduled, containers that run `sleep 3600` (init containers `true`) from a present image.
 */
export function makePod(name: string): PodBuilder {
  return sharedMakePod(name)
    .resourceVersion('1')
    .onNode('node-1')
    .restartPolicy('Always')
    .gracePeriod(30)
    .condition('PodScheduled', 'True')
    .containerDefaults({ imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }, { imagePullPolicy: 'IfNotPresent', command: ['true'] });
}

/** A pod-worker stack over any runtime and pod cgroups (integration tests give a real containerd). */
export interface StackOn<R extends ContainerRuntime = ContainerRuntime, C extends PodCgroups = PodCgroups> {
  clock: FakeClock;
  runtime: R;
  recorder: MemoryEventRecorder;
  writer: RecordingWriter;
  status: StatusManager;
  prober: ProberManager;
  workers: PodWorkers;
  syncer: PodSyncer;
  pleg: Pleg;
  source: MapConfigSource;
  cgroups: C;
  dir: string;
  deleted: string[];
  /** Lets real I/O and promise chains run (the syncer writes files) until `cond` holds. */
  until(cond: () => boolean, what?: string): Promise<void>;
  /** Advances fake time in steps, relisting like the PLEG and letting workers run after each step. */
  advance(ms: number, stepMs?: number): Promise<void>;
  statusOf(pod: Pod): PodStatus | undefined;
  close(): Promise<void>;
}

export type Stack = StackOn<FakeRuntime, NoopPodCgroups>;

export interface StackOptions {
  runtime?: FakeRuntime;
  clock?: FakeClock;
  dir?: string;
  /** Services for service environment variables (default: none, as an agent without an API server). */
  services?: ServiceLister;
  /** Pod DNS settings (default: the host's resolv.conf, no cluster DNS, no warnings). */
  dns?: PodDnsConfigurer;
}

export interface StackOnOptions {
  clock?: FakeClock;
  dir?: string;
  /** Called when the worker confirms a pod's deletion, before it is recorded in `deleted`. */
  onConfirmDeletion?(pod: Pod): void | Promise<void>;
}

export function makeStack(opts: StackOptions = {}): Stack {
  const clock = opts.clock ?? new FakeClock();
  const runtime = opts.runtime ?? new FakeRuntime({ clock, images: ['busybox'] });
  return build(runtime, new NoopPodCgroups('/tinykube/node-1'), { ...opts, clock });
}

/** The same stack over a given runtime and pod cgroups. */
export function makeStackOn<R extends ContainerRuntime, C extends PodCgroups>(runtime: R, cgroups: C, opts: StackOnOptions = {}): StackOn<R, C> {
  return build(runtime, cgroups, opts);
}

function build<R extends ContainerRuntime, C extends PodCgroups>(runtime: R, cgroups: C, opts: StackOptions & StackOnOptions): StackOn<R, C> {
  const clock = opts.clock ?? new FakeClock();
  const recorder = new MemoryEventRecorder();
  const writer = new RecordingWriter();
  const status = new StatusManager({ writer, clock });
  const source = new MapConfigSource();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tk-pw-'));
  const backoff = new RestartBackoff(clock);
  let workers: PodWorkers | undefined;
  const prober = new ProberManager({
    runtime,
    clock,
    recorder,
    locator: { runningContainer: (uid, name) => workers?.runningContainer(uid, name), podIP: (uid) => workers?.podIP(uid) ?? '' },
    onResult: (uid) => workers?.kick(uid),
  });
  const syncer = new PodSyncer({
    runtime,
    clock,
    recorder,
    prober,
    volumes: new VolumeManager({ root: dir, source, mounts: false }),
    cgroups,
    images: new ImagePuller({ images: runtime, recorder, source, backoff, now: () => clock.now() }),
    backoff,
    source,
    node: { nodeName: 'node-1', hostIPs: ['192.0.2.10'], cpuMilli: 2000, memoryBytes: 4 * 2 ** 30 },
    services: opts.services,
    dns: opts.dns,
    logRoot: join(dir, 'logs'),
  });
  const deleted: string[] = [];
  const confirmDeletion = async (p: Pod) => {
    await opts.onConfirmDeletion?.(p);
    deleted.push(p.metadata?.name ?? '');
  };
  workers = new PodWorkers({ syncer, status, prober, clock, resyncMs: 60_000, confirmDeletion });
  const pleg = new Pleg({ runtime, clock, nodeName: 'node-1', onChange: (uid) => workers!.kick(uid) });
  const w = workers;
  // In-process work only: turn the event loop rather than sleep, and name the events seen on timeout.
  const untilHolds = async (cond: () => boolean, what = 'condition'): Promise<void> => {
    await until(what, cond, { intervalMs: 0, timeoutMs: 5_000, detail: () => `events: ${recorder.reasons().join(',')}` });
  };
  // Real I/O (hosts file, termination messages) happens inside syncs: wait until every worker rests.
  const settle = async () => {
    for (let i = 0; i < 5000; i++) {
      await new Promise((r) => setImmediate(r));
      if (i >= 5 && !w.busy()) return;
      if (i > 50) await new Promise((r) => setTimeout(r, 1));
    }
  };
  return {
    clock, runtime, recorder, writer, status, prober, workers: w, syncer, pleg, source, cgroups, dir, deleted, until: untilHolds,
    async advance(ms, stepMs = 500) {
      for (let t = 0; t < ms; t += stepMs) {
        clock.advance(Math.min(stepMs, ms - t));
        await settle();
        await pleg.relist();
        await settle();
        await status.idle();
      }
    },
    statusOf: (pod) => writer.latest.get(pod.metadata?.name ?? ''),
    async close() {
      await w.stop();
      prober.stop();
      status.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
