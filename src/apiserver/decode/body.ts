// Request bodies: size limit, media type, and the JSON / YAML / protobuf decoders.
//
// Called by the REST handlers (create, update, patch, delete options) once per request; stateless
// and safe to call concurrently. Every failure is a StatusError the handler writes as a Status.

import type { IncomingMessage } from 'node:http';
import { parseDocument, isMap, isSeq, isScalar, type Node as YamlNode, type Document } from 'yaml';
import { StatusError, badRequest, requestEntityTooLarge, unsupportedMediaType } from '../../util/status.ts';
import { duplicateKeys } from './duplicates.ts';
import { decodeProtobuf } from './protobuf.ts';
import { jsonErrorMessage } from './gojson.ts';

/** How the apiserver's JSON serializer begins a syntax error. */
export const JSON_PARSE_ERROR = "couldn't get version/kind; json parse error: ";

/** The apiserver's limit on request bodies (3 MiB). */
export const maxBodyBytes = 3 * 1024 * 1024;

/**
 * Deepest nesting a body may have. Go's decoder stops at 10,000; ours is lower because the layers
 * after decoding (validation walkers, structuredClone, key sorting, JSON.stringify) recurse and
 * overflow the stack a few thousand levels down. Real objects nest ~15 levels.
 */
export const maxBodyDepth = 1000;

export interface DecodedBody {
  /** The body as JSON-shaped data. */
  object: unknown;
  /** Paths of keys that appeared twice in one object (for fieldValidation), e.g. `metadata.name`. */
  duplicateFields: string[];
}

export type BodyFormat = 'json' | 'yaml' | 'protobuf';

/**
 * The decoder for a Content-Type. Patch media types map to their syntax (merge/strategic/json
 * patches are JSON, apply patches YAML). A missing Content-Type is read as JSON, which is lenient
 * towards curl users; any other type is 415.
 */
export function bodyFormat(contentType: string | undefined): BodyFormat {
  const mt = (contentType ?? '').split(';')[0].trim().toLowerCase();
  // Only a missing Content-Type defaults to JSON; one without a media type (";charset=x") is 415.
  if (mt === '' && (contentType ?? '').trim() !== '') throw unsupportedMediaType(contentType ?? '');
  switch (mt) {
    case '':
    case 'application/json':
    case 'application/json-patch+json':
    case 'application/merge-patch+json':
    case 'application/strategic-merge-patch+json':
      return 'json';
    case 'application/yaml':
    case 'application/apply-patch+yaml':
      return 'yaml';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    default:
      throw unsupportedMediaType(contentType ?? '');
  }
}

/** Decodes a request body. Throws 413 over the size limit, 415 for unknown media types, 400 for syntax errors. */
export function decodeBody(contentType: string | undefined, body: Uint8Array): unknown {
  return decodeBodyDetailed(contentType, body).object;
}

/** As decodeBody, also reporting duplicate keys (which JSON/YAML decoding otherwise hides). */
export function decodeBodyDetailed(contentType: string | undefined, body: Uint8Array): DecodedBody {
  if (body.length > maxBodyBytes) throw requestEntityTooLarge(maxBodyBytes);
  let out: DecodedBody;
  switch (bodyFormat(contentType)) {
    case 'json':
      out = decodeJSON(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      break;
    case 'yaml':
      out = decodeYAML(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      break;
    case 'protobuf':
      out = { object: decodeProtobuf(body), duplicateFields: [] };
      break;
  }
  if (deeperThan(out.object, maxBodyDepth)) throw badRequest(`couldn't get version/kind; json parse error: exceeded max depth (${maxBodyDepth})`);
  return out;
}

/** True when a (tree-shaped) JSON value nests deeper than `limit`. Iterative: the input is untrusted. */
function deeperThan(v: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d >= limit) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x)) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

export function decodeJSON(text: string): DecodedBody {
  let object: unknown;
  try {
    object = JSON.parse(text);
  } catch {
    // The apiserver's serializer's words, with encoding/json's description of the error.
    throw badRequest(`${JSON_PARSE_ERROR}${jsonErrorMessage(Buffer.from(text, 'utf8'))}`);
  }
  return { object, duplicateFields: duplicateKeys(text) };
}

// go-yaml (which the apiserver uses) reads YAML 1.1 booleans (yes/no/on/off) and octals, but keeps
// timestamps, sexagesimal numbers and !!binary as strings: drop those tags from yaml's 1.1 schema.
const droppedTags = new Set(['tag:yaml.org,2002:timestamp', 'tag:yaml.org,2002:binary', 'tag:yaml.org,2002:omap', 'tag:yaml.org,2002:pairs', 'tag:yaml.org,2002:set']);

interface TagLike {
  tag: string;
  format?: string;
}

export function decodeYAML(text: string): DecodedBody {
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      version: '1.1',
      uniqueKeys: false,
      // Warnings (an unknown %directive) would go to process.emitWarning, i.e. the server's stderr, for
      // anyone's request body; the document is judged by its errors alone.
      logLevel: 'error',
      customTags: (tags) => tags.filter((t) => !droppedTags.has((t as TagLike).tag) && (t as TagLike).format !== 'TIME'),
    });
  } catch (err) {
    // parseDocument throws (rather than recording an error) for a second document.
    throw yamlError(err instanceof Error ? err.message : String(err), undefined);
  }
  const first = doc.errors[0];
  if (first) throw yamlError(first.message, first.linePos?.[0].line);
  let object: unknown;
  const duplicateFields: string[] = [];
  try {
    // Before toJS: a collection used as a key is an error for go-yaml, while toJS would stringify it.
    if (doc.contents) yamlDuplicates(doc.contents, '', duplicateFields);
    object = doc.toJS({ maxAliasCount: 100 });
    // Aliases come back as shared (or, for `a: &x [*x]`, cyclic) references; go-yaml yields a tree
    // of copies and refuses cycles. The round trip gives the same, and fails on a cycle.
    object = JSON.parse(JSON.stringify(object ?? null)) as unknown;
  } catch (err) {
    if (err instanceof StatusError) throw err;
    const msg = err instanceof TypeError && /circular/i.test(err.message) ? 'anchor value contains itself' : err instanceof RangeError ? 'document nests too deeply' : err instanceof Error ? err.message : String(err);
    throw yamlError(msg, undefined);
  }
  return { object, duplicateFields };
}

function yamlError(message: string, line: number | undefined): StatusError {
  return badRequest(yamlToJSONMessage(message, line));
}

/**
 * sigs.k8s.io/yaml's wording of a YAML error ("error converting YAML to JSON: yaml: line 3: ..."), from
 * the yaml library's message, whose " at line L, column C:" and source excerpt are dropped.
 */
export function yamlToJSONMessage(message: string, line: number | undefined): string {
  const sentence = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').replace(/^Source contains multiple documents.*$/, 'expected a single document in the body');
  const text = sentence.charAt(0).toLowerCase() + sentence.slice(1);
  return `error converting YAML to JSON: yaml: ${line !== undefined ? `line ${line}: ` : ''}${text}`;
}

function yamlDuplicates(node: unknown, path: string, out: string[]): void {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (pair.key !== null && !isScalar(pair.key)) throw yamlError(`invalid map key: ${String(pair.key)}`, undefined);
      const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const p = path ? `${path}.${k}` : k;
      if (seen.has(k)) out.push(p);
      seen.add(k);
      yamlDuplicates(pair.value as YamlNode | null, p, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => yamlDuplicates(item, `${path}[${i}]`, out));
  }
}

/**
 * Reads a request body, failing with 413 as soon as it exceeds `limit` (the rest is not buffered).
 * Rejects with the stream's error if the client goes away.
 */
export function readBody(req: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(requestEntityTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(requestEntityTooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
  });
}
