// The DNS server: UDP and TCP on one address and port. Questions in the cluster's zone (and reverse
// names of its ranges) are answered from a LocalResolver, through a cache of encoded answers keyed by
// the question's bytes and dropped whenever the resolver's generation changes; all others go to a
// Forwarder. UDP answers larger than the client takes (512 bytes without EDNS0, else its advertised
// size up to 1232) are truncated with TC so the client retries over TCP (RFC 7766). TCP takes several
// length-prefixed queries per connection, answers each as it is ready (possibly out of order, RFC 7766
// 6.2.1.1), and closes idle connections. Nothing a client sends can throw out of the handlers: a
// failure to answer is logged once per kind and the message is dropped.
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Forwarder } from './forward.ts';
import type { LocalResolver } from './resolver.ts';
import { RCODE_REFUSED, RCODE_SERVFAIL, TYPE_AXFR, TYPE_IXFR } from './records.ts';
import type { Encoded, Query } from './wire.ts';
import { cacheKey, encodeAnswer, encodeEmpty, encodeHeaderError, finish, parseQuery, questionName, truncated, udpLimit } from './wire.ts';

const CLASS_IN = 1;
const CLASS_ANY = 255;
const RCODE_BADVERS = 16;

export interface DnsServerOptions {
  host: string;
  /** 0 picks a free port; `address()` tells which. */
  port: number;
  resolver: LocalResolver;
  /** Without one, names outside the zone are REFUSED. */
  forwarder?: Forwarder;
  /** Idle TCP connections are closed after this long. Default 10 s. */
  tcpIdleMs?: number;
  /** A TCP frame announcing more than this is not a query: the connection is closed. Default 4096. */
  maxTcpQuery?: number;
  /** Open TCP connections beyond this are refused (closed at once). Default 512. */
  maxTcpConnections?: number;
  /** Cached answers beyond this drop the cache (names asked at random must not grow it without end). Default 50,000. */
  maxCacheEntries?: number;
  log?: (msg: string) => void;
}

export class DnsServer {
  readonly #o: DnsServerOptions;
  readonly #cache = new Map<string, Encoded>();
  #cacheGeneration = -1;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();
  readonly #logged = new Set<string>();
  #address: AddressInfo | undefined;

  constructor(o: DnsServerOptions) {
    this.#o = o;
  }

  /** Binds UDP and TCP on the same port (the TCP port follows the UDP one when port is 0). */
  start(): Promise<AddressInfo> {
    return this.#bind(1);
  }

  async #bind(attempt: number): Promise<AddressInfo> {
    const udp = dgram.createSocket({ type: 'udp4' });
    udp.on('message', (msg, rinfo) => this.#onUdp(udp, msg, rinfo));
    udp.on('error', (err) => this.#log('udp', `udp socket: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.#o.port, this.#o.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.#udp = udp;
    // Room for bursts: a full receive buffer drops queries, which clients retry only after seconds.
    try {
      udp.setRecvBufferSize(4 << 20);
    } catch {
      // capped by net.core.rmem_max; the default then stands
    }
    const addr = udp.address();
    const tcp = net.createServer((sock) => this.#onTcp(sock));
    tcp.on('error', (err) => this.#log('tcp', `tcp server: ${err.message}`));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(addr.port, this.#o.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.#udp = undefined;
      // Port 0 picked a UDP port whose TCP twin is taken (another program, another test): pick again.
      if (this.#o.port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 20) return this.#bind(attempt + 1);
      throw err;
    }
    this.#tcp = tcp;
    this.#address = addr;
    return addr;
  }

  address(): AddressInfo | undefined {
    return this.#address;
  }

  /** Closes both sockets and every TCP connection; resolves when nothing listens any more. */
  async stop(): Promise<void> {
    this.#o.forwarder?.close();
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    this.#address = undefined;
    for (const c of this.#conns) c.destroy();
    this.#conns.clear();
    await Promise.all([
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
    ]);
  }

  /**
   * The answer to one message, or undefined for silence. Synchronous for local names; a Promise for
   * forwarded ones. Exposed for tests and the fuzz test; the sockets call it.
   */
  answer(msg: Buffer, tcp: boolean): Buffer | undefined | Promise<Buffer | undefined> {
    const p = parseQuery(msg);
    if (p.kind === 'drop') return undefined;
    if (p.kind === 'error') return encodeHeaderError(p.id, p.flags, p.rcode);
    const q = p.query;
    const out = this.#answer(msg, q, tcp);
    if (out instanceof Promise) return out.then((b) => (b === undefined ? undefined : fit(b, q, tcp)));
    return fit(out, q, tcp);
  }

  #answer(msg: Buffer, q: Query, tcp: boolean): Buffer | Promise<Buffer | undefined> {
    if (q.edns && q.edns.version > 0) return finish(encodeEmpty(msg, q, RCODE_BADVERS), q);
    if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) return finish(encodeEmpty(msg, q, RCODE_REFUSED), q);
    // Zone transfers are not served (CoreDNS serves them only with its transfer plugin).
    if (q.qtype === TYPE_AXFR || q.qtype === TYPE_IXFR) return finish(encodeEmpty(msg, q, RCODE_REFUSED), q);
    const resolver = this.#o.resolver;
    if (resolver.generation !== this.#cacheGeneration) {
      this.#cache.clear();
      this.#cacheGeneration = resolver.generation;
    }
    const key = cacheKey(msg, q);
    const hit = this.#cache.get(key);
    if (hit) return finish(pick(hit, q, tcp), q);
    const name = questionName(msg, q);
    if (!resolver.isLocal(name.lower)) {
      const fwd = this.#o.forwarder;
      if (!fwd) return finish(encodeEmpty(msg, q, RCODE_REFUSED), q);
      return fwd.forward(msg, q.qEnd, tcp).then((b) => {
        if (b) return b;
        this.#log('servfail', `no upstream answered for ${name.asked}.; answering SERVFAIL`);
        return finish(encodeEmpty(msg, q, RCODE_SERVFAIL), q);
      });
    }
    const a = name.odd ? resolver.resolve('', '\0', q.qtype) : resolver.resolve(name.asked, name.lower, q.qtype);
    const encoded = encodeAnswer(msg, q, a, a.rcode !== RCODE_SERVFAIL);
    if (a.rcode !== RCODE_SERVFAIL) {
      if (this.#cache.size >= (this.#o.maxCacheEntries ?? 50_000)) this.#cache.clear();
      this.#cache.set(key, encoded);
    }
    return finish(pick(encoded, q, tcp), q);
  }

  #onUdp(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let out: ReturnType<DnsServer['answer']>;
    try {
      out = this.answer(msg, false);
    } catch (err) {
      return this.#fail(err);
    }
    const send = (b: Buffer | undefined) => {
      // No callback: send errors reach the socket's 'error' listener, and the hot path saves a closure per answer (~10% of a send).
      if (b && this.#udp === udp) udp.send(b, rinfo.port, rinfo.address);
    };
    if (out instanceof Promise) out.then(send, (err: unknown) => this.#fail(err));
    else send(out);
  }

  #onTcp(sock: net.Socket): void {
    if (this.#conns.size >= (this.#o.maxTcpConnections ?? 512) || !this.#tcp) {
      sock.destroy();
      return;
    }
    this.#conns.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(this.#o.tcpIdleMs ?? 10_000, () => sock.destroy());
    sock.on('close', () => this.#conns.delete(sock));
    sock.on('error', () => sock.destroy());
    const max = this.#o.maxTcpQuery ?? 4096;
    let pending: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const n = pending.readUInt16BE(0);
        if (n === 0 || n > max) {
          sock.destroy();
          return;
        }
        if (pending.length < 2 + n) return;
        const frame = pending.subarray(2, 2 + n);
        pending = pending.subarray(2 + n);
        let out: ReturnType<DnsServer['answer']>;
        try {
          out = this.answer(frame, true);
        } catch (err) {
          this.#fail(err);
          continue;
        }
        if (out instanceof Promise) out.then((b) => writeFrame(sock, b), (err: unknown) => this.#fail(err));
        else writeFrame(sock, out);
      }
    });
  }

  #fail(err: unknown): void {
    this.#log('internal', `dropping a message that failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }

  #log(kind: string, msg: string): void {
    if (this.#logged.has(kind)) return;
    this.#logged.add(kind);
    (this.#o.log ?? ((m: string) => console.error(`dns: ${m}`)))(msg);
  }
}

function writeFrame(sock: net.Socket, b: Buffer | undefined): void {
  if (!b || sock.destroyed) return;
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(b.length);
  sock.write(Buffer.concat([len, b]));
}

/** The form of a local answer that fits the transport: whole, without its additional section, or truncated. */
function pick(e: Encoded, q: Query, tcp: boolean): Buffer {
  const limit = tcp ? 65535 : udpLimit(q);
  if (e.full.length <= limit) return e.full;
  if (e.lean && e.lean.length <= limit) return e.lean;
  return truncated(e.full, q);
}

/** The answer as the transport carries it: over UDP within the client's limit (else truncated), over TCP within 64 KiB. */
function fit(b: Buffer, q: Query, tcp: boolean): Buffer {
  const limit = tcp ? 65535 : udpLimit(q);
  return b.length > limit ? truncated(b, q) : b;
}
