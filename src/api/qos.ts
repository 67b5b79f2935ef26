// Pod QoS class (Guaranteed / Burstable / BestEffort), computed as Kubernetes 1.32's
// qos.ComputePodQOS: only cpu and memory count; init containers count like app containers;
// ephemeral containers never count. The apiserver stores it in status.qosClass at creation; the
// node agent uses it for cgroup placement and eviction order.

import type { Container, Pod } from './types.ts';
import { addQuantity, cmpQuantity, tryParseQuantity, type Quantity } from './quantity.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const qosResources = new Set(['cpu', 'memory']);

function accumulate(into: Map<string, Quantity>, list: Record<string, unknown> | undefined, found?: Set<string>): void {
  if (!list || typeof list !== 'object') return;
  for (const [name, raw] of Object.entries(list)) {
    if (!qosResources.has(name)) continue;
    const q = tryParseQuantity(raw);
    if (!q || q.nanos <= 0n) continue;
    found?.add(name);
    const prev = into.get(name);
    into.set(name, prev ? addQuantity(prev, q) : q);
  }
}

/** The QoS class of a pod from its containers' requests and limits (ignores status.qosClass). */
export function podQOSClass(pod: Pod): QOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const spec = pod.spec;
  const all: Container[] = [
    ...(Array.isArray(spec?.containers) ? spec.containers : []),
    ...(Array.isArray(spec?.initContainers) ? spec.initContainers : []),
  ];
  for (const c of all) {
    accumulate(requests, c?.resources?.requests as Record<string, unknown> | undefined);
    const found = new Set<string>();
    accumulate(limits, c?.resources?.limits as Record<string, unknown> | undefined, found);
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || cmpQuantity(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** status.qosClass when set (it is immutable once stored), else the computed class. */
export function getPodQOS(pod: Pod): QOSClass {
  const stored = pod.status?.qosClass;
  return stored === 'Guaranteed' || stored === 'Burstable' || stored === 'BestEffort' ? stored : podQOSClass(pod);
}
