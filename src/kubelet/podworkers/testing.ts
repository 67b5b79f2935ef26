// A pod-worker stack over FakeRuntime and a FakeClock, with no API server: statuses go to a recording
// writer, events to a MemoryEventRecorder. Used by the unit tests of the pod workers, status, prober
// and backoff; each test builds its own stack (cheap) and calls close().
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod, PodStatus } from '../../api/types.ts';
import { FakeClock } from '../../util/clock.ts';
import { FakeRuntime } from '../runtime/fake-runtime.ts';
import { NoopPodCgroups } from '../cgroups/pod-cgroups.ts';
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

export class RecordingWriter implements StatusWriter {
  readonly writes: { name: string; status: PodStatus }[] = [];
  readonly latest = new Map<string, PodStatus>();
  async writeStatus(_ns: string, name: string, _uid: string, status: PodStatus): Promise<void> {
    this.writes.push({ name, status });
    this.latest.set(name, status);
  }
}

let seq = 0;

/** A small pod builder: makePod('web').container({...}).build() */
export class PodBuilder {
  readonly pod: Pod;
  constructor(name: string) {
    seq++;
    this.pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', uid: `uid-${name}-${seq}`, resourceVersion: '1' },
      spec: { nodeName: 'node-1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, containers: [] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    };
  }
  container(c: Partial<Container> & { name: string }): this {
    this.pod.spec!.containers.push({ image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], ...c });
    return this;
  }
  init(c: Partial<Container> & { name: string }): this {
    (this.pod.spec!.initContainers ??= []).push({ image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['true'], ...c });
    return this;
  }
  restartPolicy(p: 'Always' | 'OnFailure' | 'Never'): this {
    this.pod.spec!.restartPolicy = p;
    return this;
  }
  with(fn: (p: Pod) => void): this {
    fn(this.pod);
    return this;
  }
  build(): Pod {
    return this.pod;
  }
}

export function makePod(name: string): PodBuilder {
  return new PodBuilder(name);
}

export interface Stack {
  clock: FakeClock;
  runtime: FakeRuntime;
  recorder: MemoryEventRecorder;
  writer: RecordingWriter;
  status: StatusManager;
  prober: ProberManager;
  workers: PodWorkers;
  syncer: PodSyncer;
  pleg: Pleg;
  source: MapConfigSource;
  cgroups: NoopPodCgroups;
  dir: string;
  deleted: string[];
  /** Lets real I/O and promise chains run (the syncer writes files) until `cond` holds. */
  until(cond: () => boolean, what?: string): Promise<void>;
  /** Advances fake time in steps, relisting like the PLEG and letting workers run after each step. */
  advance(ms: number, stepMs?: number): Promise<void>;
  statusOf(pod: Pod): PodStatus | undefined;
  close(): Promise<void>;
}

export interface StackOptions {
  runtime?: FakeRuntime;
  clock?: FakeClock;
  dir?: string;
}

export function makeStack(opts: StackOptions = {}): Stack {
  const clock = opts.clock ?? new FakeClock();
  const runtime = opts.runtime ?? new FakeRuntime({ clock, images: ['busybox'] });
  const recorder = new MemoryEventRecorder();
  const writer = new RecordingWriter();
  const status = new StatusManager({ writer, clock });
  const source = new MapConfigSource();
  const cgroups = new NoopPodCgroups('/tinykube/node-1');
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
    logRoot: join(dir, 'logs'),
  });
  const deleted: string[] = [];
  workers = new PodWorkers({ syncer, status, prober, clock, resyncMs: 60_000, confirmDeletion: async (p) => void deleted.push(p.metadata?.name ?? '') });
  const pleg = new Pleg({ runtime, clock, nodeName: 'node-1', onChange: (uid) => workers!.kick(uid) });
  const w = workers;
  const until = async (cond: () => boolean, what = 'condition'): Promise<void> => {
    for (let i = 0; i < 2000; i++) {
      if (cond()) return;
      await new Promise((r) => setImmediate(r));
      if (i > 100) await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`never reached: ${what}; events: ${recorder.reasons().join(',')}`);
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
    clock, runtime, recorder, writer, status, prober, workers: w, syncer, pleg, source, cgroups, dir, deleted, until,
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
