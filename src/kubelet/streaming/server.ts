// The node agent's endpoints, as the kubelet serves them to the API server (which also reaches them
// for nodes/NAME/proxy/...):
//   GET  /healthz                                      "ok"
//   GET  /pods                                         a PodList of the pods bound to this node
//   GET  /stats/summary?only_cpu_and_memory            the node's Summary (../stats/summary.ts)
//   GET  /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
//   GET|POST (Upgrade) /exec/{ns}/{pod}/{container}?command=…&input=1&output=1&error=1&tty=1
//   GET|POST (Upgrade) /attach/{ns}/{pod}/{container}?input=1&output=1&error=1&tty=1
//   GET|POST (Upgrade) /portForward/{ns}/{pod}        (also /portforward)
// Logs are read from the CRI log files. exec/attach/port-forward ask the runtime for a single-use URL
// on its streaming server (containerd: 127.0.0.1, random port) and relay the upgrade there byte for
// byte, so the caller negotiates directly with containerd: SPDY/3.1 with X-Stream-Protocol-Version
// v4/v3/v2/channel.k8s.io or portforward.k8s.io, or WebSocket v4.channel.k8s.io. The kubelet calls
// this "proxy" streaming mode.
//
// HTTPS only, and only for clients with a certificate signed by the cluster CA that `authorize`
// accepts (by default the API server's kubelet-client identity or system:masters), because this
// port runs commands in containers.
//
// Built with createStreamingServer (nothing listens until listen()); requests are served
// concurrently; close() ends open streams.

import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Pod } from '../../api/types.ts';
import type { RuntimeService } from '../runtime/runtime.ts';
import { CriError } from '../runtime/errors.ts';
import { realClock, type Clock } from '../../util/clock.ts';
import { StatusError, badRequest, forbidden, internalError, notFound, unauthorized, type Status } from '../../util/status.ts';
import { dialUpgrade, rejectUpgrade, splice, upgradeRequestHeaders, upgradeResponseHeaders, writeResponseHead } from '../../util/spdy/upgrade.ts';
import { LogOptionsError, parseLogQuery, writeContainerLog, type LogOptions } from './logs.ts';
import type { PodResolver, StreamingContainer, StreamingPod } from './pods.ts';
import type { Summary } from '../stats/types.ts';
import { cpuAndMemoryOnly } from '../stats/summary.ts';

/** The CN the API server's client certificate carries toward node agents (as kubeadm names it). */
export const APISERVER_KUBELET_CLIENT_CN = 'kube-apiserver-kubelet-client';

export interface ClientIdentity {
  cn: string;
  orgs: string[];
}

export interface StreamingServerOptions {
  runtime: Pick<RuntimeService, 'exec' | 'attach' | 'portForward' | 'containerStatus'>;
  /** Root of the pod log directories, /var/log/pods in production. */
  logRoot: string;
  resolvePod: PodResolver;
  /** Serving cert/key (signed by the cluster CA) and the CA client certificates must chain to. */
  tls: { cert: string; key: string; ca: string };
  /** Which verified clients may use the endpoints. Default: CN kube-apiserver-kubelet-client or O system:masters. */
  authorize?: (client: ClientIdentity) => boolean;
  clock?: Clock;
  /** While following a log: how often to check whether the container still runs (default 1000 ms). */
  followPollMs?: number;
  /** How long to wait for the runtime's streaming server to answer the upgrade (default 30 s). */
  upgradeTimeoutMs?: number;
  /** The node's pods for GET /pods, as the kubelet's pod manager holds them; absent = /pods is not served. */
  listPods?: () => Pod[];
  /** The node's Summary for GET /stats/summary (measured with a short cache); absent = not served. */
  summary?: () => Promise<Summary>;
}

export interface StreamingServer {
  /** The HTTPS server (not listening until listen()). */
  readonly server: https.Server;
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Stops listening and ends every open log stream and relayed session. */
  close(): Promise<void>;
}

export function defaultAuthorize(c: ClientIdentity): boolean {
  return c.cn === APISERVER_KUBELET_CLIENT_CN || c.orgs.includes('system:masters');
}

type Route =
  | { kind: 'logs'; namespace: string; pod: string; container: string }
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; container: string }
  | { kind: 'portforward'; namespace: string; pod: string };

export function parseRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const [head, namespace, pod, container] = parts;
  if (!namespace || !pod) return undefined;
  switch (head) {
    case 'containerLogs':
      return parts.length === 4 ? { kind: 'logs', namespace, pod, container: container! } : undefined;
    case 'exec':
    case 'attach':
      return parts.length === 4 ? { kind: head, namespace, pod, container: container! } : undefined;
    case 'portForward':
    case 'portforward':
      return parts.length === 3 ? { kind: 'portforward', namespace, pod } : undefined;
  }
  return undefined;
}

/** stdin/stdout/stderr/tty from either the kubelet's names (input=1) or the API's (stdin=true). */
export function streamFlags(q: URLSearchParams): { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  const on = (a: string, b: string) => [q.get(a), q.get(b)].some((v) => v === '1' || v === 'true');
  return { stdin: on('input', 'stdin'), stdout: on('output', 'stdout'), stderr: on('error', 'stderr'), tty: on('tty', 'tty') };
}

function peerIdentity(socket: Duplex): ClientIdentity | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function' || tls.authorized !== true) return undefined;
  const cert: PeerCertificate = tls.getPeerCertificate();
  if (!cert || typeof cert.subject !== 'object' || cert.subject === null) return undefined;
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { cn: list(cert.subject.CN)[0] ?? '', orgs: list(cert.subject.O) };
}

function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof LogOptionsError) return badRequest(err.message);
  return internalError(err);
}

function statusBody(err: StatusError): string {
  return JSON.stringify(err.toStatus());
}

export function createStreamingServer(opts: StreamingServerOptions): StreamingServer {
  const clock = opts.clock ?? realClock;
  const authorize = opts.authorize ?? defaultAuthorize;
  const followPollMs = opts.followPollMs ?? 1000;
  const live = new Set<{ end(): void }>();

  const server = https.createServer({
    cert: opts.tls.cert,
    key: opts.tls.key,
    ca: opts.tls.ca,
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
    minVersion: 'TLSv1.2',
  });

  function authenticate(socket: Duplex): void {
    const who = peerIdentity(socket);
    if (!who) throw unauthorized();
    if (!authorize(who)) throw forbidden('nodes', '', `User "${who.cn}" cannot use the node agent's streaming endpoints`);
  }

  async function lookup(namespace: string, name: string): Promise<StreamingPod> {
    const pod = await opts.resolvePod(namespace, name);
    if (!pod) throw notFound('pods', name);
    return pod;
  }

  function containerOf(pod: StreamingPod, podName: string, container: string): StreamingContainer {
    const c = pod.containers[container];
    if (!c) throw badRequest(`container ${container} is not valid for pod ${podName}`);
    return c;
  }

  async function serveLogs(req: IncomingMessage, res: ServerResponse, r: Extract<Route, { kind: 'logs' }>, q: URLSearchParams): Promise<void> {
    const logOpts: LogOptions = parseLogQuery(q, clock.now());
    const pod = await lookup(r.namespace, r.pod);
    const c = containerOf(pod, r.pod, r.container);
    const dir = join(opts.logRoot, `${r.namespace}_${r.pod}_${pod.uid}`, r.container);
    let file: string;
    if (logOpts.previous) {
      if (c.restartCount < 1) throw badRequest(`previous terminated container "${r.container}" in pod "${r.pod}" not found`);
      file = join(dir, `${c.restartCount - 1}.log`);
    } else {
      if (!c.containerId) throw badRequest(`container "${r.container}" in pod "${r.pod}" is waiting to start: ContainerCreating`);
      file = join(dir, `${c.restartCount}.log`);
    }
    const ac = new AbortController();
    const entry = { end: () => ac.abort() };
    live.add(entry);
    res.on('close', () => ac.abort());
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const sink = (chunk: Buffer) => new Promise<void>((resolve) => {
      if (ac.signal.aborted || res.destroyed) return resolve();
      if (res.write(chunk)) resolve();
      else {
        const go = () => {
          res.off('drain', go);
          res.off('close', go);
          resolve();
        };
        res.on('drain', go);
        res.on('close', go);
      }
    });
    const containerId = c.containerId;
    try {
      await writeContainerLog(file, logOpts, sink, {
        signal: ac.signal,
        pollMs: followPollMs,
        nextFile: logOpts.previous ? undefined : join(dir, `${c.restartCount + 1}.log`),
        stillWriting: async () => {
          if (logOpts.previous || !containerId) return false;
          try {
            const s = await opts.runtime.containerStatus(containerId);
            return s.state === 'running' || s.state === 'created';
          } catch (err) {
            if (err instanceof CriError && err.code === 'ERR_CRI_NOT_FOUND') return false;
            throw err;
          }
        },
      });
    } finally {
      live.delete(entry);
      res.end();
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://agent');
    const fail = (err: unknown) => {
      const se = toStatusError(err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(se.code, { 'Content-Type': 'application/json' });
      res.end(statusBody(se));
    };
    try {
      authenticate(req.socket);
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : 'ok');
        return;
      }
      if (url.pathname === '/pods' && opts.listPods) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new StatusError(405, 'MethodNotAllowed', `method ${req.method} is not allowed`);
        const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: opts.listPods() });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (url.pathname === '/stats/summary' && opts.summary) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new StatusError(405, 'MethodNotAllowed', `method ${req.method} is not allowed`);
        const only = url.searchParams.get('only_cpu_and_memory') === 'true';
        opts.summary().then((s) => {
          const body = JSON.stringify(only ? cpuAndMemoryOnly(s) : s);
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
          res.end(req.method === 'HEAD' ? undefined : body);
        }).catch(fail);
        return;
      }
      const route = parseRoute(url.pathname);
      if (!route) throw notFound('', url.pathname);
      if (route.kind !== 'logs') throw badRequest('Upgrade request required');
      if (req.method !== 'GET') throw new StatusError(405, 'MethodNotAllowed', `method ${req.method} is not allowed`);
      serveLogs(req, res, route, url.searchParams).catch(fail);
    } catch (err) {
      fail(err);
    }
  });

  async function streamUrl(route: Exclude<Route, { kind: 'logs' }>, q: URLSearchParams): Promise<string> {
    const pod = await lookup(route.namespace, route.pod);
    if (route.kind === 'portforward') {
      if (!pod.sandboxId) throw badRequest(`pod ${route.pod} does not have a running sandbox`);
      const ports = q.getAll('port').concat(q.get('ports')?.split(',') ?? []).map(Number).filter((p) => Number.isInteger(p) && p > 0);
      return opts.runtime.portForward(pod.sandboxId, ports);
    }
    const c = containerOf(pod, route.pod, route.container);
    if (!c.containerId) throw badRequest(`container not found ("${route.container}")`);
    const flags = streamFlags(q);
    if (flags.tty && flags.stderr) flags.stderr = false;
    if (route.kind === 'exec') {
      const cmd = q.getAll('command');
      if (cmd.length === 0) throw badRequest('you must specify at least one command for the container');
      return opts.runtime.exec({ containerId: c.containerId, cmd, ...flags });
    }
    return opts.runtime.attach({ containerId: c.containerId, ...flags });
  }

  async function relay(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://agent');
    authenticate(socket);
    const route = parseRoute(url.pathname);
    if (!route || route.kind === 'logs') throw notFound('', url.pathname);
    let target: string;
    try {
      target = await streamUrl(route, url.searchParams);
    } catch (err) {
      if (err instanceof StatusError) throw err;
      throw internalError(err instanceof CriError ? `error ${route.kind === 'portforward' ? 'forwarding ports' : 'executing command in container'}: ${err.detail}` : err);
    }
    const out = await dialUpgrade({
      url: target,
      method: req.method ?? 'GET',
      headers: { ...upgradeRequestHeaders(req.headers, req.rawHeaders), 'Content-Length': '0' },
      timeoutMs: opts.upgradeTimeoutMs,
    });
    if (!out.upgraded) {
      // The runtime's own refusal (e.g. no common protocol) goes back as it came.
      rejectUpgrade(socket, out.statusCode, out.body, String(out.headers['content-type'] ?? 'text/plain'));
      return;
    }
    writeResponseHead(socket, 101, upgradeResponseHeaders(out.rawHeaders));
    if (head.length) socket.unshift(head);
    const entry = { end: () => { socket.destroy(); out.socket.destroy(); } };
    live.add(entry);
    await splice(socket, out.socket);
    live.delete(entry);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    relay(req, socket, head).catch((err: unknown) => {
      const se = toStatusError(err);
      rejectUpgrade(socket, se.code, statusBody(se));
    });
  });

  return {
    server,
    listen(port = 0, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close() {
      for (const e of [...live]) e.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export type { Status };
