// Forwarding of names outside the cluster's zone to the node's own resolvers (CoreDNS's default
// Corefile: `forward . /etc/resolv.conf`). Upstreams are tried in order, each with a timeout; a query
// that none answers gets SERVFAIL from the caller. A UDP query goes to the upstream over UDP (a
// truncated upstream answer is relayed with TC, so the client retries over TCP), a TCP query over TCP.
// Each UDP forward uses its own socket and a fresh random ID (source port and ID randomisation against
// spoofed answers, RFC 5452); an answer whose ID, sender or question does not match is ignored.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseIPv4 } from '../api/network.ts';
import { HEADER_BYTES } from './wire.ts';

export interface Upstream {
  host: string;
  port: number;
}

/** Forwards one raw query; undefined when no upstream answered. May be called concurrently. */
export interface Forwarder {
  forward(query: Buffer, qEnd: number, tcp: boolean): Promise<Buffer | undefined>;
  close(): void;
}

/** The IPv4 `nameserver` lines of a resolv.conf (IPv6 ones are skipped: the server's sockets are IPv4). */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && parseIPv4(m[1]) !== undefined) out.push({ host: m[1], port: 53 });
  }
  return out;
}

/** The node's resolvers from a resolv.conf file; none when it cannot be read. */
export function readResolvConf(path = '/etc/resolv.conf'): Upstream[] {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

/**
 * The upstreams minus this server itself (a node whose resolv.conf names the cluster DNS, as a pod's
 * does, would otherwise loop). A server on 0.0.0.0 is every local address on its port
 * (`hostAddresses`: the machine's, read from its interfaces unless given).
 */
export function withoutSelf(upstreams: readonly Upstream[], self: Upstream, hostAddresses: () => readonly string[] = hostIPv4Addresses): Upstream[] {
  const local = new Set<string>([self.host]);
  if (self.host === '0.0.0.0') for (const a of hostAddresses()) local.add(a);
  return upstreams.filter((u) => !(u.port === self.port && (local.has(u.host) || (self.host === '0.0.0.0' && u.host.startsWith('127.')))));
}

/** This machine's IPv4 addresses (every interface). */
function hostIPv4Addresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((addrs) => (addrs ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address));
}

export interface UpstreamForwarderOptions {
  upstreams: () => readonly Upstream[];
  /** Per upstream. Default 2 s (CoreDNS forward's read timeout is 2 s). */
  timeoutMs?: number;
  /**
   * Forwards in flight beyond this are not sent (the caller answers SERVFAIL), so a flood of outside
   * names towards a dead upstream cannot hold thousands of sockets (CoreDNS forward's max_concurrent).
   * Default 1000.
   */
  maxConcurrent?: number;
}

const MAX_TCP_ANSWER = 65535;

export class UpstreamForwarder implements Forwarder {
  readonly #upstreams: () => readonly Upstream[];
  readonly #timeoutMs: number;
  readonly #maxConcurrent: number;
  readonly #inflight = new Set<() => void>();
  #forwarding = 0;

  constructor(o: UpstreamForwarderOptions) {
    this.#upstreams = o.upstreams;
    this.#timeoutMs = o.timeoutMs ?? 2000;
    this.#maxConcurrent = o.maxConcurrent ?? 1000;
  }

  async forward(query: Buffer, qEnd: number, tcp: boolean): Promise<Buffer | undefined> {
    if (this.#forwarding >= this.#maxConcurrent) return undefined;
    this.#forwarding++;
    try {
      return await this.#forward(query, qEnd, tcp);
    } finally {
      this.#forwarding--;
    }
  }

  async #forward(query: Buffer, qEnd: number, tcp: boolean): Promise<Buffer | undefined> {
    for (const u of this.#upstreams()) {
      const id = randomInt(0, 0x10000);
      const out = Buffer.from(query);
      out.writeUInt16BE(id, 0);
      const answer = await (tcp ? this.#tcp(u, out) : this.#udp(u, out));
      if (answer && matches(answer, out, qEnd)) {
        answer.writeUInt16BE(query.readUInt16BE(0), 0);
        return answer;
      }
    }
    return undefined;
  }

  /** Ends every forward in flight (each resolves undefined). */
  close(): void {
    for (const cancel of [...this.#inflight]) cancel();
  }

  #udp(u: Upstream, msg: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket('udp4');
      const done = (answer: Buffer | undefined) => {
        clearTimeout(timer);
        this.#inflight.delete(cancel);
        sock.close();
        resolve(answer);
      };
      const cancel = () => done(undefined);
      const timer = setTimeout(cancel, this.#timeoutMs);
      this.#inflight.add(cancel);
      sock.on('error', cancel);
      sock.on('message', (m, rinfo) => {
        if (rinfo.address === u.host && rinfo.port === u.port && m.length >= HEADER_BYTES && m.readUInt16BE(0) === msg.readUInt16BE(0)) done(m);
      });
      sock.send(msg, u.port, u.host, (err) => {
        if (err) cancel();
      });
    });
  }

  #tcp(u: Upstream, msg: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = net.connect({ host: u.host, port: u.port });
      let buf = Buffer.alloc(0);
      let settled = false;
      const done = (answer: Buffer | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#inflight.delete(cancel);
        sock.destroy();
        resolve(answer);
      };
      const cancel = () => done(undefined);
      const timer = setTimeout(cancel, this.#timeoutMs);
      this.#inflight.add(cancel);
      sock.on('error', cancel);
      sock.on('close', cancel);
      sock.on('connect', () => {
        const len = Buffer.allocUnsafe(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (n > MAX_TCP_ANSWER) return cancel();
        if (buf.length >= 2 + n) done(buf.subarray(2, 2 + n));
      });
    });
  }
}

/** The answer is a response to the query: same ID, QR set, the same question (names compare case-insensitively). */
function matches(answer: Buffer, query: Buffer, qEnd: number): boolean {
  if (answer.length < qEnd || !(answer[2] & 0x80) || answer.readUInt16BE(0) !== query.readUInt16BE(0)) return false;
  if (answer.readUInt16BE(4) !== 1) return false;
  return answer.toString('latin1', HEADER_BYTES, qEnd).toLowerCase() === query.toString('latin1', HEADER_BYTES, qEnd).toLowerCase();
}
