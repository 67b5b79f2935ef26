// pods/proxy: where a request to /pods/[SCHEME:]NAME[:PORT]/proxy/... goes, as kube-apiserver's pod
// ResourceLocation decides it: the pod's primary IP, on the port asked for or else the first port
// the first container with ports declares (none at all: the scheme's default port).

import type { Pod } from '../../../api/types.ts';
import type { ProxyLocation, ProxyRequest, ProxyTarget } from '../../kind.ts';

/**
 * A port name is looked up among the pod's declared container ports. kube-apiserver hands the name
 * to Go's dialer instead (which knows only service names such as "http"); resolving the pod's own
 * names answers what the caller meant and leaves numbers as they are.
 */
function portOf(pod: Pod, asked: string): string {
  const containers = pod.spec?.containers ?? [];
  if (asked === '') {
    const first = containers.find((c) => c.ports?.length)?.ports?.[0];
    return first ? String(first.containerPort) : '';
  }
  if (/^\d+$/.test(asked)) return asked;
  const named = [...containers, ...(pod.spec?.initContainers ?? [])].flatMap((c) => c.ports ?? []).find((p) => p.name === asked);
  return named ? String(named.containerPort) : asked;
}

export const podProxy: ProxyTarget<Pod> = {
  location(pod: Pod, want: ProxyRequest): ProxyLocation {
    const host = pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP ?? '';
    return { to: 'address', scheme: want.scheme === 'https' ? 'https' : 'http', host, port: portOf(pod, want.port) };
  },
};
