// The API server's ConnectHandler: serves pods/log, exec, attach and portforward by proxying to the
// pod's node agent (src/kubelet/streaming), as the kube-apiserver proxies to the kubelet.
//
//   log           GET, streamed through (chunked, headers flushed at once for -f).
//   exec/attach   kubectl's WebSocket v5.channel.k8s.io is terminated here and re-originated as SPDY
//                 v4.channel.k8s.io toward the agent (./remotecommand.ts). Any other upgrade — the
//                 SPDY fallback (POST, Upgrade: SPDY/3.1), or a WebSocket offering only older
//                 channel protocols — is relayed byte for byte after the agent (and behind it
//                 containerd's streaming server) accepted it, so the client negotiates with containerd.
//   portforward   WebSocket "SPDY/3.1+portforward.k8s.io" is a SPDY session inside WebSocket
//                 messages: the handler opens a raw SPDY upgrade to the agent and splices the two,
//                 message payloads to bytes and back. Raw SPDY (the fallback) is relayed.
//
// Upgrades are answered only after the agent answered, so a refusal (container not running, no
// such port) reaches kubectl as a non-101 Status on both its WebSocket and its SPDY attempt.
//
// The API server authenticates to agents with a client certificate signed by the cluster CA and
// verifies their serving certificates against that CA.

import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Pod } from '../../api/types.ts';
import { StatusError, badRequest, type Status } from '../../util/status.ts';
import { queryFlag } from '../../api/queryparams.ts';
import { goDialError } from '../../util/neterror.ts';
import { dialUpgrade, rejectUpgrade, splice, upgradeRequestHeaders, upgradeResponseHeaders, writeResponseHead, SPDY_31, STREAM_PROTOCOL_HEADER, type UpgradeOutcome } from '../../util/spdy/upgrade.ts';
import { SpdySession } from '../../util/spdy/session.ts';
import { SpdyError } from '../../util/spdy/errors.ts';
import type { ConnectHandler, SubresourceContext, UpgradeContext } from '../subresources.ts';
import { nodeObjectLocator, type AgentEndpoint, type AgentLocator } from './agent.ts';
import { checkLogsAvailable, logContainerName, streamContainerName } from './containers.ts';
import { isGlobalUnicast, proxyHttp, proxyUpgrade, resolveProxy, type ProxyOptions } from './proxy.ts';
import { bridgeV5, openRemoteCommandStreams, V4_CHANNEL, V5_CHANNEL, type RemoteCommandStreams, type StreamFlags } from './remotecommand.ts';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export interface ConnectHandlerOptions {
  /** The client certificate the API server presents to agents, and the CA their serving certs chain to. */
  tls: { ca: string; cert: string; key: string };
  /** Finds a node's agent. Default: the Node's address and status.daemonEndpoints.kubeletEndpoint.Port. */
  locateAgent?: AgentLocator;
  /** Connect + response-head timeout toward the agent (default 30 s). */
  agentTimeoutMs?: number;
  /**
   * May pods/proxy and nodes/proxy send requests to this IP? Default: global unicast addresses only,
   * as kube-apiserver (never its own loopback); tests on one machine allow loopback.
   */
  proxyableAddress?: (ip: string) => boolean;
}

/** Query parameters of pods/log that the agent understands, passed on as given (the rest are the API server's). */
const LOG_PARAMS = ['tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes', 'stream'];
/** The boolean ones, passed on as "true" only when set, as kube-apiserver's LogLocation does. */
const LOG_FLAGS = ['follow', 'previous', 'timestamps'];

function flagsOf(q: URLSearchParams): StreamFlags {
  const tty = queryFlag(q, 'tty');
  return { stdin: queryFlag(q, 'stdin'), stdout: queryFlag(q, 'stdout'), stderr: queryFlag(q, 'stderr') && !tty, tty };
}

function agentUrl(ep: AgentEndpoint, path: string, query?: URLSearchParams): URL {
  const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
  const qs = query && [...query.keys()].length ? `?${query}` : '';
  return new URL(`https://${host}:${ep.port}${path}${qs}`);
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

/** A refusal from the agent as a StatusError: its own Status when it sent one, else the text. */
function refusal(code: number, body: Buffer): StatusError {
  try {
    const s = JSON.parse(body.toString()) as Partial<Status>;
    if (s && s.kind === 'Status' && typeof s.message === 'string') {
      return new StatusError(typeof s.code === 'number' ? s.code : code, s.reason ?? 'InternalError', s.message, s.details);
    }
  } catch {
    // not JSON
  }
  const text = body.toString().trim() || `the node agent answered ${code}`;
  return new StatusError(code >= 400 ? code : 502, code === 400 ? 'BadRequest' : code === 404 ? 'NotFound' : 'InternalError', text);
}

/** kube-apiserver's words when the agent cannot be reached for exec, attach or port-forward. */
function dialError(err: unknown, url: URL): StatusError {
  return new StatusError(500, 'InternalError', `error dialing backend: ${goDialError(err, url.hostname.replace(/^\[|\]$/g, ''), agentPort(url))}`);
}

/** For logs, kube-apiserver passes on its HTTP client's error: `Get "URL": dial tcp ...`. */
function logsError(err: unknown, url: URL): StatusError {
  return new StatusError(500, 'InternalError', `Get ${JSON.stringify(url.toString())}: ${goDialError(err, url.hostname.replace(/^\[|\]$/g, ''), agentPort(url))}`);
}

function agentPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

// spdystream's errors (what kube-apiserver's own SPDY client would report) for ours.
function streamError(err: unknown): string {
  const code = err instanceof SpdyError ? err.code : '';
  if (code === 'ERR_SPDY_TIMEOUT') return 'timeout occurred';
  if (code === 'ERR_SPDY_STREAM_REFUSED') return 'stream reset';
  if (code === 'ERR_SPDY_SESSION_CLOSED') return 'use of closed network connection';
  return 'EOF';
}

function timedOut(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

function failUpgrade(socket: Duplex, err: unknown): void {
  // Anything not already a Status is a bug of ours: its text stays in the server's log.
  if (!(err instanceof StatusError)) console.error(`tinykube apiserver: upgrade failed: ${err instanceof Error ? err.stack : String(err)}`);
  const se = err instanceof StatusError ? err : new StatusError(500, 'InternalError', 'Internal error occurred: the connection to the node agent failed');
  rejectUpgrade(socket, se.code, JSON.stringify(se.toStatus()));
}

function offered(req: IncomingMessage): string[] {
  return String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

// The CN of the API server's client certificate toward agents lives with the PKI that issues it.
export { AGENT_CLIENT_CN } from '../auth/pki.ts';

export interface ClosableConnectHandler extends ConnectHandler {
  /**
   * Ends every upgraded connection (exec, attach, port-forward) still open. Call it on shutdown
   * before closing the HTTPS server: upgraded sockets are no longer the server's, so
   * closeAllConnections() does not reach them and server.close() would wait for them.
   */
  close(): void;
  /**
   * Replaces the client certificate presented to agents (after renewal); connections already open
   * keep the one they were made with.
   */
  setClientCertificate(cert: string, key: string): void;
}

export function createConnectHandler(opts: ConnectHandlerOptions): ClosableConnectHandler {
  const live = new Set<Duplex>();
  const locate = opts.locateAgent ?? nodeObjectLocator;
  const tls = { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key };
  const timeoutMs = opts.agentTimeoutMs ?? 30_000;
  const proxyOpts: ProxyOptions = { agentTls: tls, locateAgent: locate, proxyable: opts.proxyableAddress ?? isGlobalUnicast, timeoutMs };
  // One handshake server per protocol we accept; no compression (kubectl offers none).
  const handshakes = new Map<string, WebSocketServer>(
    [V5_CHANNEL, PORT_FORWARD_TUNNEL_PROTOCOL].map((p) => [p, new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, handleProtocols: () => p })]),
  );

  async function podOf(ctx: UpgradeContext): Promise<Pod> {
    const store = ctx.registry.lookup('', 'v1', 'pods');
    if (!store) throw new StatusError(500, 'InternalError', 'Internal error occurred: the pods resource is not registered');
    return (await store.get(ctx.info.namespace, ctx.info.name)) as Pod;
  }

  async function dial(url: URL, method: string, headers: OutgoingHttpHeaders): Promise<Extract<UpgradeOutcome, { upgraded: true }>> {
    let out: UpgradeOutcome;
    try {
      out = await dialUpgrade({ url, method, headers: { ...headers, 'Content-Length': '0' }, tls, timeoutMs });
    } catch (err) {
      throw dialError(err, url);
    }
    if (!out.upgraded) throw refusal(out.statusCode, out.body);
    return out;
  }

  /** Completes kubectl's WebSocket handshake with the one protocol we chose. */
  function acceptWebSocket(ctx: UpgradeContext, protocol: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      // ws answers a malformed handshake itself (400) and never calls back; the socket then closes.
      const onClose = () => reject(new Error('the WebSocket handshake with the client failed'));
      ctx.socket.once('close', onClose);
      handshakes.get(protocol)!.handleUpgrade(ctx.req, ctx.socket, ctx.head, (ws) => {
        ctx.socket.off('close', onClose);
        resolve(ws);
      });
    });
  }

  /** Relays the client's upgrade as it is; the next hops negotiate with the client directly. */
  async function relay(ctx: UpgradeContext, url: URL): Promise<void> {
    const up = await dial(url, ctx.req.method ?? 'GET', upgradeRequestHeaders(ctx.req.headers, ctx.req.rawHeaders));
    writeResponseHead(ctx.socket, 101, upgradeResponseHeaders(up.rawHeaders));
    if (ctx.head.length) ctx.socket.unshift(ctx.head);
    await splice(ctx.socket, up.socket);
  }

  async function remoteCommand(ctx: UpgradeContext, url: URL, flags: StreamFlags): Promise<void> {
    const up = await dial(url, 'POST', { Connection: 'Upgrade', Upgrade: SPDY_31, [STREAM_PROTOCOL_HEADER]: [V4_CHANNEL] });
    const protocol = String(up.headers['x-stream-protocol-version'] ?? V4_CHANNEL);
    const session = new SpdySession(up.socket, { role: 'client', replyTimeoutMs: timeoutMs });
    let streams: RemoteCommandStreams;
    try {
      streams = await openRemoteCommandStreams(session, flags);
    } catch (err) {
      session.destroy();
      throw new StatusError(500, 'InternalError', `Internal error occurred: error creating the streams to the node agent: ${streamError(err)}`);
    }
    let ws: WebSocket;
    try {
      ws = await acceptWebSocket(ctx, V5_CHANNEL);
    } catch {
      session.destroy();
      return;
    }
    await bridgeV5(ws, session, streams, protocol);
  }

  async function portForwardTunnel(ctx: UpgradeContext, url: URL): Promise<void> {
    const up = await dial(url, 'POST', { Connection: 'Upgrade', Upgrade: SPDY_31, [STREAM_PROTOCOL_HEADER]: [PORT_FORWARD_PROTOCOL] });
    let ws: WebSocket;
    try {
      ws = await acceptWebSocket(ctx, PORT_FORWARD_TUNNEL_PROTOCOL);
    } catch {
      up.socket.destroy();
      return;
    }
    const tunnel = createWebSocketStream(ws);
    tunnel.on('error', () => undefined);
    await splice(tunnel, up.socket);
  }

  return {
    async proxy(ctx: SubresourceContext): Promise<void> {
      await proxyHttp(ctx, await resolveProxy(ctx.registry, ctx.info, proxyOpts), timeoutMs);
    },

    async serve(ctx: SubresourceContext, pod: Pod): Promise<void> {
      if (ctx.info.subresource !== 'log') throw badRequest('Upgrade request required');
      if (ctx.req.method !== 'GET') throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const container = logContainerName(pod, ctx.query.get('container'));
      checkLogsAvailable(pod, container, queryFlag(ctx.query, 'previous'));
      const ep = await locate(pod.spec!.nodeName!, ctx.registry);
      const q = new URLSearchParams();
      for (const k of LOG_FLAGS) if (queryFlag(ctx.query, k)) q.set(k, 'true');
      for (const k of LOG_PARAMS) {
        const v = ctx.query.get(k);
        if (v !== null) q.set(k, v);
      }
      const url = agentUrl(ep, `/containerLogs/${seg(ctx.info.namespace)}/${seg(ctx.info.name)}/${seg(container)}`, q);
      await proxyLogs(ctx, url, queryFlag(ctx.query, 'insecureSkipTLSVerifyBackend'));
    },

    close(): void {
      for (const s of [...live]) s.destroy();
    },

    // Every dial (logs, exec, proxy) reads these fields when it starts.
    setClientCertificate(cert: string, key: string): void {
      tls.cert = cert;
      tls.key = key;
    },

    async upgrade(ctx: UpgradeContext): Promise<void> {
      ctx.socket.on('error', () => undefined);
      live.add(ctx.socket);
      ctx.socket.once('close', () => live.delete(ctx.socket));
      try {
        const sub = ctx.info.subresource;
        if (ctx.registry.lookup(ctx.info.group, ctx.info.version, ctx.info.resource)?.kind.subresources[sub]?.proxy) {
          return await proxyUpgrade(ctx, await resolveProxy(ctx.registry, ctx.info, proxyOpts), timeoutMs);
        }
        if (sub !== 'exec' && sub !== 'attach' && sub !== 'portforward') throw badRequest(`${sub || 'pods'} does not support an upgrade`);
        const pod = await podOf(ctx);
        const nodeName = pod.spec?.nodeName;
        if (!nodeName) throw badRequest(`pod ${ctx.info.name} does not have a host assigned`);
        const ep = await locate(nodeName, ctx.registry);
        const isWebSocket = String(ctx.req.headers.upgrade ?? '').toLowerCase() === 'websocket';
        const ns = seg(ctx.info.namespace);
        const name = seg(ctx.info.name);
        if (sub === 'portforward') {
          const url = agentUrl(ep, `/portForward/${ns}/${name}`, isWebSocket ? new URLSearchParams(ctx.query) : undefined);
          if (isWebSocket && offered(ctx.req).includes(PORT_FORWARD_TUNNEL_PROTOCOL)) return await portForwardTunnel(ctx, url);
          return await relay(ctx, url);
        }
        const container = streamContainerName(pod, ctx.query.get('container'));
        const flags = flagsOf(ctx.query);
        const q = new URLSearchParams();
        if (sub === 'exec') {
          const command = ctx.query.getAll('command');
          if (command.length === 0) throw badRequest('you must specify at least one command for the container');
          for (const c of command) q.append('command', c);
        }
        if (flags.stdin) q.set('input', '1');
        if (flags.stdout) q.set('output', '1');
        if (flags.stderr) q.set('error', '1');
        if (flags.tty) q.set('tty', '1');
        if (!flags.stdin && !flags.stdout && !flags.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
        const url = agentUrl(ep, `/${sub}/${ns}/${name}/${seg(container)}`, q);
        if (isWebSocket && offered(ctx.req).includes(V5_CHANNEL)) return await remoteCommand(ctx, url, flags);
        return await relay(ctx, url);
      } catch (err) {
        failUpgrade(ctx.socket, err);
      }
    },
  };

  /** skipVerify: PodLogOptions.insecureSkipTLSVerifyBackend, the agent's serving certificate is not checked (the client certificate is still presented). */
  function proxyLogs(ctx: SubresourceContext, url: URL, skipVerify: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const up = https.get(url, { ...tls, rejectUnauthorized: !skipVerify, agent: false, timeout: timeoutMs }, (res) => {
        up.setTimeout(0);
        if (res.statusCode !== 200) {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => reject(refusal(res.statusCode ?? 502, Buffer.concat(parts))));
          res.on('error', (err) => reject(logsError(err, url)));
          return;
        }
        ctx.res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
        ctx.res.flushHeaders();
        res.pipe(ctx.res);
        res.on('end', () => resolve());
        res.on('error', () => {
          ctx.res.destroy();
          resolve();
        });
      });
      up.on('timeout', () => up.destroy(timedOut(`no answer from the node agent within ${timeoutMs} ms`)));
      up.on('error', (err) => {
        if (ctx.res.headersSent) {
          ctx.res.destroy();
          resolve();
        } else reject(logsError(err, url));
      });
      // kubectl stopped reading (Ctrl-C on logs -f): stop the agent's stream too.
      ctx.res.on('close', () => {
        up.destroy();
        resolve();
      });
    });
  }
}
