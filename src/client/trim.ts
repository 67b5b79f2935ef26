// What the scheduler's and the controllers' pod caches keep of a pod (client-go's informer transform;
// kube-scheduler drops managedFields the same way). At 150,000 pods these caches were most of the
// server's heap: a pod's env, probes, mounts, container statuses and kubectl's last-applied copy of
// itself are read by neither. What they do read stays whole: metadata (labels, owners, finalizers,
// deletion), the spec apart from the containers' runtime details, the pod-level status, and of the
// container statuses the restart counts and exit codes.
//
// Both only ever PATCH pods, so no write is built from a trimmed copy.
import type { Container, ContainerStatus, Pod, PodStatus } from '../api/types.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A container as scheduling sees it: its image (ImageLocality), resources (and restartPolicy for sidecars) and ports. */
function trimContainer(c: Container): Container {
  const out: Container = { name: c.name };
  if (c.image !== undefined) out.image = c.image;
  if (c.resources !== undefined) out.resources = c.resources;
  if (c.ports !== undefined) out.ports = c.ports;
  if (c.restartPolicy !== undefined) out.restartPolicy = c.restartPolicy;
  return out;
}

/** A container status as the workload controllers read it: restarts, readiness, how it ended. */
function trimContainerStatus(s: ContainerStatus): ContainerStatus {
  const out: ContainerStatus = { name: s.name, ready: s.ready, restartCount: s.restartCount } as ContainerStatus;
  const t = s.state?.terminated;
  if (t) out.state = { terminated: { exitCode: t.exitCode, reason: t.reason } };
  return out;
}

/** A new pod with what the scheduler and controllers read (the input is not changed; parts are shared). */
export function trimPodForCache(pod: Pod): Pod {
  const out: Pod = { ...pod };
  if (pod.metadata) {
    const { managedFields: _m, ...meta } = pod.metadata;
    if (meta.annotations && LAST_APPLIED in meta.annotations) {
      const { [LAST_APPLIED]: _l, ...rest } = meta.annotations;
      meta.annotations = rest;
    }
    out.metadata = meta;
  }
  if (pod.spec) {
    out.spec = { ...pod.spec, containers: (pod.spec.containers ?? []).map(trimContainer) };
    if (pod.spec.initContainers) out.spec.initContainers = pod.spec.initContainers.map(trimContainer);
    delete out.spec.ephemeralContainers;
  }
  if (pod.status) {
    const { containerStatuses, initContainerStatuses: _i, ephemeralContainerStatuses: _e, ...rest } = pod.status;
    const status: PodStatus = rest;
    // Workload controllers rank pods by restarts and the Job controller reads exit codes.
    if (containerStatuses) status.containerStatuses = containerStatuses.map(trimContainerStatus);
    out.status = status;
  }
  return out;
}
