// SPDY/3.1 frame layout (draft 3.1 section 2): encoding, and a reader that reassembles frames from a
// byte stream cut at arbitrary points (a raw socket, or WebSocket messages that each carry any slice
// of the stream: kubectl splits one frame over many messages when it tunnels port-forward).
// Integers are big-endian. Header blocks stay compressed here; ./headers.ts deals with them.

import { SpdyError } from './errors.ts';

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. kubectl resets finished streams with CANCEL. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

/** Largest payload the 24-bit length field can describe. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export interface DataFrame { type: 'data'; streamId: number; flags: number; data: Buffer }
export interface SynStreamFrame { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; slot: number; flags: number; headerBlock: Buffer }
export interface SynReplyFrame { type: 'syn_reply'; streamId: number; flags: number; headerBlock: Buffer }
export interface RstStreamFrame { type: 'rst_stream'; streamId: number; status: number }
export interface SettingsFrame { type: 'settings'; flags: number; entries: { flags: number; id: number; value: number }[] }
export interface PingFrame { type: 'ping'; id: number }
export interface GoAwayFrame { type: 'goaway'; lastGoodStreamId: number; status: number }
export interface HeadersFrame { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
export interface WindowUpdateFrame { type: 'window_update'; streamId: number; delta: number }
/** Control frames of a type SPDY/3.1 does not define must be ignored, so they are surfaced as such. */
export interface UnknownFrame { type: 'unknown'; controlType: number; flags: number; payload: Buffer }

export type Frame =
  | DataFrame | SynStreamFrame | SynReplyFrame | RstStreamFrame | SettingsFrame | PingFrame
  | GoAwayFrame | HeadersFrame | WindowUpdateFrame | UnknownFrame;

const STREAM_ID_MASK = 0x7fffffff;

function controlHeader(type: number, flags: number, length: number): Buffer {
  if (length > MAX_FRAME_PAYLOAD) throw new SpdyError('ERR_SPDY_PROTOCOL', `control frame payload of ${length} bytes is too large`);
  const b = Buffer.alloc(8);
  b.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt32BE(((flags & 0xff) << 24 | length) >>> 0, 4);
  return b;
}

export function encodeData(streamId: number, data: Buffer, flags = 0): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new SpdyError('ERR_SPDY_PROTOCOL', `data frame payload of ${data.length} bytes is too large`);
  const b = Buffer.alloc(8 + data.length);
  b.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  b.writeUInt32BE(((flags & 0xff) << 24 | data.length) >>> 0, 4);
  data.copy(b, 8);
  return b;
}

export function encodeSynStream(streamId: number, headerBlock: Buffer, flags = 0, associatedId = 0, priority = 0): Buffer {
  const p = Buffer.alloc(10);
  p.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  p.writeUInt32BE(associatedId & STREAM_ID_MASK, 4);
  p.writeUInt8((priority & 0x7) << 5, 8);
  p.writeUInt8(0, 9);
  return Buffer.concat([controlHeader(FrameType.SYN_STREAM, flags, p.length + headerBlock.length), p, headerBlock]);
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  return Buffer.concat([controlHeader(FrameType.SYN_REPLY, flags, 4 + headerBlock.length), p, headerBlock]);
}

export function encodeHeaders(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  return Buffer.concat([controlHeader(FrameType.HEADERS, flags, 4 + headerBlock.length), p, headerBlock]);
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  p.writeUInt32BE(status >>> 0, 4);
  return Buffer.concat([controlHeader(FrameType.RST_STREAM, 0, 8), p]);
}

export function encodeSettings(entries: { flags?: number; id: number; value: number }[], flags = 0): Buffer {
  const p = Buffer.alloc(4 + 8 * entries.length);
  p.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    p.writeUInt32BE((((e.flags ?? 0) & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, 4 + 8 * i);
    p.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
  });
  return Buffer.concat([controlHeader(FrameType.SETTINGS, flags, p.length), p]);
}

export function encodePing(id: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(id >>> 0, 0);
  return Buffer.concat([controlHeader(FrameType.PING, 0, 4), p]);
}

export function encodeGoAway(lastGoodStreamId: number, status = 0): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastGoodStreamId & STREAM_ID_MASK, 0);
  p.writeUInt32BE(status >>> 0, 4);
  return Buffer.concat([controlHeader(FrameType.GOAWAY, 0, 8), p]);
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  p.writeUInt32BE(delta & 0x7fffffff, 4);
  return Buffer.concat([controlHeader(FrameType.WINDOW_UPDATE, 0, 8), p]);
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyError('ERR_SPDY_PROTOCOL', `${what} frame too short (${payload.length} bytes)`);
}

function decodeControl(type: number, flags: number, payload: Buffer): Frame {
  switch (type) {
    case FrameType.SYN_STREAM:
      need(payload, 10, 'SYN_STREAM');
      return {
        type: 'syn_stream',
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        associatedId: payload.readUInt32BE(4) & STREAM_ID_MASK,
        priority: payload[8]! >> 5,
        slot: payload[9]!,
        flags,
        headerBlock: payload.subarray(10),
      };
    case FrameType.SYN_REPLY:
      need(payload, 4, 'SYN_REPLY');
      return { type: 'syn_reply', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, flags, headerBlock: payload.subarray(4) };
    case FrameType.HEADERS:
      need(payload, 4, 'HEADERS');
      return { type: 'headers', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, flags, headerBlock: payload.subarray(4) };
    case FrameType.RST_STREAM:
      need(payload, 8, 'RST_STREAM');
      return { type: 'rst_stream', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, status: payload.readUInt32BE(4) };
    case FrameType.SETTINGS: {
      need(payload, 4, 'SETTINGS');
      const n = payload.readUInt32BE(0);
      need(payload, 4 + 8 * n, 'SETTINGS');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const word = payload.readUInt32BE(4 + 8 * i);
        entries.push({ flags: word >>> 24, id: word & 0xffffff, value: payload.readUInt32BE(8 + 8 * i) });
      }
      return { type: 'settings', flags, entries };
    }
    case FrameType.PING:
      need(payload, 4, 'PING');
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.GOAWAY:
      need(payload, 4, 'GOAWAY');
      // SPDY/2 peers omit the status word.
      return { type: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & STREAM_ID_MASK, status: payload.length >= 8 ? payload.readUInt32BE(4) : 0 };
    case FrameType.WINDOW_UPDATE:
      need(payload, 8, 'WINDOW_UPDATE');
      return { type: 'window_update', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, delta: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      return { type: 'unknown', controlType: type, flags, payload };
  }
}

/**
 * Reassembles frames from arbitrary slices of the byte stream. Keeps the slices in a list and copies
 * only once a whole frame is there, so a large frame arriving a byte at a time stays linear.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #length = 0;
  readonly #maxPayload: number;

  constructor(options: { maxPayload?: number } = {}) {
    this.#maxPayload = options.maxPayload ?? MAX_FRAME_PAYLOAD;
  }

  /** Bytes held that do not yet form a whole frame. */
  get buffered(): number {
    return this.#length;
  }

  /** Adds a slice of the stream; returns every frame completed by it, in order. Throws SpdyError on garbage. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    const out: Frame[] = [];
    for (;;) {
      if (this.#length < 8) return out;
      const head = this.#peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (length > this.#maxPayload) throw new SpdyError('ERR_SPDY_PROTOCOL', `frame of ${length} bytes exceeds the limit of ${this.#maxPayload}`);
      if (this.#length < 8 + length) return out;
      const frame = this.#take(8 + length);
      const flags = frame[4]!;
      const payload = frame.subarray(8);
      if (frame[0]! & 0x80) {
        const version = frame.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyError('ERR_SPDY_PROTOCOL', `unsupported SPDY version ${version}`);
        out.push(decodeControl(frame.readUInt16BE(2), flags, payload));
      } else {
        out.push({ type: 'data', streamId: frame.readUInt32BE(0) & STREAM_ID_MASK, flags, data: payload });
      }
    }
  }

  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length >= n) return this.#chunks[0]!;
    const merged = Buffer.concat(this.#chunks);
    this.#chunks = [merged];
    return merged;
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      // Walk the list by index and drop the consumed prefix once: shift() per slice is quadratic.
      const parts: Buffer[] = [];
      let need = n;
      let i = 0;
      while (need > 0) {
        const c = this.#chunks[i]!;
        if (c.length <= need) {
          parts.push(c);
          need -= c.length;
          i++;
        } else {
          parts.push(c.subarray(0, need));
          this.#chunks[i] = c.subarray(need);
          need = 0;
        }
      }
      this.#chunks.splice(0, i);
      out = Buffer.concat(parts, n);
    }
    this.#length -= n;
    return out;
  }
}
