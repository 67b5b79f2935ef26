// Writing responses and reading request bodies.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { toStatusError, type Status } from '../util/status.ts';
import { ProtoEncodeError } from './protobuf/codec.ts';
import { encodeProtobufObject, messageFor, PROTOBUF_MEDIA_TYPE } from './protobuf/envelope.ts';
import { negotiateOutput } from './tables/negotiate.ts';
import { auditOf } from './audit/event.ts';

const servedMediaTypes = ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE];

/**
 * True when protobuf is the client's preferred acceptable format, which kube-apiserver then answers
 * in: kubectl's typed clients send `Accept: application/vnd.kubernetes.protobuf, *\/*`.
 */
export function prefersProtobuf(req: IncomingMessage): boolean {
  const out = negotiateOutput(req.headers.accept, servedMediaTypes);
  return out?.mediaType === PROTOBUF_MEDIA_TYPE && out.convert === undefined;
}

/** The protobuf form of a response body, when the client prefers it and the kind has one. */
function protobufBody(req: IncomingMessage, body: unknown): Buffer | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !prefersProtobuf(req)) return undefined;
  try {
    const bytes = encodeProtobufObject(body as Record<string, unknown>);
    return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
  } catch (err) {
    // An object that does not fit its message is a server bug; the client (which accepts JSON too
    // in practice) still gets the object.
    if (!(err instanceof ProtoEncodeError)) throw err;
    console.error(`tinykube apiserver: ${req.method} ${req.url}: answering JSON, not protobuf: ${err.message}`);
    return undefined;
  }
}

export function writeJSON(req: IncomingMessage, res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  auditOf(req)?.logResponseObject(body);
  // A caller that names its Content-Type (aggregated discovery) has chosen the format already.
  const pb = headers['Content-Type'] === undefined ? protobufBody(req, body) : undefined;
  let buf: Buffer = pb ?? Buffer.from(JSON.stringify(body));
  const h: Record<string, string | number> = { 'Content-Type': pb ? PROTOBUF_MEDIA_TYPE : 'application/json', 'Cache-Control': 'no-cache, private', ...headers };
  if (buf.length > 16 * 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    buf = gzipSync(buf, { level: 1 });
    h['Content-Encoding'] = 'gzip';
  }
  h['Content-Length'] = buf.length;
  res.writeHead(code, h);
  res.end(req.method === 'HEAD' ? undefined : buf);
}

/** Bodies above this are streamed (chunked) rather than built as one string. */
const streamThreshold = 1 << 20;
/** How much text is joined into one write while streaming. */
const streamChunk = 256 * 1024;

/**
 * Writes a 200 list whose items are already JSON text (Store.list with `encoded`): `head` is the
 * list without items, `items` its first items and `rest` (when given) yields the others in batches,
 * read while the first ones are being sent. Large or batched lists are streamed in chunks (gzip'd on
 * zlib's thread pool when the client accepts it) so no single string of the whole body is ever built;
 * small ones go through writeJSON's path with a Content-Length.
 *
 * A batch that fails after the head was sent cannot become a Status any more: the error is thrown to
 * the caller, whose writeStatus then cuts the connection, so the client sees a broken body rather
 * than a short list.
 */
export async function writeJSONList(
  req: IncomingMessage,
  res: ServerResponse,
  head: Record<string, unknown>,
  items: string[],
  rest?: AsyncIterable<string[]>,
): Promise<void> {
  if (typeof head.apiVersion === 'string' && typeof head.kind === 'string' && messageFor(head.apiVersion, head.kind) && prefersProtobuf(req)) {
    // A protobuf list is one message: read every batch, then encode.
    const all = [...items];
    if (rest) for await (const batch of rest) all.push(...batch);
    writeJSON(req, res, 200, { ...head, items: all.map((it) => JSON.parse(it) as unknown) });
    return;
  }
  // At level RequestResponse the audit event carries the list (kube's LogResponseObject).
  const audit = auditOf(req)?.wantsResponseObject ? auditOf(req) : undefined;
  const audited: string[] | undefined = audit ? [...items] : undefined;
  // Ends in '"items":[' once the closing ']}' is cut.
  const open = JSON.stringify({ ...head, items: [] }).slice(0, -2);
  let size = open.length + 2;
  for (const it of items) size += it.length + 1;
  if (!rest && size <= streamThreshold) {
    const text = open + items.join(',') + ']}';
    audit?.logResponseObject(JSON.parse(text));
    let buf: Buffer = Buffer.from(text);
    const h: Record<string, string | number> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
    if (buf.length > 16 * 1024 && acceptsGzip(req)) {
      buf = gzipSync(buf, { level: 1 });
      h['Content-Encoding'] = 'gzip';
    }
    h['Content-Length'] = buf.length;
    res.writeHead(200, h);
    res.end(req.method === 'HEAD' ? undefined : buf);
    return;
  }
  const h: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
  const gzip = acceptsGzip(req);
  if (gzip) h['Content-Encoding'] = 'gzip';
  res.writeHead(200, h);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let out: Writable = res;
  if (gzip) {
    // Large output chunks: fewer round trips through zlib's thread pool and fewer socket writes.
    const z = createGzip({ level: 1, chunkSize: 256 * 1024 });
    z.on('error', () => res.destroy());
    z.pipe(res);
    out = z;
  }
  let closed = false;
  let wake: (() => void) | undefined;
  const resume = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  res.once('close', () => {
    closed = true;
    resume();
  });
  out.on('drain', resume);
  const write = async (text: string) => {
    if (!out.write(text) && !closed) await new Promise<void>((r) => (wake = r));
  };
  let parts: string[] = [open];
  let pending = open.length;
  let first = true;
  const send = async (batch: string[]) => {
    for (let i = 0; i < batch.length && !closed; i++) {
      if (!first) parts.push(',');
      first = false;
      parts.push(batch[i]!);
      pending += batch[i]!.length + 1;
      if (pending >= streamChunk) {
        await write(parts.join(''));
        parts = [];
        pending = 0;
      }
    }
  };
  await send(items);
  if (rest) {
    for await (const batch of rest) {
      if (closed) break;
      audited?.push(...batch);
      await send(batch);
    }
  }
  if (closed) return;
  if (audit && audited) audit.logResponseObject({ ...head, items: audited.map((it) => JSON.parse(it) as unknown) });
  parts.push(']}');
  out.end(parts.join(''));
}

function acceptsGzip(req: IncomingMessage): boolean {
  return /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
}

export function writeStatus(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const se = toStatusError(err);
  if (se.code >= 500) console.error(`tinykube apiserver: ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (se.details?.retryAfterSeconds) headers['Retry-After'] = String(se.details.retryAfterSeconds);
  writeJSON(req, res, se.code, se.toStatus(), headers);
}

export function successStatus(details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  if (details) s.details = details;
  return s;
}

// Request bodies are read by decode/body.ts's readBody (one implementation, with the 3 MiB limit).
export { maxBodyBytes, readBody } from './decode/body.ts';
