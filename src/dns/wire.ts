// The DNS wire format on the server's hot path. A query is parsed by hand (a header, one question, an
// optional EDNS0 OPT record: no objects per label, no decoding of what is not needed) so that a
// cached answer is found from the question's bytes; answers are encoded here too, for the name
// compression dns-packet (the clients' and tests' codec) lacks: without it a four-endpoint SRV answer
// outgrows 512 bytes. The
// question is echoed byte for byte (RFC 1035 4.1.2; the asker's case survives), and the OPT record
// of a response (RFC 6891) is appended last so truncation can keep it.
import type { Answer, RR } from './records.ts';
import { RCODE_FORMERR, RCODE_NOTIMP, TYPE_OPT } from './records.ts';

export const HEADER_BYTES = 12;
/** RFC 1035's UDP limit for a client without EDNS0. */
export const CLASSIC_UDP_SIZE = 512;
/** The payload size this server advertises and caps client buffers at (DNS flag day 2020's 1232). */
export const SERVER_UDP_SIZE = 1232;
const OPT_BYTES = 11;

const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const CD = 0x0010;
const DO = 0x8000;

export interface Edns {
  /** The client's UDP payload size (at least 512). */
  size: number;
  version: number;
  dnssecOk: boolean;
}

export interface Query {
  id: number;
  /** The header's flags word as received. */
  flags: number;
  /** Offset just past the question: bytes 12..qEnd are the question, echoed in the answer. */
  qEnd: number;
  qtype: number;
  qclass: number;
  edns: Edns | undefined;
}

/** What to do with a received message: answer it, answer an error code, or say nothing (no header, or a response). */
export type Parsed = { kind: 'query'; query: Query } | { kind: 'error'; rcode: number; id: number; flags: number } | { kind: 'drop' };

/**
 * Parses a query. Silence for what has no header or is itself a response (answering responses
 * invites loops); NOTIMP for opcodes other than QUERY; FORMERR for anything else malformed
 * (QDCOUNT ≠ 1, records in the answer or authority sections, a broken name or OPT record).
 */
export function parseQuery(buf: Buffer): Parsed {
  if (buf.length < HEADER_BYTES) return { kind: 'drop' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & QR) return { kind: 'drop' };
  const opcode = (flags >> 11) & 15;
  if (opcode !== 0) return { kind: 'error', rcode: RCODE_NOTIMP, id, flags };
  const formerr: Parsed = { kind: 'error', rcode: RCODE_FORMERR, id, flags };
  if (buf.readUInt16BE(4) !== 1 || buf.readUInt16BE(6) !== 0 || buf.readUInt16BE(8) !== 0) return formerr;
  const arcount = buf.readUInt16BE(10);
  const nameEnd = skipName(buf, HEADER_BYTES, false);
  if (nameEnd < 0 || nameEnd + 4 > buf.length) return formerr;
  const qtype = buf.readUInt16BE(nameEnd);
  const qclass = buf.readUInt16BE(nameEnd + 2);
  const qEnd = nameEnd + 4;
  let edns: Edns | undefined;
  let off = qEnd;
  for (let i = 0; i < arcount; i++) {
    const end = skipName(buf, off, true);
    if (end < 0 || end + 10 > buf.length) return formerr;
    const type = buf.readUInt16BE(end);
    const rdlen = buf.readUInt16BE(end + 8);
    if (end + 10 + rdlen > buf.length) return formerr;
    if (type === TYPE_OPT) {
      // RFC 6891 6.1.1: one OPT at most, owned by the root.
      if (edns || end !== off + 1) return formerr;
      edns = { size: Math.max(CLASSIC_UDP_SIZE, buf.readUInt16BE(end + 2)), version: buf[end + 5], dnssecOk: (buf.readUInt16BE(end + 6) & DO) !== 0 };
    }
    off = end + 10 + rdlen;
  }
  return { kind: 'query', query: { id, flags, qEnd, qtype, qclass, edns } };
}

/**
 * The end of the name at `off`, or -1 when it is broken. A question name may not use compression
 * (nothing precedes it to point at); additional records may, to earlier bytes only.
 */
function skipName(buf: Buffer, off: number, pointers: boolean): number {
  let total = 0;
  for (;;) {
    if (off >= buf.length) return -1;
    const len = buf[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (!pointers || off + 2 > buf.length) return -1;
      return (((len & 0x3f) << 8) | buf[off + 1]) < off ? off + 2 : -1;
    }
    if (len & 0xc0) return -1;
    total += len + 1;
    if (total > 254) return -1;
    off += len + 1;
  }
}

export interface QuestionName {
  /** The name as asked, without the trailing dot ('' for the root). */
  asked: string;
  lower: string;
  /** A label holds a dot or a byte outside printable ASCII: no cluster name can match it. */
  odd: boolean;
}

export function questionName(buf: Buffer, q: Query): QuestionName {
  let off = HEADER_BYTES;
  let asked = '';
  let odd = false;
  for (;;) {
    const len = buf[off];
    if (len === 0) break;
    for (let i = off + 1; i <= off + len; i++) if (buf[i] <= 0x20 || buf[i] >= 0x7f || buf[i] === 0x2e) odd = true;
    asked += (asked ? '.' : '') + buf.toString('latin1', off + 1, off + 1 + len);
    off += len + 1;
  }
  void q;
  return { asked, lower: asked.toLowerCase(), odd };
}

/** The cache key of a query: its question's bytes (case included, as it is echoed) and what EDNS changes in the answer. */
export function cacheKey(buf: Buffer, q: Query): string {
  return buf.toString('latin1', HEADER_BYTES, q.qEnd) + (q.edns ? (q.edns.dnssecOk ? 'D' : 'E') : 'N');
}

/** The largest UDP answer this client takes. */
export function udpLimit(q: Query): number {
  return q.edns ? Math.min(q.edns.size, SERVER_UDP_SIZE) : CLASSIC_UDP_SIZE;
}

/** An encoded answer, and the same without its additional section when that is what fits a client (RFC 2181 9: no TC needed). */
export interface Encoded {
  full: Buffer;
  lean: Buffer | undefined;
}

/**
 * Encodes an answer to `q` (whose bytes are `buf`), with name compression (RFC 1035 4.1.4) against
 * the question and earlier names. The ID is written by `finish`, so one encoding serves every asker
 * of the same question. `authoritative` sets AA (answers from the cluster's zone).
 */
export function encodeAnswer(buf: Buffer, q: Query, a: Answer, authoritative: boolean): Encoded {
  const full = encodeWith(buf, q, a, authoritative, true);
  const lean = a.additionals.length > 0 && full.length > CLASSIC_UDP_SIZE ? encodeWith(buf, q, a, authoritative, false) : undefined;
  return { full, lean };
}

const scratch = Buffer.allocUnsafe(65535 + 512);

function encodeWith(buf: Buffer, q: Query, a: Answer, authoritative: boolean, extra: boolean): Buffer {
  const w = scratch;
  const names = new Map<string, number>();
  // The question's name is at 12: its suffixes are the first compression targets.
  let off = HEADER_BYTES;
  for (;;) {
    const len = buf[off];
    if (len === 0) break;
    let odd = false;
    for (let i = off + 1; i <= off + len; i++) if (buf[i] === 0x2e) odd = true;
    if (odd) break;
    names.set(nameFrom(buf, off).toLowerCase(), off);
    off += len + 1;
  }
  buf.copy(w, 0, 0, q.qEnd);
  w.writeUInt16BE(0, 0);
  w.writeUInt16BE(QR | (authoritative ? AA : 0) | RA | (a.rcode & 15), 2);
  w.writeUInt16BE(1, 4);
  w.writeUInt16BE(a.answers.length, 6);
  w.writeUInt16BE(a.authorities.length, 8);
  const additionals = extra ? a.additionals : [];
  w.writeUInt16BE(additionals.length + (q.edns ? 1 : 0), 10);
  off = q.qEnd;
  for (const list of [a.answers, a.authorities, additionals]) for (const rr of list) off = writeRR(w, off, rr, names);
  if (q.edns) {
    writeOpt(w, off, a.rcode, q.edns.dnssecOk);
    off += OPT_BYTES;
  }
  return Buffer.from(w.subarray(0, off));
}

/** The dotted name whose labels start at `off` (no pointers: used on the question only). */
function nameFrom(buf: Buffer, off: number): string {
  let out = '';
  for (;;) {
    const len = buf[off];
    if (len === 0) return out;
    out += (out ? '.' : '') + buf.toString('latin1', off + 1, off + 1 + len);
    off += len + 1;
  }
}

const TYPE_CODES: { [t in RR['type']]: number } = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, SRV: 33 };

function writeName(w: Buffer, off: number, name: string, names: Map<string, number>, compress: boolean): number {
  const labels = name === '' ? [] : name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const suffix = labels.slice(i).join('.').toLowerCase();
    const at = names.get(suffix);
    if (compress && at !== undefined) {
      w.writeUInt16BE(0xc000 | at, off);
      return off + 2;
    }
    if (off < 0x3fff && at === undefined) names.set(suffix, off);
    const len = w.write(labels[i], off + 1, 'latin1');
    w[off] = len;
    off += len + 1;
  }
  w[off] = 0;
  return off + 1;
}

function writeRR(w: Buffer, off: number, rr: RR, names: Map<string, number>): number {
  off = writeName(w, off, rr.name, names, true);
  w.writeUInt16BE(TYPE_CODES[rr.type], off);
  w.writeUInt16BE(1, off + 2);
  w.writeUInt32BE(rr.ttl, off + 4);
  const rdStart = off + 10;
  let end = rdStart;
  switch (rr.type) {
    case 'A':
      for (const o of rr.data.split('.')) w[end++] = Number(o);
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      end = writeName(w, rdStart, rr.data, names, true);
      break;
    case 'TXT': {
      const len = w.write(rr.data, rdStart + 1, 'latin1');
      w[rdStart] = len;
      end = rdStart + 1 + len;
      break;
    }
    case 'SRV':
      w.writeUInt16BE(rr.data.priority, rdStart);
      w.writeUInt16BE(rr.data.weight, rdStart + 2);
      w.writeUInt16BE(rr.data.port, rdStart + 4);
      // RFC 2782: the target is never compressed.
      end = writeName(w, rdStart + 6, rr.data.target, names, false);
      break;
    case 'SOA': {
      end = writeName(w, rdStart, rr.data.mname, names, true);
      end = writeName(w, end, rr.data.rname, names, true);
      const d = rr.data;
      for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) {
        w.writeUInt32BE(v >>> 0, end);
        end += 4;
      }
      break;
    }
  }
  w.writeUInt16BE(end - rdStart, off + 8);
  return end;
}

/** An answer with no records but the question (and OPT): errors, SERVFAIL, BADVERS. */
export function encodeEmpty(buf: Buffer, q: Query, rcode: number): Buffer {
  return encodeWith(buf, q, { rcode, answers: [], authorities: [], additionals: [] }, false, false);
}

/** An error answer to what could not be parsed as a question: the header alone, QDCOUNT 0. */
export function encodeHeaderError(id: number, flags: number, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(QR | (flags & (0x7800 | RD | CD)) | RA | (rcode & 15), 2);
  return out;
}

function writeOpt(out: Buffer, off: number, rcode: number, dnssecOk: boolean): void {
  out[off] = 0;
  out.writeUInt16BE(TYPE_OPT, off + 1);
  out.writeUInt16BE(SERVER_UDP_SIZE, off + 3);
  // TTL field: extended RCODE (the high 8 of 12 bits), version 0, DO echoed (RFC 3225).
  out[off + 5] = (rcode >> 4) & 0xff;
  out[off + 6] = 0;
  out.writeUInt16BE(dnssecOk ? DO : 0, off + 7);
  out.writeUInt16BE(0, off + 9);
}

/** A copy of an encoded answer for one asker: their ID and their RD and CD bits. */
export function finish(encoded: Buffer, q: Query): Buffer {
  const out = Buffer.allocUnsafe(encoded.length);
  encoded.copy(out);
  out.writeUInt16BE(q.id, 0);
  out[2] = (out[2] & ~(RD >> 8)) | ((q.flags & RD) >> 8);
  out[3] = (out[3] & ~CD) | (q.flags & CD);
  return out;
}

/**
 * The truncated form of an answer too big for UDP (ours or an upstream's): its header with TC, the
 * question, and our OPT when the client sent one; the client retries over TCP.
 */
export function truncated(answer: Buffer, q: Query): Buffer {
  const out = Buffer.allocUnsafe(q.qEnd + (q.edns ? OPT_BYTES : 0));
  answer.copy(out, 0, 0, q.qEnd);
  out.writeUInt16BE(answer.readUInt16BE(2) | TC, 2);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(q.edns ? 1 : 0, 10);
  if (q.edns) writeOpt(out, q.qEnd, answer.readUInt16BE(2) & 15, q.edns.dnssecOk);
  return out;
}
