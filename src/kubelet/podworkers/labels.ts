// The labels and annotations the agent puts on sandboxes and containers. They are the only memory the
// agent needs across restarts (even kill -9): a new agent lists CRI, reads these back and adopts what
// runs, with the same restart counts and container IDs. Keys follow the kubelet's
// (pkg/kubelet/kuberuntime/labels.go) so tools like crictl show familiar names.
import type { Container, PodSandbox } from '../runtime/runtime.ts';

export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
/** Which node agent made the object: several agents may share one containerd in tests. */
export const LABEL_NODE = 'io.tinykube.node';
/** "sandbox" | "init" | "app" | "ephemeral". */
export const LABEL_CONTAINER_KIND = 'io.tinykube.container.kind';

export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
/** Host file bind-mounted at terminationMessagePath, read after the container ends. */
export const ANNOTATION_TERMINATION_MESSAGE_HOST = 'io.tinykube.container.terminationMessageHostPath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANNOTATION_GRACE = 'io.kubernetes.pod.terminationGracePeriod';
/** A hash of the container's spec: a changed spec (pod update of the image) means restart. */
export const ANNOTATION_SPEC_HASH = 'io.kubernetes.container.hash';

export type ContainerKind = 'init' | 'app' | 'ephemeral';

export function podUidOf(obj: Pick<PodSandbox | Container, 'labels'>): string {
  return obj.labels[LABEL_POD_UID] ?? '';
}

export function restartCountOf(c: Pick<Container, 'annotations' | 'metadata'>): number {
  const v = Number(c.annotations[ANNOTATION_RESTART_COUNT]);
  return Number.isInteger(v) && v >= 0 ? v : c.metadata.attempt;
}
