// HTTP handler for `/openapi/v3`, `/openapi/v3/<group-version>` and `/openapi/v2` (v2.ts, v2proto.ts).
//
// Called by the API server's router for every request whose path starts with `/openapi/`; may be
// called concurrently (documents are immutable once built). Caching follows the real apiserver,
// because kubectl keeps the responses in its HTTP cache (~/.kube/cache/http): a hashed URL is
// `public, immutable` with an `Expires` a year ahead and an ETag, so later kubectl runs skip the
// download; the index is `no-cache, private` (kubectl refetches it on every run anyway).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, methodNotAllowed } from '../../util/status.ts';
import type { Registry } from '../../registry/registry.ts';
import { builtinKinds } from '../../registry/kinds.ts';
import { OpenAPIDocuments, type OpenAPIDocument } from './documents.ts';
import { resourceSpecs } from './resources.ts';

let shared: OpenAPIDocuments | undefined;

/** The documents of the built-in kinds, shared by every server of the process (built on first use). */
export function builtinOpenAPI(): OpenAPIDocuments {
  return (shared ??= new OpenAPIDocuments(resourceSpecs(builtinKinds)));
}

/**
 * The documents of what a registry serves now: the shared built-in ones until a kind is added at run
 * time (a CRD), then documents of the registry's kinds, built again each time its kinds change (the
 * new index hashes send kubectl's cached copies to the new URLs).
 */
export function registryOpenAPI(registry: Registry): () => OpenAPIDocuments {
  let built: { generation: number; docs: OpenAPIDocuments } | undefined;
  return () => {
    if (registry.generation === 0 && registry.kinds().length === builtinKinds.length) return builtinOpenAPI();
    if (!built || built.generation !== registry.generation) built = { generation: registry.generation, docs: new OpenAPIDocuments(resourceSpecs(registry.kinds())) };
    return built.docs;
  };
}

/** Builds every built-in document now, so the first kubectl request does not pay for it (~20 ms). */
export function prepareOpenAPI(): void {
  builtinOpenAPI().index();
}

const yearMs = 365 * 24 * 3600 * 1000;

/**
 * Serves the OpenAPI endpoints. Returns false when `pathname` is not an OpenAPI path (the caller
 * routes it elsewhere); true when a response was written.
 */
export function handleOpenAPI(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams, docs: OpenAPIDocuments = builtinOpenAPI()): boolean {
  if (pathname !== '/openapi/v2' && pathname !== '/openapi/v3' && !pathname.startsWith('/openapi/v3/')) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    writeStatus(res, methodNotAllowed());
    return true;
  }
  if (pathname === '/openapi/v2') {
    serveV2(req, res, docs);
    return true;
  }
  const key = pathname === '/openapi/v3' ? '' : pathname.slice('/openapi/v3/'.length).replace(/\/$/, '');
  if (key === '') {
    send(req, res, docs.index(), { 'Cache-Control': 'no-cache, private' });
    return true;
  }
  const doc = docs.document(key);
  if (!doc) {
    writeStatus(res, notFoundPath());
    return true;
  }
  const hash = query.get('hash');
  if (hash !== null && hash !== doc.hash) {
    // A stale hash (the document changed since the client read the index): send it to the current
    // URL, as the real server does, instead of serving new content under an old immutable URL.
    res.writeHead(301, { Location: `/openapi/v3/${key}?hash=${doc.hash}`, 'Cache-Control': 'no-cache, private', 'Content-Length': '0' });
    res.end();
    return true;
  }
  const etag = `"${doc.hash}"`;
  const headers: Record<string, string> =
    hash !== null
      ? { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + yearMs).toUTCString(), ETag: etag }
      : { 'Cache-Control': 'no-cache, private', ETag: etag };
  if (ifNoneMatch(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  send(req, res, doc, headers);
  return true;
}

/** What /openapi/v2 serves, in kube-openapi's order: JSON, then gnostic protobuf under both of its names. */
const v2Encodings: ReadonlyArray<{ type: string; subtype: string; contentType: string; encoding: 'json' | 'proto' }> = [
  { type: 'application', subtype: 'json', contentType: 'application/json', encoding: 'json' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2@v1.0+protobuf', contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', encoding: 'proto' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2.v1.0+protobuf', contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', encoding: 'proto' },
];

/** Accept clauses, most preferred first (by q, then by specificity, as goautoneg sorts them). */
function acceptClauses(accept: string | undefined): Array<{ type: string; subtype: string }> {
  const clauses = (accept || '*/*').split(',').map((part, i) => {
    const [mt, ...params] = part.split(';').map((x) => x.trim());
    const [type = '', subtype = ''] = (mt ?? '').split('/');
    const q = params.find((x) => x.startsWith('q='));
    return { type, subtype, q: q ? Number(q.slice(2)) : 1, wild: (type === '*' ? 2 : 0) + (subtype === '*' ? 1 : 0), i };
  });
  return clauses.filter((c) => c.q > 0 && c.type).sort((a, b) => b.q - a.q || a.wild - b.wild || a.i - b.i);
}

/**
 * GET /openapi/v2 as kube-openapi's handler answers it: content negotiated over JSON and protobuf
 * (406 when neither is acceptable), `Vary: Accept`, an ETag of the JSON document's SHA-512 for both
 * encodings, Last-Modified, 304 for a matching If-None-Match or If-Modified-Since, gzip when asked.
 */
function serveV2(req: IncomingMessage, res: ServerResponse, docs: OpenAPIDocuments): void {
  const accept = req.headers.accept;
  let chosen: (typeof v2Encodings)[number] | undefined;
  for (const c of acceptClauses(accept)) {
    chosen = v2Encodings.find((e) => (c.type === e.type || c.type === '*') && (c.subtype === e.subtype || c.subtype === '*'));
    if (chosen) break;
  }
  if (!chosen) {
    res.writeHead(406, { Vary: 'Accept', 'Cache-Control': 'no-cache, private', 'Content-Length': '0' });
    res.end();
    return;
  }
  const doc = docs.v2();
  const etag = `"${doc.etag}"`;
  const headers: Record<string, string> = {
    'Cache-Control': 'no-cache, private',
    Etag: etag,
    'Last-Modified': doc.lastModified.toUTCString(),
    Vary: 'Accept, Accept-Encoding',
  };
  const inm = req.headers['if-none-match'];
  const ims = req.headers['if-modified-since'];
  const notModified = inm ? ifNoneMatch(inm, etag) : ims !== undefined && Date.parse(ims) >= doc.lastModified.getTime();
  if (notModified) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = acceptsGzip(req);
  const body = gzip ? doc.gzip(chosen.encoding) : chosen.encoding === 'json' ? doc.json : doc.proto();
  headers['Content-Type'] = chosen.contentType;
  headers['Content-Length'] = String(body.length);
  if (gzip) headers['Content-Encoding'] = 'gzip';
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === etag || v === '*';
  });
}

function acceptsGzip(req: IncomingMessage): boolean {
  const ae = req.headers['accept-encoding'];
  if (typeof ae !== 'string') return false;
  return ae.split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function send(req: IncomingMessage, res: ServerResponse, doc: OpenAPIDocument, headers: Record<string, string>): void {
  const gzip = acceptsGzip(req);
  const body = gzip ? doc.gzip() : doc.json;
  const h: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(body.length), Vary: 'Accept-Encoding', ...headers };
  if (gzip) h['Content-Encoding'] = 'gzip';
  res.writeHead(200, h);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function writeStatus(res: ServerResponse, err: StatusError): void {
  const body = JSON.stringify(err.toStatus());
  res.writeHead(err.code, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}
