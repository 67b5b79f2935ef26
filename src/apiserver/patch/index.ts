// The patch engines the PATCH handler calls: `patchTypeOf(contentType)`, `decodePatchBody(type,
// body)`, then the function for that type. All are pure and synchronous, never modify their inputs,
// and throw only StatusErrors (4xx) for bad patches.

export { patchTypeOf, decodePatchBody, PATCH_MEDIA_TYPES, type PatchType } from './types.ts';
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './jsonpatch.ts';
export { applyMergePatch } from './mergepatch.ts';
export { applyStrategicMergePatch } from './strategic.ts';
export { applyServerSideApply, type ApplyOptions } from './apply.ts';
export { modelSchema, emptySchema, type PatchSchema, type PatchField } from './schema.ts';
export { PatchApplyError } from './errors.ts';
export { MAX_DEPTH } from './json.ts';
