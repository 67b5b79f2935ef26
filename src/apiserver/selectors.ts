// Turns labelSelector/fieldSelector query parameters into an object filter for a store, with the
// apiserver's 400 errors for bad selectors and unsupported field labels.

import type { KubeObject } from '../api/types.ts';
import type { Store, ObjectFilter } from '../registry/store.ts';
import { badRequest } from '../util/status.ts';
import { LabelSelectorError, parseLabelSelector, selectorMatches, type LabelSelectorValue } from '../api/labels.ts';

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
  let labels: LabelSelectorValue | undefined;
  try {
    labels = labelSelector ? parseLabelSelector(labelSelector) : undefined;
  } catch (err) {
    if (err instanceof LabelSelectorError) throw badRequest(`unable to parse requirement: ${err.message}`);
    throw err;
  }
  const fields = fieldSelector ? parseSimple(fieldSelector) : [];
  const supported = new Set(['metadata.name', 'metadata.namespace', ...Object.keys(store.strategy.fieldsOf?.({ metadata: {} }) ?? {})]);
  for (const r of fields) if (!supported.has(r.key)) throw badRequest(`field label not supported: ${r.key}`);
  if (!labels && !fields.length) return undefined;
  return (obj: KubeObject) => {
    if (labels && !selectorMatches(labels, obj.metadata?.labels ?? {})) return false;
    if (fields.length) {
      const f: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '', 'metadata.namespace': obj.metadata?.namespace ?? '', ...(store.strategy.fieldsOf?.(obj) ?? {}) };
      for (const r of fields) {
        if ((f[r.key] === r.value) !== (r.op === '=')) return false;
      }
    }
    return true;
  };
}
