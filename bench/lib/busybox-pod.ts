// The one pod the pod-start benchmarks start, in the three shapes they need: a Pod for the API server,
// the same Pod as YAML for `podman kube play`, and the CRI sandbox and container configs the raw
// floor sends. A single busybox container sleeping, from the offline busybox image every runtime has
// imported from the same archive, so nothing is pulled and the three measure starting, not fetching.

import { stringify } from 'yaml';
import type { Pod } from '../../src/api/types.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../src/kubelet/runtime/runtime.ts';
import { BUSYBOX_IMAGE } from '../../src/kubelet/images/builtin.ts';

export const BENCH_LABEL = 'bench.tinykube.io/podstart';

export function busyboxPod(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { [BENCH_LABEL]: 'true' } },
    spec: {
      // `sleep` as PID 1 ignores SIGTERM; a zero grace period lets teardown between rounds be quick
      // for all three runtimes alike (it is not what is measured).
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    },
  };
}

/** Several pods as one multi-document YAML, the way a user hands `podman kube play` a manifest. */
export function podsYaml(names: readonly string[]): string {
  return names.map((n) => stringify(busyboxPod(n))).join('---\n');
}

/**
 * What the kubelet would send for busybox-pod through CRI, reduced to what a pod needs to run: the
 * sandbox (own network, IPC, UTS; PID per container as Kubernetes defaults) and one container.
 */
export function floorSandboxConfig(name: string, uid: string, logDirectory: string): PodSandboxConfig {
  return {
    metadata: { name, uid, namespace: 'default', attempt: 0 },
    hostname: name,
    logDirectory,
    labels: { [BENCH_LABEL]: 'true', 'io.kubernetes.pod.uid': uid },
    linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

export function floorContainerConfig(): ContainerConfig {
  return {
    metadata: { name: 'main', attempt: 0 },
    image: { image: BUSYBOX_IMAGE },
    command: ['sleep', '3600'],
    logPath: 'main/0.log',
  };
}
