// A SPDY/3.1 session over any byte duplex (a socket after an HTTP upgrade, or a WebSocket tunnel),
// in the client role (opens odd-numbered streams and waits for each SYN_REPLY, as client-go does) or
// the server role (answers the peer's streams). Streams are Node duplexes: writing sends DATA
// frames, end() sends an empty DATA frame with FIN (a half-close), and the readable side ends when
// the peer's FIN arrives.
//
// Used by the API server to reach a node agent (exec/attach over SPDY), and by tests as a stand-in
// for either end. One session is driven by one transport; its methods are not re-entrant across
// sessions but may be called at any time, from any number of streams.
//
// Flow control: SPDY/3.1 defines 64 KiB windows, but the peers this talks to (moby/spdystream in
// client-go and containerd) neither send WINDOW_UPDATE nor wait for one, so windows are not
// enforced in either direction. Backpressure instead follows the transport: a stream's writes
// complete when the transport accepted the bytes, and a stream whose reader falls behind pauses the
// whole transport until it catches up (one slow stream stalls the session, as in spdystream).

import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { SpdyError } from './errors.ts';
import {
  encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSynReply, encodeSynStream,
  FLAG_FIN, FLAG_UNIDIRECTIONAL, FrameReader, RstStatus, type Frame,
} from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './headers.ts';

export type SpdyRole = 'client' | 'server';

export interface SpdySessionOptions {
  role: SpdyRole;
  /** How long openStream waits for the SYN_REPLY (client-go waits 30 s). */
  replyTimeoutMs?: number;
}

export interface OpenStreamOptions {
  /** Send the SYN_STREAM with FIN: this side will not write at all. */
  fin?: boolean;
}

interface SessionEvents {
  /** A stream the peer opened; call reply() (or just write) to accept it, reset() to refuse it. */
  stream: [SpdyStream];
  /** The session is over; the error is set when it ended on a failure rather than a close. */
  close: [Error | undefined];
  /** The peer will open no more streams (its last-good stream id). */
  goaway: [number];
}

/** What a stream needs from its session; private to this module. */
interface StreamHost {
  send(frames: Buffer[], cb?: (err?: Error | null) => void): void;
  compress(headers: SpdyHeaders): Buffer;
  alive(): boolean;
  block(s: SpdyStream): void;
  unblock(s: SpdyStream): void;
  forget(s: SpdyStream): void;
}

// Output is cut into frames of this size so one stream's large write does not hog the transport.
const MAX_DATA_FRAME = 64 * 1024;

export class SpdyStream extends Duplex {
  readonly id: number;
  /** The SYN_STREAM headers (the peer's for streams it opened, ours for streams we opened). */
  readonly headers: SpdyHeaders;
  /** The SYN_REPLY headers, once received (streams we opened). */
  replyHeaders: SpdyHeaders | undefined;
  readonly #host: StreamHost;
  #needsReply: boolean;
  #localFin = false;
  #remoteFin = false;
  #reset = false;
  readonly #sendOnWrite: boolean;

  /** Built by SpdySession only. */
  constructor(host: StreamHost, id: number, headers: SpdyHeaders, opts: { needsReply: boolean; canWrite: boolean }) {
    super({ allowHalfOpen: true });
    this.#host = host;
    this.id = id;
    this.headers = headers;
    this.#needsReply = opts.needsReply;
    this.#sendOnWrite = opts.canWrite;
    if (!opts.canWrite) {
      this.#localFin = true;
      this.end();
    }
  }

  /** Accepts a stream the peer opened (SYN_REPLY). Writing does it implicitly. Idempotent. */
  reply(headers: SpdyHeaders = {}): void {
    if (!this.#needsReply || !this.#host.alive()) return;
    this.#needsReply = false;
    this.#host.send([encodeSynReply(this.id, this.#host.compress(headers))]);
  }

  /** Abandons the stream in both directions (RST_STREAM, CANCEL by default). */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.#reset) return;
    this.#reset = true;
    if (this.#host.alive()) this.#host.send([encodeRstStream(this.id, status)]);
    this.destroy();
  }

  /** True once both sides sent FIN or the stream was reset. */
  get finished(): boolean {
    return this.#reset || (this.#localFin && this.#remoteFin);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.#sendOnWrite) return cb(new SpdyError('ERR_SPDY_PROTOCOL', `stream ${this.id} is unidirectional`));
    // Writes after the session ended are dropped rather than failed: the stream is being destroyed
    // anyway, and an 'error' nobody listens for would take the process down.
    if (!this.#host.alive()) return cb();
    this.reply();
    const frames: Buffer[] = [];
    for (let off = 0; off < chunk.length; off += MAX_DATA_FRAME) frames.push(encodeData(this.id, chunk.subarray(off, off + MAX_DATA_FRAME)));
    if (frames.length === 0) return cb();
    this.#host.send(frames, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.#sendOnWrite) return cb();
    this.reply();
    this.#localFin = true;
    if (this.#host.alive()) this.#host.send([encodeData(this.id, Buffer.alloc(0), FLAG_FIN)]);
    this.#settle();
    cb();
  }

  override _read(): void {
    this.#host.unblock(this);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.finished && this.#host.alive()) {
      this.#reset = true;
      this.#host.send([encodeRstStream(this.id, RstStatus.CANCEL)]);
    }
    this.#host.forget(this);
    cb(err);
  }

  // --- called by the session ------------------------------------------------------------------

  /** @internal */
  _spdyData(data: Buffer, fin: boolean): void {
    if (this.destroyed || this.#remoteFin) return;
    if (data.length && !this.push(data)) this.#host.block(this);
    if (fin) this._spdyRemoteFin();
  }

  /** @internal */
  _spdyRemoteFin(): void {
    if (this.#remoteFin) return;
    this.#remoteFin = true;
    if (!this.destroyed) this.push(null);
    this.#settle();
  }

  /** @internal */
  _spdyReset(status: number): void {
    if (this.#reset) return;
    this.#reset = true;
    this.emit('reset', status);
    this.destroy();
  }

  #settle(): void {
    if (this.#localFin && this.#remoteFin) this.#host.forget(this);
  }
}

type QueueItem = Frame | { type: 'end'; error?: Error };

export class SpdySession extends EventEmitter<SessionEvents> {
  readonly role: SpdyRole;
  /** Resolves when the session is over, whichever way. */
  readonly closed: Promise<void>;
  /** Why the session ended, when it was a failure. */
  closeError: Error | undefined;

  readonly #transport: Duplex;
  readonly #reader = new FrameReader();
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #replyWaiters = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  readonly #pings = new Map<number, { started: number; resolve: (ms: number) => void; reject: (e: Error) => void }>();
  readonly #blocked = new Set<SpdyStream>();
  readonly #drainWaiters: ((err?: Error | null) => void)[] = [];
  readonly #replyTimeoutMs: number;
  readonly #host: StreamHost;
  #queue: QueueItem[] = [];
  #pumping = false;
  #nextStreamId: number;
  #nextPingId: number;
  #lastPeerStreamId = 0;
  #goAwaySent = false;
  #goAwayReceived = false;
  #isClosed = false;
  #resolveClosed!: () => void;

  constructor(transport: Duplex, options: SpdySessionOptions) {
    super();
    this.role = options.role;
    this.#transport = transport;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 30_000;
    this.#nextStreamId = this.role === 'client' ? 1 : 2;
    this.#nextPingId = this.role === 'client' ? 1 : 2;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const self = this;
    this.#host = {
      send: (frames, cb) => self.#send(frames, cb),
      compress: (h) => self.#compressor.encode(h),
      alive: () => !self.#isClosed,
      block: (s) => {
        self.#blocked.add(s);
        self.#transport.pause();
      },
      unblock: (s) => {
        if (self.#blocked.delete(s) && self.#blocked.size === 0 && !self.#isClosed) self.#transport.resume();
      },
      forget: (s) => {
        if (self.#streams.get(s.id) === s) self.#streams.delete(s.id);
        self.#host.unblock(s);
      },
    };
    transport.on('data', (chunk: Buffer) => {
      if (this.#isClosed) return;
      let frames: Frame[];
      try {
        frames = this.#reader.push(chunk);
      } catch (err) {
        return this.#fail(err as Error);
      }
      for (const f of frames) this.#queue.push(f);
      this.#pump();
    });
    transport.on('end', () => this.#enqueueEnd());
    transport.on('close', () => this.#enqueueEnd());
    transport.on('error', (err: Error) => this.#enqueueEnd(err));
    transport.on('drain', () => {
      for (const w of this.#drainWaiters.splice(0)) w();
    });
  }

  /** Streams currently open. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Opens a stream and resolves once the peer replied (SYN_REPLY). */
  openStream(headers: SpdyHeaders, options: OpenStreamOptions = {}): Promise<SpdyStream> {
    if (this.#isClosed || this.#goAwaySent || this.#goAwayReceived) {
      return Promise.reject(new SpdyError('ERR_SPDY_SESSION_CLOSED', 'the SPDY session is closed or going away'));
    }
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = new SpdyStream(this.#host, id, headers, { needsReply: false, canWrite: !options.fin });
    this.#streams.set(id, stream);
    return new Promise<SpdyStream>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replyWaiters.delete(id);
        stream.reset();
        reject(new SpdyError('ERR_SPDY_TIMEOUT', `no SYN_REPLY for stream ${id} within ${this.#replyTimeoutMs} ms`));
      }, this.#replyTimeoutMs);
      this.#replyWaiters.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve(stream);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#send([encodeSynStream(id, this.#compressor.encode(headers), options.fin ? FLAG_FIN : 0)]);
    });
  }

  /** Round-trip time of a PING in ms. */
  ping(timeoutMs = 30_000): Promise<number> {
    if (this.#isClosed) return Promise.reject(new SpdyError('ERR_SPDY_SESSION_CLOSED', 'the SPDY session is closed'));
    const id = this.#nextPingId;
    this.#nextPingId = (this.#nextPingId + 2) >>> 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new SpdyError('ERR_SPDY_TIMEOUT', `no PING reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pings.set(id, {
        started: performance.now(),
        resolve: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#send([encodePing(id)]);
    });
  }

  /** Tells the peer no more streams will be accepted. Idempotent. */
  goAway(status = 0): void {
    if (this.#goAwaySent || this.#isClosed) return;
    this.#goAwaySent = true;
    this.#send([encodeGoAway(this.#lastPeerStreamId, status)]);
  }

  /** Graceful end: GOAWAY, then half-close the transport once queued frames are out. */
  close(): Promise<void> {
    if (!this.#isClosed) {
      this.goAway();
      this.#transport.end();
    }
    return this.closed;
  }

  /** Immediate end: drops the transport and every stream. */
  destroy(err?: Error): void {
    this.#transport.destroy();
    this.#teardown(err);
  }

  // --- internals ------------------------------------------------------------------------------

  #send(frames: Buffer[], cb?: (err?: Error | null) => void): void {
    if (this.#isClosed || this.#transport.destroyed || this.#transport.writableEnded) {
      cb?.(new SpdyError('ERR_SPDY_SESSION_CLOSED', 'the SPDY session is closed'));
      return;
    }
    let ok = true;
    for (const f of frames) ok = this.#transport.write(f);
    if (!cb) return;
    if (ok) cb();
    else this.#drainWaiters.push(cb);
  }

  #enqueueEnd(error?: Error): void {
    if (this.#isClosed) return;
    this.#queue.push({ type: 'end', error });
    this.#pump();
  }

  #fail(err: Error): void {
    if (this.#isClosed) return;
    if (err instanceof SpdyError && err.code === 'ERR_SPDY_PROTOCOL' && !this.#goAwaySent) {
      this.#goAwaySent = true;
      this.#transport.write(encodeGoAway(this.#lastPeerStreamId, 1));
    }
    this.destroy(err);
  }

  // Frames are handled strictly in order; only header blocks need an await (zlib is asynchronous).
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void (async () => {
      try {
        while (this.#queue.length > 0 && !this.#isClosed) {
          const item = this.#queue.shift()!;
          if (item.type === 'end') {
            this.#transport.end();
            this.#teardown(item.error);
            break;
          }
          const p = this.#handle(item);
          if (p) await p;
        }
      } catch (err) {
        this.#fail(err as Error);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  #handle(f: Frame): Promise<void> | void {
    switch (f.type) {
      case 'data': {
        const s = this.#streams.get(f.streamId);
        // Data for a stream we reset or forgot is expected in flight; drop it.
        if (s) s._spdyData(f.data, (f.flags & FLAG_FIN) !== 0);
        return;
      }
      case 'syn_stream':
        return this.#onSynStream(f.streamId, f.flags, f.headerBlock);
      case 'syn_reply':
        return this.#onSynReply(f.streamId, f.flags, f.headerBlock);
      case 'headers':
        return this.#decompressor.decode(f.headerBlock).then(() => {
          if (f.flags & FLAG_FIN) this.#streams.get(f.streamId)?._spdyRemoteFin();
        });
      case 'rst_stream': {
        const w = this.#replyWaiters.get(f.streamId);
        if (w) {
          this.#replyWaiters.delete(f.streamId);
          w.reject(new SpdyError('ERR_SPDY_STREAM_REFUSED', `the peer reset stream ${f.streamId} (status ${f.status})`));
        }
        this.#streams.get(f.streamId)?._spdyReset(f.status);
        return;
      }
      case 'ping': {
        const mine = (f.id % 2 === 1) === (this.role === 'client');
        if (!mine) {
          this.#send([encodePing(f.id)]);
          return;
        }
        const p = this.#pings.get(f.id);
        if (p) {
          this.#pings.delete(f.id);
          p.resolve(performance.now() - p.started);
        }
        return;
      }
      case 'goaway': {
        this.#goAwayReceived = true;
        for (const [id, w] of this.#replyWaiters) {
          if (id > f.lastGoodStreamId) {
            this.#replyWaiters.delete(id);
            w.reject(new SpdyError('ERR_SPDY_STREAM_REFUSED', `the peer is going away and will not handle stream ${id}`));
            this.#streams.get(id)?._spdyReset(RstStatus.REFUSED_STREAM);
          }
        }
        this.emit('goaway', f.lastGoodStreamId);
        return;
      }
      case 'settings':
      case 'window_update':
      case 'unknown':
        return;
    }
  }

  async #onSynStream(id: number, flags: number, block: Buffer): Promise<void> {
    // Always inflate: the zlib stream must see every block, even of streams we refuse.
    const headers = await this.#decompressor.decode(block);
    const peerParity = this.role === 'server' ? 1 : 0;
    if (id === 0 || id % 2 !== peerParity || id <= this.#lastPeerStreamId) {
      throw new SpdyError('ERR_SPDY_PROTOCOL', `invalid stream id ${id} in SYN_STREAM`);
    }
    this.#lastPeerStreamId = id;
    if (this.#goAwaySent || this.listenerCount('stream') === 0) {
      this.#send([encodeRstStream(id, RstStatus.REFUSED_STREAM)]);
      return;
    }
    const unidirectional = (flags & FLAG_UNIDIRECTIONAL) !== 0;
    const stream = new SpdyStream(this.#host, id, headers, { needsReply: !unidirectional, canWrite: !unidirectional });
    this.#streams.set(id, stream);
    if (flags & FLAG_FIN) stream._spdyRemoteFin();
    this.emit('stream', stream);
  }

  async #onSynReply(id: number, flags: number, block: Buffer): Promise<void> {
    const headers = await this.#decompressor.decode(block);
    const s = this.#streams.get(id);
    if (s) s.replyHeaders = headers;
    const w = this.#replyWaiters.get(id);
    if (w) {
      this.#replyWaiters.delete(id);
      w.resolve();
    }
    if (s && flags & FLAG_FIN) s._spdyRemoteFin();
  }

  #teardown(err?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.closeError = err;
    const closedErr = new SpdyError('ERR_SPDY_SESSION_CLOSED', 'the SPDY session closed', { cause: err });
    for (const w of this.#replyWaiters.values()) w.reject(closedErr);
    this.#replyWaiters.clear();
    for (const p of this.#pings.values()) p.reject(closedErr);
    this.#pings.clear();
    for (const w of this.#drainWaiters.splice(0)) w(closedErr);
    // Streams end without an 'error' event (a consumer sees 'close' without 'end' if data was cut
    // short); the session's 'close' event carries the cause.
    for (const s of [...this.#streams.values()]) s.destroy();
    this.#streams.clear();
    this.#decompressor.close();
    if (err) this.#transport.destroy();
    this.emit('close', err);
    this.#resolveClosed();
  }
}
