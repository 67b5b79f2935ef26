// Turns labelSelector/fieldSelector query parameters into an object filter for a store, with the
// apiserver's 400 errors for bad selectors and unsupported field labels.

import type { KubeObject } from '../api/types.ts';
import type { Store, ObjectFilter } from '../registry/store.ts';
import { badRequest } from '../util/status.ts';

interface Requirement {
  key: string;
  op: '=' | '!=';
  value: string;
}

function parseSimple(s: string): Requirement[] {
  const out: Requirement[] = [];
  for (const part of s.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(p);
    if (!m) throw badRequest(`unable to parse requirement: ${p}`);
    out.push({ key: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: m[3]!.trim() });
  }
  return out;
}

export function buildFilter(store: Store, labelSelector: string | null, fieldSelector: string | null): ObjectFilter | undefined {
  const labels = labelSelector ? parseSimple(labelSelector) : [];
  const fields = fieldSelector ? parseSimple(fieldSelector) : [];
  if (!labels.length && !fields.length) return undefined;
  return (obj: KubeObject) => {
    const l = obj.metadata?.labels ?? {};
    for (const r of labels) if ((l[r.key] === r.value) !== (r.op === '=')) return false;
    if (fields.length) {
      const f: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '', 'metadata.namespace': obj.metadata?.namespace ?? '', ...(store.strategy.fieldsOf?.(obj) ?? {}) };
      for (const r of fields) {
        if (!(r.key in f)) throw badRequest(`field label not supported: ${r.key}`);
        if ((f[r.key] === r.value) !== (r.op === '=')) return false;
      }
    }
    return true;
  };
}
