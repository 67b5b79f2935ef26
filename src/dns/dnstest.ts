// Clients and a tiny upstream server for the DNS tests (dns-packet on the wire, 127.0.0.1). Test-only.
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

export function query(name: string, type: dnsPacket.RecordType, o: { id?: number; edns?: number; flags?: number } = {}): Buffer {
  const additionals: dnsPacket.Answer[] = o.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: o.edns, flags: 0 } as dnsPacket.Answer] : [];
  return dnsPacket.encode({ type: 'query', id: o.id ?? 4242, flags: o.flags ?? dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }], additionals });
}

/** Sends datagrams from one socket and collects the first `n` replies, in arrival order. */
export function udpExchange(port: number, msgs: Buffer[], n = msgs.length): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    sock.on('error', reject);
    sock.on('message', (m) => {
      got.push(m);
      if (got.length === n) {
        sock.close();
        resolve(got);
      }
    });
    for (const m of msgs) sock.send(m, port, '127.0.0.1');
  });
}

/** A decoded answer, loosely typed for assertions (dns-packet's types leave out rcode and merge OPT into records). */
export interface Decoded {
  id: number;
  rcode: string;
  flag_aa: boolean;
  flag_rd: boolean;
  flag_tc: boolean;
  questions: Array<{ name: string; type: string; class: string }>;
  answers: Rec[];
  authorities: Rec[];
  additionals: Rec[];
}

export interface Rec {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
  udpPayloadSize?: number;
  flags?: number;
  extendedRcode?: number;
}

export function decode(b: Buffer): Decoded {
  return dnsPacket.decode(b) as unknown as Decoded;
}

export async function udp(port: number, msg: Buffer): Promise<Decoded> {
  const [r] = await udpExchange(port, [msg]);
  return decode(r);
}

export function frame(msg: Buffer): Buffer {
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** Opens a connection, writes `bytes`, collects `n` framed answers. */
export function tcpExchange(port: number, bytes: Buffer | Buffer[], n: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const got: Buffer[] = [];
    sock.on('error', reject);
    sock.on('close', () => (got.length < n ? reject(new Error(`connection closed after ${got.length} of ${n} answers`)) : undefined));
    sock.on('connect', () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) sock.write(b);
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        got.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (got.length >= n) {
        sock.destroy();
        resolve(got);
      }
    });
  });
}

export async function tcp(port: number, msg: Buffer): Promise<Decoded> {
  const [r] = await tcpExchange(port, frame(msg), 1);
  return decode(r);
}

/** Resolves when the server closes a connection on which `bytes` were written (the data it sent, if any). */
export function tcpUntilClosed(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    sock.on('error', reject);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (c) => chunks.push(c));
    sock.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** An upstream resolver on 127.0.0.1 (UDP and TCP, one port) answering every question with `answer`, counting what it got. */
export class FakeUpstream {
  readonly questions: string[] = [];
  #udp = dgram.createSocket('udp4');
  #tcp = net.createServer((s) => this.#onTcp(s));
  port = 0;
  readonly #answer: (q: dnsPacket.DecodedPacket) => dnsPacket.Packet;

  constructor(answer: (q: dnsPacket.DecodedPacket) => dnsPacket.Packet) {
    this.#answer = answer;
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.#udp.bind(0, '127.0.0.1', r));
    this.port = (this.#udp.address() as AddressInfo).port;
    await new Promise<void>((r) => this.#tcp.listen(this.port, '127.0.0.1', r));
    this.#udp.on('message', (m, rinfo) => this.#udp.send(this.#reply(m), rinfo.port, rinfo.address));
    return this.port;
  }

  #reply(m: Buffer): Buffer {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(m);
    } catch {
      // What the fuzz test forwards need not parse; a real resolver answers FORMERR.
      return Buffer.concat([m.subarray(0, 2), Buffer.from([0x81, 0x01]), Buffer.alloc(8)]);
    }
    this.questions.push(`${q.questions?.[0]?.name} ${q.questions?.[0]?.type}`);
    return dnsPacket.encode({ ...this.#answer(q), id: q.id, type: 'response', questions: q.questions });
  }

  #onTcp(s: net.Socket): void {
    let buf = Buffer.alloc(0);
    s.on('error', () => s.destroy());
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.write(frame(this.#reply(buf.subarray(2, 2 + buf.readUInt16BE(0)))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.#udp.close(() => r()));
    await new Promise<void>((r) => this.#tcp.close(() => r()));
  }
}

/** A UDP and TCP port nobody listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
