// RFC 7386 JSON Merge Patch, as the apiserver applies it (evanphx/json-patch MergePatch after a
// strict decode of the body into a map): the patch must be a JSON object (anything else → 400), null
// deletes, objects merge recursively, everything else replaces. Values taken from the patch have
// their nested object nulls pruned, as evanphx does, so no `"x": null` reaches storage.

import { badRequest } from '../../util/status.ts';
import { decodeError, smpMessages, tooDeep } from './errors.ts';
import { MAX_DEPTH, deepClone, deeperThan, getOwn, goJsonTypeName, isObject, setOwn, type JsonObject } from './json.ts';

/** Applies a merge patch to a copy of `doc` (a JSON object); `doc` and `patch` are not modified. */
export function applyMergePatch(doc: unknown, patch: unknown): JsonObject {
  if (patch === null) throw badRequest('Invalid JSON Patch');
  if (!isObject(patch)) throw decodeError(`json: cannot unmarshal ${goJsonTypeName(patch)} into Go value of type map[string]interface {}`);
  if (!isObject(doc)) throw badRequest(smpMessages.badJSONDoc);
  if (deeperThan(patch, MAX_DEPTH)) throw tooDeep();
  if (deeperThan(doc, MAX_DEPTH)) throw badRequest(smpMessages.badJSONDoc);
  return mergeInto(deepClone(doc) as JsonObject, patch);
}

function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      delete target[k];
      continue;
    }
    const cur = getOwn(target, k);
    if (isObject(v) && isObject(cur)) setOwn(target, k, mergeInto(cur, v));
    else setOwn(target, k, pruned(v));
  }
  return target;
}

/** A copy of a patch value with null members of nested objects removed (array elements are kept). */
export function pruned(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruned);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) if (v[k] !== null) setOwn(out, k, pruned(v[k]));
    return out;
  }
  return v;
}
