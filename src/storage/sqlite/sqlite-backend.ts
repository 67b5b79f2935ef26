// The embedded store: etcd semantics on one SQLite file, in the way kine does it.
//
// Model. `log` is append-only: every write (create, update, delete) appends one row whose
// INTEGER PRIMARY KEY is the revision. A key's state at revision R is its latest row with id <= R,
// unless that row is a deletion (tombstone). `current` maps each live key to its latest row, so
// reads at the current revision (nearly all of them) are a range scan over live keys only, however
// long the history; reads at older revisions use the (name, id) index of `log`.
//
// Writes. Callers' writes are queued and committed together in one transaction at the next
// setImmediate (group commit): each write is still checked and applied in call order against the
// state the earlier ones left, so create-if-absent and compare-and-swap are exact, while one fsync
// covers every write that arrived in the same turn of the event loop. A promise resolves only after
// its transaction committed and is durable, and events are published to watchers then, so no live
// watcher ever sees an uncommitted write and no caller is acknowledged before its write is durable.
// Node runs all of this on one thread and DatabaseSync is synchronous, so a transaction is never
// interleaved with a read: readers always see committed state.
//
// Durability. WAL, and the WAL file is fsynced before any write of a transaction is acknowledged
// or published to watchers, so an acknowledged write survives kill -9 and power loss (the guarantee
// etcd gives). The fsync runs on libuv's thread pool, not in COMMIT (synchronous=NORMAL, then
// fdatasync of the -wal file): the event loop serves reads and takes the next writes meanwhile, and
// the writes that arrive during one fsync are committed and synced together after it (measured on
// `up --nodes 3`: ~190 fsyncs of ~3.4 ms each, 0.65 s, had blocked the whole API server's thread, and
// far more on a busy disk). What this gives up: a read, or a watch catching up from the log, can see a
// transaction whose fsync is still in flight, which power loss (not a process crash: the data is in
// the kernel's page cache) could still take back; its writer has not been told it succeeded.
// `synchronous: 'FULL'` keeps SQLite's own fsync inside COMMIT (nothing visible before it is durable).
// locking_mode=EXCLUSIVE: one process owns the file, because the revision counter and the watchers
// live in its memory.

import { closeSync, fdatasync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Backend, KeyValue, ListOptions, ListResult, WatchCallbacks, WatchEvent, Watcher } from '../backend.ts';
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
import { listRange, prefixEnd, type KeyRange } from '../keyrange.ts';
import { WatchHub, type HubWatcher } from './watch-hub.ts';

export interface SqliteBackendOptions {
  /**
   * How commits reach the disk (see the header). Default: fsync of the WAL off the event loop before
   * acknowledging. FULL: SQLite's fsync inside COMMIT. NORMAL: no fsync (survives kill -9, not power loss).
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** The default mode's fsync of the WAL (tests hold or fail it); node:fs fdatasync by default. */
  fdatasync?: (fd: number, done: (err: Error | null) => void) => void;
  /** Log rows read per replay step of a watch catching up (tests make it small). */
  replayChunk?: number;
  /** Log rows cleaned per compaction transaction, so compaction never blocks for long. */
  compactChunk?: number;
}

export interface SqliteStats {
  revision: number;
  compactedRevision: number;
  logRows: number;
  liveKeys: number;
  watchers: number;
  pendingWrites: number;
}

// A blob sorts after every text value in SQLite, so it bounds "no upper limit" with the same
// prepared statement as a real bound.
const UNBOUNDED = new Uint8Array(0);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS current (
  name TEXT PRIMARY KEY,
  id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** One row of `log`, as the schema guarantees its types. */
interface LogRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

interface ReplayRow extends LogRow {
  prev_value: string | null;
  prev_create_revision: number | null;
}

interface PendingWrite {
  /** Applies the write inside the open transaction as revision `rev`; throws StorageError to refuse it. */
  apply(rev: number): WatchEvent;
  resolve(): void;
  reject(err: unknown): void;
}

/** SQLite's BINARY order of TEXT is the UTF-8 bytes' order, not JavaScript's UTF-16 one. */
function utf8Before(x: string, y: string): boolean {
  return Buffer.compare(Buffer.from(x), Buffer.from(y)) < 0;
}

/** Merges two lists of rows sorted by name (column 0) with no name in both, up to `max` rows. */
function mergeByName(a: unknown[], b: unknown[], max: number): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (out.length < max && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && utf8Before((a[i] as [string])[0], (b[j] as [string])[0]))) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

function kvOf(row: LogRow): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

export class SqliteBackend implements Backend {
  readonly name = 'sqlite';
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #hub = new WatchHub();
  readonly #replayChunk: number;
  readonly #compactChunk: number;
  readonly #stmts = new Map<string, StatementSync>();
  /** Last committed revision. */
  #rev: number;
  #compacted: number;
  /** Highest revision whose superseded rows have been deleted (<= #compacted). */
  #cleaned: number;
  #cleaning: Promise<void> | null = null;
  #pending: PendingWrite[] = [];
  #flushHandle: NodeJS.Immediate | null = null;
  #closed = false;
  /** The -wal file, fsynced before acknowledging (undefined: SQLite's own synchronous setting does it, or nothing does). */
  #walFd: number | undefined;
  /** Committed transactions waiting for the fsync that makes them durable: their acknowledgement and events. */
  #unsynced: Array<{ acknowledge(): void; fail(err: Error): void }> = [];
  /** The fsync loop, while one runs. */
  #syncing: Promise<void> | null = null;
  /** A failed fsync: the store can no longer promise durability, so every later write fails. */
  #syncFailed: Error | undefined;
  readonly #fdatasync: (fd: number, done: (err: Error | null) => void) => void;

  constructor(path: string, opts: SqliteBackendOptions = {}) {
    this.path = path;
    this.#replayChunk = opts.replayChunk ?? 2000;
    this.#compactChunk = opts.compactChunk ?? 5000;
    this.#fdatasync = opts.fdatasync ?? fdatasync;
    const db = new DatabaseSync(path, { timeout: 0 });
    this.#db = db;
    try {
      // The locking mode must be set before the first access so that WAL keeps its index in heap
      // memory; the first statement that touches the file then takes the lock for good.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('PRAGMA journal_mode = WAL');
      // A file's own fsync is ours (off the event loop); an in-memory store has nothing to sync.
      const offThread = opts.synchronous === undefined && path !== ':memory:' && path !== '';
      db.exec(`PRAGMA synchronous = ${offThread ? 'NORMAL' : (opts.synchronous ?? 'FULL')}`);
      // A 150k-pod list walks a few hundred MB; a larger page cache and mmap'd reads keep it well
      // under a second without holding that much heap.
      db.exec('PRAGMA cache_size = -32768');
      db.exec('PRAGMA mmap_size = 1073741824');
      db.exec('BEGIN IMMEDIATE');
      db.exec(SCHEMA);
      db.exec('COMMIT');
      // The WAL exists from the first transaction on, and stays the same file (checkpoints reset it in place).
      if (offThread) this.#walFd = openSync(`${path}-wal`, 'r');
    } catch (err) {
      if (this.#walFd !== undefined) closeSync(this.#walFd);
      db.close();
      if (err instanceof Error && /locked|busy/i.test(err.message)) {
        throw new StorageError('ERR_STORAGE_LOCKED', '', `${path} is in use by another process (${err.message})`);
      }
      throw err;
    }
    // AUTOINCREMENT's counter survives compaction deleting the newest row (a tombstone), so the
    // revision never goes back.
    const seq = this.#stmt("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get();
    this.#rev = seq ? Number(seq.seq) : 0;
    this.#compacted = this.#meta('compact_rev');
    this.#cleaned = this.#meta('compact_cleaned');
    // Finish a compaction interrupted by a crash before anyone reads.
    while (this.#cleaned < this.#compacted) this.#cleanStep();
  }

  // ---- reads ----

  async get(key: string, revision?: number): Promise<KeyValue | null> {
    this.#checkOpen();
    const rev = this.#readRevision(revision);
    const row =
      rev === this.#rev
        ? this.#stmt('SELECT l.* FROM current c JOIN log l ON l.id = c.id WHERE c.name = ?').get(key)
        : this.#stmt('SELECT * FROM log WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1').get(key, rev);
    const r = row as unknown as LogRow | undefined;
    return r && !r.deleted ? kvOf(r) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#checkOpen();
    const rev = this.#readRevision(opts.revision);
    const range = listRange(prefix, opts.startAfter);
    if (range.empty) return { items: [], revision: rev, more: false };
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const lowerOp = range.lowerExclusive ? '>' : '>=';
    const upper = range.upper ?? UNBOUNDED;
    // One extra row tells whether more remain.
    const sqlLimit = limit > 0 ? limit + 1 : -1;
    let rows: unknown[];
    if (rev === this.#rev) {
      rows = this.#stmt(
        `SELECT l.name, l.value, l.create_revision, l.id FROM current c JOIN log l ON l.id = c.id
         WHERE c.name ${lowerOp} ? AND c.name < ? ORDER BY c.name LIMIT ?`,
        true,
      ).all(range.lower, upper, sqlLimit);
    } else {
      // The later pages of a paginated list read at its first page's revision while writes go on.
      // Keys not written since `rev` read as today (the `current` index, one row per key); only the
      // keys written since (few: as many as the writes since the first page) need their row at
      // `rev` looked up in the log. The two sets are disjoint (a key written since `rev` is gone
      // from `current` or has a newer row there) and each comes sorted: merge them by name.
      const unchanged = this.#stmt(
        `SELECT l.name, l.value, l.create_revision, l.id FROM current c JOIN log l ON l.id = c.id
         WHERE c.name ${lowerOp} ? AND c.name < ? AND c.id <= ? ORDER BY c.name LIMIT ?`,
        true,
      ).all(range.lower, upper, rev, sqlLimit);
      const changed = this.#stmt(
        `SELECT l.name, l.value, l.create_revision, l.id
         FROM (SELECT DISTINCT name FROM log ${this.#sinceScan(rev)} WHERE id > ? AND name ${lowerOp} ? AND name < ?) d
         JOIN log l ON l.id = (SELECT MAX(m.id) FROM log m WHERE m.name = d.name AND m.id <= ?)
         WHERE l.deleted = 0 ORDER BY d.name LIMIT ?`,
        true,
      ).all(rev, range.lower, upper, rev, sqlLimit);
      rows = changed.length === 0 ? unchanged : mergeByName(unchanged, changed, limit > 0 ? limit + 1 : Infinity);
    }
    const items: KeyValue[] = new Array(Math.min(rows.length, limit > 0 ? limit : rows.length));
    for (let i = 0; i < items.length; i++) {
      const r = rows[i] as [string, string, number, number];
      items[i] = { key: r[0], value: r[1], createRevision: r[2], modRevision: r[3] };
    }
    if (limit === 0 || rows.length <= limit) return { items, revision: rev, more: false };
    // Counting is linear in the rest of the range: a paginated list asking for every page would be
    // quadratic in the list's length.
    if (opts.skipRemaining) return { items, revision: rev, more: true };
    const last = items[items.length - 1].key;
    const remaining = this.#countRange({ lower: last, lowerExclusive: true, upper: range.upper, empty: false }, rev);
    return { items, revision: rev, more: true, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.#checkOpen();
    return this.#countRange(listRange(prefix), this.#rev);
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen();
    return this.#rev;
  }

  async compactedRevision(): Promise<number> {
    this.#checkOpen();
    return this.#compacted;
  }

  /**
   * How to find the keys written in a range since `rev`. SQLite's planner walks the (name, id) index
   * over the whole range, which for the later pages of a large list means every log row of every key
   * after the page (11 ms a page at 150,000 pods, 3 s for a paginated list of them all). The writes
   * since `rev` are usually far fewer (a paginated list takes a second or so): then scan the log from
   * `rev` by revision instead (NOT INDEXED leaves the rowid range); past a few ten thousand writes the
   * index wins again.
   */
  #sinceScan(rev: number): string {
    return this.#rev - rev <= 20_000 ? 'NOT INDEXED' : '';
  }

  /** Live keys in `range` at `rev`. */
  #countRange(range: KeyRange, rev: number): number {
    const lowerOp = range.lowerExclusive ? '>' : '>=';
    const upper = range.upper ?? UNBOUNDED;
    const now = Number(
      this.#stmt(`SELECT COUNT(*) AS n FROM current WHERE name ${lowerOp} ? AND name < ?`).get(range.lower, upper)!.n,
    );
    if (rev === this.#rev) return now;
    // At an older revision: start from today's count and correct it for the keys written since,
    // which costs as much as the writes since `rev` (few, for the next page of a paginated list)
    // rather than as much as the whole history of the range.
    const delta = this.#stmt(
      `SELECT COALESCE(SUM((SELECT l.deleted = 0 FROM log l WHERE l.name = d.name AND l.id <= ? ORDER BY l.id DESC LIMIT 1) IS 1)
                     - SUM(EXISTS (SELECT 1 FROM current c WHERE c.name = d.name)), 0) AS delta
       FROM (SELECT DISTINCT name FROM log ${this.#sinceScan(rev)} WHERE id > ? AND name ${lowerOp} ? AND name < ?) d`,
    ).get(rev, rev, range.lower, upper)!;
    return now + Number(delta.delta);
  }

  // ---- writes ----

  create(key: string, value: string): Promise<number> {
    return this.#enqueue(key, value, (rev) => {
      if (this.#stmt('SELECT 1 FROM current WHERE name = ?').get(key)) throw new KeyExistsError(key);
      // A key created again after a deletion links back to its tombstone, so the chain of a key's
      // rows stays whole for compaction.
      const prev = this.#stmt('SELECT MAX(id) AS id FROM log WHERE name = ?').get(key);
      const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev };
      this.#append(rev, key, 1, 0, rev, Number(prev?.id ?? 0), value);
      this.#stmt('INSERT INTO current (name, id) VALUES (?, ?)').run(key, rev);
      return { result: rev, event: { type: 'put', kv, created: true } };
    });
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.#enqueue(key, value, (rev) => {
      const cur = this.#currentRow(key);
      if (!cur) throw new KeyNotFoundError(key);
      if (cur.id !== expectedRevision) throw new RevisionMismatchError(key, expectedRevision, cur.id, kvOf(cur));
      const kv: KeyValue = { key, value, createRevision: cur.create_revision, modRevision: rev };
      this.#append(rev, key, 0, 0, cur.create_revision, cur.id, value);
      this.#stmt('UPDATE current SET id = ? WHERE name = ?').run(rev, key);
      return { result: kv, event: { type: 'put', kv, prevKv: kvOf(cur), created: false } };
    });
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.#enqueue(key, '', (rev) => {
      const cur = this.#currentRow(key);
      if (!cur) throw new KeyNotFoundError(key);
      if (expectedRevision !== undefined && cur.id !== expectedRevision) {
        throw new RevisionMismatchError(key, expectedRevision, cur.id, kvOf(cur));
      }
      const kv: KeyValue = { key, value: cur.value, createRevision: cur.create_revision, modRevision: rev };
      // The tombstone keeps no value: its previous row holds it, and compaction keeps that row for
      // as long as the tombstone can still be replayed.
      this.#append(rev, key, 0, 1, cur.create_revision, cur.id, '');
      this.#stmt('DELETE FROM current WHERE name = ?').run(key);
      return { result: kv, event: { type: 'delete', kv, prevKv: kvOf(cur), created: false } };
    });
  }

  #currentRow(key: string): LogRow | undefined {
    return this.#stmt('SELECT l.* FROM current c JOIN log l ON l.id = c.id WHERE c.name = ?').get(key) as unknown as
      | LogRow
      | undefined;
  }

  #append(id: number, name: string, created: number, deleted: number, createRev: number, prevRev: number, value: string): void {
    this.#stmt(
      'INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(id, name, created, deleted, createRev, prevRev, value);
  }

  /** Queues a write of `value` at `key` (refused at once when etcd would refuse it as too large). */
  #enqueue<T>(key: string, value: string, fn: (rev: number) => { result: T; event: WatchEvent }): Promise<T> {
    if (this.#closed) return Promise.reject(new BackendClosedError());
    if (this.#syncFailed) return Promise.reject(this.#syncFailed);
    try {
      checkRequestSize(key, value);
    } catch (err) {
      return Promise.reject(err as RequestTooLargeError);
    }
    return new Promise<T>((resolve, reject) => {
      let out: T;
      this.#pending.push({
        apply: (rev) => {
          const r = fn(rev);
          out = r.result;
          return r.event;
        },
        resolve: () => resolve(out),
        reject,
      });
      this.#flushHandle ??= setImmediate(() => this.#flush());
    });
  }

  /** Commits every queued write in one transaction, then publishes and acknowledges them. */
  #flush(): void {
    this.#flushHandle = null;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const outcomes: (StorageError | null)[] = [];
    const events: WatchEvent[] = [];
    let rev = this.#rev;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const w of batch) {
        try {
          events.push(w.apply(rev + 1));
          rev++;
          outcomes.push(null);
        } catch (err) {
          // A refused write (exists, not found, conflict) wrote nothing; the rest go on.
          if (!(err instanceof StorageError)) throw err;
          outcomes.push(err);
        }
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      // A real failure (I/O, disk full) leaves nothing committed: every write of the batch fails.
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const w of batch) w.reject(err);
      return;
    }
    this.#rev = rev;
    const acknowledge = () => {
      this.#hub.publish(events);
      batch.forEach((w, i) => {
        const e = outcomes[i];
        if (e) w.reject(e);
        else w.resolve();
      });
    };
    if (this.#walFd === undefined) return acknowledge();
    this.#unsynced.push({ acknowledge, fail: (err) => batch.forEach((w) => w.reject(err)) });
    this.#syncing ??= this.#syncLoop().finally(() => (this.#syncing = null));
  }

  /**
   * Makes the committed transactions durable, one fsync for all that committed before it started,
   * then acknowledges them in commit order; transactions committed during an fsync wait for the next.
   */
  async #syncLoop(): Promise<void> {
    while (this.#unsynced.length > 0) {
      const done = this.#unsynced;
      this.#unsynced = [];
      try {
        await new Promise<void>((resolve, reject) => this.#fdatasync(this.#walFd!, (err) => (err ? reject(err) : resolve())));
      } catch (err) {
        // As etcd and PostgreSQL treat a failed fsync: what was written may not be on the disk, and a
        // retry cannot tell. Nothing more is acknowledged; the process should be restarted.
        const failed = new StorageError('ERR_STORAGE_IO', '', `fsync of ${this.path}-wal failed: ${(err as Error).message}; restart the server`);
        this.#syncFailed = failed;
        for (const t of [...done, ...this.#unsynced.splice(0)]) t.fail(failed);
        this.#hub.failAll(failed);
        return;
      }
      for (const t of done) t.acknowledge();
    }
  }

  // ---- watch ----

  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher {
    const from = fromRevision > 0 ? fromRevision : this.#rev;
    const w = this.#hub.create(prefix, from, cb);
    if (this.#closed) {
      queueMicrotask(() => w.fail(new BackendClosedError()));
    } else if (from < this.#compacted) {
      const err = new CompactedError(from, this.#compacted);
      queueMicrotask(() => w.fail(err));
    } else if (from >= this.#rev) {
      // Nothing to replay (a future revision waits for the log to reach it, as etcd does).
      w.live = true;
    } else {
      setImmediate(() => this.#replay(w));
    }
    return w;
  }

  /** Feeds a catching-up watcher one chunk of the log, until it reaches the head and goes live. */
  #replay(w: HubWatcher): void {
    if (w.closed) return;
    if (this.#closed) return w.fail(new BackendClosedError());
    if (w.lastRevision < this.#compacted) return w.fail(new CompactedError(w.lastRevision, this.#compacted));
    const upper = prefixEnd(w.prefix) ?? UNBOUNDED;
    const to = Math.min(this.#rev, w.lastRevision + this.#replayChunk);
    const rows = this.#stmt(
      `SELECT l.*, p.value AS prev_value, p.create_revision AS prev_create_revision
       FROM log l LEFT JOIN log p ON p.id = l.prev_revision
       WHERE l.id > ? AND l.id <= ? AND l.name >= ? AND l.name < ? ORDER BY l.id`,
    ).all(w.lastRevision, to, w.prefix, upper) as unknown as ReplayRow[];
    for (const r of rows) {
      if (w.closed) return;
      w.deliver(eventOf(r));
    }
    if (w.closed) return;
    // Every committed row up to `to` has been seen; from the head on, publish() takes over in the
    // same tick, so the hand-over has neither a gap nor a repeat.
    w.lastRevision = to;
    if (to >= this.#rev) w.live = true;
    else setImmediate(() => this.#replay(w));
  }

  // ---- compaction ----

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    if (revision > this.#compacted) {
      // Reads and watches below the new floor fail from now on, before any row is gone.
      this.#setMeta('compact_rev', revision);
      this.#compacted = revision;
    }
    this.#cleaning ??= this.#cleanLoop().finally(() => {
      this.#cleaning = null;
    });
    await this.#cleaning;
  }

  async #cleanLoop(): Promise<void> {
    while (!this.#closed && this.#cleaned < this.#compacted) {
      this.#cleanStep();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Cleans one chunk of log rows (cleaned, cleaned + chunk] up to the compacted revision: every row
   * in it supersedes its previous row, which goes, and its tombstones go too. What stays is, per
   * key, the newest row at the compacted revision when the key was live then (its state there and
   * the prevKv of its next event), and everything newer.
   */
  #cleanStep(): void {
    const lo = this.#cleaned;
    const hi = Math.min(this.#compacted, lo + this.#compactChunk);
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const prevs = this.#stmt('SELECT prev_revision FROM log WHERE id > ? AND id <= ? AND prev_revision > 0', true).all(
        lo,
        hi,
      ) as unknown as [number][];
      const del = this.#stmt('DELETE FROM log WHERE id = ?');
      for (const [p] of prevs) del.run(p);
      this.#stmt('DELETE FROM log WHERE id > ? AND id <= ? AND deleted = 1').run(lo, hi);
      this.#setMeta('compact_cleaned', hi);
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
    this.#cleaned = hi;
  }

  // ---- lifecycle ----

  async close(): Promise<void> {
    if (this.#closed) return;
    // Writes accepted before close still commit and are acknowledged.
    if (this.#flushHandle) clearImmediate(this.#flushHandle);
    this.#flush();
    this.#closed = true;
    // ...once durable.
    while (this.#syncing) await this.#syncing;
    this.#hub.failAll(new BackendClosedError());
    // A compaction step in flight finishes its transaction synchronously; the loop stops at the next check.
    if (this.#cleaning) await this.#cleaning.catch(() => undefined);
    this.#stmts.clear();
    this.#db.close();
    if (this.#walFd !== undefined) closeSync(this.#walFd);
  }

  /** Sizes for metrics and tests (a count of log rows shows what compaction removed). */
  stats(): SqliteStats {
    this.#checkOpen();
    return {
      revision: this.#rev,
      compactedRevision: this.#compacted,
      logRows: Number(this.#stmt('SELECT COUNT(*) AS n FROM log').get()!.n),
      liveKeys: Number(this.#stmt('SELECT COUNT(*) AS n FROM current').get()!.n),
      watchers: this.#hub.size,
      pendingWrites: this.#pending.length,
    };
  }

  // ---- helpers ----

  #checkOpen(): void {
    if (this.#closed) throw new BackendClosedError();
  }

  /** The revision a read is served at: the current one for 0/undefined, else checked against history. */
  #readRevision(revision: number | undefined): number {
    if (!revision || revision <= 0) return this.#rev;
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    if (revision < this.#compacted) throw new CompactedError(revision, this.#compacted);
    return revision;
  }

  #stmt(sql: string, arrays = false): StatementSync {
    const cacheKey = arrays ? `A:${sql}` : sql;
    let s = this.#stmts.get(cacheKey);
    if (!s) {
      s = this.#db.prepare(sql);
      if (arrays) s.setReturnArrays(true);
      this.#stmts.set(cacheKey, s);
    }
    return s;
  }

  #meta(key: string): number {
    const row = this.#stmt('SELECT value FROM meta WHERE key = ?').get(key);
    return row ? Number(row.value) : 0;
  }

  #setMeta(key: string, value: SQLInputValue): void {
    this.#stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
      key,
      value,
    );
  }
}

function eventOf(r: ReplayRow): WatchEvent {
  const prevKv: KeyValue | undefined =
    r.prev_value !== null && !r.created
      ? { key: r.name, value: r.prev_value, createRevision: r.prev_create_revision ?? 0, modRevision: r.prev_revision }
      : undefined;
  if (r.deleted) {
    const kv: KeyValue = { key: r.name, value: prevKv?.value ?? '', createRevision: r.create_revision, modRevision: r.id };
    return prevKv ? { type: 'delete', kv, prevKv, created: false } : { type: 'delete', kv, created: false };
  }
  const kv = kvOf(r);
  return prevKv ? { type: 'put', kv, prevKv, created: r.created === 1 } : { type: 'put', kv, created: r.created === 1 };
}

/** Opens (creating if needed) the store at `path`; ':memory:' gives a private in-memory store for tests. */
export function openSqliteBackend(path: string, opts?: SqliteBackendOptions): SqliteBackend {
  return new SqliteBackend(path, opts);
}
