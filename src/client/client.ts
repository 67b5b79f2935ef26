// The HTTP client every component uses to talk to the API server: scheduler, controllers, node agent,
// simulated nodes, the CLI, tests and benchmarks. Components never reach storage (design.md).
//
// One ApiClient per process and identity is the intended use: it owns a keep-alive agent and may be
// called concurrently from anywhere. Reads and watches are idempotent; writes are not retried except
// when a kept-alive socket turned out to be closed before the request reached the server.
//
// Several servers (`servers`, or a comma-separated `server`: the API servers of one cluster, sharing
// its CA) make a client-side load balancer like k3s' agent's: requests go to one server and stay
// there while it answers; a request that cannot reach it (refused, unreachable, no connection within
// the connect timeout, or reset before any answer when the verb is idempotent) goes to the next
// one, which then becomes the one used. A write is never sent twice: only a request that provably
// never left (no connection was made) is retried for POST and PATCH. Watches fail over when they are
// opened again; an informer does that from its last resourceVersion, so no relist is needed.

import http from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import { ClientConfigError, ClientConnectTimeoutError, ClientTimeoutError, errorFromResponse } from './errors.ts';
import { readKubeconfigFile } from './kubeconfig.ts';
import type { ClientCredentials } from './kubeconfig.ts';
import { collectionPath, objectPath } from './resources.ts';
import type { ResourceRef } from './resources.ts';
import type { TokenSource } from './tokensource.ts';
import { WatchStream } from './watch.ts';
import type { Status } from '../util/status.ts';

export interface ApiClientOptions extends Omit<ClientCredentials, 'server'> {
  /** The API server's URL, or several comma-separated (see `servers`). */
  server?: string;
  userAgent?: string;
  /** Longest silence from the server during a non-streaming request (default 60 s). Watches and streams have none. */
  timeoutMs?: number;
  /** Concurrent sockets to the server (default 64); watches each hold one. */
  maxSockets?: number;
  /** TLS server name to verify instead of the URL's host (e.g. when dialing a node IP). */
  servername?: string;
  /** The cluster's API servers, tried in this order (default: `server` split at commas). */
  servers?: readonly string[];
  /** Longest wait for a TCP connection before the next server is tried (default 10 s). */
  connectTimeoutMs?: number;
  /** Every request acts as this user and these groups (Impersonate-User, Impersonate-Group). */
  impersonate?: { user: string; groups?: string[] };
  /** Supplies the bearer token of each request (a token that is renewed); replaces `token`. */
  tokenSource?: TokenSource;
}

/** Keep-alive agents one client lends another (see withTokenSource), or the control plane lends its in-process clients (loopbackTransport). */
export interface Transport {
  agent: http.Agent;
  streamAgent: http.Agent;
}

/** The metadata the client reads from objects; kubernetes-types' ObjectMeta satisfies it. */
export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
}
export interface HasMetadata {
  metadata?: ObjectMetaLike;
}

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  signal?: AbortSignal;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Changes after this version; absent or "0" also replays current objects as ADDED. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  /** Closes the watch (the iteration ends quietly). */
  signal?: AbortSignal;
}

export interface WriteOptions {
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface PatchOptions extends WriteOptions {
  subresource?: string;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  signal?: AbortSignal;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Objects are sent as JSON; strings and bytes as they are. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides the client's deadline for this request; 0 disables it. */
  timeoutMs?: number;
}

export interface RawResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An open streaming response (logs with follow, watches): read `res`, call `close()` when done. */
export interface OpenStream {
  req: ClientRequest;
  res: IncomingMessage;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
// connect(2) and resolver failures: nothing was sent, so any verb may go to the next server.
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_CLIENT_CONNECT_TIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export class ApiClient {
  /** The server option as given (with several servers, all of them, comma-separated). */
  readonly server: string;
  readonly servers: readonly string[];
  /** The kubeconfig context's namespace, or "default". */
  readonly namespace: string;
  readonly #urls: URL[];
  /** Index into #urls of the server requests go to; moves on when it cannot be reached. */
  #current = 0;
  readonly #connectTimeoutMs: number;
  readonly #secure: boolean;
  readonly #agent: http.Agent;
  /**
   * Long-lived streams (watches, followed logs) get their own sockets: a process that watches many
   * kinds (the garbage collector watches every one) would otherwise fill the request pool with
   * watches and leave its writes queued forever.
   */
  readonly #streamAgent: http.Agent;
  readonly #headers: Record<string, string | string[]>;
  readonly #timeoutMs: number;
  readonly #servername: string | undefined;
  readonly #tokenSource: TokenSource | undefined;
  readonly #options: ApiClientOptions;
  /** Whether the agents are this client's own (a derived client leaves them to its parent). */
  readonly #ownsAgents: boolean;

  constructor(options: ApiClientOptions, transport?: Transport) {
    const servers = (options.servers ?? options.server?.split(',') ?? []).map((s) => s.trim()).filter(Boolean);
    if (servers.length === 0) throw new ClientConfigError('no server URL');
    const urls = servers.map((s) => {
      let url: URL;
      try {
        url = new URL(s);
      } catch {
        throw new ClientConfigError(`invalid server URL ${JSON.stringify(s)}`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ClientConfigError(`unsupported server URL scheme ${url.protocol}`);
      return url;
    });
    if (new Set(urls.map((u) => u.protocol)).size > 1) throw new ClientConfigError('the server URLs mix http and https');
    this.#secure = urls[0].protocol === 'https:';
    // kubectl never sends credentials over plain HTTP (kubectl-wire.md §1.1); refusing loudly beats
    // dropping them silently and chasing 401s.
    if (!this.#secure && (options.token || options.tokenSource || options.certPem || options.keyPem)) {
      throw new ClientConfigError('credentials are only sent over https; the server URL is http');
    }
    if ((options.certPem === undefined) !== (options.keyPem === undefined)) {
      throw new ClientConfigError('a client certificate needs both certPem and keyPem');
    }
    this.server = options.servers || options.server === undefined ? servers.join(',') : options.server;
    this.servers = servers;
    this.namespace = options.namespace ?? 'default';
    this.#urls = urls;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#servername = options.servername;
    const makeAgent = (agentOptions: http.AgentOptions) =>
      this.#secure
        ? new https.Agent({
            ...agentOptions,
            ca: options.caPem,
            cert: options.certPem,
            key: options.keyPem,
            rejectUnauthorized: options.insecureSkipTlsVerify !== true,
            ALPNProtocols: ['http/1.1'],
          })
        : new http.Agent(agentOptions);
    this.#options = options;
    this.#ownsAgents = transport === undefined;
    this.#agent = transport?.agent ?? makeAgent({ keepAlive: true, maxSockets: options.maxSockets ?? 64, scheduling: 'lifo' });
    this.#streamAgent = transport?.streamAgent ?? makeAgent({ keepAlive: true, scheduling: 'lifo' });
    this.#headers = { 'user-agent': options.userAgent ?? 'tinykube' };
    this.#tokenSource = options.tokenSource;
    if (options.token && !options.tokenSource) this.#headers.authorization = `Bearer ${options.token}`;
    if (options.impersonate) {
      this.#headers['impersonate-user'] = options.impersonate.user;
      // One header per group, as kubectl sends --as-group (a comma inside one is part of the name).
      if (options.impersonate.groups?.length) this.#headers['impersonate-group'] = [...options.impersonate.groups];
    }
  }

  /**
   * A client that acts as `user` in `groups` (kube's impersonation, `kubectl --as --as-group`) over
   * this client's connections: the server authenticates this client's own identity, asks whether it
   * may impersonate them, and then authorizes and admits each request as them. Its close() leaves
   * the sockets to this client.
   */
  impersonating(user: string, groups: readonly string[] = [], userAgent?: string): ApiClient {
    return new ApiClient({ ...this.#options, impersonate: { user, groups: [...groups] }, userAgent: userAgent ?? this.#options.userAgent }, { agent: this.#agent, streamAgent: this.#streamAgent });
  }

  /**
   * A client for another identity over this client's connections: a bearer token travels with each
   * request, so the kept-alive sockets can be shared (kube-controller-manager's per-controller
   * clients, without a TLS handshake each). Its close() leaves the sockets to this client. A client
   * with a certificate cannot lend its connections: they would authenticate as its own user.
   */
  withTokenSource(tokenSource: TokenSource, userAgent?: string): ApiClient {
    if (this.#options.certPem) throw new ClientConfigError('a client with a certificate cannot lend its connections to another identity');
    return new ApiClient({ ...this.#options, token: undefined, tokenSource, userAgent: userAgent ?? this.#options.userAgent }, { agent: this.#agent, streamAgent: this.#streamAgent });
  }

  /** The server requests go to now (the first that answered, of several). */
  get currentServer(): string {
    return this.servers[this.#current];
  }

  /** A client from a kubeconfig file (its current context unless `context` is given). */
  static fromKubeconfig(file: string, options: { context?: string; userAgent?: string } = {}): ApiClient {
    return new ApiClient({ ...readKubeconfigFile(file, options.context), userAgent: options.userAgent });
  }

  /**
   * Uses another client certificate from now on (a node agent's rotated identity): new connections
   * present it, idle kept-alive ones are closed. Requests and watches in flight finish on their
   * connection, as client-go's rotating transport leaves them until they end.
   */
  setClientCertificate(certPem: string, keyPem: string): void {
    if (!this.#secure) throw new ClientConfigError('credentials are only sent over https; the server URL is http');
    for (const agent of [this.#agent, this.#streamAgent] as https.Agent[]) {
      agent.options.cert = certPem;
      agent.options.key = keyPem;
      for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
    }
  }

  /** Closes idle kept-alive sockets. Open watches are closed by their owners. */
  close(): void {
    if (!this.#ownsAgents) return;
    this.#agent.destroy();
    this.#streamAgent.destroy();
  }

  // --- typed verbs ---------------------------------------------------------------------------------

  async get<T>(ref: ResourceRef, namespace: string | undefined, name: string, options: { subresource?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.requestJson<T>('GET', objectPath(ref, namespace, name, options.subresource), { signal: options.signal });
  }

  async list<T>(ref: ResourceRef, namespace?: string, options: ListOptions = {}): Promise<ObjectList<T>> {
    const { signal, ...q } = options;
    return this.requestJson<ObjectList<T>>('GET', collectionPath(ref, namespace), { query: { ...q }, signal });
  }

  async create<T extends HasMetadata>(ref: ResourceRef, namespace: string | undefined, body: T, options: WriteOptions = {}): Promise<T> {
    return this.requestJson<T>('POST', collectionPath(ref, namespace), { body, query: writeQuery(options), signal: options.signal });
  }

  /** PUT of the whole object; the name comes from `body.metadata.name`. */
  async update<T extends HasMetadata>(ref: ResourceRef, namespace: string | undefined, body: T, options: WriteOptions = {}): Promise<T> {
    return this.requestJson<T>('PUT', objectPath(ref, namespace, nameOf(body)), { body, query: writeQuery(options), signal: options.signal });
  }

  /** PUT to the `status` subresource. */
  async updateStatus<T extends HasMetadata>(ref: ResourceRef, namespace: string | undefined, body: T, options: WriteOptions = {}): Promise<T> {
    return this.replaceSubresource<T, T>(ref, namespace, nameOf(body), 'status', body, options);
  }

  /** PUT to any subresource (`status`, `ephemeralcontainers`...). */
  async replaceSubresource<B, R = B>(ref: ResourceRef, namespace: string | undefined, name: string, subresource: string, body: B, options: WriteOptions = {}): Promise<R> {
    return this.requestJson<R>('PUT', objectPath(ref, namespace, name, subresource), { body, query: writeQuery(options), signal: options.signal });
  }

  /** POST to a subresource (`binding`, `eviction`). */
  async createSubresource<B, R = unknown>(ref: ResourceRef, namespace: string | undefined, name: string, subresource: string, body: B, options: WriteOptions = {}): Promise<R> {
    return this.requestJson<R>('POST', objectPath(ref, namespace, name, subresource), { body, query: writeQuery(options), signal: options.signal });
  }

  async patch<T>(ref: ResourceRef, namespace: string | undefined, name: string, type: PatchType, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const query = writeQuery(options);
    if (options.force !== undefined) query.force = options.force;
    return this.requestJson<T>('PATCH', objectPath(ref, namespace, name, options.subresource), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query,
      signal: options.signal,
    });
  }

  /** Deletes; resolves to the object (graceful deletion in progress) or a Success Status. */
  async delete<T = unknown>(ref: ResourceRef, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<T | Status> {
    return this.requestJson<T | Status>('DELETE', objectPath(ref, namespace, name), { body: deleteBody(options), signal: options.signal });
  }

  async deleteCollection(ref: ResourceRef, namespace: string | undefined, options: DeleteOptions & Omit<ListOptions, 'signal'> = {}): Promise<unknown> {
    const { labelSelector, fieldSelector, limit, continue: cont, resourceVersion, resourceVersionMatch } = options;
    return this.requestJson<unknown>('DELETE', collectionPath(ref, namespace), {
      body: deleteBody(options),
      query: { labelSelector, fieldSelector, limit, continue: cont, resourceVersion, resourceVersionMatch },
      signal: options.signal,
    });
  }

  /**
   * Opens a watch. Resolves once the server answered 200 (rejects with an ApiError otherwise, e.g. 410
   * when `resourceVersion` is too old); then iterate the stream. ERROR events are yielded, not thrown.
   */
  async watch<T>(ref: ResourceRef, namespace: string | undefined, options: WatchOptions = {}): Promise<WatchStream<T>> {
    const { signal, ...rest } = options;
    const s = await this.openStream('GET', collectionPath(ref, namespace), { query: { watch: true, ...rest }, signal });
    return new WatchStream<T>(s.req, s.res, signal);
  }

  // --- raw access ----------------------------------------------------------------------------------

  /** Sends a request and reads the whole response; never throws for HTTP error codes. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
    const { res } = await this.#send(method, path, options, options.timeoutMs ?? this.#timeoutMs);
    const body = await readBody(res, method, path);
    return { statusCode: res.statusCode ?? 0, headers: res.headers, body };
  }

  /** Sends a request and parses a JSON answer; non-2xx answers throw ApiError. */
  async requestJson<R>(method: string, path: string, options: RequestOptions = {}): Promise<R> {
    const r = await this.request(method, path, options);
    const text = r.body.toString('utf8');
    if (r.statusCode < 200 || r.statusCode > 299) throw errorFromResponse(r.statusCode, text);
    return (text === '' ? {} : JSON.parse(text)) as R;
  }

  /** Opens a streaming response (no deadline); non-2xx answers throw ApiError after reading their body. */
  async openStream(method: string, path: string, options: RequestOptions = {}): Promise<OpenStream> {
    const { req, res } = await this.#send(method, path, options, 0, this.#streamAgent);
    const code = res.statusCode ?? 0;
    if (code < 200 || code > 299) throw errorFromResponse(code, (await readBody(res, method, path)).toString('utf8'));
    return {
      req,
      res,
      close: () => {
        req.destroy();
        res.destroy();
      },
    };
  }

  // timeoutMs bounds socket inactivity while the request is in flight (headers and body), not the total
  // time: a per-request AbortSignal.timeout would leave one live timer per request for the whole
  // deadline, which adds up at benchmark rates.
  async #send(method: string, path: string, options: RequestOptions, timeoutMs: number, agent: http.Agent = this.#agent): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    let body: Buffer | undefined;
    let contentType = options.contentType;
    if (options.body !== undefined) {
      if (typeof options.body === 'string') body = Buffer.from(options.body, 'utf8');
      else if (options.body instanceof Uint8Array) body = Buffer.from(options.body);
      else {
        body = Buffer.from(JSON.stringify(options.body), 'utf8');
        contentType ??= 'application/json';
      }
    }
    const headers: Record<string, string | string[]> = { ...this.#headers, accept: options.accept ?? 'application/json', ...options.headers };
    const token = this.#tokenSource ? await this.#tokenSource.token() : undefined;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = String(body.length);
    }
    const mod = this.#secure ? https : http;
    // Each server is tried at most once per request, starting with the current one; a reused
    // kept-alive socket found closed gets one more try on the same server (it never reached it).
    let tried = 0;
    let reusedRetry = false;
    for (;;) {
      const index = this.#current;
      const url = this.#urls[index];
      const requestOptions: https.RequestOptions = {
        method,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || (this.#secure ? 443 : 80),
        path: url.pathname.replace(/\/+$/, '') + path + queryString(options.query),
        headers,
        agent,
        signal: options.signal,
      };
      if (this.#servername !== undefined) requestOptions.servername = this.#servername;
      try {
        return await new Promise((resolve, reject) => {
          let response: IncomingMessage | undefined;
          // Whether the request may have reached the server: a socket that connected (and finished
          // its TLS handshake) or a reused kept-alive one.
          let connected = false;
          let connectTimer: ReturnType<typeof setTimeout> | undefined;
          const req = mod.request(requestOptions, (res) => {
            clearTimeout(connectTimer);
            // A token the server no longer accepts (its account was deleted and made again): the source fetches another.
            if (res.statusCode === 401 && token !== undefined) this.#tokenSource?.invalidate?.(token);
            resolve({ req, res: (response = res) });
          });
          req.once('socket', (socket) => {
            if (!socket.connecting) {
              connected = true;
              return;
            }
            if (this.#urls.length > 1 && this.#connectTimeoutMs > 0) {
              connectTimer = setTimeout(() => req.destroy(new ClientConnectTimeoutError(this.servers[index], this.#connectTimeoutMs)), this.#connectTimeoutMs);
            }
            socket.once(this.#secure ? 'secureConnect' : 'connect', () => {
              connected = true;
              clearTimeout(connectTimer);
            });
          });
          if (timeoutMs > 0) {
            req.setTimeout(timeoutMs, () => {
              // Silence mid-body fails the body's reader with the same error as silence before the headers.
              const err = new ClientTimeoutError(method, path, timeoutMs);
              response?.destroy(err);
              req.destroy(err);
            });
          }
          req.on('error', (err) => {
            clearTimeout(connectTimer);
            if (response === undefined && !options.signal?.aborted) {
              const code = (err as NodeJS.ErrnoException).code ?? '';
              // Nothing was sent, or an idempotent request got no answer: another server may serve it.
              if (NOT_CONNECTED.has(code) || (!connected && isReset(err)) || (isReset(err) && IDEMPOTENT.has(method))) {
                return reject(new Unreachable(err, req.reusedSocket && isReset(err)));
              }
            }
            reject(err);
          });
          req.end(body);
        });
      } catch (err) {
        if (!(err instanceof Unreachable)) throw err;
        // A kept-alive socket the server closed meanwhile: the request never reached the server, so one
        // retry on a fresh socket is safe, on the same server.
        if (err.reusedSocket && !reusedRetry) {
          reusedRetry = true;
          continue;
        }
        if (++tried >= this.#urls.length) throw err.cause;
        // Another request may have moved on already; only the first to see this server fail moves.
        if (this.#current === index) this.#current = (index + 1) % this.#urls.length;
      }
    }
  }
}

/** A request that did not reach its server (or got no answer to an idempotent verb); `cause` is the socket error. */
class Unreachable extends Error {
  readonly reusedSocket: boolean;
  constructor(cause: unknown, reusedSocket: boolean) {
    super('server unreachable', { cause });
    this.reusedSocket = reusedSocket;
  }
}

/**
 * A whole response body. Listeners rather than `for await`: the async iterator costs a few
 * allocations and microtask hops per response, which shows at thousands of requests a second.
 */
function readBody(res: IncomingMessage, method: string, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    res.once('error', reject);
    // A socket destroyed mid-body (timeout, reset) closes the response without 'end'.
    res.once('close', () => {
      if (!res.complete) reject(new Error(`${method} ${path}: connection closed before the response was complete`));
    });
  });
}

function isReset(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function nameOf(body: HasMetadata): string {
  const name = body.metadata?.name;
  if (!name) throw new ClientConfigError('the object has no metadata.name');
  return name;
}

function writeQuery(o: WriteOptions): Record<string, QueryValue> {
  return { fieldManager: o.fieldManager, fieldValidation: o.fieldValidation, dryRun: o.dryRun ? 'All' : undefined };
}

function deleteBody(o: DeleteOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
  if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
  if (o.propagationPolicy !== undefined) body.propagationPolicy = o.propagationPolicy;
  if (o.preconditions !== undefined) body.preconditions = o.preconditions;
  if (o.dryRun) body.dryRun = ['All'];
  return body;
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') p.append(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

