// HTTP/1.1 Upgrade plumbing shared by the API server and the node agent: dialling an upgrade (SPDY
// or WebSocket) toward the next hop, answering one on an accepted socket, and splicing two upgraded
// connections together. Kubernetes streams exec/attach/port-forward hop by hop this way (kubectl →
// API server → node agent → containerd's streaming server).

import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export const SPDY_31 = 'SPDY/3.1';
/** Request/response header naming the sub-protocol of a SPDY upgrade (one line per offered version). */
export const STREAM_PROTOCOL_HEADER = 'X-Stream-Protocol-Version';

export interface UpgradeTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  /** false: the peer's certificate is not checked (kube-apiserver's proxy transport toward pods). */
  rejectUnauthorized?: boolean;
}

export interface UpgradeRequest {
  url: URL | string;
  /** POST for SPDY (as client-go sends it), GET for WebSocket. */
  method?: string;
  headers: OutgoingHttpHeaders;
  /** Required for https: URLs; the peer's certificate is verified against `ca` unless rejectUnauthorized is false. */
  tls?: UpgradeTls;
  /** Connect + response-head timeout (default 30 s). */
  timeoutMs?: number;
}

export type UpgradeOutcome =
  | {
      upgraded: true;
      statusCode: 101;
      headers: IncomingHttpHeaders;
      /** Alternating names and values, as received (keeps repeated headers apart). */
      rawHeaders: string[];
      /** The upgraded connection; bytes that arrived with the response head are already unshifted. */
      socket: Duplex;
    }
  | { upgraded: false; statusCode: number; statusMessage: string; headers: IncomingHttpHeaders; body: Buffer };

// Refused upgrades carry a short Status or text body; more than this is not read.
const MAX_ERROR_BODY = 64 * 1024;

/** Sends an upgrade request; resolves with the upgraded socket, or the refusal. Network failures reject. */
export function dialUpgrade(r: UpgradeRequest): Promise<UpgradeOutcome> {
  const url = typeof r.url === 'string' ? new URL(r.url) : r.url;
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const timeoutMs = r.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      path: url.pathname + url.search,
      method: r.method ?? 'GET',
      headers: r.headers,
      agent: false,
      timeout: timeoutMs,
    };
    if (secure) {
      Object.assign(options, { ca: r.tls?.ca, cert: r.tls?.cert, key: r.tls?.key, servername: r.tls?.servername, rejectUnauthorized: r.tls?.rejectUnauthorized !== false, ALPNProtocols: ['http/1.1'] });
    }
    const req = secure ? https.request(options) : http.request(options);
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      req.setTimeout(0);
      fn();
    };
    req.on('timeout', () => done(() => {
      req.destroy();
      // code as Node's own dial timeouts carry it, so callers word it as every other timeout.
      reject(Object.assign(new Error(`upgrade to ${url.host} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }));
    req.on('error', (err) => done(() => reject(err)));
    req.on('upgrade', (res, socket, head) => done(() => {
      socket.setTimeout(0);
      if (head.length) socket.unshift(head);
      resolve({ upgraded: true, statusCode: 101, headers: res.headers, rawHeaders: res.rawHeaders, socket });
    }));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_ERROR_BODY) parts.push(c);
        size += c.length;
      });
      res.on('end', () => done(() => resolve({
        upgraded: false,
        statusCode: res.statusCode ?? 502,
        statusMessage: res.statusMessage ?? '',
        headers: res.headers,
        body: Buffer.concat(parts).subarray(0, MAX_ERROR_BODY),
      })));
      res.on('error', (err) => done(() => reject(err)));
    });
    req.end();
  });
}

/** Writes a raw HTTP/1.1 response head on a socket taken over from an HTTP server's 'upgrade' event. */
export function writeResponseHead(socket: Duplex, statusCode: number, headers: [string, string][], statusMessage?: string): void {
  const lines = [`HTTP/1.1 ${statusCode} ${statusMessage ?? STATUS_CODES[statusCode] ?? 'Unknown'}`];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
}

/** Answers an upgrade request with a plain (non-101) response and closes the socket. */
export function rejectUpgrade(socket: Duplex, statusCode: number, body: string | Buffer, contentType = 'application/json'): void {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  if (socket.destroyed) return;
  writeResponseHead(socket, statusCode, [
    ['Content-Type', contentType],
    ['Content-Length', String(b.length)],
    ['Connection', 'close'],
  ]);
  socket.end(b);
}

/** The 101 response headers worth passing back from the next hop (protocol choice, WebSocket accept). */
export function upgradeResponseHeaders(rawHeaders: string[]): [string, string][] {
  const keep = new Set(['connection', 'upgrade', 'x-stream-protocol-version', 'sec-websocket-accept', 'sec-websocket-protocol']);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (keep.has(rawHeaders[i]!.toLowerCase())) out.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  }
  return out;
}

/** The request headers of an incoming upgrade that the next hop needs to negotiate the same protocol. */
export function upgradeRequestHeaders(headers: IncomingHttpHeaders, rawHeaders: string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const protocols: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'x-stream-protocol-version') protocols.push(...rawHeaders[i + 1]!.split(',').map((s) => s.trim()).filter(Boolean));
  }
  if (protocols.length) out[STREAM_PROTOCOL_HEADER] = protocols;
  for (const name of ['upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']) {
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  out['Connection'] = 'Upgrade';
  return out;
}

/**
 * Joins two upgraded connections byte for byte until both directions ended. An orderly end on one
 * side half-closes the other; once one side is fully closed, the other is closed as soon as what was
 * written to it is flushed (nothing it sends could go anywhere, and a paused socket would otherwise
 * never notice its peer's FIN). An abrupt close or error tears down both. Resolves when both closed.
 */
export function splice(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onClose = (self: Duplex, other: Duplex) => () => {
      if (!self.readableEnded || other.writableFinished || !other.writableEnded) other.destroy();
      else other.once('finish', () => other.destroy());
      if (++closed === 2) resolve();
    };
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
    a.once('close', onClose(a, b));
    b.once('close', onClose(b, a));
    a.pipe(b);
    b.pipe(a);
  });
}
