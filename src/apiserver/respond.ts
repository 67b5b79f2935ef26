// Writing responses and reading request bodies.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { toStatusError, type Status } from '../util/status.ts';

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

// Request bodies are read by decode/body.ts's readBody (one implementation, with the 3 MiB limit).
export { maxBodyBytes, readBody } from './decode/body.ts';
