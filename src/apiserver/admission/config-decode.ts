// Decoding of the versioned configuration files admission plugins read (AdmissionConfiguration and
// each plugin's own), with the messages of kube's decoder and of encoding/json. Pure.

import { parse as parseYaml } from 'yaml';

export type Decoded<T> = { ok: true; value: T; warnings: string[] } | { ok: false; error: string };

/** A YAML or JSON document of one kind, with kube's decoder's messages for a missing or foreign kind. */
export function decodeDocument(textOrDoc: string | unknown, kind: string, groupVersions: readonly string[]): Decoded<Record<string, unknown>> {
  let doc: unknown = textOrDoc;
  if (typeof textOrDoc === 'string') {
    const parsed = parseText(textOrDoc);
    if (!parsed.ok) return parsed;
    doc = parsed.value;
  }
  if (!isObject(doc)) return { ok: false, error: `couldn't get version/kind; json parse error: expected an object, got ${goType(doc)}` };
  if (typeof doc.kind !== 'string' || doc.kind === '') return { ok: false, error: `Object 'Kind' is missing in ${JSON.stringify(doc)}` };
  if (typeof doc.apiVersion !== 'string' || doc.apiVersion === '') return { ok: false, error: `Object 'apiVersion' is missing in ${JSON.stringify(doc)}` };
  if (doc.kind !== kind || !groupVersions.includes(doc.apiVersion)) {
    const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/', 2) : ['', doc.apiVersion];
    return { ok: false, error: `no kind ${JSON.stringify(doc.kind)} is registered for version ${JSON.stringify(`${group}/${version}`)} (want ${kind} of ${groupVersions.join(', ')})` };
  }
  return { ok: true, value: doc, warnings: [] };
}

export function parseText(text: string): Decoded<unknown> {
  try {
    return { ok: true, value: parseYaml(text), warnings: [] };
  } catch (err) {
    return { ok: false, error: `error converting YAML to JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** encoding/json's name for a JSON value's type in "cannot unmarshal X" messages. */
export function goType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}
