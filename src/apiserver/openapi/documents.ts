// The OpenAPI v3 documents the server publishes: one per group-version (`api/v1`,
// `apis/coordination.k8s.io/v1`) plus the small root documents (`api`, `apis`, `apis/<group>`), and
// the index that lists them with content hashes. Pure builders plus a process-wide cache, because a
// document never changes while the process runs and kubectl fetches the big one on every cold cache.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { modelNameForKind } from '../../api/models.ts';
import { serverVersion } from '../version.ts';
import { addResourcePaths, type PathContext } from './paths.ts';
import { groupVersionPath, type ResourceSpec } from './resources.ts';
import { SchemaSet, groupPackage, type Schema } from './schemas.ts';
import { buildSwagger } from './v2.ts';
import { encodeSwaggerProto } from './v2proto.ts';

export interface OpenAPIDocument {
  /** Index key: `api/v1`, `apis/coordination.k8s.io/v1`, `api`, `apis`, `apis/coordination.k8s.io`. */
  key: string;
  /** Serialized document. */
  json: Buffer;
  /** Upper-case hex SHA-512 of `json`, as the real server uses in `?hash=`. */
  hash: string;
  /** gzip of `json`, computed on first use. */
  gzip(): Buffer;
}

const schemaRef = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

function envelope(paths: Record<string, Schema>, schemas: Record<string, Schema>): Schema {
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: serverVersion.gitVersion },
    paths,
    components: {
      schemas: sortKeys(schemas),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

function modelFor(group: string, version: string, kind: string): string {
  const name = modelNameForKind(group, version, kind);
  if (!name) throw new Error(`openapi: no model for ${group}/${version} ${kind}`);
  return name;
}

/** The document of one group-version, for the given resources (defaults to everything we serve). */
export function buildGroupVersionDocument(group: string, version: string, resources: readonly ResourceSpec[]): Schema {
  const set = new SchemaSet();
  const custom = new Map<string, Schema>();
  for (const r of resources) if (r.customSchema) custom.set(`${r.group}/${r.version}/${r.kind}`, r.customSchema);
  const ctx: PathContext = {
    kindSchema: (g, v, k) => {
      const cs = custom.get(`${g}/${v}/${k}`);
      return cs ? set.addCustomResource(g, v, k, cs) : set.addModel(modelFor(g, v, k), groupPackage(g), [{ group: g, kind: k, version: v }]);
    },
    listSchema: (g, v, k) => (custom.has(`${g}/${v}/${k}`) ? set.addCustomResourceList(g, v, k) : set.addModel(modelFor(g, v, `${k}List`), groupPackage(g), [{ group: g, kind: `${k}List`, version: v }])),
    statusSchema: set.addModel('V1Status', 'io.k8s.apimachinery.pkg.apis.meta'),
    deleteOptionsSchema: set.addModel('V1DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta'),
    patchSchema: set.addPatch(),
  };
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const og = `${group === '' ? 'Core' : cap(group.split('.')[0])}${cap(version)}`;
  const paths: Record<string, Schema> = {
    [`${prefix}/`]: {
      get: {
        tags: [`${group === '' ? 'core' : group.split('.')[0]}_${version}`],
        description: 'get available resources',
        operationId: `get${og}APIResources`,
        responses: { '200': { description: 'OK', content: jsonContent(set.addModel('V1APIResourceList', 'io.k8s.apimachinery.pkg.apis.meta')) }, '401': { description: 'Unauthorized' } },
      },
    },
  };
  for (const r of resources) {
    if (r.group === group && r.version === version) addResourcePaths(paths, r, ctx);
  }
  return envelope(sortKeys(paths), set.schemas);
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function jsonContent(schema: string): Schema {
  return { 'application/json': { schema: schemaRef(schema) }, 'application/yaml': { schema: schemaRef(schema) }, 'application/vnd.kubernetes.protobuf': { schema: schemaRef(schema) } };
}

/** `api`, `apis` and `apis/<group>`: the discovery endpoints' own documents. */
export function buildRootDocument(key: string): Schema {
  const set = new SchemaSet();
  const meta = 'io.k8s.apimachinery.pkg.apis.meta';
  let path: string;
  let operationId: string;
  let tag: string;
  let schema: string;
  if (key === 'api') {
    [path, operationId, tag, schema] = ['/api/', 'getCoreAPIVersions', 'core', set.addModel('V1APIVersions', meta)];
  } else if (key === 'apis') {
    [path, operationId, tag, schema] = ['/apis/', 'getAPIVersions', 'apis', set.addModel('V1APIGroupList', meta)];
  } else {
    const group = key.slice('apis/'.length);
    const g = group.split('.')[0];
    [path, operationId, tag, schema] = [`/apis/${group}/`, `get${cap(g)}APIGroup`, g, set.addModel('V1APIGroup', meta)];
  }
  const description = key.startsWith('apis/') ? 'get information of a group' : 'get available API versions';
  const paths = { [path]: { get: { tags: [tag], description, operationId, responses: { '200': { description: 'OK', content: jsonContent(schema) }, '401': { description: 'Unauthorized' } } } } };
  return envelope(paths, set.schemas);
}

function makeDocument(key: string, doc: Schema): OpenAPIDocument {
  const json = Buffer.from(JSON.stringify(doc));
  const hash = createHash('sha512').update(json).digest('hex').toUpperCase();
  let gz: Buffer | undefined;
  return { key, json, hash, gzip: () => (gz ??= gzipSync(json, { level: 6 })) };
}

/** Every document key we publish, in index order. */
export function documentKeys(resources: readonly ResourceSpec[]): string[] {
  const gvs = new Set<string>();
  const groups = new Set<string>();
  for (const r of resources) {
    gvs.add(groupVersionPath(r.group, r.version));
    if (r.group !== '') groups.add(`apis/${r.group}`);
  }
  return ['api', ...[...gvs].filter((k) => k.startsWith('api/')), 'apis', ...groups, ...[...gvs].filter((k) => k.startsWith('apis/'))];
}

/** Builds the document for an index key, or undefined when we publish no such document. */
export function buildDocument(key: string, resources: readonly ResourceSpec[]): Schema | undefined {
  if (!documentKeys(resources).includes(key)) return undefined;
  if (key === 'api' || key === 'apis') return buildRootDocument(key);
  const parts = key.split('/');
  if (parts[0] === 'api') return buildGroupVersionDocument('', parts[1], resources);
  if (parts.length === 2) return buildRootDocument(key);
  return buildGroupVersionDocument(parts[1], parts[2], resources);
}

/** The `/openapi/v3` index body for the given documents. */
export function buildIndex(docs: readonly OpenAPIDocument[]): Schema {
  const paths: Record<string, Schema> = {};
  for (const d of docs) paths[d.key] = { serverRelativeURL: `/openapi/v3/${d.key}?hash=${d.hash}` };
  return { paths };
}

/** The one /openapi/v2 document, in both encodings kube-apiserver serves. */
export interface SwaggerDocument {
  json: Buffer;
  /** gnostic's openapi.v2.Document, encoded on first use. */
  proto(): Buffer;
  /** Upper-case hex SHA-512 of `json`: the ETag of both encodings, as kube-openapi's handler computes it. */
  etag: string;
  /** When the document was built (Last-Modified). */
  lastModified: Date;
  gzip(encoding: 'json' | 'proto'): Buffer;
}

function makeSwagger(doc: Schema): SwaggerDocument {
  const json = Buffer.from(JSON.stringify(doc));
  let proto: Buffer | undefined;
  const gz: { json?: Buffer; proto?: Buffer } = {};
  const out: SwaggerDocument = {
    json,
    proto: () => (proto ??= encodeSwaggerProto(doc)),
    etag: createHash('sha512').update(json).digest('hex').toUpperCase(),
    // HTTP dates have second precision: a later If-Modified-Since compares equal.
    lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
    gzip: (encoding) => (gz[encoding] ??= gzipSync(encoding === 'json' ? json : out.proto(), { level: 6 })),
  };
  return out;
}

/**
 * Lazily built documents of one set of resources. Each group-version is built on its first request
 * (the index needs every hash, so asking for the index builds them all: ~20-30 ms, once). Documents
 * of the built-in kinds are shared by every server in the process (builtinOpenAPI).
 */
export class OpenAPIDocuments {
  readonly #resources: readonly ResourceSpec[];
  readonly #docs = new Map<string, OpenAPIDocument>();
  #index: OpenAPIDocument | undefined;

  constructor(resources: readonly ResourceSpec[]) {
    this.#resources = resources;
  }

  document(key: string): OpenAPIDocument | undefined {
    let d = this.#docs.get(key);
    if (d) return d;
    const doc = buildDocument(key, this.#resources);
    if (!doc) return undefined;
    d = makeDocument(key, doc);
    this.#docs.set(key, d);
    return d;
  }

  /** The Swagger 2.0 document of everything in this set (built on first request). */
  v2(): SwaggerDocument {
    return (this.#v2 ??= makeSwagger(buildSwagger(documentKeys(this.#resources).map((k) => buildDocument(k, this.#resources)!))));
  }
  #v2: SwaggerDocument | undefined;

  index(): OpenAPIDocument {
    if (!this.#index) {
      const docs: OpenAPIDocument[] = [];
      for (const k of documentKeys(this.#resources)) {
        const d = this.document(k);
        if (d) docs.push(d);
      }
      this.#index = makeDocument('', buildIndex(docs));
    }
    return this.#index;
  }
}
