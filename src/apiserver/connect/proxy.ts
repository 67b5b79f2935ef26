// The proxy subresources (pods/proxy, nodes/proxy): every method, path, query, header and body under
// /{resource}/{[scheme:]name[:port]}/proxy/ is sent on to where the kind's ProxyTarget says, and the
// answer comes back as it is (status, headers, streamed body), as kube-apiserver's
// UpgradeAwareHandler with its proxy transport does:
//   - the caller's credentials (Authorization, Impersonate-*) never leave the API server; hop-by-hop
//     headers are dropped; X-Forwarded-For and X-Forwarded-Uri are added;
//   - a Location the backend answers with is rewritten under the proxy path; CORS headers dropped;
//   - an empty path with GET/HEAD is redirected to the path with a trailing slash;
//   - addresses that are not global unicast are refused ("address not allowed", 400), an
//     unreachable backend is a 503 "error trying to reach service: ...";
//   - HTTP upgrades (WebSocket) are relayed byte for byte once the backend accepted them.
// Unlike kube-apiserver, HTML bodies are passed through unchanged (it rewrites their links).
//
// Called by the connect handler, concurrently; each call owns its request until it ends.

import dns from 'node:dns/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { posix } from 'node:path';
import { StatusError, badRequest, notFound, serviceUnavailable } from '../../util/status.ts';
import { dialUpgrade, rejectUpgrade, splice, writeResponseHead, type UpgradeTls } from '../../util/spdy/upgrade.ts';
import type { ProxyLocation, ProxyLookup } from '../../registry/kind.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ResourceRequest } from '../requestinfo.ts';
import type { SubresourceContext, UpgradeContext } from '../subresources.ts';
import type { AgentLocator } from './agent.ts';

export interface ProxyOptions {
  /** The API server's client certificate toward node agents, and the CA their serving certificates chain to. */
  agentTls: { ca: string; cert: string; key: string };
  locateAgent: AgentLocator;
  /** May the API server send requests to this IP? kube-apiserver: global unicast addresses only. */
  proxyable: (ip: string) => boolean;
  /** Connect timeout toward the backend. */
  timeoutMs: number;
}

/** Where one proxied request goes, and how TLS is spoken there. */
export interface ProxyBackend {
  scheme: 'http' | 'https';
  host: string;
  /** "" for the scheme's default; may be a port name no container declared (the dial then fails as Go's does). */
  port: string;
  /** https: the agent's CA and our client certificate, or none and no verification (pods, as kube-apiserver's proxy transport). */
  agentTls?: { ca: string; cert: string; key: string };
}

/** utilnet.SplitSchemeNamePort: "name", "name:port" or "scheme:name:port" with scheme http or https. */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  let r: { scheme: string; name: string; port: string };
  if (parts.length === 1) r = { scheme: '', name: parts[0]!, port: '' };
  else if (parts.length === 2) r = { scheme: '', name: parts[0]!, port: parts[1]! };
  else if (parts.length === 3) r = { scheme: parts[0]!, name: parts[1]!, port: parts[2]! };
  else return undefined;
  if (!r.name || !['', 'http', 'https'].includes(r.scheme)) return undefined;
  return r;
}

/** Go's net.IP.IsGlobalUnicast: not unspecified, loopback, link-local, multicast or the IPv4 broadcast. */
export function isGlobalUnicast(ip: string): boolean {
  const v = net.isIP(ip);
  if (v === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return !(ip === '0.0.0.0' || ip === '255.255.255.255' || a === 127 || (a === 169 && b === 254) || a >= 224);
  }
  if (v === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return isGlobalUnicast(mapped[1]!);
    const first = parseInt(ip.startsWith('::') ? '0' : ip.split(':')[0]!, 16);
    if (/^::1?$/.test(ip)) return false;
    return !((first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00);
  }
  return false;
}

function hostPort(host: string, port: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port ? `${h}:${port}` : h;
}

/** Reads the object the request names and asks its kind where the request goes. */
export async function resolveProxy(registry: Registry, info: ResourceRequest, opts: ProxyOptions): Promise<ProxyBackend> {
  const store = registry.lookup(info.group, info.version, info.resource);
  const target = store?.kind.subresources[info.subresource]?.proxy;
  if (!store || !target) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const id = splitSchemeNamePort(info.name);
  if (!id) throw badRequest(`invalid ${store.info.singular} request ${JSON.stringify(info.name)}`);
  const obj = await store.get(store.info.namespaced ? info.namespace : undefined, id.name);
  const lookup: ProxyLookup = { get: async (resource, group, ns, name) => (await registry.tryStore(resource, group)?.tryGet(ns, name)) ?? undefined };
  const loc = await target.location(obj, { scheme: id.scheme, port: id.port }, lookup);
  if ('refused' in loc) throw badRequest(loc.refused);
  if ('unavailable' in loc) throw serviceUnavailable(loc.unavailable);
  if ('notFound' in loc) throw notFound(loc.notFound.resource, loc.notFound.name);
  return backendOf(loc, registry, opts);
}

async function backendOf(loc: ProxyLocation, registry: Registry, opts: ProxyOptions): Promise<ProxyBackend> {
  if (loc.to === 'address') {
    if (!net.isIP(loc.host) || !opts.proxyable(loc.host)) throw badRequest('address not allowed');
    return { scheme: loc.scheme, host: loc.host, port: loc.port };
  }
  const ep = await opts.locateAgent(loc.nodeName, registry);
  // kube-apiserver resolves the node's address and refuses it unless every address is proxyable.
  let ips: string[];
  if (net.isIP(ep.host)) ips = [ep.host];
  else {
    try {
      ips = (await dns.lookup(ep.host, { all: true })).map((a) => a.address);
    } catch {
      throw badRequest(`lookup ${ep.host}: no such host`);
    }
  }
  if (ips.length === 0) throw badRequest('no addresses for hostname');
  if (!ips.every(opts.proxyable)) throw badRequest('address not allowed');
  if (loc.port === '' || loc.port === String(ep.port)) return { scheme: 'https', host: ep.host, port: String(ep.port), agentTls: opts.agentTls };
  return { scheme: loc.scheme === 'https' ? 'https' : 'http', host: ep.host, port: loc.port };
}

// Hop-by-hop headers (RFC 9110 §7.6.1, as Go's ReverseProxy drops them), and what must not reach a
// backend: the caller's credentials, which kube-apiserver's authentication and impersonation
// filters remove from the request.
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const CREDENTIALS = (name: string) => name === 'authorization' || name.startsWith('impersonate-');
const CORS = new Set(['access-control-allow-credentials', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin']);

/** Header pairs of a raw header list minus the dropped names, repeated names kept apart. */
function pairs(raw: string[], drop: (lower: string) => boolean): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!drop(raw[i]!.toLowerCase())) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function listedInConnection(raw: string[]): Set<string> {
  const named = new Set<string>();
  for (const [k, v] of pairs(raw, () => false)) if (k.toLowerCase() === 'connection') for (const t of v.split(',')) named.add(t.trim().toLowerCase());
  return named;
}

function toHeaders(list: [string, string][]): OutgoingHttpHeaders {
  const out: Record<string, string[]> = {};
  const names: Record<string, string> = {};
  for (const [k, v] of list) {
    const lower = k.toLowerCase();
    names[lower] ??= k;
    (out[names[lower]] ??= []).push(v);
  }
  const h: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(out)) h[k] = v.length === 1 ? v[0]! : v;
  return h;
}

function forwardedFor(req: IncomingMessage, list: [string, string][]): [string, string][] {
  const client = req.socket.remoteAddress;
  if (!client) return list;
  const prior = list.filter(([k]) => k.toLowerCase() === 'x-forwarded-for').map(([, v]) => v);
  return [...list.filter(([k]) => k.toLowerCase() !== 'x-forwarded-for'), ['X-Forwarded-For', [...prior, client.replace(/^::ffff:/, '')].join(', ')]];
}

/** A path segment as Go's URL.EscapedPath writes it (sub-delims, ':' and '@' stay). */
function escapeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%(24|26|2B|2C|3B|3D|3A|40)/gi, (m) => decodeURIComponent(m));
}

/** The request's own path and query, and the path it names below the subresource. */
function proxyPath(req: IncomingMessage, info: ResourceRequest): { requestPath: string; rawQuery: string; path: string } {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const requestPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? '' : raw.slice(q + 1);
  let path = info.rest.length ? posix.join('/', ...info.rest).split('/').map(escapeSegment).join('/') : '';
  if (requestPath.endsWith('/') && !path.endsWith('/')) path += '/';
  return { requestPath, rawQuery, path };
}

/**
 * A backend's Location under the proxy path (kube's proxy Transport.rewriteURL): absolute paths on
 * the backend's or the API server's host become /api/.../proxy/<path>; anything else is left alone.
 */
export function rewriteLocation(location: string, prefix: string, backendHost: string, requestHost: string): string {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(.*)$/s.exec(location);
  if (!m) return location;
  const [, scheme, host, path = '', rest = ''] = m;
  if ((host !== undefined && host !== '' && host !== backendHost && host !== requestHost) || !path.startsWith('/')) return location;
  const keepOrigin = host !== undefined && host === requestHost;
  const origin = keepOrigin ? `${scheme ? `${scheme}:` : ''}//${host}` : '';
  if (path.startsWith(prefix)) return origin + path + rest;
  let joined = posix.join(prefix, path);
  if (path.endsWith('/') && !joined.endsWith('/')) joined += '/';
  return origin + joined + rest;
}

/** A network failure as Go's dialer words it, which is what kube-apiserver's message carries. */
export function dialErrorText(err: unknown, hostport: string): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${hostport}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${hostport}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${hostport}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `dial tcp ${hostport}: i/o timeout`;
    case 'ECONNRESET':
      return `read tcp ${hostport}: read: connection reset by peer`;
  }
  return e instanceof Error ? e.message : String(err);
}

/** The backend URL of a request; a port that is not a number fails as Go's dialer fails on it. */
function backendUrl(b: ProxyBackend, pathAndQuery: string): URL {
  const hp = hostPort(b.host, b.port);
  if (b.port && !/^\d+$/.test(b.port)) throw new StatusError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp: lookup tcp/${b.port}: unknown port`);
  if (b.port && Number(b.port) > 65535) throw new StatusError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp: address ${b.port}: invalid port`);
  return new URL(pathAndQuery, `${b.scheme}://${hp}`);
}

/** TLS options toward a backend: the agent's identity checks, or none (SNI from the backend's name, never the caller's Host). */
function tlsOptions(b: ProxyBackend): UpgradeTls {
  const servername = net.isIP(b.host) ? '' : b.host;
  return b.agentTls ? { ...b.agentTls, servername } : { rejectUnauthorized: false, servername };
}

/** The path of the subresource itself (/api/v1/namespaces/ns/pods/web:80/proxy), as the caller wrote it. */
function subresourcePrefix(requestPath: string, info: ResourceRequest): string {
  const n = (info.group ? 3 : 2) + (info.namespace ? 2 : 0) + 3;
  return '/' + requestPath.split('/').filter(Boolean).slice(0, n).join('/');
}

/** The methods kube-apiserver registers for pods/proxy and nodes/proxy (its ConnectMethods). */
const PROXY_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** Plain HTTP through the proxy subresource: streamed both ways, status and headers passed back. */
export function proxyHttp(ctx: SubresourceContext, backend: ProxyBackend, timeoutMs: number): Promise<void> {
  const { req, res } = ctx;
  const { requestPath, rawQuery, path } = proxyPath(req, ctx.info);
  const method = req.method ?? 'GET';
  if (!PROXY_METHODS.has(method)) throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  if (path === '' && (method === 'GET' || method === 'HEAD')) {
    // kube-apiserver's answer to https://issue.k8s.io/4958: relative links need the trailing slash.
    res.writeHead(301, { Location: `${requestPath}/${rawQuery ? `?${rawQuery}` : ''}`, 'Content-Length': '0' });
    res.end();
    return Promise.resolve();
  }
  const target = backendUrl(backend, `${path || '/'}${rawQuery ? `?${rawQuery}` : ''}`);
  const hostport = hostPort(backend.host, backend.port || (backend.scheme === 'https' ? '443' : '80'));
  const prefix = subresourcePrefix(requestPath, ctx.info);
  const dropped = listedInConnection(req.rawHeaders);
  const headers = forwardedFor(req, pairs(req.rawHeaders, (n) => HOP_BY_HOP.has(n) || dropped.has(n) || CREDENTIALS(n) || n === 'x-forwarded-uri'));
  headers.push(['X-Forwarded-Uri', requestPath]);
  // A chunked body stays chunked (Node would send DELETE and OPTIONS bodies unframed otherwise).
  if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] === undefined) headers.push(['Transfer-Encoding', 'chunked']);
  const options: https.RequestOptions = { method, headers: toHeaders(headers), agent: false, ...(backend.scheme === 'https' ? tlsOptions(backend) : {}) };
  return new Promise((resolve, reject) => {
    const up = (backend.scheme === 'https' ? https : http).request(target, options, (ures) => {
      clearTimeout(dialTimer);
      const gone = listedInConnection(ures.rawHeaders);
      const out = pairs(ures.rawHeaders, (n) => HOP_BY_HOP.has(n) || gone.has(n) || CORS.has(n)).map(([k, v]): [string, string] =>
        k.toLowerCase() === 'location' ? [k, rewriteLocation(v, prefix, target.host, String(req.headers.host ?? ''))] : [k, v]);
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, out.flat());
      res.flushHeaders();
      ures.pipe(res);
      ures.on('end', () => resolve());
      ures.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    // Only the connection has a deadline: a backend may take its time to answer (long polls, streams).
    const dialTimer = setTimeout(() => up.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
    up.on('socket', (socket) => socket.once('connect', () => clearTimeout(dialTimer)));
    up.on('error', (err) => {
      clearTimeout(dialTimer);
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else reject(new StatusError(503, 'ServiceUnavailable', `error trying to reach service: ${dialErrorText(err, hostport)}`));
    });
    // The caller went away: stop talking to the backend too.
    res.on('close', () => {
      clearTimeout(dialTimer);
      if (!res.writableFinished && !up.destroyed) up.destroy();
      resolve();
    });
    req.pipe(up);
  });
}

/** An upgrade (WebSocket...) through the proxy subresource: relayed once the backend switched protocols. */
export async function proxyUpgrade(ctx: UpgradeContext, backend: ProxyBackend, timeoutMs: number): Promise<void> {
  const { requestPath, rawQuery, path } = proxyPath(ctx.req, ctx.info);
  const target = backendUrl(backend, `${path || '/'}${rawQuery ? `?${rawQuery}` : ''}`);
  const headers = forwardedFor(ctx.req, pairs(ctx.req.rawHeaders, (n) => CREDENTIALS(n) || n === 'content-length' || n === 'x-forwarded-uri'));
  headers.push(['X-Forwarded-Uri', requestPath]);
  let out;
  try {
    out = await dialUpgrade({ url: target, method: ctx.req.method ?? 'GET', headers: { ...toHeaders(headers), 'Content-Length': '0' }, tls: tlsOptions(backend), timeoutMs });
  } catch (err) {
    throw new StatusError(500, 'InternalError', `error dialing backend: ${dialErrorText(err, target.host)}`);
  }
  if (!out.upgraded) {
    // A refusal is the backend's own answer, passed back as it came (kube-apiserver echoes >= 400).
    if (out.statusCode < 400) throw new StatusError(500, 'InternalError', `invalid upgrade response: status code ${out.statusCode}`);
    rejectUpgrade(ctx.socket, out.statusCode, out.body, String(out.headers['content-type'] ?? 'text/plain'));
    return;
  }
  writeResponseHead(ctx.socket, 101, pairs(out.rawHeaders, () => false));
  if (ctx.head.length) ctx.socket.unshift(ctx.head);
  await splice(ctx.socket, out.socket);
}
