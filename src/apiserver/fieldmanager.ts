// The field manager of non-apply writes: who wrote (the `fieldManager` query parameter, or the
// User-Agent up to its first "/", as kube-apiserver derives it), validated as kube-apiserver does, and
// the store hook that records the write in metadata.managedFields (patch/apply.ts recordUpdate).

import type { IncomingMessage } from 'node:http';
import { invalidError, type FieldError } from '../api/field.ts';
import { modelNameForKind } from '../api/models.ts';
import type { KubeObject } from '../api/types.ts';
import type { KindDefinition } from '../registry/kind.ts';
import { rfc3339, type Clock } from '../util/clock.ts';
import { customResourcePatchSchema } from './patch/crd-schema.ts';
import { recordUpdate } from './patch/apply.ts';
import { modelSchema, type PatchSchema } from './patch/schema.ts';
import type { JsonObject } from './patch/json.ts';

const MAX_MANAGER = 128;

/** The kind's patch schema and root type name (client-node models, or a CRD's structural schema). */
export function patchSchemaOf(kind: KindDefinition): { schema: PatchSchema; typeName: string | undefined } {
  if ('openAPIV3' in kind.schema) {
    const cr = customResourcePatchSchema(kind.schema.openAPIV3);
    return { schema: cr.schema, typeName: cr.root };
  }
  return { schema: modelSchema, typeName: modelNameForKind(kind.info.group, kind.info.version, kind.info.kind) };
}

/** Checks a fieldManager parameter (ValidateFieldManager): 422 on the request's options kind when bad. */
export function validateFieldManager(manager: string, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): void {
  const errs: FieldError[] = [];
  if (manager.length > MAX_MANAGER) errs.push({ type: 'FieldValueTooLong', field: 'fieldManager', badValue: '', detail: `may not be more than ${MAX_MANAGER} bytes` });
  // eslint-style check of printable characters: no control characters.
  else if (/[\u0000-\u001f\u007f]/.test(manager)) errs.push({ type: 'FieldValueInvalid', field: 'fieldManager', badValue: JSON.stringify(manager), detail: 'must only contain printable characters' });
  if (errs.length) throw invalidError(optionsKind, '', errs, 'meta.k8s.io');
}

/** The manager of a request: `fieldManager`, else the User-Agent's prefix. */
export function managerOf(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const explicit = query.get('fieldManager');
  if (explicit !== null && explicit !== '') return explicit;
  const ua = req.headers['user-agent'];
  if (!ua) return undefined;
  const prefix = ua.split('/')[0]!.trim();
  return prefix ? prefix.slice(0, MAX_MANAGER) : undefined;
}

/** The store hook recording a write by `manager` (nothing is recorded without a manager). */
export function trackWrite(kind: KindDefinition, manager: string | undefined, subresource: string | undefined, clock: Clock): ((obj: KubeObject, old: KubeObject | undefined) => void) | undefined {
  if (!manager) return undefined;
  const { schema, typeName } = patchSchemaOf(kind);
  const apiVersion = kind.info.group ? `${kind.info.group}/${kind.info.version}` : kind.info.version;
  return (obj, old) => recordUpdate(old as JsonObject | undefined, obj as JsonObject, schema, typeName, manager, { apiVersion, subresource, now: rfc3339(clock.now()) });
}
