// PATCH: pick the patch type by Content-Type, apply it to the stored object (retrying on
// conflicts, as the apiserver's patcher does), validate fields of the result, write it back.
// Server-side apply creates the object when it is missing.

import type { KubeObject } from '../api/types.ts';
import type { Store, WriteAdmission, WriteOptions } from '../registry/store.ts';
import type { Clock } from '../util/clock.ts';
import { badRequest, notFound, StatusError } from '../util/status.ts';
import { rfc3339 } from '../util/clock.ts';
import { applyJsonPatch, applyMergePatch, applyServerSideApply, applyStrategicMergePatch, decodePatchBody, patchTypeOf } from './patch/index.ts';
import { parseFieldValidation, typeErrors } from './decode/fields.ts';
import { conversionError, goFormat, goJSON, patchInvalid } from './decode/unstructured.ts';
import { checkKindFields } from './decoding.ts';
import { maxBodyBytes } from './respond.ts';
import { patchSchemaOf } from './fieldmanager.ts';
import { queryBool } from '../api/queryparams.ts';

export interface PatchRequest {
  store: Store;
  clock: Clock;
  /** The request's admission (the API server's pipeline). */
  admission?: WriteAdmission;
  /** Records a non-apply patch in metadata.managedFields (server-side apply records its own). */
  track?: WriteOptions['track'];
  /** The requesting user, for kinds that record it on create (CertificateSigningRequests). */
  user?: WriteOptions['user'];
  namespace: string | undefined;
  name: string;
  subresource: string;
  contentType: string;
  body: Buffer;
  query: URLSearchParams;
}

export interface PatchResult {
  object: KubeObject;
  created: boolean;
  warnings: string[];
}

export async function applyPatch(p: PatchRequest): Promise<PatchResult> {
  const { store, query } = p;
  const type = patchTypeOf(p.contentType);
  // Custom resources have no strategic merge patch metadata: kube-apiserver refuses that patch type for them.
  if (type === 'strategic' && !('model' in store.kind.schema)) {
    throw new StatusError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
  }
  const patch = decodePatchBody(type, p.body);
  const info = store.info;
  // Built-in kinds merge by their client-node models; custom resources by their structural schema.
  const { schema, typeName } = patchSchemaOf(store.kind);
  const custom = 'openAPIV3' in store.kind.schema;
  const mode = parseFieldValidation(query.get('fieldValidation'));
  const dryRun = query.getAll('dryRun').length > 0;
  const manager = query.get('fieldManager') ?? '';
  const subresource = p.subresource || undefined;
  const force = queryBool(query, 'force');
  if (type !== 'apply' && force !== undefined) throw badRequest('force may not be specified for non-apply patch');
  let warnings: string[] = [];

  const check = (obj: unknown): KubeObject => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the patched object must be a JSON object');
    // The patched document is bounded by the request limit too (a small patch may not grow it unboundedly).
    if (JSON.stringify(obj).length > maxBodyBytes * 2) throw new StatusError(413, 'RequestEntityTooLarge', 'the patched object is too large');
    warnings = checkKindFields(store.kind, obj as KubeObject, mode).warnings;
    // As the apiserver's patcher: the result must still be this kind, and this object (checkName).
    const o = obj as KubeObject;
    const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    if (o.apiVersion !== undefined && o.apiVersion !== apiVersion) throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersion})`);
    if (o.kind !== undefined && o.kind !== info.kind) throw badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${info.kind})`);
    const name = o.metadata?.name;
    if (name !== undefined && name !== p.name) throw badRequest(`the name of the object (${String(name)}) does not match the name on the URL (${p.name})`);
    const namespace = o.metadata?.namespace;
    if (namespace !== undefined && namespace !== '' && info.namespaced && namespace !== p.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    return o;
  };

  if (type === 'apply') {
    if (!manager) throw badRequest('fieldManager is required for apply requests');
    const now = rfc3339(p.clock.now());
    const existing = await store.tryGet(p.namespace, p.name);
    if (!existing) {
      if (subresource) throw notFound(store.qualifiedResource, p.name);
      const obj = check(applyServerSideApply(undefined, patch, schema, typeName, manager, { force: force === true, now }));
      obj.metadata = { ...(obj.metadata ?? {}), name: p.name };
      const created = await store.create(p.namespace, obj, { dryRun, admission: p.admission, user: p.user });
      return { object: created, created: true, warnings };
    }
    const updated = await store.guaranteedUpdate(p.namespace, p.name, (cur) => withLastApplied(cur, check(applyServerSideApply(cur, patch, schema, typeName, manager, { force: force === true, now })), patch), { dryRun, subresource, admission: p.admission });
    return { object: updated, created: false, warnings };
  }

  const updated = await store.guaranteedUpdate(p.namespace, p.name, (cur) => {
    const rv = cur.metadata?.resourceVersion;
    let next: unknown;
    switch (type) {
      case 'json':
        next = applyJsonPatch(cur, patch);
        break;
      case 'merge':
        next = applyMergePatch(cur, patch);
        break;
      case 'strategic':
        next = applyStrategicMergePatch(cur, patch, schema, typeName);
        break;
    }
    if (!custom) notDecodable(info, type, patch, next);
    const obj = check(next);
    // A resourceVersion in the patch is a precondition: a mismatch is a conflict, not an overwrite.
    const want = obj.metadata?.resourceVersion;
    if (want !== undefined && want !== rv) throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${store.qualifiedResource} "${p.name}": the object has been modified; please apply your changes to the latest version and try again`, { name: p.name, kind: store.info.resource });
    return obj;
  }, { dryRun, subresource, admission: p.admission, track: p.track });
  return { object: updated, created: false, warnings };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A server-side apply to an object that carries kubectl's last-applied annotation sets it to what was
 * applied (kube-apiserver's last-applied updater), so a later client-side apply diffs against it.
 */
function withLastApplied(live: KubeObject, result: KubeObject, applied: unknown): KubeObject {
  const had = live.metadata?.annotations?.[LAST_APPLIED];
  if (had === undefined) return result;
  const config = structuredClone(applied) as KubeObject;
  if (config.metadata?.annotations) {
    delete config.metadata.annotations[LAST_APPLIED];
    if (Object.keys(config.metadata.annotations).length === 0) delete config.metadata.annotations;
  }
  const meta = (result.metadata ??= {});
  meta.annotations = { ...(meta.annotations ?? {}), [LAST_APPLIED]: JSON.stringify(config) };
  return result;
}

/**
 * A patched built-in object that does not fit its kind's types: kube-apiserver's 422 on "patch", quoting
 * the strategic patch as a Go map with the unstructured converter's error, or the patched JSON with
 * encoding/json's (the same error a create of that JSON gets).
 */
function notDecodable(info: { group: string; version: string; kind: string }, type: 'json' | 'merge' | 'strategic', patch: unknown, next: unknown): void {
  if (!next || typeof next !== 'object' || Array.isArray(next)) return;
  const { group, version, kind } = info;
  if (type === 'strategic') {
    const err = conversionError(group, version, kind, next as Record<string, unknown>);
    if (err) throw patchInvalid(goFormat(patch), err);
    return;
  }
  const [err] = typeErrors(group, version, kind, next);
  if (err) throw patchInvalid(goJSON(next), err);
}
