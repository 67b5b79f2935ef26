// SPDY/3 header blocks: the name/value layout, and the per-direction zlib streams that compress them.
//
// Each direction of a session is ONE zlib stream for its whole life, primed with SPDY_DICTIONARY; each
// header block ends at a sync-flush boundary. So the decompressor must see every block the peer sends,
// in order, and the compressor's output must be a valid continuation for the peer.

import zlib from 'node:zlib';
import { SPDY_DICTIONARY } from './dictionary.ts';
import { SpdyError } from './errors.ts';

/** Header names are lower-case; several values of one name are joined by NUL, as on the wire. */
export type SpdyHeaders = Record<string, string>;

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const bad = (why: string) => new SpdyError('ERR_SPDY_PROTOCOL', `malformed header block: ${why}`);
  if (block.length === 0) return {};
  if (block.length < 4) throw bad('truncated count');
  const n = block.readUInt32BE(0);
  let off = 4;
  const out: SpdyHeaders = {};
  const str = (): string => {
    if (off + 4 > block.length) throw bad('truncated length');
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw bad('truncated string');
    const s = block.toString('utf8', off, off + len);
    off += len;
    return s;
  };
  for (let i = 0; i < n; i++) {
    const name = str();
    const value = str();
    if (!name) throw bad('empty header name');
    // Duplicate names are a protocol error in SPDY/3; be lenient and join them like multiple values.
    out[name] = name in out ? `${out[name]}\0${value}` : value;
  }
  if (off !== block.length) throw bad(`${block.length - off} trailing bytes`);
  return out;
}

const STORED_MAX = 0xffff;

/**
 * Compresses header blocks for the peer. It emits zlib *stored* (uncompressed) deflate blocks: every
 * valid zlib stream is acceptable to a SPDY decoder, and this one is synchronous and stateless apart
 * from the two header bytes. Each block is followed by an empty stored block (`00 00 00 ff ff`, what
 * a sync flush produces): without it Go's flate reader does not consume the block's last bytes and
 * client-go fails with "compressed payload size was incorrect" on the next frame (kubectl-wire.md §18).
 */
export class HeaderCompressor {
  #started = false;

  compress(raw: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.#started) {
      // CMF 0x78 (deflate, 32K window), FLG 0x01: no preset dictionary, check bits valid.
      parts.push(Buffer.from([0x78, 0x01]));
      this.#started = true;
    }
    for (let off = 0; off < raw.length; off += STORED_MAX) {
      const piece = raw.subarray(off, Math.min(raw.length, off + STORED_MAX));
      parts.push(storedHeader(piece.length), piece);
    }
    parts.push(storedHeader(0));
    return Buffer.concat(parts);
  }

  encode(headers: SpdyHeaders): Buffer {
    return this.compress(encodeHeaderBlock(headers));
  }
}

function storedHeader(len: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = 0x00; // BFINAL=0, BTYPE=00, padded to the byte boundary
  b.writeUInt16LE(len, 1);
  b.writeUInt16LE(~len & 0xffff, 3);
  return b;
}

// Header blocks larger than this after inflation are refused (the Go framer's limit is similar in spirit).
const MAX_INFLATED = 1 << 20;

/**
 * Decompresses the peer's header blocks through one persistent inflate stream. Node's zlib streams
 * are asynchronous, so this is too; callers must not overlap calls (the session serialises frames).
 * The inflater is kept in paused mode and drained with read() after the sync flush completes, which
 * does not depend on when 'data' events would fire; its buffer is large enough that the transform
 * never waits for a reader.
 */
export class HeaderDecompressor {
  readonly #inflate: zlib.Inflate;
  #failure: Error | undefined;
  #reject: ((e: Error) => void) | undefined;

  constructor() {
    // ZlibOptions does not list the stream options, but zlib passes them on to its Transform.
    const options: zlib.ZlibOptions & { readableHighWaterMark: number } = { dictionary: SPDY_DICTIONARY, chunkSize: 64 * 1024, readableHighWaterMark: 4 * MAX_INFLATED };
    this.#inflate = zlib.createInflate(options);
    this.#inflate.on('error', (err: Error) => {
      this.#failure = new SpdyError('ERR_SPDY_PROTOCOL', `header block decompression failed: ${err.message}`, { cause: err });
      this.#reject?.(this.#failure);
    });
  }

  decompress(block: Buffer): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (block.length === 0) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve, reject) => {
      this.#reject = reject;
      this.#inflate.write(block);
      this.#inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.#reject = undefined;
        if (this.#failure) return reject(this.#failure);
        const parts: Buffer[] = [];
        let size = 0;
        for (let c = this.#inflate.read() as Buffer | null; c !== null; c = this.#inflate.read() as Buffer | null) {
          parts.push(c);
          size += c.length;
        }
        if (size > MAX_INFLATED) return reject(new SpdyError('ERR_SPDY_PROTOCOL', `header block inflates to ${size} bytes`));
        resolve(Buffer.concat(parts, size));
      });
    });
  }

  async decode(block: Buffer): Promise<SpdyHeaders> {
    return decodeHeaderBlock(await this.decompress(block));
  }

  close(): void {
    this.#inflate.close();
  }
}
