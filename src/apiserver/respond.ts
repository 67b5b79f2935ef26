// Writing responses and reading request bodies.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { requestEntityTooLarge, StatusError, toStatusError, type Status } from '../util/status.ts';

/** The apiserver's default request body limit (3 MiB). */
export const maxBodyBytes = 3 * 1024 * 1024;

export function writeJSON(req: IncomingMessage, res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  let buf: Buffer = Buffer.from(text);
  const h: Record<string, string | number> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers };
  if (buf.length > 16 * 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    buf = gzipSync(buf, { level: 1 });
    h['Content-Encoding'] = 'gzip';
  }
  h['Content-Length'] = buf.length;
  res.writeHead(code, h);
  res.end(req.method === 'HEAD' ? undefined : buf);
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

/** Reads the whole body, failing with 413 past the limit (and draining nothing more). */
export function readBody(req: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? -1);
    if (declared > limit) {
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
        reject(requestEntityTooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        reject(new StatusError(400, 'BadRequest', `error reading request body: ${e.message}`));
      }
    });
  });
}
