// One Backend watch over etcd's Watch RPC: its own gRPC stream, resumed after a broken stream
// without gaps or repeats.
//
// Created by EtcdBackend.watch() only; callbacks run on the event loop in revision order, never
// concurrently. close() is idempotent and may be called from inside a callback.
//
// Why not etcd3's WatchBuilder: on every response it moves the resume point to the response
// header's revision (the store's head), not to the last event received, so a stream broken while a
// watch catches up resumes after events it never delivered; it also reports compaction without the
// compacted revision. Here the resume point is the revision of the last event delivered (or of a
// progress notification, which etcd only sends once a watcher has caught up), and compaction
// arrives as the CompactedError the Backend contract promises.
//
// Revisions. A Backend watch "from R" wants events after R and must fail when R is below the
// compacted revision. etcd fails a watch only when start_revision < compacted, and a watch started
// at the compacted revision itself silently misses a deletion made there (compaction removes
// tombstones at its revision). So the stream starts at R itself and drops events at R: etcd then
// refuses exactly the starting points the contract refuses, and nothing at R is needed anyway.
//
// Latency. etcd serves a watch whose start revision is already written ("unsynced") from its
// history, in a loop that runs every 100 ms, while a watch starting after the head ("synced") gets
// every write as it commits. Most watches start at the head (after a list, or from now), where the
// start R above would cost up to 100 ms before the first event. So a stream first starts at R + 1
// when R looks like the head; if etcd's answer shows writes after R (its header revision reaches
// R + 1), the watch may be reading history, where R + 1 could be the compacted revision, and it is
// reopened at R instead. Starting after the head needs no history, so no compaction check.

import type { WatchCallbacks, WatchEvent, KeyValue, Watcher } from '../backend.ts';
import { CompactedError, StorageError } from '../errors.ts';
import type { IDuplexStream, IKeyValue, IWatchRequest, IWatchResponse } from 'etcd3';
import type { ByteRange } from './keys.ts';

/** What a watcher needs from its backend. */
export interface WatchHost {
  /** Opens a Watch RPC stream (to any endpoint). */
  openStream(): Promise<IDuplexStream<IWatchRequest, IWatchResponse>>;
  decodeKey(stored: Buffer): string;
  /** Told every revision seen in a response header (the backend's idea of "now" for watches from 0). */
  observe(revision: number): void;
  /** The watcher has ended (closed or failed). */
  forget(w: EtcdWatcher): void;
}

export interface WatchRetry {
  /** First delay before reopening a broken stream; doubles up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A watch whose stream stays broken this long (no response at all) ends with onError. */
  giveUpAfterMs: number;
}

export class EtcdWatchError extends StorageError {
  constructor(message: string, cause?: unknown) {
    super('ERR_STORAGE_WATCH_FAILED', '', message);
    if (cause !== undefined) this.cause = cause;
  }
}

export function kvOf(kv: IKeyValue, key: string): KeyValue {
  return {
    key,
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

export class EtcdWatcher implements Watcher {
  readonly #host: WatchHost;
  readonly #range: ByteRange;
  readonly #cb: WatchCallbacks;
  readonly #retry: WatchRetry;
  /** Events at or below this revision have been delivered (or predate the watch). */
  #last: number;
  /**
   * A watch "from now" resolves now to the newest revision the backend has seen, which may be old
   * and compacted by the time the stream starts; until it delivers anything it may move up to the
   * compacted revision rather than fail, as the caller never named a revision.
   */
  #floating: boolean;
  #stream: IDuplexStream<IWatchRequest, IWatchResponse> | null = null;
  /** Whether the next stream starts at #last + 1, betting that #last is the head (see the header). */
  #afterHead = true;
  /** The start revision the current stream asked for. */
  #start = 0;
  #closed = false;
  #delay: number;
  /** When the current run of failed attempts began (0 while healthy). */
  #brokenSince = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(host: WatchHost, range: ByteRange, from: number, floating: boolean, cb: WatchCallbacks, retry: WatchRetry) {
    this.#host = host;
    this.#range = range;
    this.#last = from;
    this.#floating = floating;
    this.#cb = cb;
    this.#retry = retry;
    this.#delay = retry.initialDelayMs;
  }

  /** Opens the first stream. */
  start(): void {
    this.#connect();
  }

  get lastRevision(): number {
    return this.#last;
  }

  #connect(): void {
    this.#timer = null;
    if (this.#closed) return;
    this.#host.openStream().then(
      (stream) => {
        if (this.#closed) {
          endStream(stream);
          return;
        }
        this.#stream = stream;
        stream.on('data', (res) => {
          if (this.#stream === stream) this.#onResponse(res);
        });
        stream.on('error', (err) => {
          if (this.#stream === stream) this.#broken(err);
        });
        stream.on('end', () => {
          if (this.#stream === stream) this.#broken(new Error('watch stream ended by the server'));
        });
        // etcd reads 0 as "from now"; the first revision of a store is 1.
        this.#start = this.#afterHead ? this.#last + 1 : Math.max(this.#last, 1);
        stream.write({
          create_request: {
            key: this.#range.key,
            range_end: this.#range.rangeEnd,
            start_revision: this.#start,
            prev_kv: true,
            progress_notify: true,
          },
        });
      },
      (err: unknown) => this.#broken(err),
    );
  }

  #onResponse(res: IWatchResponse): void {
    this.#brokenSince = 0;
    this.#delay = this.#retry.initialDelayMs;
    const head = Number(res.header?.revision ?? 0);
    if (head > 0) this.#host.observe(head);
    if (res.canceled) {
      const compacted = Number(res.compact_revision ?? 0);
      if (compacted > 0 && this.#floating) {
        this.#last = compacted;
        this.#floating = false;
        this.#restart();
        return;
      }
      if (compacted > 0) return this.#fail(new CompactedError(this.#last, compacted));
      return this.#fail(new EtcdWatchError(`etcd canceled the watch: ${res.cancel_reason || 'no reason given'}`));
    }
    if (res.created) {
      if (this.#afterHead && head >= this.#start) {
        // Not at the head after all: reopen where etcd checks the start against compaction.
        this.#afterHead = false;
        this.#restart();
      }
      return;
    }
    if (res.events.length === 0) {
      // A progress notification: everything up to the head has been sent to this (caught-up)
      // watcher, so a resumed stream may start there, even on a prefix nobody writes to.
      if (head > this.#last) this.#last = head;
      return;
    }
    // All events of one revision come in one response; the floor is read once so that several
    // events of a foreign multi-key transaction (one revision) are all delivered.
    const floor = this.#last;
    for (const ev of res.events) {
      if (this.#closed) return;
      const rev = Number(ev.kv.mod_revision);
      if (rev <= floor) continue;
      this.#deliver(toEvent(ev.type, ev.kv, ev.prev_kv, this.#host.decodeKey(ev.kv.key)));
      this.#floating = false;
      if (rev > this.#last) this.#last = rev;
    }
  }

  #deliver(ev: WatchEvent): void {
    try {
      this.#cb.onEvent(ev);
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** The stream failed: reopen it from the last delivered revision, with backoff, for a while. */
  #broken(err: unknown): void {
    if (this.#closed) return;
    if (this.#stream) endStream(this.#stream);
    this.#stream = null;
    const now = Date.now();
    if (this.#brokenSince === 0) this.#brokenSince = now;
    if (now - this.#brokenSince >= this.#retry.giveUpAfterMs) {
      const msg = err instanceof Error ? err.message : String(err);
      return this.#fail(new EtcdWatchError(`etcd watch stream broken for ${now - this.#brokenSince} ms: ${msg}`, err));
    }
    // Nothing may have been written while the stream was down: try the cheap start again.
    this.#afterHead = true;
    this.#timer = setTimeout(() => this.#connect(), this.#delay);
    this.#delay = Math.min(this.#delay * 2, this.#retry.maxDelayMs);
  }

  #restart(): void {
    if (this.#stream) endStream(this.#stream);
    this.#stream = null;
    this.#connect();
  }

  /** Ends the watch with an error: onError at most once, and never after close(). */
  fail(err: Error): void {
    this.#fail(err);
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.close();
    try {
      this.#cb.onError(err);
    } catch {
      // The watcher is gone; its error handler's own error has nowhere to go.
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#stream) endStream(this.#stream);
    this.#stream = null;
    this.#host.forget(this);
  }
}

/**
 * Half-closes, then cancels a stream. Half-closing first matters: etcd3 counts an error on a stream
 * that is still writable (our own cancel included) as a failure of that endpoint, and three in a
 * row trip its circuit breaker for every call to it.
 */
function endStream(stream: IDuplexStream<IWatchRequest, IWatchResponse>): void {
  // The cancel surfaces as an 'error' event; a listener must exist or it would be thrown.
  stream.on('error', () => undefined);
  try {
    stream.end();
    stream.cancel();
  } catch {
    // Already gone.
  }
}

function toEvent(type: string, kv: IKeyValue, prev: IKeyValue | null | undefined, key: string): WatchEvent {
  const prevKv = prev ? kvOf(prev, key) : undefined;
  if (type === 'Delete') {
    // etcd's delete event carries only the key and the deletion's revision; the contract wants the
    // last value, which prev_kv holds.
    const out: KeyValue = {
      key,
      value: prevKv?.value ?? '',
      createRevision: prevKv?.createRevision ?? 0,
      modRevision: Number(kv.mod_revision),
    };
    return prevKv ? { type: 'delete', kv: out, prevKv, created: false } : { type: 'delete', kv: out, created: false };
  }
  // version 1 is the first write of this incarnation of the key.
  const created = kv.version === '1';
  const out = kvOf(kv, key);
  return prevKv && !created ? { type: 'put', kv: out, prevKv, created } : { type: 'put', kv: out, created };
}
