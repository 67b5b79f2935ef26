// The OpenAPI v2 (Swagger 2.0) document served at /openapi/v2: everything the server serves in one
// document, as kube-apiserver publishes it for client-go's discovery OpenAPISchema(), kubectl explain
// --output=plaintext-openapiv2 and older tools. Built from the same v3 group-version documents
// (documents.ts) and converted the way kube-apiserver's own v2 differs from its v3:
// components.schemas become definitions; `allOf:[{$ref}]` wrappers become a plain `$ref` (and lose
// the `default: {}` v3 puts beside them); request bodies become a `body` parameter and content types
// become consumes/produces; parameters carry their type inline; v3-only keywords (nullable, oneOf,
// anyOf, not) are dropped, a value that is one of several types being a string as v2 spells
// IntOrString and Quantity. Vendor extensions (x-kubernetes-group-version-kind, -action, -patch-*)
// are kept. Pure: called once per document set (OpenAPIDocuments caches the result).

import { serverVersion } from '../version.ts';
import type { Schema } from './schemas.ts';

const v3Ref = '#/components/schemas/';
const v2Ref = '#/definitions/';

/** The operations of a path item, in the order Swagger 2.0 lists them. */
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

/** Every response lists what the API server can encode (the v3 document says it per response). */
function produces(op: Schema): string[] {
  const out: string[] = [];
  for (const r of Object.values((op.responses ?? {}) as Record<string, Schema>)) {
    for (const t of Object.keys((r.content ?? {}) as Schema)) if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** A v3 schema (one node and everything under it) in v2 form. */
export function toV2Schema(s: Schema): Schema {
  const out: Schema = {};
  const allOf = s.allOf as Schema[] | undefined;
  const wrapped = Array.isArray(allOf) && allOf.length === 1 && typeof allOf[0]?.$ref === 'string';
  for (const [k, v] of Object.entries(s)) {
    switch (k) {
      case 'allOf':
        if (wrapped) out.$ref = refV2(allOf[0]!.$ref as string);
        else out.allOf = (v as Schema[]).map(toV2Schema);
        break;
      case '$ref':
        out.$ref = refV2(v as string);
        break;
      case 'default':
        // v3 gives a wrapped reference to a non-pointer struct `default: {}`; v2 has none.
        if (!(wrapped && isEmptyObject(v))) out.default = v;
        break;
      case 'nullable':
      case 'not':
        break;
      case 'oneOf':
      case 'anyOf':
        if (!s.type && (v as Schema[]).some((x) => x.type === 'string')) out.type = 'string';
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([n, p]) => [n, toV2Schema(p)]));
        break;
      case 'items':
        out.items = Array.isArray(v) ? (v as Schema[]).map(toV2Schema) : toV2Schema(v as Schema);
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof v === 'object' && v !== null ? toV2Schema(v as Schema) : v;
        break;
      default:
        out[k] = v;
    }
  }
  return out;
}

function refV2(ref: string): string {
  return ref.startsWith(v3Ref) ? v2Ref + ref.slice(v3Ref.length) : ref;
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/** A v3 query or path parameter in v2 form: its schema's keywords inline. */
function toV2Parameter(p: Schema): Schema {
  const { schema, ...rest } = p;
  const inline = schema ? toV2Schema(schema as Schema) : {};
  return { ...inline, ...rest };
}

function toV2Operation(op: Schema): Schema {
  const out: Schema = {};
  if (op.description !== undefined) out.description = op.description;
  const body = op.requestBody as Schema | undefined;
  const bodyContent = (body?.content ?? {}) as Record<string, Schema>;
  // kube-apiserver's v2 says */* for operations without a body as well.
  out.consumes = body ? Object.keys(bodyContent) : ['*/*'];
  out.produces = produces(op);
  out.schemes = ['https'];
  for (const [k, v] of Object.entries(op)) {
    if (k === 'description' || k === 'requestBody' || k === 'parameters' || k === 'responses') continue;
    out[k] = v;
  }
  const params: Schema[] = [];
  if (body) {
    const first = Object.values(bodyContent)[0];
    const bp: Schema = { name: 'body', in: 'body' };
    if (body.required) bp.required = true;
    if (first?.schema) bp.schema = toV2Schema(first.schema as Schema);
    params.push(bp);
  }
  for (const p of (op.parameters ?? []) as Schema[]) params.push(toV2Parameter(p));
  if (params.length) out.parameters = params;
  const responses: Schema = {};
  for (const [code, r] of Object.entries((op.responses ?? {}) as Record<string, Schema>)) {
    const resp: Schema = { description: r.description };
    const media = Object.values((r.content ?? {}) as Record<string, Schema>)[0];
    if (media?.schema) resp.schema = toV2Schema(media.schema as Schema);
    responses[code] = resp;
  }
  out.responses = responses;
  // Keys in kube-apiserver's order: description, consumes, produces, schemes, tags, operationId, parameters, responses, x-*.
  return orderKeys(out, ['description', 'consumes', 'produces', 'schemes', 'tags', 'operationId', 'parameters', 'responses']);
}

function orderKeys(o: Schema, first: readonly string[]): Schema {
  const out: Schema = {};
  for (const k of first) if (k in o) out[k] = o[k];
  for (const k of Object.keys(o)) if (!(k in out)) out[k] = o[k];
  return out;
}

function toV2PathItem(item: Schema): Schema {
  const out: Schema = {};
  for (const m of methods) if (item[m]) out[m] = toV2Operation(item[m] as Schema);
  if (Array.isArray(item.parameters)) out.parameters = (item.parameters as Schema[]).map(toV2Parameter);
  return out;
}

/** The Swagger 2.0 document of the given v3 documents (every group-version and root document). */
export function buildSwagger(v3docs: readonly Schema[]): Schema {
  const paths: Record<string, Schema> = {};
  const definitions: Record<string, Schema> = {};
  for (const doc of v3docs) {
    for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Schema>)) paths[path] ??= toV2PathItem(item);
    const schemas = ((doc.components as Schema | undefined)?.schemas ?? {}) as Record<string, Schema>;
    for (const [name, s] of Object.entries(schemas)) definitions[name] ??= toV2Schema(s);
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: serverVersion.gitVersion },
    paths: sortKeys(paths),
    definitions: sortKeys(definitions),
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}
