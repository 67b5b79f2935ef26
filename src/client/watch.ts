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
        } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
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
    const splitter = new JsonObjectSplitter();
    const onAbort = (): void => this.close();
    if (this.#signal?.aborted) this.close();
    this.#signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of this.#res as AsyncIterable<Buffer>) {
        for (const text of splitter.push(chunk)) {
          yield parseWatchEvent<T>(text);
          if (this.#closed) return;
        }
      }
      if (splitter.partial && !this.#closed) throw new WatchDecodeError('watch stream ended in the middle of an event');
    } catch (err) {
      if (this.#closed) return;
      throw err;
    } finally {
      this.#signal?.removeEventListener('abort', onAbort);
      this.close();
    }
  }
}
