// What a simulated node's "runtime" shows for a pod: a ready sandbox with the pod's IP, every init
// container completed, every app container running (or exited, for pods told to exit), in the shape
// the real agent's status code consumes (../status/generate.ts's PodView). The status a simulated pod
// reports is therefore computed by the same generatePodStatus as a real pod's: phase, conditions,
// QoS class and container statuses follow the kubelet's rules, not a copy of them. Pure.
import { createHash } from 'node:crypto';
import type { Pod, PodStatus } from '../../api/types.ts';
import { parseImageReference, normalizeImageName } from '../images/reference.ts';
import { generatePodStatus, type ContainerView, type ObservedContainer, type PodView } from '../status/generate.ts';

/** One run of the pod's app containers (they start, and exit, together). */
export interface SimulatedRun {
  startedAt: number;
  restartCount: number;
  /** Set once this run exited. */
  exit?: { at: number; code: number };
  /** The run before this one (after a restart): its exit shows as lastState. */
  last?: { startedAt: number; finishedAt: number; code: number };
}

function containerId(uid: string, name: string, restart: number): string {
  return createHash('sha256').update(`${uid}/${name}/${restart}`).digest('hex');
}

// Pods of one workload share images: remember the few hundred names seen last.
const refCache = new Map<string, { image: string; imageRef: string }>();

function imageRefs(image: string): { image: string; imageRef: string } {
  let out = refCache.get(image);
  if (out) return out;
  try {
    const r = parseImageReference(image);
    const name = normalizeImageName(image);
    out = { image: name, imageRef: `${r.domain}/${r.path}@${r.digest ?? `sha256:${createHash('sha256').update(name).digest('hex')}`}` };
  } catch {
    // an image the parser rejects is reported as the spec wrote it
    out = { image, imageRef: `${image}@sha256:${createHash('sha256').update(image).digest('hex')}` };
  }
  if (refCache.size >= 512) refCache.clear();
  refCache.set(image, out);
  return out;
}

function observed(uid: string, name: string, image: string, restart: number, startedAt: number, exit: { at: number; code: number } | undefined): ObservedContainer {
  const refs = imageRefs(image);
  return {
    id: containerId(uid, name, restart),
    state: exit ? 'exited' : 'running',
    image: refs.image,
    imageRef: refs.imageRef,
    restartCount: restart,
    createdAt: startedAt,
    startedAt,
    finishedAt: exit?.at ?? 0,
    exitCode: exit?.code ?? 0,
    reason: '',
    message: '',
  };
}

export function simulatedPodView(pod: Pod, run: SimulatedRun, ips: { podIP: string; hostIP: string }): PodView {
  const uid = pod.metadata?.uid ?? '';
  const init = new Map<string, ContainerView>();
  for (const c of pod.spec?.initContainers ?? []) {
    init.set(c.name, { current: observed(uid, c.name, c.image ?? '', 0, run.startedAt, { at: run.startedAt, code: 0 }), ready: false, started: false });
  }
  const app = new Map<string, ContainerView>();
  for (const c of pod.spec?.containers ?? []) {
    const v: ContainerView = { current: observed(uid, c.name, c.image ?? '', run.restartCount, run.startedAt, run.exit), ready: !run.exit, started: !run.exit };
    if (run.last) v.previous = observed(uid, c.name, c.image ?? '', run.restartCount - 1, run.last.startedAt, { at: run.last.finishedAt, code: run.last.code });
    app.set(c.name, v);
  }
  return { sandboxReady: !run.exit, podIPs: ips.podIP ? [ips.podIP] : [], hostIPs: ips.hostIP ? [ips.hostIP] : [], init, app };
}

/** The status the real agent's status code gives a simulated pod in `run` at time `now`. */
export function simulatedPodStatus(pod: Pod, run: SimulatedRun, ips: { podIP: string; hostIP: string }, now: number): PodStatus {
  return generatePodStatus(pod, simulatedPodView(pod, run, ips), now);
}

/** Whether a run that exited with `code` is followed by a restart, by the pod's restartPolicy. */
export function restartsAfter(pod: Pod, code: number): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && code !== 0);
}
