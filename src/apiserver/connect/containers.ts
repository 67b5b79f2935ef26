// Which container a log/exec/attach request is for, and whether its logs can be read now: the checks
// the kube-apiserver (container name) and the kubelet (container state) make, with their messages,
// because kubectl prints them verbatim (kubectl-wire.md §12). Pure functions of the Pod object.

import type { Pod } from '../../api/types.ts';
import { badRequest } from '../../util/status.ts';

interface ContainerStatusLike {
  name: string;
  containerID?: string;
  state?: { waiting?: { reason?: string }; running?: object; terminated?: { containerID?: string } };
  lastState?: { terminated?: { containerID?: string } };
}

function allContainerNames(pod: Pod): string[] {
  const spec = pod.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])].map((c) => c.name);
}

/** The container for pods/log (kube-apiserver's LogLocation wording). */
export function logContainerName(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  if (requested) {
    if (!allContainerNames(pod).includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
  let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`;
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length) msg += ` or one of the init containers: [${inits.map((c) => c.name).join(' ')}]`;
  throw badRequest(msg);
}

/** The container for exec/attach (kube-apiserver's validateContainer wording). */
export function streamContainerName(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  if (requested) {
    if (!allContainerNames(pod).includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw badRequest(`pod ${name} does not have a container`);
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${allContainerNames(pod).join(' ')}]`);
}

function findStatus(pod: Pod, container: string): ContainerStatusLike | undefined {
  const st = pod.status;
  const lists = [st?.containerStatuses, st?.initContainerStatuses, st?.ephemeralContainerStatuses] as (ContainerStatusLike[] | undefined)[];
  for (const l of lists) {
    const s = l?.find((c) => c.name === container);
    if (s) return s;
  }
  return undefined;
}

/**
 * Throws the kubelet's 400 when the requested logs cannot exist yet (validateContainerLogStatus).
 * A container without any status yet is reported as waiting in ContainerCreating, which is what the
 * kubelet shows right after a pod lands on it.
 */
export function checkLogsAvailable(pod: Pod, container: string, previous: boolean): void {
  const podName = pod.metadata?.name ?? '';
  const s = findStatus(pod, container);
  const waiting = (reason: string) => badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  if (!s) {
    if (previous) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    throw waiting('ContainerCreating');
  }
  const last = s.lastState?.terminated;
  if (previous) {
    if (!last || !last.containerID) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return;
  }
  if (s.state?.running) return;
  if (s.state?.terminated) {
    if (s.state.terminated.containerID || last?.containerID) return;
    throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
  }
  if (last) {
    if (last.containerID) return;
    throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
  }
  if (s.state?.waiting) {
    const reason = s.state.waiting.reason ?? '';
    if (reason === 'ErrImagePull') throw waiting("image can't be pulled");
    if (reason === 'ImagePullBackOff') throw waiting('trying and failing to pull image');
    throw waiting(reason);
  }
  throw badRequest(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
}
