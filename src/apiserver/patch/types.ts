// Which patch a PATCH request carries (its Content-Type), and how its body decodes.
// Called by the HTTP PATCH handler before anything else, as kube-apiserver checks the media type
// before reading the body. Pure and synchronous.

import { parse as parseYaml, YAMLError } from 'yaml';
import { jsonErrorMessage } from '../decode/gojson.ts';
import { yamlToJSONMessage } from '../decode/body.ts';
import { StatusError, badRequest } from '../../util/status.ts';
import { MAX_DEPTH, deeperThan } from './json.ts';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const mediaTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** The media types a PATCH accepts, in the order kube-apiserver lists them in its 415 message. */
export const PATCH_MEDIA_TYPES: readonly string[] = Object.keys(mediaTypes);

/**
 * Maps a Content-Type header to the patch kind; parameters (`; charset=utf-8`) are ignored. Anything
 * else (including a missing header) → 415 UnsupportedMediaType, worded as the apiserver words it.
 */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const base = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const t = mediaTypes[base];
  if (t !== undefined && Object.hasOwn(mediaTypes, base)) return t;
  throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_MEDIA_TYPES.join(', ')}`);
}

/**
 * Decodes a PATCH body for its kind: JSON for json/merge/strategic, YAML (JSON being YAML) for
 * apply. Malformed bodies → 400 BadRequest in Go's words (`error decoding patch: invalid character ...`
 * / `error decoding YAML: error converting YAML to JSON: yaml: line 2: ...`), including bodies nested too deeply for the parser. YAML aliases are capped (no "billion
 * laughs"), duplicate keys are rejected as the apiserver's strict YAML decoder does.
 */
export function decodePatchBody(type: PatchType, body: string | Uint8Array): unknown {
  const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: false }).decode(body);
  const prefix = type === 'apply' ? 'error decoding YAML' : 'error decoding patch';
  let v: unknown;
  try {
    v = type === 'apply' ? parseYaml(text, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: true, logLevel: 'error' }) : JSON.parse(text);
  } catch (err) {
    throw badRequest(`${prefix}: ${type === 'apply' ? yamlMessage(err) : jsonErrorMessage(Buffer.from(text, 'utf8'))}`);
  }
  // The patch engines would refuse it too; refusing here keeps the deep value away from any logging.
  if (deeperThan(v, MAX_DEPTH)) throw badRequest(`${prefix}: the body nests deeper than the maximum depth of ${MAX_DEPTH}`);
  return v ?? (type === 'apply' ? {} : null);
}

// As kube-apiserver's "error decoding YAML: %v" of sigs.k8s.io/yaml's error.
// A stack overflow in the parser reads as go-yaml's depth limit.
function yamlMessage(err: unknown): string {
  const deep = err instanceof RangeError || (err instanceof Error && /call stack/i.test(err.message));
  if (deep) return yamlToJSONMessage('exceeded max depth of 10000', undefined);
  if (err instanceof YAMLError) return yamlToJSONMessage(err.message, err.linePos?.[0].line);
  return yamlToJSONMessage('the body is not a YAML document', undefined);
}
