// Which pod breaks its local-storage limits, and the message it is evicted with: the kubelet's
// localStorageEviction (pkg/kubelet/eviction/eviction_manager.go) checks, in order, each emptyDir with
// a sizeLimit against its measured usage, the pod's ephemeral-storage limit against its ephemeral
// storage use, and each container's ephemeral-storage limit against its writable layer and logs.
// The first breach is the reason; usage equal to a limit is within it. Messages are the kubelet's
// (pkg/kubelet/eviction/helpers.go), trailing space included.
//
// Pure: the same pod and figures give the same answer.
import type { Container, Pod } from '../../api/types.ts';
import { addQuantity, cmpQuantity, formatQuantity, quantityOf, tryParseQuantity, zeroQuantity, type Quantity } from '../../api/quantity.ts';
import type { PodStats } from '../stats/types.ts';

/** The kubelet's eviction reason (eviction.Reason). */
export const EVICTED_REASON = 'Evicted';

export function emptyDirMessage(volume: string, limit: string): string {
  return `Usage of EmptyDir volume ${JSON.stringify(volume)} exceeds the limit ${JSON.stringify(limit)}. `;
}

export function podEphemeralStorageMessage(limit: string): string {
  return `Pod ephemeral local storage usage exceeds the total limit of containers ${limit}. `;
}

export function containerEphemeralStorageMessage(container: string, limit: string): string {
  return `Container ${container} exceeded its local ephemeral storage limit ${JSON.stringify(limit)}. `;
}

function ephemeralLimit(c: Container): Quantity | undefined {
  return tryParseQuantity((c.resources?.limits as Record<string, unknown> | undefined)?.['ephemeral-storage']);
}

/**
 * The pod's ephemeral-storage limit as resourcehelper.PodLimits computes it: the app containers' (and
 * restartable init containers') sum, at least each other init container's, plus overhead; undefined
 * when no container sets one.
 */
export function podEphemeralStorageLimit(pod: Pod): Quantity | undefined {
  let found = false;
  let sum: Quantity = zeroQuantity;
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((i) => i.restartPolicy === 'Always')]) {
    const l = ephemeralLimit(c);
    if (!l) continue;
    found = true;
    sum = addQuantity(sum, l);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    if (c.restartPolicy === 'Always') continue;
    const l = ephemeralLimit(c);
    if (!l) continue;
    found = true;
    if (cmpQuantity(l, sum) > 0) sum = l;
  }
  const overhead = tryParseQuantity((pod.spec?.overhead as Record<string, unknown> | undefined)?.['ephemeral-storage']);
  if (found && overhead) sum = addQuantity(sum, overhead);
  return found ? sum : undefined;
}

/** The message the pod is evicted with, or undefined when its local storage is within its limits. */
export function localStorageViolation(pod: Pod, stats: PodStats): string | undefined {
  const used = new Map<string, number>();
  for (const v of stats.volume ?? []) if (v.usedBytes !== undefined) used.set(v.name, v.usedBytes);
  for (const v of pod.spec?.volumes ?? []) {
    if (!v.emptyDir) continue;
    const limit = tryParseQuantity(v.emptyDir.sizeLimit);
    const u = used.get(v.name);
    if (u === undefined || !limit || limit.nanos <= 0n) continue;
    if (cmpQuantity(quantityOf(u, 'BinarySI'), limit) > 0) return emptyDirMessage(v.name, formatQuantity(limit));
  }
  const podLimit = podEphemeralStorageLimit(pod);
  if (podLimit) {
    const u = stats['ephemeral-storage']?.usedBytes ?? 0;
    if (cmpQuantity(quantityOf(u, 'BinarySI'), podLimit) > 0) return podEphemeralStorageMessage(formatQuantity(podLimit));
  }
  for (const c of pod.spec?.containers ?? []) {
    const limit = ephemeralLimit(c);
    if (!limit || limit.nanos === 0n) continue;
    const cs = stats.containers.find((x) => x.name === c.name);
    if (!cs) continue;
    // The writable layer counts when it shares the node's filesystem (no dedicated image fs here).
    const u = (cs.logs?.usedBytes ?? 0) + (cs.rootfs?.usedBytes ?? 0);
    if (cmpQuantity(limit, quantityOf(u, 'BinarySI')) < 0) return containerEphemeralStorageMessage(c.name, formatQuantity(limit));
  }
  return undefined;
}

/** The system-critical priority (scheduling.SystemCriticalPriority). */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/**
 * kubelettypes.IsCriticalPod: static and mirror pods and system-critical priorities are never evicted
 * by the kubelet.
 */
export function isCriticalPod(pod: Pod): boolean {
  const ann = pod.metadata?.annotations ?? {};
  if (ann['kubernetes.io/config.mirror'] !== undefined) return true;
  const source = ann['kubernetes.io/config.source'];
  if (source !== undefined && source !== 'api') return true;
  return (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}
