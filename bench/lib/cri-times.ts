// Reads back from containerd (CRI) when a pod's sandbox and first container were created and when
// the container started, on this process's performance.now() timeline, so a benchmark can split a
// pod's start into API/scheduler, agent and runtime time. containerd keeps these as nanosecond wall
// clock times; performance.timeOrigin maps them to our timeline (same machine, same clock).

import type { ContainerRuntime } from '../../src/kubelet/cri/runtime.ts';
import { LABEL_POD_UID } from '../../src/kubelet/podworkers/labels.ts';

export interface CriTimes {
  sandboxCreated: number;
  containerCreated: number;
  containerStarted: number;
}

const toPerf = (epochMs: number) => epochMs - performance.timeOrigin;

export async function criTimes(rt: ContainerRuntime, uid: string): Promise<CriTimes | undefined> {
  const sandboxes = await rt.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } });
  const containers = await rt.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } });
  const s = sandboxes.sort((a, b) => a.createdAt - b.createdAt)[0];
  const c = containers.sort((a, b) => a.createdAt - b.createdAt)[0];
  if (!s || !c) return undefined;
  const st = await rt.containerStatus(c.id);
  return { sandboxCreated: toPerf(s.createdAt), containerCreated: toPerf(st.createdAt), containerStarted: toPerf(st.startedAt) };
}

/** Sandboxes and containers CRI still holds for these pod UIDs. */
export async function criLeft(rt: ContainerRuntime, uids: ReadonlySet<string>): Promise<number> {
  const [s, c] = await Promise.all([rt.listPodSandbox(), rt.listContainers()]);
  return s.filter((x) => uids.has(x.labels[LABEL_POD_UID] ?? '')).length + c.filter((x) => uids.has(x.labels[LABEL_POD_UID] ?? '')).length;
}
