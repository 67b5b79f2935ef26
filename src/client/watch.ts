// Decoding the watch stream: a chunked HTTP body carrying one JSON object per event
// (`{"type":"ADDED","object":{...}}`), newline-terminated by the real server, though, like client-go, we
// do not require the newline (kubectl-wire.md §8.5).
//
// Chunk boundaries fall anywhere: inside an event, inside a string, inside a multi-byte UTF-8 character.
// The splitter therefore works on bytes and only decodes a complete object: the structural bytes it
// tracks ({ } " \) are ASCII, and every byte of a multi-byte UTF-8 sequence is >= 0x80, so they are never
// mistaken for each other.

import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Status } from '../util/status.ts';
import { WatchDecodeError, statusFromObject } from './errors.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** One event. ERROR events carry a Status (410 Expired when the resourceVersion is too old). */
export type WatchEvent<T> = { type: WatchEventType; object: T } | { type: 'ERROR'; object: Status };

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Splits a byte stream into top-level JSON object texts. Not thread-shared: one per stream. */
export class JsonObjectSplitter {
  #parts: Uint8Array[] = [];
  #depth = 0;
  #inString = false;
  #escape = false;
  #handOff: boolean;
  #handedOff: Uint8Array | undefined;

  /**
   * handOff: stop at the first newline that follows a complete object; the bytes after it are left
   * in `handedOff` (for WatchDecoder, once the stream has shown it is newline-delimited).
   */
  constructor(opts: { handOff?: boolean } = {}) {
    this.#handOff = opts.handOff ?? false;
  }

  /** The bytes after the newline this splitter stopped at (handOff), once it did. */
  get handedOff(): Uint8Array | undefined {
    return this.#handedOff;
  }

  /** Feeds bytes; returns the objects completed by them, in order. */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    let start = this.#depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.#depth === 0) {
        if (c === OPEN) {
          this.#depth = 1;
          start = i;
        } else if (c === 0x0a && this.#handOff && out.length > 0) {
          this.#handedOff = chunk.subarray(i + 1);
          return out;
        } else if (!isSpace(c)) {
          throw new WatchDecodeError(`unexpected byte 0x${c.toString(16)} between watch events`);
        }
        continue;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === BACKSLASH) this.#escape = true;
        else if (c === QUOTE) this.#inString = false;
        continue;
      }
      if (c === QUOTE) this.#inString = true;
      else if (c === OPEN) this.#depth++;
      else if (c === CLOSE && --this.#depth === 0) {
        this.#parts.push(chunk.subarray(start, i + 1));
        out.push(Buffer.concat(this.#parts).toString('utf8'));
        this.#parts = [];
        start = -1;
      }
    }
    // Stream chunks are never reused by Node, so keeping a view (not a copy) is safe.
    if (this.#depth > 0 && start >= 0) this.#parts.push(chunk.subarray(start));
    return out;
  }

  /** True while an object has started but not ended (the stream was cut mid-event if it ends now). */
  get partial(): boolean {
    return this.#depth > 0;
  }
}

/** Validates one decoded event. */
export function parseWatchEvent<T>(text: string): WatchEvent<T> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new WatchDecodeError(`invalid JSON in watch event: ${(err as Error).message}`);
  }
  return watchEventOf<T>(v);
}

const NEWLINE = 0x0a;

/** JSON's whitespace. */
const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function blank(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(buf[i])) return false;
  return true;
}

/**
 * Splits and parses a watch stream. Kubernetes servers send one compact JSON object per line; JSON
 * strings hold no raw newline, so once the stream has shown that (an object, then a newline: the
 * byte scan of JsonObjectSplitter reads up to there), each line is cut by a native newline search
 * and parsed once, with no per-byte work. A line that does not parse as a whole object hands it and
 * the rest of the stream back to the byte scan. An object whose newline has not come yet is tried as
 * soon as its chunk ends in `}`, so no event waits for the next chunk.
 */
export class WatchDecoder<T> {
  /** Byte scan: until the stream has shown one object and a newline, and for good after a line that does not parse. */
  #slow: JsonObjectSplitter | undefined = new JsonObjectSplitter({ handOff: true });
  /** Newline mode: bytes after the last newline. */
  #rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): WatchEvent<T>[] {
    if (this.#slow) {
      const out = this.#slow.push(chunk).map((t) => parseWatchEvent<T>(t));
      const after = this.#slow.handedOff;
      if (after === undefined) return out;
      this.#slow = undefined;
      chunk = Buffer.from(after.buffer, after.byteOffset, after.byteLength);
      return out.concat(this.#lines(chunk));
    }
    return this.#lines(chunk);
  }

  /** True while an object has started but not ended. */
  get partial(): boolean {
    return this.#slow ? this.#slow.partial : !blank(this.#rest, 0, this.#rest.length);
  }

  #lines(chunk: Buffer): WatchEvent<T>[] {
    const buf = this.#rest.length ? Buffer.concat([this.#rest, chunk]) : chunk;
    const out: WatchEvent<T>[] = [];
    let pos = 0;
    for (let nl = buf.indexOf(NEWLINE, pos); nl >= 0; nl = buf.indexOf(NEWLINE, pos)) {
      if (!blank(buf, pos, nl)) {
        const v = parseObject(buf, pos, nl);
        if (v === undefined) return this.#scan(buf.subarray(pos), out);
        out.push(watchEventOf<T>(v));
      }
      pos = nl + 1;
    }
    let end = buf.length;
    while (end > pos && isSpace(buf[end - 1])) end--;
    if (end > pos && buf[end - 1] === CLOSE) {
      const v = parseObject(buf, pos, end);
      if (v !== undefined) {
        out.push(watchEventOf<T>(v));
        pos = buf.length;
      } else if (new JsonObjectSplitter().push(buf.subarray(pos, end)).length > 0) {
        // Objects not separated by newlines (not an object cut after an inner `}`).
        return this.#scan(buf.subarray(pos), out);
      }
    }
    this.#rest = pos === 0 ? buf : buf.subarray(pos);
    return out;
  }

  /** Back to the byte scan for `rest` and everything after it. */
  #scan(rest: Buffer, out: WatchEvent<T>[]): WatchEvent<T>[] {
    this.#slow = new JsonObjectSplitter();
    this.#rest = Buffer.alloc(0);
    for (const t of this.#slow.push(rest)) out.push(parseWatchEvent<T>(t));
    return out;
  }
}

/** The object in buf[from, to) when it is one whole JSON object, else undefined. */
function parseObject(buf: Buffer, from: number, to: number): unknown {
  let i = from;
  while (i < to && isSpace(buf[i])) i++;
  if (buf[i] !== OPEN) return undefined;
  try {
    return JSON.parse(buf.toString('utf8', from, to));
  } catch {
    return undefined;
  }
}

function watchEventOf<T>(v: unknown): WatchEvent<T> {
  if (typeof v !== 'object' || v === null) throw new WatchDecodeError('watch event is not an object');
  const { type, object } = v as { type?: unknown; object?: unknown };
  if (typeof object !== 'object' || object === null) throw new WatchDecodeError('watch event has no object');
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
    case 'BOOKMARK':
      return { type, object: object as T };
    case 'ERROR': {
      const status = statusFromObject(object) ?? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: JSON.stringify(object), reason: 'InternalError', code: 500 };
      return { type, object: status };
    }
    default:
      throw new WatchDecodeError(`unknown watch event type ${JSON.stringify(type)}`);
  }
}

/**
 * An open watch. Iterate it once with `for await`; the iteration ends when the server closes the stream
 * or when `close()` is called / the caller's AbortSignal fires (both end it quietly, not with an error).
 * A connection cut by the network, or a stream cut mid-event, throws. Leaving the loop early (break)
 * closes the connection.
 */
export class WatchStream<T> implements AsyncIterable<WatchEvent<T>> {
  readonly #req: ClientRequest;
  readonly #res: IncomingMessage;
  readonly #signal: AbortSignal | undefined;
  #closed = false;
  #iterated = false;

  constructor(req: ClientRequest, res: IncomingMessage, signal?: AbortSignal) {
    this.#req = req;
    this.#res = res;
    this.#signal = signal;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#req.destroy();
    this.#res.destroy();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (this.#iterated) throw new WatchDecodeError('a watch stream can be iterated only once');
    this.#iterated = true;
    const decoder = new WatchDecoder<T>();
    const onAbort = (): void => this.close();
    if (this.#signal?.aborted) this.close();
    this.#signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of this.#res as AsyncIterable<Buffer>) {
        for (const ev of decoder.push(chunk)) {
          yield ev;
          if (this.#closed) return;
        }
      }
      if (decoder.partial && !this.#closed) throw new WatchDecodeError('watch stream ended in the middle of an event');
    } catch (err) {
      if (this.#closed) return;
      throw err;
    } finally {
      this.#signal?.removeEventListener('abort', onAbort);
      this.close();
    }
  }
}
