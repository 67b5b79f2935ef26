// Decodes a request body into an object of the addressed resource: media type (JSON, YAML,
// protobuf), kind/apiVersion match, and fieldValidation (unknown/duplicate fields, type errors).

import type { KubeObject } from '../api/types.ts';
import { pruneAndDefault } from '../api/apiextensions/index.ts';
import { modelNameForKind } from '../api/models.ts';
import type { KindDefinition } from '../registry/kind.ts';
import { StatusError, badRequest, unsupportedMediaType } from '../util/status.ts';
import { decodeBodyDetailed, JSON_PARSE_ERROR, type DecodedBody } from './decode/body.ts';
import { summarizeBody } from './decode/gojson.ts';
import { applyFieldValidation, checkObjectMeta, fieldProblems, parseFieldValidation, rejectTypeErrors, validateFields, type FieldValidationMode } from './decode/fields.ts';

export interface DecodeResult {
  object: KubeObject;
  warnings: string[];
}

export function decodeObject(kind: KindDefinition, contentType: string, raw: Buffer, fieldValidation: string | null): DecodeResult {
  const info = kind.info;
  const mode = parseFieldValidation(fieldValidation);
  // Patch media types are JSON or YAML underneath, but only PATCH accepts them (the apiserver
  // answers 415 to a create or update sent as a patch).
  if (/^application\/(json-patch\+json|merge-patch\+json|strategic-merge-patch\+json|apply-patch\+yaml)$/.test(contentType.split(';')[0]!.trim().toLowerCase())) {
    throw unsupportedMediaType(contentType);
  }
  let decoded: DecodedBody;
  try {
    decoded = decodeBodyDetailed(contentType, raw);
  } catch (err) {
    // kube-apiserver's transformDecodeError: a body whose kind could not be read names the expected kind and a summary of the body.
    if (err instanceof StatusError && err.code === 400 && err.message.startsWith(JSON_PARSE_ERROR)) {
      throw badRequest(`the object provided is unrecognized (must be of type ${info.kind}): ${err.message} (${summarizeBody(raw)})`);
    }
    throw err;
  }
  const v = decoded.object;
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: the body must be a JSON object`);
  }
  const obj = v as KubeObject;
  const wantApiVersion = info.group ? `${info.group}/${info.version}` : info.version;
  if (obj.apiVersion !== undefined && obj.apiVersion !== wantApiVersion) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${wantApiVersion})`);
  }
  if (obj.kind !== undefined && obj.kind !== info.kind) {
    throw badRequest(`${String(obj.kind)} in version "${dataVersion(obj.apiVersion, info.version)}" cannot be handled as a ${info.kind}: ${'model' in kind.schema ? kindMismatch(obj, info) : `the kind in the data does not match the expected kind ${info.kind}`}`);
  }
  const { warnings } = checkKindFields(kind, obj, mode, decoded.duplicateFields);
  return { object: obj, warnings };
}

/**
 * The field check of a decoded body (or a patch result) by the kind's schema: built-in kinds by their
 * model (type errors are a 400, unknown and duplicate fields follow `mode`); custom resources are
 * pruned of unknown fields (reported per `mode`, as kube-apiserver's strict decoding does) and
 * defaulted, and their type errors are left to validation (a 422 naming each field).
 */
export function checkKindFields(kind: KindDefinition, obj: KubeObject, mode: FieldValidationMode, duplicates: readonly string[] = []): { warnings: string[] } {
  const info = kind.info;
  const gvk = { group: info.group, version: info.version, kind: info.kind };
  if ('model' in kind.schema) return validateFields(gvk, obj, mode, duplicates);
  const meta = checkObjectMeta(obj.metadata);
  rejectTypeErrors(meta.typeErrors, gvk);
  const unknown = pruneAndDefault(kind.schema.openAPIV3, obj, mode !== 'Ignore');
  return applyFieldValidation(mode, fieldProblems([...meta.unknown, ...unknown].sort(), duplicates), gvk);
}

function dataVersion(apiVersion: unknown, fallback: string): string {
  return typeof apiVersion === 'string' && apiVersion !== '' ? apiVersion.slice(apiVersion.indexOf('/') + 1) : fallback;
}

/**
 * kube-apiserver decodes a body of another built-in kind as that kind, then fails to convert it into the
 * addressed kind's internal type (Go package names: the internal type of a core kind is `core.X`, of
 * another group its first label, `apps.Deployment`); a kind its scheme does not know fails to decode.
 */
function kindMismatch(obj: KubeObject, info: { group: string; version: string; kind: string }): string {
  const apiVersion = typeof obj.apiVersion === 'string' && obj.apiVersion !== '' ? obj.apiVersion : info.group ? `${info.group}/${info.version}` : info.version;
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const kind = String(obj.kind);
  if (!modelNameForKind(group, version, kind)) return `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "pkg/api/legacyscheme/scheme.go:30"`;
  const internal = info.group === '' ? 'core' : info.group.split('.')[0];
  return `converting (${version}.${kind}) to (${internal}.${info.kind}): unknown conversion`;
}
