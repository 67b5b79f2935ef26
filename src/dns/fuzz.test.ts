// Fuzzing the DNS server with random and mutated messages, directly and over UDP and TCP. The PRNG is
// seeded (DNS_FUZZ_SEED overrides) so a failure names the seed and case that reproduce it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { ZoneIndex } from './records.ts';
import { DnsServer } from './server.ts';
import { UpstreamForwarder } from './forward.ts';
import { fixtureServices, fixtureSlices } from './testdata.ts';
import { FakeUpstream, frame, query } from './dnstest.ts';
import { mulberry32 } from '../testing/random.ts';

const SEED = Number(process.env.DNS_FUZZ_SEED ?? 0x5eed);


const names = [
  'web.default.svc.cluster.local',
  'db.default.svc.cluster.local',
  '_pg._tcp.db.default.svc.cluster.local',
  'db-0.db.default.svc.cluster.local',
  'ext.default.svc.cluster.local',
  'alias.default.svc.cluster.local',
  '10-244-1-5.default.pod.cluster.local',
  '5.0.43.10.in-addr.arpa',
  'dns-version.cluster.local',
  'cluster.local',
  'default.svc.cluster.local',
  'nosuch.default.svc.cluster.local',
  'example.com',
];
const types: dnsPacket.RecordType[] = ['A', 'AAAA', 'SRV', 'PTR', 'TXT', 'CNAME', 'SOA', 'NS', 'MX', 'HINFO'];

function cases(n: number, seed: number): Buffer[] {
  const rnd = mulberry32(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const kind = int(4);
    if (kind === 0) {
      // random bytes, mostly around a header's size
      const len = int(3) === 0 ? int(600) : 12 + int(40);
      out.push(Buffer.from(Array.from({ length: len }, () => int(256))));
      continue;
    }
    let m = query(names[int(names.length)], types[int(types.length)], { id: int(65536), edns: int(2) ? 512 + int(4000) : undefined });
    const flips = 1 + int(6);
    m = Buffer.from(m);
    for (let f = 0; f < flips; f++) {
      const at = int(m.length);
      if (kind === 1) m[at] = int(256);
      else if (kind === 2) m[at] ^= 1 << int(8);
      else {
        // header words: counts, flags, opcodes
        const w = 2 * (1 + int(5));
        m.writeUInt16BE(int(3) === 0 ? int(65536) : int(4), w);
      }
    }
    if (int(5) === 0) m = m.subarray(0, int(m.length));
    if (int(8) === 0) m = Buffer.concat([m, Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
    out.push(m);
  }
  return out;
}

let upstream: FakeUpstream;
let server: DnsServer;
let port = 0;
const logs: string[] = [];

before(async () => {
  upstream = new FakeUpstream((q) => ({ flags: dnsPacket.RECURSION_AVAILABLE, answers: [{ type: 'A', name: q.questions?.[0]?.name ?? '.', ttl: 1, data: '192.0.2.1' }] }));
  const up = await upstream.start();
  const idx = new ZoneIndex({ reverseCidrs: ['10.43.0.0/16', '10.244.0.0/16'] });
  for (const s of fixtureServices) idx.upsertService(s);
  for (const s of fixtureSlices) idx.upsertSlice(s);
  server = new DnsServer({
    host: '127.0.0.1',
    port: 0,
    resolver: idx,
    forwarder: new UpstreamForwarder({ upstreams: () => [{ host: '127.0.0.1', port: up }], timeoutMs: 200 }),
    log: (m) => logs.push(m),
  });
  port = (await server.start()).port;
});

after(async () => {
  await server.stop();
  await upstream.stop();
});

test(`fuzz (seed ${SEED}): 6,000 messages straight into the server: never a throw; every answer is a decodable response to its ID`, async () => {
  const all = cases(6000, SEED);
  const seen = new Map<string, number>();
  for (let i = 0; i < all.length; i++) {
    const m = all[i];
    const where = `seed ${SEED} case ${i}: ${m.toString('hex')}`;
    let out: Buffer | undefined;
    try {
      out = await server.answer(m, i % 2 === 1);
    } catch (err) {
      assert.fail(`${where} threw ${String(err)}`);
    }
    const outcome = out ? `rcode ${out[3] & 15}` : 'silence';
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    if (!out) continue;
    assert.equal(out.readUInt16BE(0), m.readUInt16BE(0), where);
    assert.equal(out[2] & 0x80, 0x80, `${where}: QR set`);
    assert.doesNotThrow(() => dnsPacket.decode(out), where);
    if (i % 2 === 0) assert.ok(out.length <= 4096 || (out[2] & 0x02) !== 0, `${where}: UDP answer within limits or TC`);
  }
  // The cases reach every outcome: silence, NOERROR, FORMERR, SERVFAIL/forwarded, NXDOMAIN, NOTIMP, REFUSED.
  for (const o of ['silence', 'rcode 0', 'rcode 1', 'rcode 3', 'rcode 4', 'rcode 5']) assert.ok((seen.get(o) ?? 0) > 10, `${o}: ${JSON.stringify([...seen])}`);
});

const PROBE = 'probe-after-fuzz.default.svc.cluster.local';

function probe(id: number): Buffer {
  return query(PROBE, 'A', { id });
}

function isProbe(b: Buffer): boolean {
  try {
    return dnsPacket.decode(b).questions?.[0]?.name === PROBE;
  } catch {
    return false;
  }
}

test(`fuzz (seed ${SEED + 1}): 2,000 datagrams over UDP in batches, each followed by a probe the server answers`, async () => {
  const all = cases(2000, SEED + 1);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  let waiting: ((id: number) => void) | undefined;
  sock.on('message', (m) => {
    if (isProbe(m)) waiting?.(m.readUInt16BE(0));
  });
  for (let b = 0; b < all.length; b += 100) {
    const probeId = b / 100;
    const answered = new Promise<number>((r) => (waiting = (id) => id === probeId && r(id)));
    for (const m of all.slice(b, b + 100)) sock.send(m, port, '127.0.0.1');
    sock.send(probe(probeId), port, '127.0.0.1');
    assert.equal(await answered, probeId);
  }
  sock.close();
});

test(`fuzz (seed ${SEED + 2}): 2,000 frames on one TCP connection, then the probe on it is answered`, async () => {
  const frames = [...cases(2000, SEED + 2).filter((m) => m.length > 0).map(frame), frame(probe(7))];
  const answered = await new Promise<number>((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let n = 0;
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`closed after ${n} answers, before the probe's`)));
    sock.on('connect', () => sock.write(Buffer.concat(frames)));
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        n++;
        if (isProbe(m)) {
          sock.removeAllListeners('close');
          sock.destroy();
          resolve(n);
        }
      }
    });
  });
  assert.ok(answered > 1);
});

test('the server logged no internal failure while fuzzed', () => {
  assert.deepEqual(logs.filter((l) => l.includes('failed')), []);
});
