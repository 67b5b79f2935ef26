// The Backend on a real etcd v3 cluster, through the `etcd3` client: how several API servers
// share one store, and how tinykube grows past one machine.
//
// Callers: the generic registry store, concurrently, as for every Backend. etcd serialises the
// writes; nothing here holds state that a second API server on the same etcd could contradict,
// except the two hints noted below (the newest revision seen, the lowest compacted revision
// known), which only ever move forward and are re-checked against etcd when they matter.
//
// Mapping. create = a transaction comparing createRevision == 0; update and delete compare
// modRevision (and existence, as etcd reads a missing key's modRevision as 0); a failed comparison
// reads the key in the same transaction so the error carries the current value. A refused write
// commits no operation, so it uses no revision, as the contract wants. Lists are ranges at a
// revision; etcd's `count` is the number of keys in the whole requested range, so `remaining` of
// a page is that count minus the page, without another request. Watches: see etcd-watch.ts.
//
// Keys live under a cluster prefix (EtcdBackendOptions.prefix, or the path of the endpoint URLs
// in a store spec: "etcd:http://10.0.0.1:2379/tinykube-a"), so clusters can share an etcd.
// Compaction and the revision counter are etcd's and so are shared by those clusters: one
// cluster's compactor compacts for all (each compacts only history older than its own interval).

import { Etcd3, type IKeyValue, type IOptions, type IResponseHeader } from 'etcd3';
import type { Backend, KeyValue, ListOptions, ListResult, WatchCallbacks, Watcher } from '../backend.ts';
import {
  BackendClosedError,
  checkRequestSize,
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RequestTooLargeError,
  RevisionMismatchError,
  StorageError,
} from '../errors.ts';
import { EtcdKeys, type ByteRange } from './keys.ts';
import { EtcdWatcher, kvOf, type WatchHost, type WatchRetry } from './etcd-watch.ts';

export interface EtcdBackendOptions {
  /** Prepended to every key ("/tinykube-a"); "" (the default) stores keys as they are ("/registry/..."). */
  prefix?: string;
  /** TLS material for https endpoints (PEM); without it https endpoints use the system roots. */
  credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer };
  /** etcd user authentication. */
  auth?: { username: string; password: string };
  /** Deadline of each unary call; a call to an unreachable etcd fails after it. Default 30 s. */
  callTimeoutMs?: number;
  /** Keys per range request of an unlimited list (default 5000). */
  listChunk?: number;
  /** Reopening of broken watch streams (an etcd restart or failover resumes watches without a gap). */
  watchRetry?: Partial<WatchRetry>;
}

/** An etcd request failed for a reason other than the contract's outcomes (unreachable, auth...). */
export class EtcdRequestError extends StorageError {
  constructor(op: string, cause: unknown) {
    super('ERR_STORAGE_ETCD', '', `etcd ${op} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.cause = cause;
  }
}

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

/**
 * A per-endpoint policy that lets every call through. etcd3's default opens a circuit breaker on an
 * endpoint after three "recoverable" failures in a row and then refuses every call to it for 5 s,
 * even once etcd is back. Healthy members count such failures too (the CANCELLED of a watch stream
 * this backend ends, a follower's "request timed out" during an election): with one of three
 * members SIGKILLed under load, all three breakers were seen open at once and every call failed for
 * seconds (test/e2e/ha-control-plane.test.ts). Without breakers a dead member fails a call at once
 * (no connection) and safeRetry sends it to the next.
 */
export const passThrough: HostPolicy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
  async execute(fn, signal) {
    return fn({ signal: signal ?? new AbortController().signal });
  },
};

/**
 * Whether a failed call provably never reached etcd: no connection to the member was made. Only such
 * calls are sent again, as etcd's Go client does for mutations (isSafeRetryMutableRPC: "there is no
 * connection available"). etcd3's default retries any "recoverable" error, etcd's "request timed out"
 * included, whose write may have been applied: a create sent again then meets its own key and the
 * API server answers AlreadyExists for an object it did create (seen when the raft leader died).
 */
export function neverSent(err: unknown): boolean {
  return err instanceof Error && /\bUNAVAILABLE\b/.test(err.message) && /No connection established|ECONNREFUSED/.test(err.message);
}

/** etcd3's client-wide policy: a call that never left is tried on the next member, up to `attempts` times in all. */
export function safeRetry(attempts: number): HostPolicy {
  return {
    _altReturn: undefined as never,
    onSuccess: () => ({ dispose() {} }),
    onFailure: () => ({ dispose() {} }),
    async execute(fn, signal) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn({ signal: signal ?? new AbortController().signal });
        } catch (err) {
          if (attempt >= attempts || !neverSent(err)) throw err;
        }
      }
    },
  };
}

const DEFAULT_WATCH_RETRY: WatchRetry = { initialDelayMs: 100, maxDelayMs: 2000, giveUpAfterMs: 30_000 };

// etcd's own check, or gRPC's before it for requests over the limit by more than 512 KiB.
const isTooLarge = (err: unknown) => err instanceof Error && /request is too large|received message larger than max/.test(err.message);
const isCompacted = (err: unknown) => err instanceof Error && err.message.includes('required revision has been compacted');
const isFuture = (err: unknown) => err instanceof Error && err.message.includes('required revision is a future revision');

export class EtcdBackend implements Backend {
  readonly name = 'etcd';
  readonly endpoints: readonly string[];
  readonly keys: EtcdKeys;
  readonly #client: Etcd3;
  readonly #watchers = new Set<EtcdWatcher>();
  readonly #watchRetry: WatchRetry;
  readonly #listChunk: number;
  readonly #host: WatchHost;
  /** The newest revision seen in any response: "now" for a watch from 0. */
  #seen = 0;
  /** Every revision below this is known to be compacted (the floor only rises, in etcd too). */
  #compactedFloor = 0;
  #closed = false;

  constructor(endpoints: string[], opts: EtcdBackendOptions = {}) {
    if (endpoints.length === 0) throw new StorageError('ERR_STORAGE_BAD_SPEC', '', 'etcd: no endpoints given');
    this.endpoints = endpoints;
    this.keys = new EtcdKeys(opts.prefix ?? '');
    this.#watchRetry = { ...DEFAULT_WATCH_RETRY, ...opts.watchRetry };
    this.#listChunk = Math.max(1, opts.listChunk ?? 5000);
    const timeout = opts.callTimeoutMs ?? 30_000;
    const options: IOptions = {
      hosts: endpoints,
      // Watch responses carry a value and its previous value, each up to etcd's request limit
      // (1.5 MiB by default), and batch many events: gRPC's default 4 MiB receive cap is too small.
      grpcOptions: {
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
        // A dead connection under a quiet watch is only noticed by pings.
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
      },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    };
    // Each member once more than their number: a single member gets one try on a fresh connection.
    options.faultHandling = { host: () => passThrough, global: safeRetry(endpoints.length + 1) };
    if (opts.credentials) options.credentials = opts.credentials;
    if (opts.auth) options.auth = opts.auth;
    this.#client = new Etcd3(options);
    this.#host = {
      openStream: () => this.#client.watchClient.watch(),
      decodeKey: (stored) => this.keys.decode(stored),
      observe: (rev) => this.#observe(rev),
      forget: (w) => this.#watchers.delete(w),
    };
  }

  // ---- reads ----

  async get(key: string, revision?: number): Promise<KeyValue | null> {
    this.#checkOpen();
    const rev = revision && revision > 0 ? revision : 0;
    const res = await this.#call('get', rev, () => this.#client.kv.range({ key: this.keys.encode(key), revision: rev }));
    const kv = res.kvs[0];
    return kv ? kvOf(kv, key) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#checkOpen();
    const rev = opts.revision && opts.revision > 0 ? opts.revision : 0;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const range = this.keys.range(prefix, opts.startAfter);
    if (!range) {
      // Nothing to read, but the revision must still be a real one (and checked like a read).
      if (rev === 0) return { items: [], revision: await this.currentRevision(), more: false };
      await this.#call('list', rev, () => this.#client.kv.range({ key: this.keys.encode(prefix), revision: rev, count_only: true }));
      return { items: [], revision: rev, more: false };
    }
    if (limit === 0) return this.#listAll(range, rev);
    const res = await this.#call('list', rev, () =>
      this.#client.kv.range({ key: range.key, range_end: range.rangeEnd, revision: rev, limit }),
    );
    const items = res.kvs.map((kv) => kvOf(kv, this.keys.decode(kv.key)));
    // A read at an old revision still reports the head in its header.
    const at = rev || Number(res.header.revision);
    if (!res.more) return { items, revision: at, more: false };
    return { items, revision: at, more: true, remaining: Number(res.count) - items.length };
  }

  /**
   * An unlimited list, read in chunks at one revision: one response for 100k objects would be
   * hundreds of MB that etcd builds, and the client decodes, in one piece.
   */
  async #listAll(range: ByteRange, revision: number): Promise<ListResult> {
    const items: KeyValue[] = [];
    let rev = revision;
    let key = range.key;
    for (;;) {
      const res = await this.#call('list', rev, () =>
        this.#client.kv.range({ key, range_end: range.rangeEnd, revision: rev, limit: this.#listChunk }),
      );
      rev ||= Number(res.header.revision);
      for (const kv of res.kvs) items.push(kvOf(kv, this.keys.decode(kv.key)));
      if (!res.more || res.kvs.length === 0) return { items, revision: rev, more: false };
      key = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
    }
  }

  async count(prefix: string): Promise<number> {
    this.#checkOpen();
    const range = this.keys.range(prefix)!;
    const res = await this.#call('count', 0, () =>
      this.#client.kv.range({ key: range.key, range_end: range.rangeEnd, count_only: true }),
    );
    return Number(res.count);
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen();
    // A linearizable read of one key: its header holds the head revision.
    const res = await this.#call('revision', 0, () => this.#client.kv.range({ key: this.keys.encode('/'), count_only: true }));
    return Number(res.header.revision);
  }

  /**
   * etcd has no call that returns its compacted revision, but a read below it fails: the smallest
   * readable revision is found by probing reads (one when nothing was compacted since the last
   * call, a binary search otherwise). 0 when nothing was ever compacted.
   */
  async compactedRevision(): Promise<number> {
    this.#checkOpen();
    const head = await this.currentRevision();
    const probe = this.keys.encode('/');
    const readable = async (rev: number) => {
      try {
        await this.#call('compacted revision', rev, () => this.#client.kv.range({ key: probe, revision: rev, count_only: true }), false);
        return true;
      } catch (err) {
        if (isCompacted(err)) return false;
        throw err instanceof BackendClosedError ? err : new EtcdRequestError('compacted revision probe', err);
      }
    };
    let bad = Math.max(this.#compactedFloor, 1);
    if (bad >= head || (await readable(bad))) return this.#compactedFloor;
    // `bad` is unreadable and `head` readable: the floor lies in (bad, head].
    let good = head;
    while (good - bad > 1) {
      const mid = bad + Math.floor((good - bad) / 2);
      if (await readable(mid)) good = mid;
      else bad = mid;
    }
    this.#compactedFloor = Math.max(this.#compactedFloor, good);
    return good;
  }

  // ---- writes ----

  async create(key: string, value: string): Promise<number> {
    this.#checkOpen();
    checkRequestSize(key, value);
    const k = this.keys.encode(key);
    const res = await this.#call('create', 0, () =>
      this.#client.kv.txn({
        compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value, 'utf8') } }],
        failure: [],
      }),
    );
    if (!res.succeeded) throw new KeyExistsError(key);
    return Number(res.header.revision);
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    this.#checkOpen();
    checkRequestSize(key, value);
    const k = this.keys.encode(key);
    const res = await this.#call('update', 0, () =>
      this.#client.kv.txn({
        compare: [
          { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
          { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision },
        ],
        success: [{ request_put: { key: k, value: Buffer.from(value, 'utf8'), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.#refusal(key, expectedRevision, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]?.response_put?.prev_kv;
    const modRevision = Number(res.header.revision);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : modRevision, modRevision };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    this.#checkOpen();
    const k = this.keys.encode(key);
    const compare: { key: Buffer; target: 'Create' | 'Mod'; result: 'Greater' | 'Equal'; create_revision?: number; mod_revision?: number }[] = [
      { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
    ];
    if (expectedRevision !== undefined) compare.push({ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision });
    const res = await this.#call('delete', 0, () =>
      this.#client.kv.txn({
        compare,
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.#refusal(key, expectedRevision ?? 0, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (!prev) throw new KeyNotFoundError(key);
    // The contract reports a deletion with its own revision and the last value.
    return { ...kvOf(prev, key), modRevision: Number(res.header.revision) };
  }

  #refusal(key: string, expected: number, current: IKeyValue | undefined): StorageError {
    if (!current) return new KeyNotFoundError(key);
    const kv = kvOf(current, key);
    return new RevisionMismatchError(key, expected, kv.modRevision, kv);
  }

  // ---- watch ----

  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher {
    const range = this.keys.range(prefix)!;
    const floating = fromRevision <= 0;
    // "From now" is the newest revision this backend has seen, so that every write acknowledged to
    // the caller before this call is excluded and every later one included, whatever the order in
    // which etcd receives the watch and the caller's next write.
    const from = floating ? this.#seen : fromRevision;
    const w = new EtcdWatcher(this.#host, range, from, floating, cb, this.#watchRetry);
    if (this.#closed) {
      queueMicrotask(() => w.fail(new BackendClosedError()));
      return w;
    }
    this.#watchers.add(w);
    w.start();
    return w;
  }

  // ---- compaction ----

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    if (revision <= this.#compactedFloor) return;
    try {
      // physical: resolves once etcd has removed the history, as the sqlite backend does.
      await this.#client.kv.compact({ revision, physical: true });
    } catch (err) {
      if (this.#closed) throw new BackendClosedError();
      // At or below the current floor: already done (by us or by another API server).
      if (isCompacted(err)) return;
      if (isFuture(err)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw new EtcdRequestError('compact', err);
    }
    this.#compactedFloor = revision;
  }

  // ---- lifecycle ----

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#watchers]) w.fail(new BackendClosedError());
    this.#watchers.clear();
    this.#client.close();
  }

  /** Watches currently open (for tests and metrics). */
  get watcherCount(): number {
    return this.#watchers.size;
  }

  // ---- helpers ----

  #checkOpen(): void {
    if (this.#closed) throw new BackendClosedError();
  }

  #observe(revision: number): void {
    if (revision > this.#seen) this.#seen = revision;
  }

  /**
   * Runs one call, noting the revision of its header, and turns etcd's refusals of `revision`
   * into the contract's errors (with the compacted or current revision they need).
   */
  async #call<T extends { header: IResponseHeader }>(op: string, revision: number, fn: () => Promise<T>, mapRevisionErrors = true): Promise<T> {
    let res: T;
    try {
      res = await fn();
    } catch (err) {
      if (this.#closed) throw new BackendClosedError();
      if (!mapRevisionErrors) throw err;
      if (isCompacted(err)) throw new CompactedError(revision, await this.compactedRevision());
      if (isFuture(err)) throw new FutureRevisionError(revision, await this.currentRevision());
      // A member started with a lower --max-request-bytes than the check above.
      if (isTooLarge(err)) throw new RequestTooLargeError('');
      throw new EtcdRequestError(op, err);
    }
    this.#observe(Number(res.header.revision));
    return res;
  }
}

/**
 * Opens a backend on the etcd cluster at `endpoints` ("http://10.0.0.1:2379", or host:port) and
 * checks that it answers, so a wrong address fails at start-up rather than at the first request.
 */
export async function openEtcdBackend(endpoints: string[], opts?: EtcdBackendOptions): Promise<EtcdBackend> {
  const b = new EtcdBackend(endpoints, opts);
  try {
    await b.currentRevision();
  } catch (err) {
    await b.close();
    throw err;
  }
  return b;
}

/**
 * Reads the location of an "etcd:" store spec: comma-separated endpoint URLs; a path on them is
 * the cluster's key prefix ("http://a:2379/tk-a,http://b:2379/tk-a" → prefix "/tk-a"), and every
 * endpoint must name the same one.
 */
export function parseEtcdLocation(location: string): { endpoints: string[]; prefix: string } {
  const endpoints: string[] = [];
  let prefix: string | null = null;
  for (const part of location.split(',')) {
    const raw = part.trim();
    if (raw === '') continue;
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    } catch {
      throw new StorageError('ERR_STORAGE_BAD_SPEC', '', `etcd: bad endpoint "${raw}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StorageError('ERR_STORAGE_BAD_SPEC', '', `etcd: endpoint "${raw}" must be http:// or https://`);
    }
    if (url.port === '') throw new StorageError('ERR_STORAGE_BAD_SPEC', '', `etcd: endpoint "${raw}" has no port`);
    const path = decodeURIComponent(url.pathname.replace(/\/+$/, ''));
    if (prefix !== null && path !== prefix) {
      throw new StorageError('ERR_STORAGE_BAD_SPEC', '', `etcd: endpoints name different key prefixes ("${prefix}", "${path}")`);
    }
    prefix = path;
    endpoints.push(`${url.protocol}//${url.host}`);
  }
  if (endpoints.length === 0) throw new StorageError('ERR_STORAGE_BAD_SPEC', '', 'etcd: no endpoints given');
  return { endpoints, prefix: prefix ?? '' };
}

/** The registry's opener for "etcd:URL,URL". */
export function openEtcdLocation(location: string, opts?: Omit<EtcdBackendOptions, 'prefix'>): Promise<EtcdBackend> {
  const { endpoints, prefix } = parseEtcdLocation(location);
  return openEtcdBackend(endpoints, { ...opts, prefix });
}
