import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { duplexPair, Transform, type Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import zlib from 'node:zlib';
import { SPDY_DICTIONARY } from './dictionary.ts';
import { SpdyError } from './errors.ts';
import {
  encodeData, encodeGoAway, encodeHeaders, encodePing, encodeRstStream, encodeSettings, encodeSynReply, encodeSynStream,
  encodeWindowUpdate, FLAG_FIN, FrameReader, RstStatus, type Frame,
} from './frames.ts';
import { decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './headers.ts';
import { SpdySession, type SpdyStream } from './session.ts';

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** Deterministic pseudo-random slice sizes, so a failure can be replayed. */
function* sizes(seed: number, max: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    yield 1 + (x % max);
  }
}

function split(buf: Buffer, seed: number, max: number): Buffer[] {
  const out: Buffer[] = [];
  const g = sizes(seed, max);
  for (let off = 0; off < buf.length; ) {
    const n = g.next().value as number;
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** Like Go's SPDY framer: one zlib stream with the dictionary, a sync flush after each block. */
class GoLikeCompressor {
  #deflate = zlib.createDeflate({ dictionary: SPDY_DICTIONARY, level: 9 });
  #out: Buffer[] = [];
  constructor() {
    this.#deflate.on('data', (c: Buffer) => this.#out.push(c));
  }
  compress(raw: Buffer): Promise<Buffer> {
    this.#deflate.write(raw);
    return new Promise((resolve) => this.#deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => resolve(Buffer.concat(this.#out.splice(0))))));
  }
}

describe('SPDY dictionary', () => {
  it('is the 1,423 bytes of SPDY/3 (adler32 e3c6a7c2, as client-go announces in its zlib header)', () => {
    assert.equal(SPDY_DICTIONARY.length, 1423);
    assert.equal(adler32(SPDY_DICTIONARY).toString(16), 'e3c6a7c2');
    assert.deepEqual([...SPDY_DICTIONARY.subarray(0, 11)], [0, 0, 0, 7, ...Buffer.from('options')]);
    assert.equal(SPDY_DICTIONARY.subarray(-6).toString(), 'enq=0.');
  });
});

describe('SPDY header blocks', () => {
  it('round-trips names and values, lower-casing names', () => {
    const raw = encodeHeaderBlock({ StreamType: 'data', port: '9090', requestid: '0', multi: 'a\0b', empty: '' });
    assert.deepEqual(decodeHeaderBlock(raw), { streamtype: 'data', port: '9090', requestid: '0', multi: 'a\0b', empty: '' });
  });

  const malformed: [string, Buffer][] = [
    ['truncated count', Buffer.from([0, 0])],
    ['truncated length', Buffer.from([0, 0, 0, 1, 0, 0])],
    ['truncated string', Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0x61])],
    ['trailing bytes', Buffer.concat([encodeHeaderBlock({ a: 'b' }), Buffer.from([1])])],
    ['empty header name', encodeHeaderBlock({ '': 'x' })],
  ];
  for (const [what, block] of malformed) {
    it(`rejects a block with ${what}`, () => {
      assert.throws(() => decodeHeaderBlock(block), (e: unknown) => e instanceof SpdyError && e.code === 'ERR_SPDY_PROTOCOL');
    });
  }

  it('decodes successive blocks of one dictionary zlib stream, as client-go compresses them', async () => {
    const go = new GoLikeCompressor();
    const dec = new HeaderDecompressor();
    const blocks: SpdyHeaders[] = [
      { streamtype: 'error', port: '9090', requestid: '0' },
      { streamtype: 'data', port: '9090', requestid: '0' },
      { streamtype: 'stdout', big: 'x'.repeat(100_000) },
      {},
    ];
    for (const h of blocks) assert.deepEqual(await dec.decode(await go.compress(encodeHeaderBlock(h))), h);
    dec.close();
  });

  it('compresses into a stream that a dictionary inflater reads block by block (stored blocks + sync marker)', async () => {
    const enc = new HeaderCompressor();
    const inflate = zlib.createInflate({ dictionary: SPDY_DICTIONARY });
    const got: Buffer[] = [];
    inflate.on('data', (c: Buffer) => got.push(c));
    const blocks: SpdyHeaders[] = [{ a: '1' }, { streamtype: 'stdout' }, { big: 'y'.repeat(70_000) }, {}];
    for (const h of blocks) {
      const c = enc.encode(h);
      assert.deepEqual([...c.subarray(-5)], [0, 0, 0, 0xff, 0xff], 'each block ends with the sync-flush marker');
      inflate.write(c);
      await new Promise<void>((r) => inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(r)));
      assert.deepEqual(decodeHeaderBlock(Buffer.concat(got.splice(0))), h);
    }
    assert.deepEqual([...enc.encode({}).subarray(0, 1)], [0x00], 'only the first block carries the zlib header');
    inflate.close();
  });

  it('reports a corrupt block as a protocol error', async () => {
    const dec = new HeaderDecompressor();
    await assert.rejects(dec.decompress(Buffer.from([0x78, 0xbb, 1, 2, 3, 4, 5, 6])), (e: unknown) => e instanceof SpdyError && e.code === 'ERR_SPDY_PROTOCOL');
    dec.close();
  });
});

describe('SPDY frames', () => {
  const hb = Buffer.from([1, 2, 3, 4, 5]);
  const frames: [Buffer, Frame][] = [
    [encodeSynStream(1, hb), { type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, slot: 0, flags: 0, headerBlock: hb }],
    [encodeSynStream(0x7ffffffd, hb, FLAG_FIN, 3, 7), { type: 'syn_stream', streamId: 0x7ffffffd, associatedId: 3, priority: 7, slot: 0, flags: FLAG_FIN, headerBlock: hb }],
    [encodeSynReply(3, hb, FLAG_FIN), { type: 'syn_reply', streamId: 3, flags: FLAG_FIN, headerBlock: hb }],
    [encodeHeaders(5, hb), { type: 'headers', streamId: 5, flags: 0, headerBlock: hb }],
    [encodeRstStream(7, RstStatus.CANCEL), { type: 'rst_stream', streamId: 7, status: 5 }],
    [encodeSettings([{ id: 7, value: 65536 }, { flags: 1, id: 4, value: 100 }]), { type: 'settings', flags: 0, entries: [{ flags: 0, id: 7, value: 65536 }, { flags: 1, id: 4, value: 100 }] }],
    [encodePing(0xfffffffe), { type: 'ping', id: 0xfffffffe }],
    [encodeGoAway(9, 1), { type: 'goaway', lastGoodStreamId: 9, status: 1 }],
    [encodeWindowUpdate(1, 1000), { type: 'window_update', streamId: 1, delta: 1000 }],
    [encodeData(1, Buffer.from('hello')), { type: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') }],
    [encodeData(3, Buffer.alloc(0), FLAG_FIN), { type: 'data', streamId: 3, flags: FLAG_FIN, data: Buffer.alloc(0) }],
    [encodeData(5, Buffer.alloc(70_000, 7)), { type: 'data', streamId: 5, flags: 0, data: Buffer.alloc(70_000, 7) }],
  ];
  const wire = Buffer.concat(frames.map(([b]) => b));
  const expected = frames.map(([, f]) => f);

  it('decodes every frame type', () => {
    assert.deepEqual(new FrameReader().push(wire), expected);
  });

  it('reassembles frames split at every single byte boundary of the first 400 bytes', () => {
    for (let cut = 1; cut < 400; cut++) {
      const r = new FrameReader();
      const got = [...r.push(wire.subarray(0, cut)), ...r.push(wire.subarray(cut))];
      assert.deepEqual(got, expected, `split at ${cut}`);
      assert.equal(r.buffered, 0);
    }
  });

  const chunkings: [string, number, number][] = [['1-byte', 0, 1], ['1..3-byte', 1, 3], ['1..13-byte', 2, 13], ['1..4096-byte', 3, 4096], ['empty + tiny', 4, 2]];
  for (const [name, seed, max] of chunkings) {
    it(`reassembles frames from ${name} slices`, () => {
      const r = new FrameReader();
      const got: Frame[] = [];
      for (const piece of split(wire, seed, max)) {
        got.push(...r.push(piece));
        if (seed === 4) got.push(...r.push(Buffer.alloc(0)));
      }
      assert.deepEqual(got, expected);
    });
  }

  it('refuses another SPDY version and oversized frames', () => {
    const v2 = encodePing(1);
    v2.writeUInt16BE(0x8002, 0);
    assert.throws(() => new FrameReader().push(v2), /unsupported SPDY version 2/);
    assert.throws(() => new FrameReader({ maxPayload: 10 }).push(encodeData(1, Buffer.alloc(11))), /exceeds the limit/);
  });
});

/** Client and server sessions over an in-memory link that re-cuts the bytes at random points. */
function link(seed: number, max = 7): { client: SpdySession; server: SpdySession; a: Duplex; b: Duplex } {
  const [a, b] = duplexPair();
  const chop = (s: number) => {
    const g = sizes(s, max);
    return new Transform({
      transform(chunk: Buffer, _e, cb) {
        for (let off = 0; off < chunk.length; ) {
          const n = g.next().value as number;
          this.push(chunk.subarray(off, off + n));
          off += n;
        }
        cb();
      },
    });
  };
  // Each side reads through a re-chunker: [a] -> chop -> session sees b's writes, and vice versa.
  const [ca, cb] = duplexPair();
  const [sa, sb] = duplexPair();
  a.pipe(chop(seed)).pipe(cb);
  cb.pipe(a);
  b.pipe(chop(seed + 1)).pipe(sb);
  sb.pipe(b);
  // ca talks to the server's bytes; sa to the client's.
  const client = new SpdySession(ca, { role: 'client' });
  const server = new SpdySession(sa, { role: 'server' });
  return { client, server, a, b };
}

async function readAll(s: SpdyStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('SPDY sessions', () => {
  it('opens streams, exchanges data both ways and half-closes, across random re-chunking', async () => {
    const { client, server } = link(11);
    server.on('stream', (s) => {
      s.reply({ answer: s.headers.streamtype! });
      // Echo, upper-cased, then half-close after the client's FIN.
      s.on('data', (c: Buffer) => s.write(Buffer.from(c.toString().toUpperCase())));
      s.on('end', () => s.end());
    });
    const s = await client.openStream({ streamtype: 'data', port: '80' });
    assert.deepEqual(s.replyHeaders, { answer: 'data' });
    s.end('hello spdy');
    assert.equal((await readAll(s)).toString(), 'HELLO SPDY');
    await client.close();
    await server.closed;
    assert.equal(client.closeError, undefined);
  });

  it('carries many concurrent streams without mixing their bytes', async () => {
    const { client, server } = link(23, 3000);
    server.on('stream', (s) => {
      s.reply();
      s.pipe(s);
    });
    const payloads = Array.from({ length: 12 }, (_, i) => randomBytes(50_000 + i * 997));
    const streams = await Promise.all(payloads.map((_, i) => client.openStream({ requestid: String(i) })));
    const back = streams.map((s) => readAll(s));
    streams.forEach((s, i) => s.end(payloads[i]));
    const got = await Promise.all(back);
    got.forEach((g, i) => assert.ok(g.equals(payloads[i]!), `stream ${i}`));
    assert.equal(client.streamCount, 0);
    client.destroy();
  });

  it('moves megabytes through one stream to a slow reader (transport backpressure)', async () => {
    const { client, server } = link(5, 60_000);
    const total = 4 * 1024 * 1024;
    let received = 0;
    server.on('stream', (s) => {
      s.reply();
      s.on('readable', () => {
        // Drain in small bites, a little later each time.
        setImmediate(() => {
          for (let c = s.read(8192) as Buffer | null; c; c = s.read(8192) as Buffer | null) received += c.length;
        });
      });
      s.on('end', () => s.end());
    });
    const s = await client.openStream({});
    const chunk = Buffer.alloc(256 * 1024, 1);
    for (let sent = 0; sent < total; sent += chunk.length) if (!s.write(chunk)) await once(s, 'drain');
    s.end();
    s.resume();
    await once(s, 'end');
    assert.equal(received, total);
    client.destroy();
  });

  it('answers pings in both directions', async () => {
    const { client, server } = link(3);
    assert.ok((await client.ping()) >= 0);
    assert.ok((await server.ping()) >= 0);
    client.destroy();
  });

  it('rejects openStream when the peer resets it, refuses it, or never replies', async () => {
    const { client, server } = link(9);
    server.on('stream', (s) => {
      if (s.headers.mode === 'reset') s.reset(RstStatus.REFUSED_STREAM);
      // mode "silent": never reply
    });
    await assert.rejects(client.openStream({ mode: 'reset' }), (e: unknown) => e instanceof SpdyError && e.code === 'ERR_SPDY_STREAM_REFUSED');
    const slow = new SpdySession(duplexPair()[0], { role: 'client', replyTimeoutMs: 30 });
    await assert.rejects(slow.openStream({ mode: 'silent' }), (e: unknown) => e instanceof SpdyError && e.code === 'ERR_SPDY_TIMEOUT');
    slow.destroy();
    client.destroy();
  });

  it('refuses streams when nobody listens, and after GOAWAY', async () => {
    const { client, server } = link(13);
    await assert.rejects(client.openStream({}), /reset stream 1/);
    server.on('stream', (s) => s.reply());
    await client.openStream({});
    server.goAway();
    await once(client, 'goaway');
    await assert.rejects(client.openStream({}), (e: unknown) => e instanceof SpdyError && e.code === 'ERR_SPDY_SESSION_CLOSED');
    client.destroy();
  });

  it('delivers a peer RST_STREAM as a reset event', async () => {
    const { client, server } = link(17);
    server.on('stream', (s) => {
      s.reply();
      s.once('data', () => s.reset());
    });
    const s = await client.openStream({});
    s.write('x');
    const [status] = (await once(s, 'reset')) as [number];
    assert.equal(status, RstStatus.CANCEL);
    client.destroy();
  });

  it('ends every stream and reports close when the TCP connection goes away', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const sock = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const [peer] = await accepted;
    const client = new SpdySession(sock, { role: 'client' });
    const srv = new SpdySession(peer, { role: 'server' });
    srv.on('stream', (s) => s.reply());
    const s = await client.openStream({});
    const closed = once(s, 'close');
    peer.destroy();
    await closed;
    await client.closed;
    await srv.closed;
    assert.equal(s.readableEnded, false, 'the stream was cut short, not ended');
    // Late writes into a dead session are dropped, never an unhandled 'error'.
    let errored = false;
    s.on('error', () => (errored = true));
    s.write('late');
    await new Promise((r) => setImmediate(r));
    assert.equal(errored, false);
    server.close();
  });

  it('closes with a protocol error on garbage', async () => {
    const [x, y] = duplexPair();
    const server = new SpdySession(x, { role: 'server' });
    y.resume();
    y.write(Buffer.from([0x80, 0x02, 0, 1, 0, 0, 0, 0]));
    await server.closed;
    assert.ok(server.closeError instanceof SpdyError && server.closeError.code === 'ERR_SPDY_PROTOCOL');
  });

  it('accepts a SYN_STREAM with FIN as a stream the peer will not write to', async () => {
    const { client, server } = link(29);
    const got = new Promise<SpdyStream>((resolve) => server.on('stream', resolve));
    server.on('stream', (st) => st.end('from server'));
    const s = await client.openStream({ only: 'reply' }, { fin: true });
    const st = await got;
    assert.equal((await readAll(st)).length, 0);
    assert.equal((await readAll(s)).toString(), 'from server');
    assert.equal(s.writable, false);
    client.destroy();
  });
});
