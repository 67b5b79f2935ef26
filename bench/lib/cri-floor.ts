// The raw CRI floor of pod start: a private containerd (the integration tests' harness: own root,
// socket, CNI bridge, the offline pause and busybox images) driven directly with RunPodSandbox,
// CreateContainer and StartContainer, with nothing of the node agent in between. What tinykube adds
// on top of this is its own cost; the ratio of the two is what bench/podstart prints.

import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestContainerd, type TestContainerd } from '../../src/kubelet/containerd/testing.ts';
import { CriRuntime } from '../../src/kubelet/cri/cri-runtime.ts';
import type { ContainerRuntime } from '../../src/kubelet/runtime/runtime.ts';
import { floorContainerConfig, floorSandboxConfig, BENCH_LABEL } from './busybox-pod.ts';

export interface FloorTiming {
  name: string;
  sandboxId: string;
  /** RunPodSandbox, CreateContainer, StartContainer, and the three together (ms). */
  sandboxMs: number;
  createMs: number;
  startMs: number;
  totalMs: number;
}

export class CriFloor {
  readonly runtime: ContainerRuntime;
  readonly containerdPid: number | undefined;
  readonly socket: string;
  readonly #cleanups: (() => Promise<void> | void)[];
  readonly #logRoot: string;

  private constructor(runtime: ContainerRuntime, containerdPid: number | undefined, socket: string, logRoot: string, cleanups: (() => Promise<void> | void)[]) {
    this.runtime = runtime;
    this.containerdPid = containerdPid;
    this.socket = socket;
    this.#logRoot = logRoot;
    this.#cleanups = cleanups;
  }

  /** A private containerd of its own (the integration tests' harness). */
  static async start(): Promise<CriFloor> {
    const cleanups: (() => Promise<void> | void)[] = [];
    const h: TestContainerd = await startTestContainerd({ after: (fn) => void cleanups.push(fn) });
    return new CriFloor(h.runtime, h.containerd.pid, h.containerd.socket, join(h.dataDir, 'pod-logs'), cleanups);
  }

  /**
   * The same calls on a containerd somebody else runs (tinykube's own: same containerd config and CNI
   * network as its pods, so the difference to tinykube is the agent alone). The pods carry no node
   * label, so that containerd's agent leaves them alone.
   */
  static attach(socket: string, logRoot: string): CriFloor {
    const rt = new CriRuntime({ socket });
    return new CriFloor(rt, undefined, socket, logRoot, [() => rt.close()]);
  }

  /** Starts one pod the way the kubelet's first sync does, sandbox then container; resolves once it runs. */
  async runPod(name: string): Promise<FloorTiming> {
    const rt = this.runtime;
    const uid = randomUUID();
    const logDir = join(this.#logRoot, `default_${name}_${uid}`);
    await mkdir(join(logDir, 'main'), { recursive: true });
    const sc = floorSandboxConfig(name, uid, logDir);
    const t0 = performance.now();
    const sandboxId = await rt.runPodSandbox(sc);
    const t1 = performance.now();
    const id = await rt.createContainer(sandboxId, floorContainerConfig(), sc);
    const t2 = performance.now();
    await rt.startContainer(id);
    const t3 = performance.now();
    return { name, sandboxId, sandboxMs: t1 - t0, createMs: t2 - t1, startMs: t3 - t2, totalMs: t3 - t0 };
  }

  /** Stops and removes every benchmark pod (not timed). */
  async removeAll(): Promise<void> {
    const rt = this.runtime;
    const sandboxes = await rt.listPodSandbox({ labelSelector: { [BENCH_LABEL]: 'true' } });
    await Promise.all(
      sandboxes.map(async (s) => {
        await rt.stopPodSandbox(s.id);
        await rt.removePodSandbox(s.id);
      }),
    );
    await rm(this.#logRoot, { recursive: true, force: true });
  }

  /** Removes its pods; for its own containerd also containerd, shims (by PID), mounts, the bridge and the temp dir. */
  async close(): Promise<void> {
    await this.removeAll().catch(() => undefined);
    for (const fn of this.#cleanups.splice(0)) await fn();
  }
}
