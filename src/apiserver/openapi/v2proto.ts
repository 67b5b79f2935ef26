// The Swagger 2.0 document as gnostic's openapi.v2.Document protobuf message
// (`application/com.github.proto-openapi.spec.v2.v1.0+protobuf`), which kubectl asks /openapi/v2 for
// (explain --output=plaintext-openapiv2, and as a fallback when /openapi/v3 is missing). The message
// definitions are openapiv2.proto beside this file. Free-form values (vendor extensions, default,
// enum, example) travel as YAML text, as gnostic's parser makes them: JSON text is YAML, and clients
// read it with a YAML decoder. Pure; called once per document set.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import type { Schema } from './schemas.ts';

let documentType: protobuf.Type | undefined;

// protobufjs and the definitions load at the first document encoded, not with the API server.
function docType(): protobuf.Type {
  if (!documentType) {
    const pb = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
    const text = readFileSync(new URL('./openapiv2.proto', import.meta.url), 'utf8');
    documentType = pb.parse(text, { keepCase: true }).root.lookupType('openapi.v2.Document');
  }
  return documentType;
}

type Msg = { [key: string]: unknown };

const anyOf = (v: unknown): Msg => ({ yaml: JSON.stringify(v) });

function extensions(o: Schema): Msg[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, v]) => ({ name, value: anyOf(v) }));
}

const stringKeys: Readonly<Record<string, string>> = { $ref: '_ref', format: 'format', title: 'title', description: 'description', pattern: 'pattern', discriminator: 'discriminator' };
const numberKeys: Readonly<Record<string, string>> = {
  multipleOf: 'multiple_of', maximum: 'maximum', minimum: 'minimum', maxLength: 'max_length', minLength: 'min_length',
  maxItems: 'max_items', minItems: 'min_items', maxProperties: 'max_properties', minProperties: 'min_properties',
};
const boolKeys: Readonly<Record<string, string>> = { exclusiveMaximum: 'exclusive_maximum', exclusiveMinimum: 'exclusive_minimum', uniqueItems: 'unique_items', readOnly: 'read_only' };

function schemaMsg(s: Schema): Msg {
  const m: Msg = {};
  for (const [k, v] of Object.entries(s)) {
    if (k in stringKeys && typeof v === 'string') m[stringKeys[k]!] = v;
    else if (k in numberKeys && typeof v === 'number') m[numberKeys[k]!] = v;
    else if (k in boolKeys && typeof v === 'boolean') m[boolKeys[k]!] = v;
  }
  if (s.default !== undefined) m.default = anyOf(s.default);
  if (s.example !== undefined) m.example = anyOf(s.example);
  if (Array.isArray(s.required)) m.required = s.required;
  if (Array.isArray(s.enum)) m.enum = s.enum.map(anyOf);
  if (typeof s.additionalProperties === 'boolean') m.additional_properties = { boolean: s.additionalProperties };
  else if (s.additionalProperties && typeof s.additionalProperties === 'object') m.additional_properties = { schema: schemaMsg(s.additionalProperties as Schema) };
  if (s.type !== undefined) m.type = { value: Array.isArray(s.type) ? s.type : [s.type] };
  if (s.items !== undefined) m.items = { schema: (Array.isArray(s.items) ? s.items : [s.items]).map((x) => schemaMsg(x as Schema)) };
  if (Array.isArray(s.allOf)) m.all_of = s.allOf.map((x) => schemaMsg(x as Schema));
  if (s.properties && typeof s.properties === 'object') m.properties = { additional_properties: named(s.properties as Record<string, Schema>, schemaMsg) };
  const ext = extensions(s);
  if (ext.length) m.vendor_extension = ext;
  return m;
}

function named<T>(o: Record<string, T>, f: (v: T) => Msg): Msg[] {
  return Object.entries(o).map(([name, v]) => ({ name, value: f(v) }));
}

function parameterMsg(p: Schema): Msg {
  if (p.in === 'body') {
    const b: Msg = { name: p.name, in: 'body' };
    if (p.description) b.description = p.description;
    if (p.required) b.required = true;
    if (p.schema) b.schema = schemaMsg(p.schema as Schema);
    return { parameter: { body_parameter: b } };
  }
  const sub: Msg = { name: p.name, in: p.in };
  for (const k of ['description', 'type', 'format'] as const) if (typeof p[k] === 'string') sub[k] = p[k];
  if (p.required) sub.required = true;
  if (p.uniqueItems) sub.unique_items = true;
  const ext = extensions(p);
  if (ext.length) sub.vendor_extension = ext;
  return { parameter: { non_body_parameter: p.in === 'path' ? { path_parameter_sub_schema: sub } : { query_parameter_sub_schema: sub } } };
}

function operationMsg(op: Schema): Msg {
  const m: Msg = {};
  for (const k of ['tags', 'produces', 'consumes', 'schemes'] as const) if (Array.isArray(op[k])) m[k] = op[k];
  if (typeof op.summary === 'string') m.summary = op.summary;
  if (typeof op.description === 'string') m.description = op.description;
  if (typeof op.operationId === 'string') m.operation_id = op.operationId;
  if (op.deprecated) m.deprecated = true;
  if (Array.isArray(op.parameters)) m.parameters = (op.parameters as Schema[]).map(parameterMsg);
  const responses = (op.responses ?? {}) as Record<string, Schema>;
  m.responses = {
    response_code: named(responses, (r) => {
      const resp: Msg = { description: r.description ?? '' };
      if (r.schema) resp.schema = { schema: schemaMsg(r.schema as Schema) };
      return { response: resp };
    }),
  };
  const ext = extensions(op);
  if (ext.length) m.vendor_extension = ext;
  return m;
}

function pathItemMsg(item: Schema): Msg {
  const m: Msg = {};
  for (const k of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const) if (item[k]) m[k] = operationMsg(item[k] as Schema);
  if (Array.isArray(item.parameters)) m.parameters = (item.parameters as Schema[]).map(parameterMsg);
  return m;
}

/** The protobuf encoding of a Swagger 2.0 document (as buildSwagger makes it). */
export function encodeSwaggerProto(doc: Schema): Buffer {
  const info = (doc.info ?? {}) as Schema;
  const secDefs = (doc.securityDefinitions ?? {}) as Record<string, Schema>;
  const msg: Msg = {
    swagger: doc.swagger,
    info: { title: info.title, version: info.version },
    paths: { path: named((doc.paths ?? {}) as Record<string, Schema>, pathItemMsg) },
    definitions: { additional_properties: named((doc.definitions ?? {}) as Record<string, Schema>, schemaMsg) },
    security: ((doc.security ?? []) as Array<Record<string, string[]>>).map((req) => ({ additional_properties: named(req, (scopes) => ({ value: scopes })) })),
    security_definitions: {
      additional_properties: named(secDefs, (d) => ({ api_key_security: { type: d.type, name: d.name, in: d.in, description: d.description } })),
    },
  };
  const type = docType();
  return Buffer.from(type.encode(type.fromObject(msg)).finish());
}

/** Decodes what encodeSwaggerProto made (tests read the wire form back through the same definitions). */
export function decodeSwaggerProto(bytes: Uint8Array): Msg {
  const type = docType();
  return type.toObject(type.decode(bytes), { longs: Number, oneofs: false }) as Msg;
}
