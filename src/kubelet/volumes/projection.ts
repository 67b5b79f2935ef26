// The files of the volumes the agent writes itself (configMap, secret, downwardAPI, and projected,
// which combines them): relative path → content and mode, as the kubelet's MakePayload and
// downwardapi.CollectData compute them. atomicWrite (manager.ts) puts them on disk.
//
// Pure. A payload that cannot be made is an outcome value carrying the kubelet's message; the
// volume manager turns it into the FailedMount.
import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret } from '../../api/types.ts';
import { containerResourceValue, findContainer, podMetadataField, type Allocatable } from '../downward/values.ts';
import { aggregateMessage } from './errors.ts';

/** `uid`: the file's owner when not root (a projected token for the pod's one runAsUser). */
export type Files = Map<string, { data: Buffer; mode: number; uid?: number }>;
export type Payload = { ok: true; files: Files } | { ok: false; message: string };

/** The kubelet's default file mode for configMap, secret, downwardAPI and projected volumes. */
export const DEFAULT_MODE = 0o644;

/** A relative path that stays inside the volume (the API validates items; this guards the host). */
export function cleanPath(p: string): string | undefined {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return undefined;
    parts.push(seg);
  }
  return parts.length > 0 && !p.startsWith('/') ? parts.join('/') : undefined;
}

/**
 * configMap/secret MakePayload: every key, or only `items` (each with its own path and mode). A
 * missing item key fails unless the source is optional.
 */
export function keyPayload(data: Record<string, Buffer>, items: readonly KeyToPath[] | undefined, defaultMode: number, optional: boolean, kind: 'configmap' | 'secret'): Payload {
  const files: Files = new Map();
  if (!items || items.length === 0) {
    for (const [k, v] of Object.entries(data)) files.set(k, { data: v, mode: defaultMode });
    return { ok: true, files };
  }
  for (const it of items) {
    const v = data[it.key];
    if (v === undefined) {
      if (optional) continue;
      return { ok: false, message: kind === 'secret' ? `references non-existent secret key: ${it.key}` : `configmap references non-existent config key: ${it.key}` };
    }
    const p = cleanPath(it.path);
    if (!p) return { ok: false, message: `invalid path ${JSON.stringify(it.path)}` };
    files.set(p, { data: v, mode: it.mode ?? defaultMode });
  }
  return { ok: true, files };
}

export function configMapData(cm: ConfigMap | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm?.data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(cm?.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

export function secretData(s: Secret | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s?.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries(s?.stringData ?? {})) out[k] = Buffer.from(v, 'utf8');
  return out;
}

/**
 * downwardapi.CollectData: one file per item, from a pod metadata field or a container's resource
 * (unset limits read as the node's allocatable). Every item's failure is reported, aggregated.
 */
export function downwardPayload(pod: Pod, items: readonly DownwardAPIVolumeFile[] | undefined, defaultMode: number, alloc: Allocatable): Payload {
  const files: Files = new Map();
  const errors: string[] = [];
  for (const it of items ?? []) {
    const p = cleanPath(it.path);
    if (!p) {
      errors.push(`invalid path ${JSON.stringify(it.path)}`);
      continue;
    }
    let value = '';
    if (it.fieldRef) {
      const r = podMetadataField(pod, it.fieldRef.fieldPath);
      if (!r.ok) {
        errors.push(r.message);
        continue;
      }
      value = r.value;
    } else if (it.resourceFieldRef) {
      const ref = it.resourceFieldRef;
      const found = findContainer(pod, ref.containerName ?? '');
      const r = found.container ? containerResourceValue(found.container, ref.resource, ref.divisor, alloc) : found;
      if (!r.ok) {
        errors.push(r.message);
        continue;
      }
      value = r.value;
    }
    files.set(p, { data: Buffer.from(value, 'utf8'), mode: it.mode ?? defaultMode });
  }
  return errors.length > 0 ? { ok: false, message: aggregateMessage(errors) } : { ok: true, files };
}
