// A tiny in-memory API server for one resource (pods), for testing the client and informers without the
// real server: an event log with etcd-like revisions, paginated lists, watches that replay from a
// revision and then stream, compaction (410 Expired), and knobs to drop connections or fail requests.
// Test-only; plain HTTP on 127.0.0.1, port 0.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { queryFlag } from '../../api/queryparams.ts';

export interface FakeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface LogEntry {
  rev: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: FakeObject;
}

export interface RecordedRequest {
  kind: 'list' | 'watch';
  query: Record<string, string>;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  #server = http.createServer((req, res) => this.#handle(req, res));
  #objects = new Map<string, FakeObject>();
  #log: LogEntry[] = [];
  #rev = 100;
  #compacted = 0;
  #watchers = new Set<http.ServerResponse>();
  #failures: number[] = [];
  #watchWaiters: Array<() => void> = [];
  #url = '';

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#url;
  }

  get url(): string {
    return this.#url;
  }

  async stop(): Promise<void> {
    for (const w of this.#watchers) w.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  get revision(): number {
    return this.#rev;
  }

  get openWatches(): number {
    return this.#watchers.size;
  }

  /** Resolves when `n` watches are open (event-driven, no polling). */
  async waitForWatches(n: number): Promise<void> {
    while (this.#watchers.size < n) await new Promise<void>((r) => this.#watchWaiters.push(r));
  }

  count(kind: 'list' | 'watch'): number {
    return this.requests.filter((r) => r.kind === kind).length;
  }

  /** Writes an object (ADDED or MODIFIED); `silent` records it without telling open watches. */
  put(name: string, extra: Record<string, unknown> = {}, options: { silent?: boolean } = {}): FakeObject {
    const rev = ++this.#rev;
    const existed = this.#objects.has(name);
    const obj: FakeObject = { ...extra, metadata: { name, namespace: 'default', resourceVersion: String(rev) } };
    this.#objects.set(name, obj);
    this.#append({ rev, type: existed ? 'MODIFIED' : 'ADDED', object: obj }, options.silent);
    return obj;
  }

  remove(name: string, options: { silent?: boolean } = {}): void {
    const old = this.#objects.get(name);
    if (!old) throw new Error(`no ${name}`);
    const rev = ++this.#rev;
    this.#objects.delete(name);
    this.#append({ rev, type: 'DELETED', object: { ...old, metadata: { ...old.metadata, resourceVersion: String(rev) } } }, options.silent);
  }

  /** Forgets history up to now: watches from older revisions get 410. */
  compact(): void {
    this.#compacted = this.#rev;
    this.#log = [];
  }

  /** Sends a 410 ERROR event to every open watch and ends them (as the real server does). */
  expireWatches(): void {
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', message: 'too old resource version', code: 410 };
    for (const w of this.#watchers) w.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
    this.#watchers.clear();
  }

  /** Cuts every open watch connection (a network failure, not a clean end). */
  dropWatches(): void {
    for (const w of this.#watchers) w.socket?.destroy();
    this.#watchers.clear();
  }

  /** Ends every open watch cleanly (a server-side timeout). */
  endWatches(): void {
    for (const w of this.#watchers) w.end();
    this.#watchers.clear();
  }

  bookmark(): void {
    const ev = JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rev) } } }) + '\n';
    for (const w of this.#watchers) w.write(ev);
  }

  /** The next request (list or watch) answers with this HTTP status. */
  failNext(code: number): void {
    this.#failures.push(code);
  }

  #append(entry: LogEntry, silent = false): void {
    this.#log.push(entry);
    if (silent) return;
    const line = JSON.stringify({ type: entry.type, object: entry.object }) + '\n';
    for (const w of this.#watchers) w.write(line);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const watch = queryFlag(url.searchParams, 'watch');
    this.requests.push({ kind: watch ? 'watch' : 'list', query });
    const fail = this.#failures.shift();
    if (fail !== undefined) return this.#status(res, fail, fail === 410 ? 'Expired' : 'InternalError', 'injected failure');
    if (url.pathname !== '/api/v1/namespaces/default/pods' && url.pathname !== '/api/v1/pods') return this.#status(res, 404, 'NotFound', 'not found');
    if (watch) return this.#watch(res, query.resourceVersion);
    this.#list(res, query);
  }

  #list(res: http.ServerResponse, query: Record<string, string>): void {
    const all = [...this.#objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    // The continue token is "<snapshot rev>:<offset>"; the snapshot is approximated by the current
    // objects, which is what the informer tests need (no writes during a paginated list).
    let rv = String(this.#rev);
    let offset = 0;
    if (query.continue) {
      const [r, o] = query.continue.split(':');
      rv = r;
      offset = Number(o);
    }
    const limit = query.limit ? Number(query.limit) : all.length;
    const items = all.slice(offset, offset + limit);
    const metadata: Record<string, string> = { resourceVersion: rv };
    if (offset + limit < all.length) metadata.continue = `${rv}:${offset + limit}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata, items }));
  }

  #watch(res: http.ServerResponse, rvText: string | undefined): void {
    const from = Number(rvText ?? '0');
    if (from > 0 && from < this.#compacted) return this.#status(res, 410, 'Expired', `too old resource version: ${from} (${this.#compacted})`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    if (from === 0) {
      for (const obj of this.#objects.values()) res.write(JSON.stringify({ type: 'ADDED', object: obj }) + '\n');
    } else {
      for (const e of this.#log) if (e.rev > from) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
    }
    this.#watchers.add(res);
    res.on('close', () => this.#watchers.delete(res));
    const waiters = this.#watchWaiters;
    this.#watchWaiters = [];
    for (const w of waiters) w();
  }

  #status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, code }));
  }
}
