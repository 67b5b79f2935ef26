// pods/ephemeralcontainers (kube-apiserver's EphemeralContainersREST and podEphemeralContainersStrategy):
// GET answers the Pod, PUT and PATCH change only spec.ephemeralContainers. This is how kubectl debug
// adds a debugging container to a running pod, with a strategic merge patch whose ephemeralContainers
// merge by name.
import type { Pod } from '../../../api/types.ts';
import { validatePodEphemeralContainersUpdate } from '../../../api/validation/pod/index.ts';
import type { SubresourceDefinition } from '../../kind.ts';
import { restFromOld } from '../../rules.ts';

/**
 * dropNonEphemeralContainerUpdates: the stored pod with the request's ephemeral containers, and the
 * metadata a status-like write may not touch (ResetObjectMetaForStatus) put back.
 */
export function keepOnlyEphemeralContainers(pod: Pod, old: Pod): void {
  const wanted = pod.spec?.ephemeralContainers;
  restFromOld(pod, old);
  // A new spec object: `old` is read-only, its parts are shared, not written to.
  const spec = { ...(old.spec ?? { containers: [] }) };
  if (wanted === undefined) delete spec.ephemeralContainers;
  else spec.ephemeralContainers = wanted;
  pod.spec = spec;
  const meta = (pod.metadata ??= {});
  const was = old.metadata ?? {};
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) {
    if (was[k] === undefined) delete meta[k];
    else (meta as Record<string, unknown>)[k] = was[k];
  }
}

export const ephemeralContainersSubresource: SubresourceDefinition<Pod> = {
  verbs: ['get', 'patch', 'update'],
  openapi: true,
  update: { prepareForUpdate: keepOnlyEphemeralContainers, validateUpdate: validatePodEphemeralContainersUpdate },
};
