// The informers the endpoint controllers share: Services indexed by namespace (a pod event looks up
// the Services of its namespace only) and EndpointSlices indexed by the Service they belong to.

import { LABEL_SERVICE_NAME } from '../../api/network.ts';
import type { EndpointSlice, Pod, Service } from '../../api/types.ts';
import type { HasMetadata } from '../../client/client.ts';
import type { EventHandler, Informer } from '../../client/informer.ts';
import { listWatch } from '../../client/informer.ts';
import { EndpointSlices, Services } from '../../client/resources.ts';
import type { SharedInformers } from '../informers.ts';
import { keyOf, selects } from './util.ts';

export const SERVICE_BY_NAMESPACE = 'namespace';
/** Slice index: `<namespace>/<kubernetes.io/service-name>` (none for slices without the label). */
export const SLICE_BY_SERVICE = 'service';

export type Svc = Service & HasMetadata;
export type Slice = EndpointSlice & HasMetadata;

export function servicesInformer(informers: SharedInformers): Informer<Svc> {
  return informers.custom<Svc>('endpoints:services', () => listWatch<Svc>(informers.client, Services), { [SERVICE_BY_NAMESPACE]: (s) => [s.metadata?.namespace ?? ''] });
}

export function slicesInformer(informers: SharedInformers): Informer<Slice> {
  return informers.custom<Slice>('endpoints:endpointslices', () => listWatch<Slice>(informers.client, EndpointSlices), {
    [SLICE_BY_SERVICE]: (s) => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      return svc ? [`${s.metadata?.namespace ?? ''}/${svc}`] : [];
    },
  });
}

/**
 * Pod events as the endpoint controllers take them: each queues the key of every Service of the pod's
 * namespace that selects the pod, before and after an update (a relabelled pod leaves one Service for
 * another); resyncs (same resourceVersion) queue nothing.
 */
export function podServiceHandler(services: Informer<Svc>, enqueue: (key: string) => void): EventHandler<Pod> {
  const queuePod = (pod: Pod) => {
    for (const svc of services.store.byIndex(SERVICE_BY_NAMESPACE, pod.metadata?.namespace ?? '')) if (selects(svc, pod)) enqueue(keyOf(svc.metadata?.namespace, svc.metadata?.name));
  };
  return {
    onAdd: queuePod,
    onUpdate: (old, pod) => {
      if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
      queuePod(old);
      queuePod(pod);
    },
    onDelete: queuePod,
  };
}
