// pods/binding: the scheduler's write (spec.nodeName once, and the PodScheduled condition).

import { invalidError } from '../../../api/field.ts';
import type { Binding, KubeObject, Pod } from '../../../api/types.ts';
import { validatePodBinding } from '../../../api/validation/others.ts';
import { rfc3339 } from '../../../util/clock.ts';
import { badRequest, conflict } from '../../../util/status.ts';
import type { SubresourceDefinition } from '../../kind.ts';
import { restFromOld } from '../../rules.ts';

export const bindingSubresource: SubresourceDefinition<Pod> = {
  verbs: ['create'],
  kind: { group: '', version: 'v1', kind: 'Binding' },
  openapi: true,
  // What the binding's own write may change: spec.nodeName and status; nothing else.
  update: {
    prepareForUpdate(o, old) {
      const nodeName = o.spec?.nodeName;
      const status = o.status;
      restFromOld(o, old);
      o.spec = { ...old.spec!, nodeName };
      o.status = status;
    },
    validateUpdate: () => [],
  },
  async create({ store, namespace, name, body, dryRun, clock }) {
    const bound = (body.metadata as { name?: unknown } | undefined)?.name;
    if (bound !== undefined && bound !== '' && bound !== name) throw badRequest('name in URL does not match name in Binding object');
    const errs = validatePodBinding(body as unknown as Binding);
    if (errs.length) throw invalidError('Binding', name, errs);
    const nodeName = String((body.target as { name?: unknown }).name);
    await store.guaranteedUpdate(namespace, name, (pod) => {
      const spec = (pod.spec ?? {}) as { nodeName?: string };
      if (pod.metadata?.deletionTimestamp) throw conflict('pods', name, 'pod is being deleted, cannot be assigned to a host');
      if (spec.nodeName) throw conflict('pods', name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      spec.nodeName = nodeName;
      pod.spec = spec;
      setCondition(pod, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(clock.now()) });
      return pod;
    }, { subresource: 'binding', dryRun, retryConflicts: true });
  },
};

/** Sets a pod condition, keeping lastTransitionTime when the status does not change. */
export function setCondition(pod: KubeObject, cond: { type: string; status: string; [k: string]: unknown }): void {
  const status = ((pod.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: unknown }[] });
  const list = (status.conditions ??= []);
  const i = list.findIndex((c) => c.type === cond.type);
  if (i < 0) list.push(cond);
  else if (list[i]!.status !== cond.status) list[i] = cond;
  else list[i] = { ...cond, lastTransitionTime: list[i]!.lastTransitionTime };
}
