// A pod's QoS class, by the rules of pkg/apis/core/helper/qos: Guaranteed when every container has
// cpu and memory limits equal to its requests (requests default to limits), BestEffort when no
// container asks for anything, Burstable otherwise. Pure; used by the status generator and cgroups.
import type { Container, Pod } from '../../api/types.ts';
import { cmpQuantity, isZeroQuantity, tryParseQuantity } from '../../api/quantity.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const TRACKED = ['cpu', 'memory'];

function nonZero(v: unknown): boolean {
  const q = tryParseQuantity(v);
  return q !== undefined && !isZeroQuantity(q);
}

export function qosClass(pod: Pod): QosClass {
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let anyRequest = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = { ...(c.resources?.requests ?? {}) } as Record<string, unknown>;
    const lim = (c.resources?.limits ?? {}) as Record<string, unknown>;
    for (const r of TRACKED) {
      if (req[r] === undefined && lim[r] !== undefined) req[r] = lim[r];
      if (nonZero(req[r]) || nonZero(lim[r])) anyRequest = true;
      if (!nonZero(lim[r])) guaranteed = false;
      else {
        const a = tryParseQuantity(req[r]);
        const b = tryParseQuantity(lim[r]);
        if (!a || !b || cmpQuantity(a, b) !== 0) guaranteed = false;
      }
    }
  }
  if (!anyRequest) return 'BestEffort';
  return guaranteed && containers.length > 0 ? 'Guaranteed' : 'Burstable';
}
