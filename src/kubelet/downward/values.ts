// The downward API's values: what a fieldRef or resourceFieldRef names, rendered as the kubelet
// renders it (fieldpath.ExtractFieldPathAsString and FormatMap; resource.ExtractContainerResourceValue
// after MergeContainerResourceLimits fills unset limits from the node's allocatable). Shared by
// container environment variables and downwardAPI/projected volume files, which must agree.
//
// Pure; an unsupported path or resource is an outcome value, not a throw: each caller turns it into
// its own error (a CreateContainerConfigError for env, a FailedMount for a volume).
import type { Container, Pod } from '../../api/types.ts';
import { goQuote } from '../../api/goquote.ts';
import { milliValue, tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';

export type Extracted = { ok: true; value: string } | { ok: false; message: string };

/** What unset limits fall back to (the node's allocatable). */
export interface Allocatable {
  cpuMilli: number;
  memoryBytes: number;
  /** Absent: unknown, an unset ephemeral-storage limit reads as 0. */
  ephemeralStorageBytes?: number;
}

/** fieldpath.FormatMap: `key="value"` lines, keys sorted, values quoted as Go's %q does. */
export function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.map((k) => `${k}=${goQuote(m![k])}`).join('\n');
}

const SUBSCRIPTED = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/**
 * fieldpath.ExtractFieldPathAsString: the pod's own metadata, the only fields a downwardAPI volume
 * may name (environment variables add spec and status fields on top, see container-config.ts).
 */
export function podMetadataField(pod: Pod, path: string): Extracted {
  const m = SUBSCRIPTED.exec(path);
  if (m) {
    const map = m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return { ok: true, value: map?.[m[2]] ?? '' };
  }
  switch (path) {
    case 'metadata.name':
      return { ok: true, value: pod.metadata?.name ?? '' };
    case 'metadata.namespace':
      return { ok: true, value: pod.metadata?.namespace ?? 'default' };
    case 'metadata.uid':
      return { ok: true, value: pod.metadata?.uid ?? '' };
    case 'metadata.labels':
      return { ok: true, value: formatMap(pod.metadata?.labels) };
    case 'metadata.annotations':
      return { ok: true, value: formatMap(pod.metadata?.annotations) };
    default:
      return { ok: false, message: `unsupported fieldPath: ${path}` };
  }
}

/** A container of the pod by name (app or init), as findContainerInPod. */
export function findContainer(pod: Pod, name: string): Extracted & { container?: Container } {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === name);
  return c ? { ok: true, value: '', container: c } : { ok: false, message: `container ${name} not found` };
}

/**
 * A resourceFieldRef's value for one container: limits.* / requests.* of cpu, memory and
 * ephemeral-storage divided by `divisor` (default 1) and rounded up. An unset (or zero) limit is the
 * node's allocatable, as the kubelet merges it before extracting.
 */
export function containerResourceValue(c: Container, resource: string, divisor: unknown, alloc: Allocatable): Extracted {
  const dot = resource.indexOf('.');
  const kind = resource.slice(0, dot);
  const name = resource.slice(dot + 1);
  if ((kind !== 'limits' && kind !== 'requests') || !['cpu', 'memory', 'ephemeral-storage'].includes(name)) {
    return { ok: false, message: `unsupported container resource : ${resource}` };
  }
  const set = tryParseQuantity((c.resources?.[kind] as Record<string, unknown> | undefined)?.[name]);
  const d = tryParseQuantity(divisor ?? '1') ?? tryParseQuantity('1')!;
  if (name === 'cpu') {
    let milli = set ? milliValue(set) : 0;
    if (kind === 'limits' && milli === 0) milli = alloc.cpuMilli;
    return { ok: true, value: String(Math.ceil(milli / Math.max(1, milliValue(d)))) };
  }
  let bytes = set ? quantityValue(set) : 0;
  if (kind === 'limits' && bytes === 0) bytes = name === 'memory' ? alloc.memoryBytes : (alloc.ephemeralStorageBytes ?? 0);
  return { ok: true, value: String(Math.ceil(bytes / Math.max(1, quantityValue(d)))) };
}
