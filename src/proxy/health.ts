// The proxy's health, served over HTTP as kube-proxy serves it (pkg/proxy/healthcheck):
//
//  - ProxyHealth: kube-proxy's ProxyHealthServer state. The proxy is healthy unless a change has been
//    waiting longer than the timeout for a successful sync (a table that cannot be programmed).
//  - ServiceHealthServer: for each LoadBalancer Service with externalTrafficPolicy Local, an HTTP
//    listener on spec.healthCheckNodePort (all of the node's addresses) that answers 200 while this
//    node has a ready endpoint of the Service and the proxy is healthy, 503 otherwise, so an external
//    load balancer sends traffic only to nodes that keep it local. A port that cannot be bound is
//    reported once (kube-proxy's FailedToStartServiceHealthcheck event on the Service) and retried
//    with backoff; it never stops the proxy.
//  - ProxyHealthzServer: kube-proxy's own /healthz and /livez (default 0.0.0.0:10256), which load
//    balancers probe for Services with externalTrafficPolicy Cluster. Served because it is cheap (the
//    same state as serviceProxyHealthy, one listener) and what those balancers and users' monitoring
//    expect of a node. Deviation: nodeEligible is always true (kube-proxy turns it false for a Node being
//    deleted or tainted ToBeDeletedByClusterAutoscaler; the proxy does not watch its Node).
//
// All of it is driven from the proxier's one sync at a time and from HTTP requests; nothing here blocks.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Clock, Timer } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import type { HealthCheck } from './model.ts';

/** kube-proxy's health timeout: twice its default 30 s --sync-period. */
export const HEALTH_TIMEOUT_MS = 60_000;
/** kube-proxy's --healthz-bind-address default. */
export const DEFAULT_HEALTHZ_ADDRESS = '0.0.0.0:10256';
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** kube-proxy retries its healthz server every 5 s (wait.Until). */
const HEALTHZ_RETRY_MS = 5000;

export class ProxyHealth {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #lastUpdated: number | undefined;
  #oldestPending: number | undefined;

  constructor(clock: Clock = realClock, timeoutMs = HEALTH_TIMEOUT_MS) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** A change is waiting for a sync (kube-proxy's QueuedUpdate): keeps the oldest. */
  queued(): void {
    this.#oldestPending ??= this.#clock.now();
  }

  /** The table reflects every change seen (kube-proxy's Updated). */
  updated(): void {
    this.#oldestPending = undefined;
    this.#lastUpdated = this.#clock.now();
  }

  /** Healthy while starting up, fully synced, or with a change pending for less than the timeout. */
  status(): { healthy: boolean; lastUpdated: number | undefined } {
    const late = this.#lastUpdated !== undefined && this.#oldestPending !== undefined && this.#clock.now() - this.#oldestPending >= this.#timeoutMs;
    return { healthy: !late, lastUpdated: this.#lastUpdated };
  }
}

/** The Service a health check port belongs to, for its events. */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** Where the health servers report what they could not do (the agent wires events on the Service). */
export interface HealthEvents {
  /** A Warning event on the Service; best effort, never throws. */
  serviceWarning(svc: ServiceRef, reason: string, message: string): void;
}

/** What the proxier calls after each successful sync; one call at a time. */
export interface ServiceHealthSync {
  /**
   * The health checks of the given Services (undefined: none now). `full`: the map holds every
   * Service, and those it does not name are closed.
   */
  sync(checks: ReadonlyMap<string, HealthCheck | undefined>, full: boolean): void;
}

export interface ServiceHealthOptions {
  /** The node's name, as kube-proxy's hostname in its messages. */
  readonly nodeName: string;
  readonly health: ProxyHealth;
  /** The address to listen on (default all of the node's IPv4 addresses, as kube-proxy without --nodeport-addresses). */
  readonly host?: string;
  readonly clock?: Clock;
  readonly events?: HealthEvents;
  readonly onError?: (err: Error) => void;
}

interface Entry {
  readonly key: string;
  readonly ref: { namespace: string; name: string; uid?: string };
  readonly port: number;
  localEndpoints: number;
  server: Server | undefined;
  retry: Timer | undefined;
  backoffMs: number;
  reported: boolean;
  closed: boolean;
}

export class HealthError extends Error {
  readonly code = 'ERR_PROXY_HEALTH';
  constructor(message: string) {
    super(message);
    this.name = 'HealthError';
  }
}

// How Go's net.Listen words the errors a bind meets, for messages that read as kube-proxy's.
const GO_BIND_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

function listenError(err: NodeJS.ErrnoException, host: string, port: number): string {
  const go = err.code ? GO_BIND_ERRORS[err.code] : undefined;
  return go ? `listen tcp ${host}:${port}: bind: ${go}` : err.message;
}

/** Listens; resolves with the error instead of throwing (a port in use is an expected outcome). */
function listen(server: Server, host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException): void => resolve(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      // A later socket error must not become an uncaught 'error' event.
      server.on('error', () => {});
      resolve(undefined);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function sendJSON(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** kube-proxy's health check body, byte for byte (a dedented, tab-indented JSON document without a final newline). */
export function serviceHealthBody(namespace: string, name: string, localEndpoints: number, proxyHealthy: boolean): string {
  return `{\n\t"service": {\n\t\t"namespace": ${JSON.stringify(namespace)},\n\t\t"name": ${JSON.stringify(name)}\n\t},\n\t"localEndpoints": ${localEndpoints},\n\t"serviceProxyHealthy": ${proxyHealthy}\n}`;
}

export class ServiceHealthServer implements ServiceHealthSync {
  readonly #o: ServiceHealthOptions;
  readonly #clock: Clock;
  readonly #host: string;
  readonly #entries = new Map<string, Entry>();
  readonly #opening = new Set<Promise<void>>();
  #stopped = false;

  constructor(o: ServiceHealthOptions) {
    this.#o = o;
    this.#clock = o.clock ?? o.health.clock;
    this.#host = o.host ?? '0.0.0.0';
  }

  sync(checks: ReadonlyMap<string, HealthCheck | undefined>, full: boolean): void {
    if (this.#stopped) return;
    if (full) for (const key of [...this.#entries.keys()]) if (!checks.get(key)) this.#close(key);
    for (const [key, hc] of checks) {
      if (!hc) {
        this.#close(key);
        continue;
      }
      const e = this.#entries.get(key);
      if (e && e.port === hc.port) {
        e.localEndpoints = hc.localEndpoints;
        e.ref.uid = hc.uid;
        continue;
      }
      if (e) this.#close(key);
      const slash = key.indexOf('/');
      const entry: Entry = {
        key,
        ref: { namespace: key.slice(0, slash), name: key.slice(slash + 1), uid: hc.uid },
        port: hc.port,
        localEndpoints: hc.localEndpoints,
        server: undefined,
        retry: undefined,
        backoffMs: 0,
        reported: false,
        closed: false,
      };
      this.#entries.set(key, entry);
      this.#track(entry);
    }
  }

  /** Ports listened on, by Service key (tests and diagnostics). */
  listening(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, e] of this.#entries) if (e.server) out.set(k, e.port);
    return out;
  }

  /** Resolves once every bind attempt started so far has succeeded or failed. */
  async idle(): Promise<void> {
    while (this.#opening.size > 0) await Promise.all([...this.#opening]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.idle();
    const servers: Server[] = [];
    for (const e of this.#entries.values()) {
      e.closed = true;
      e.retry?.cancel();
      if (e.server) servers.push(e.server);
    }
    this.#entries.clear();
    await Promise.all(servers.map(close));
  }

  #close(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    e.closed = true;
    e.retry?.cancel();
    if (e.server) void close(e.server);
  }

  #track(e: Entry): void {
    const p = this.#open(e).finally(() => this.#opening.delete(p));
    this.#opening.add(p);
  }

  async #open(e: Entry): Promise<void> {
    const server = createServer((req, res) => this.#serve(e, req, res));
    const err = await listen(server, this.#host, e.port);
    if (e.closed) {
      if (!err) await close(server);
      return;
    }
    if (!err) {
      e.server = server;
      e.backoffMs = 0;
      return;
    }
    if (!e.reported) {
      // Said once per Service and port, not on every retry.
      e.reported = true;
      const msg = `node ${this.#o.nodeName} failed to start healthcheck ${JSON.stringify(e.key)} on port ${e.port}: ${listenError(err, this.#host, e.port)}`;
      this.#o.events?.serviceWarning(e.ref, 'FailedToStartServiceHealthcheck', msg);
      this.#o.onError?.(new HealthError(msg));
    }
    e.backoffMs = Math.min(RETRY_MAX_MS, e.backoffMs ? e.backoffMs * 2 : RETRY_MIN_MS);
    e.retry = this.#clock.setTimeout(() => {
      e.retry = undefined;
      if (!e.closed) this.#track(e);
    }, e.backoffMs);
  }

  // Every method and path gets the answer, as kube-proxy's handler.
  #serve(e: Entry, _req: IncomingMessage, res: ServerResponse): void {
    const healthy = this.#o.health.status().healthy;
    sendJSON(res, e.localEndpoints > 0 && healthy ? 200 : 503, serviceHealthBody(e.ref.namespace, e.ref.name, e.localEndpoints, healthy));
  }
}

// Go's time.Time.String() of a time.Now() value, as kube-proxy's %q prints it: UTC, fractional seconds
// without trailing zeros, and the monotonic reading (seconds since the process started).
const PROCESS_START_MS = Date.now() - performance.now();

export function goTimeString(ms: number | undefined, monotonic = true): string {
  if (ms === undefined) return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const frac = d.getUTCMilliseconds() ? `.${p(d.getUTCMilliseconds(), 3).replace(/0+$/, '')}` : '';
  const base = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${frac} +0000 UTC`;
  if (!monotonic) return base;
  const mono = Math.round((ms - PROCESS_START_MS) * 1e6); // ns
  const sign = mono < 0 ? '-' : '+';
  const abs = Math.abs(mono);
  return `${base} m=${sign}${Math.floor(abs / 1e9)}.${p(abs % 1e9, 9)}`;
}

export interface ProxyHealthzOptions {
  readonly health: ProxyHealth;
  /** `host:port` (kube-proxy's --healthz-bind-address). */
  readonly address: string;
  readonly onError?: (err: Error) => void;
}

/** kube-proxy's /healthz and /livez; a failed bind is reported once and retried every 5 s. */
export class ProxyHealthzServer {
  readonly #o: ProxyHealthzOptions;
  readonly #host: string;
  readonly #port: number;
  #server: Server | undefined;
  #retry: Timer | undefined;
  #reported = false;
  #stopped = false;

  constructor(o: ProxyHealthzOptions) {
    this.#o = o;
    const colon = o.address.lastIndexOf(':');
    this.#host = o.address.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
    this.#port = Number(o.address.slice(colon + 1));
  }

  /** Starts listening (or retrying in the background); resolves with whether it listens now. */
  async start(): Promise<boolean> {
    if (this.#stopped) return false;
    const server = createServer((req, res) => this.#serve(req, res));
    const err = await listen(server, this.#host, this.#port);
    if (this.#stopped) {
      if (!err) await close(server);
      return false;
    }
    if (!err) {
      this.#server = server;
      return true;
    }
    if (!this.#reported) {
      this.#reported = true;
      this.#o.onError?.(new HealthError(`failed to start proxy healthz on ${this.#o.address}: ${listenError(err, this.#host, this.#port)} (retrying every ${HEALTHZ_RETRY_MS / 1000} s)`));
    }
    this.#retry = this.#o.health.clock.setTimeout(() => void this.start(), HEALTHZ_RETRY_MS);
    return false;
  }

  /** The bound port (0 requested: the one the kernel chose), undefined while not listening. */
  get port(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#retry?.cancel();
    if (this.#server) await close(this.#server);
    this.#server = undefined;
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      // Go's ServeMux for an unregistered path.
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('404 page not found\n');
      return;
    }
    const { healthy, lastUpdated } = this.#o.health.status();
    const now = this.#o.health.clock.now();
    // A healthy answer reports lastUpdated as now (kube-proxy keeps that older meaning for compatibility).
    const last = goTimeString(healthy ? now : lastUpdated, (healthy ? now : lastUpdated) !== undefined);
    const body = path === '/healthz'
      ? `{"lastUpdated": ${JSON.stringify(last)},"currentTime": ${JSON.stringify(goTimeString(now))}, "nodeEligible": true}`
      : `{"lastUpdated": ${JSON.stringify(last)},"currentTime": ${JSON.stringify(goTimeString(now))}}`;
    sendJSON(res, healthy ? 200 : 503, body);
  }
}
