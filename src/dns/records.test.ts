import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RR } from './records.ts';
import {
  RCODE_NOERROR as OK,
  RCODE_NXDOMAIN as NX,
  RCODE_SERVFAIL,
  TYPE_A,
  TYPE_AAAA,
  TYPE_ANY,
  TYPE_CNAME,
  TYPE_NS,
  TYPE_PTR,
  TYPE_SOA,
  TYPE_SRV,
  TYPE_TXT,
  ZoneIndex,
} from './records.ts';

/** A type the cluster never has records of. */
const TYPE_MX_FOR_TESTS = 15;
import { fixtureServices, fixtureSlices, service, slice } from './testdata.ts';

function fixture(): ZoneIndex {
  const idx = new ZoneIndex({ reverseCidrs: ['10.43.0.0/16', '10.244.0.0/16'], serverIP: '10.43.0.10', now: () => 1000 });
  for (const s of fixtureServices) idx.upsertService(s);
  for (const s of fixtureSlices) idx.upsertSlice(s);
  return idx;
}

function show(r: RR): string {
  if (r.type === 'SRV') return `${r.name} SRV ${r.data.priority} ${r.data.weight} ${r.data.port} ${r.data.target}`;
  if (r.type === 'SOA') return `${r.name} SOA ${r.data.mname} ${r.data.rname} ${r.data.minimum}`;
  return `${r.name} ${r.type} ${r.data}`;
}

const Z = 'cluster.local';

interface Case {
  name: string;
  qtype: number;
  rcode: number;
  answers: string[];
  additionals?: string[];
}

// Answers in order; `$` stands for the asked name. Every empty answer (NXDOMAIN or NODATA) carries
// the SOA, checked below.
const cases: Case[] = [
  // 2.2 schema version
  { name: `dns-version.${Z}`, qtype: TYPE_TXT, rcode: OK, answers: ['$ TXT 1.0.1'] },
  { name: `dns-version.${Z}`, qtype: TYPE_A, rcode: OK, answers: [] },
  // apex
  { name: Z, qtype: TYPE_SOA, rcode: OK, answers: ['$ SOA ns.dns.cluster.local hostmaster.cluster.local 5'] },
  { name: Z, qtype: TYPE_NS, rcode: OK, answers: ['$ NS ns.dns.cluster.local'] },
  { name: Z, qtype: TYPE_A, rcode: OK, answers: [] },
  { name: `ns.dns.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.43.0.10'] },
  { name: `svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: [] },
  { name: `pod.${Z}`, qtype: TYPE_A, rcode: OK, answers: [] },
  { name: `other.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  // namespaces
  { name: `default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: [] },
  { name: `kube-system.svc.${Z}`, qtype: TYPE_SRV, rcode: OK, answers: [] },
  { name: `nosuch.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  // 2.3 ClusterIP
  { name: `web.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.43.0.5'] },
  { name: `WEB.Default.SVC.Cluster.Local`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.43.0.5'] },
  { name: `web.default.svc.${Z}`, qtype: TYPE_AAAA, rcode: OK, answers: [] },
  { name: `web.default.svc.${Z}`, qtype: TYPE_TXT, rcode: OK, answers: [] },
  { name: `web.default.svc.${Z}`, qtype: TYPE_MX_FOR_TESTS, rcode: OK, answers: [] },
  { name: `web.default.svc.${Z}`, qtype: TYPE_ANY, rcode: OK, answers: ['$ A 10.43.0.5'] },
  { name: `nosuch.default.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  { name: `nosuch.default.svc.${Z}`, qtype: TYPE_MX_FOR_TESTS, rcode: NX, answers: [] },
  { name: `web.nosuch.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  { name: `pending.default.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  {
    name: `_http._tcp.web.default.svc.${Z}`,
    qtype: TYPE_SRV,
    rcode: OK,
    answers: ['$ SRV 0 100 80 web.default.svc.cluster.local'],
    additionals: ['web.default.svc.cluster.local A 10.43.0.5'],
  },
  { name: `_HTTP._TCP.web.default.svc.${Z}`, qtype: TYPE_SRV, rcode: OK, answers: ['$ SRV 0 100 80 web.default.svc.cluster.local'] },
  { name: `_dns._udp.web.default.svc.${Z}`, qtype: TYPE_SRV, rcode: OK, answers: ['$ SRV 0 100 53 web.default.svc.cluster.local'] },
  { name: `_http._tcp.web.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.43.0.5'] },
  { name: `_http._tcp.web.default.svc.${Z}`, qtype: TYPE_TXT, rcode: OK, answers: [] },
  { name: `_http._udp.web.default.svc.${Z}`, qtype: TYPE_SRV, rcode: NX, answers: [] },
  { name: `_nope._tcp.web.default.svc.${Z}`, qtype: TYPE_SRV, rcode: NX, answers: [] },
  // unnamed ports have no SRV
  { name: `_._tcp.plain.default.svc.${Z}`, qtype: TYPE_SRV, rcode: NX, answers: [] },
  { name: `plain.default.svc.${Z}`, qtype: TYPE_SRV, rcode: OK, answers: [] },
  { name: `_dns-tcp._tcp.kube-dns.kube-system.svc.${Z}`, qtype: TYPE_SRV, rcode: OK, answers: ['$ SRV 0 100 53 kube-dns.kube-system.svc.cluster.local'] },
  // endpoint names of a ClusterIP Service (CoreDNS answers them too)
  { name: `10-244-0-20.web.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.0.20'] },
  { name: `too.many.labels.web.default.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  // 2.4 headless: ready endpoints only, each address once across slices
  { name: `db.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.1.5', '$ A 10.244.1.6', '$ A 10.244.1.7', '$ A 10.244.2.9'] },
  { name: `db.default.svc.${Z}`, qtype: TYPE_AAAA, rcode: OK, answers: [] },
  { name: `db-0.db.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.1.5'] },
  { name: `DB-1.db.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.1.6'] },
  { name: `10-244-1-7.db.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.1.7'] },
  { name: `db-0.db.default.svc.${Z}`, qtype: TYPE_AAAA, rcode: OK, answers: [] },
  { name: `db-3.db.default.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  { name: `db-9.db.default.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  {
    name: `_pg._tcp.db.default.svc.${Z}`,
    qtype: TYPE_SRV,
    rcode: OK,
    answers: [
      '$ SRV 0 25 5432 db-0.db.default.svc.cluster.local',
      '$ SRV 0 25 5432 db-1.db.default.svc.cluster.local',
      '$ SRV 0 25 5432 10-244-1-7.db.default.svc.cluster.local',
      '$ SRV 0 25 5432 10-244-2-9.db.default.svc.cluster.local',
    ],
    additionals: [
      'db-0.db.default.svc.cluster.local A 10.244.1.5',
      'db-1.db.default.svc.cluster.local A 10.244.1.6',
      '10-244-1-7.db.default.svc.cluster.local A 10.244.1.7',
      '10-244-2-9.db.default.svc.cluster.local A 10.244.2.9',
    ],
  },
  { name: `_pg._udp.db.default.svc.${Z}`, qtype: TYPE_SRV, rcode: NX, answers: [] },
  // publishNotReadyAddresses: not-ready endpoints are published; the SRV port is the endpoint's
  { name: `pub.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.3.3'] },
  { name: `p-0.pub.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.3.3'] },
  { name: `_http._tcp.pub.default.svc.${Z}`, qtype: TYPE_SRV, rcode: OK, answers: ['$ SRV 0 100 8000 p-0.pub.default.svc.cluster.local'] },
  // a headless Service without ready endpoints: NXDOMAIN (spec 2.4.1)
  { name: `empty.default.svc.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  // 2.5 ExternalName: CNAME, chased only inside the zone
  { name: `ext.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ CNAME www.example.com'] },
  { name: `ext.default.svc.${Z}`, qtype: TYPE_CNAME, rcode: OK, answers: ['$ CNAME www.example.com'] },
  { name: `ext.default.svc.${Z}`, qtype: TYPE_AAAA, rcode: OK, answers: ['$ CNAME www.example.com'] },
  { name: `alias.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ CNAME web.default.svc.cluster.local', 'web.default.svc.cluster.local A 10.43.0.5'] },
  { name: `alias.default.svc.${Z}`, qtype: TYPE_CNAME, rcode: OK, answers: ['$ CNAME web.default.svc.cluster.local'] },
  { name: `loop.default.svc.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ CNAME loop.default.svc.cluster.local'] },
  { name: `_http._tcp.ext.default.svc.${Z}`, qtype: TYPE_SRV, rcode: NX, answers: [] },
  // 2.6 pods (CoreDNS `pods insecure`)
  { name: `10-244-1-5.default.pod.${Z}`, qtype: TYPE_A, rcode: OK, answers: ['$ A 10.244.1.5'] },
  { name: `10-244-1-5.default.pod.${Z}`, qtype: TYPE_AAAA, rcode: OK, answers: [] },
  { name: `10-244-1-500.default.pod.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  { name: `not-an-ip.default.pod.${Z}`, qtype: TYPE_A, rcode: NX, answers: [] },
  { name: `default.pod.${Z}`, qtype: TYPE_A, rcode: OK, answers: [] },
  // PTR: ClusterIPs and published endpoints
  { name: '5.0.43.10.in-addr.arpa', qtype: TYPE_PTR, rcode: OK, answers: ['$ PTR web.default.svc.cluster.local'] },
  { name: '5.1.244.10.in-addr.arpa', qtype: TYPE_PTR, rcode: OK, answers: ['$ PTR db-0.db.default.svc.cluster.local'] },
  { name: '7.1.244.10.in-addr.arpa', qtype: TYPE_PTR, rcode: OK, answers: ['$ PTR 10-244-1-7.db.default.svc.cluster.local'] },
  { name: '20.0.244.10.in-addr.arpa', qtype: TYPE_PTR, rcode: OK, answers: ['$ PTR 10-244-0-20.web.default.svc.cluster.local'] },
  { name: '5.0.43.10.in-addr.arpa', qtype: TYPE_A, rcode: OK, answers: [] },
  { name: '8.1.244.10.in-addr.arpa', qtype: TYPE_PTR, rcode: NX, answers: [] },
  { name: '99.0.43.10.in-addr.arpa', qtype: TYPE_PTR, rcode: NX, answers: [] },
];

for (const c of cases) {
  test(`${c.name} ${c.qtype} → rcode ${c.rcode}, ${c.answers.length} answers`, () => {
    const idx = fixture();
    assert.equal(idx.isLocal(c.name.toLowerCase()), true);
    const a = idx.resolve(c.name, c.name.toLowerCase(), c.qtype);
    assert.equal(a.rcode, c.rcode);
    assert.deepEqual(a.answers.map(show), c.answers.map((s) => s.replace('$', c.name)));
    if (c.additionals) assert.deepEqual(a.additionals.map(show), c.additionals);
    for (const r of a.answers) assert.equal(r.ttl, 5);
    if (c.answers.length === 0) {
      assert.equal(a.authorities.length, 1, 'an empty answer carries the SOA (negative caching, RFC 2308)');
      assert.equal(a.authorities[0].type, 'SOA');
      assert.equal(a.authorities[0].ttl, 5);
    } else assert.deepEqual(a.authorities, []);
  });
}

test('the SOA of a reverse name is the reverse zone of its range', () => {
  const a = fixture().resolve('99.0.43.10.in-addr.arpa', '99.0.43.10.in-addr.arpa', TYPE_PTR);
  assert.equal(a.authorities[0].name, '43.10.in-addr.arpa');
});

test('isLocal: the zone, reverse names of the cluster ranges and of published endpoints; nothing else', () => {
  const idx = fixture();
  idx.upsertService(service('default', 'outside', { clusterIP: 'None' }));
  idx.upsertSlice(slice('default', 'outside-1', 'outside', [{ addresses: ['192.168.5.5'] }]));
  const cases: Array<[string, boolean]> = [
    ['cluster.local', true],
    ['web.default.svc.cluster.local', true],
    ['example.com', false],
    ['notcluster.local', false],
    ['1.0.43.10.in-addr.arpa', true],
    ['1.1.1.1.in-addr.arpa', false],
    ['5.5.168.192.in-addr.arpa', true],
    ['43.10.in-addr.arpa', false],
  ];
  for (const [name, local] of cases) assert.equal(idx.isLocal(name), local, name);
});

test('changes: deleting a Service removes its names and PTRs; the generation moves on every change', () => {
  const idx = fixture();
  const g0 = idx.generation;
  idx.deleteService(fixtureServices[0]);
  assert.ok(idx.generation > g0);
  assert.equal(idx.resolve('web.default.svc.cluster.local', 'web.default.svc.cluster.local', TYPE_A).rcode, NX);
  assert.equal(idx.resolve('5.0.43.10.in-addr.arpa', '5.0.43.10.in-addr.arpa', TYPE_PTR).rcode, NX);
  // its endpoints' PTRs went with it, though the slice is still there
  assert.equal(idx.resolve('20.0.244.10.in-addr.arpa', '20.0.244.10.in-addr.arpa', TYPE_PTR).rcode, NX);
  idx.upsertService(fixtureServices[0]);
  assert.equal(idx.resolve('20.0.244.10.in-addr.arpa', '20.0.244.10.in-addr.arpa', TYPE_PTR).answers.length, 1);
});

test('changes: an endpoint turning not ready leaves the headless answer; removing the last slice makes it NXDOMAIN', () => {
  const idx = fixture();
  const name = 'db.default.svc.cluster.local';
  idx.upsertSlice(slice('default', 'db-def', 'db', [], []));
  idx.upsertSlice(slice('default', 'db-abc', 'db', [{ addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: false } }, { addresses: ['10.244.1.6'], hostname: 'db-1' }]));
  assert.deepEqual(idx.resolve(name, name, TYPE_A).answers.map(show), [`${name} A 10.244.1.6`]);
  assert.equal(idx.resolve('5.1.244.10.in-addr.arpa', '5.1.244.10.in-addr.arpa', TYPE_PTR).rcode, NX);
  idx.deleteSlice(slice('default', 'db-abc', 'db', []));
  idx.deleteSlice(slice('default', 'db-def', 'db', []));
  assert.equal(idx.resolve(name, name, TYPE_A).rcode, NX);
});

test('changes: a namespace stops existing with its last Service; a Service becoming headless answers from endpoints', () => {
  const idx = fixture();
  idx.deleteService(fixtureServices.find((s) => s.metadata?.name === 'kube-dns')!);
  assert.equal(idx.resolve('kube-system.svc.cluster.local', 'kube-system.svc.cluster.local', TYPE_A).rcode, NX);
  idx.upsertService(service('default', 'web', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  const name = 'web.default.svc.cluster.local';
  assert.deepEqual(idx.resolve(name, name, TYPE_A).answers.map(show), [`${name} A 10.244.0.20`]);
  assert.equal(idx.resolve('5.0.43.10.in-addr.arpa', '5.0.43.10.in-addr.arpa', TYPE_PTR).rcode, NX);
});

test('changes: PTRs of an address two Services publish, of an endpoint that leaves, of a slice that moves to another Service', () => {
  const idx = new ZoneIndex({ reverseCidrs: ['10.43.0.0/16', '10.244.0.0/16'], now: () => 1000 });
  const ptr = (ip: string): string[] => {
    const q = `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
    return idx.resolve(q, q, TYPE_PTR).answers.map((r) => String(r.data)).sort();
  };
  idx.upsertService(service('default', 'a', { clusterIP: '10.43.0.1', ports: [{ name: 'http', port: 80 }] }));
  idx.upsertService(service('default', 'b', { clusterIP: '10.43.0.2', ports: [{ name: 'http', port: 80 }] }));
  idx.upsertSlice(slice('default', 'a-1', 'a', [{ addresses: ['10.244.0.1'] }, { addresses: ['10.244.0.2'] }]));
  idx.upsertSlice(slice('default', 'b-1', 'b', [{ addresses: ['10.244.0.1'] }]));
  assert.deepEqual(ptr('10.244.0.1'), ['10-244-0-1.a.default.svc.cluster.local', '10-244-0-1.b.default.svc.cluster.local']);
  // The endpoint leaves a's slice: b keeps its name for the address.
  idx.upsertSlice(slice('default', 'a-1', 'a', [{ addresses: ['10.244.0.2'] }]));
  assert.deepEqual(ptr('10.244.0.1'), ['10-244-0-1.b.default.svc.cluster.local']);
  assert.deepEqual(ptr('10.244.0.2'), ['10-244-0-2.a.default.svc.cluster.local']);
  // The slice is relabelled to b: its address now names b only.
  idx.upsertSlice(slice('default', 'a-1', 'b', [{ addresses: ['10.244.0.2'] }]));
  assert.deepEqual(ptr('10.244.0.2'), ['10-244-0-2.b.default.svc.cluster.local']);
  // b becoming headless drops its ClusterIP's name; deleting it drops its endpoints' names.
  idx.upsertService(service('default', 'b', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  assert.deepEqual(ptr('10.43.0.2'), []);
  assert.deepEqual(ptr('10.244.0.2'), ['10-244-0-2.b.default.svc.cluster.local']);
  idx.deleteService(service('default', 'b', {}));
  assert.deepEqual([ptr('10.244.0.1'), ptr('10.244.0.2'), ptr('10.43.0.1')], [[], [], ['a.default.svc.cluster.local']]);
});

test('before the first list, an unknown name is SERVFAIL, not NXDOMAIN (CoreDNS)', () => {
  const idx = fixture();
  idx.synced = false;
  assert.equal(idx.resolve('nosuch.default.svc.cluster.local', 'nosuch.default.svc.cluster.local', TYPE_A).rcode, RCODE_SERVFAIL);
  assert.equal(idx.resolve('web.default.svc.cluster.local', 'web.default.svc.cluster.local', TYPE_A).rcode, OK);
});

test('another zone: names are answered under it and cluster.local is not local', () => {
  const idx = new ZoneIndex({ zone: 'Example.Internal.' });
  idx.upsertService(service('a', 'b', { clusterIP: '10.43.1.1', ports: [{ port: 1 }] }));
  assert.equal(idx.isLocal('b.a.svc.cluster.local'), false);
  assert.deepEqual(idx.resolve('b.a.svc.example.internal', 'b.a.svc.example.internal', TYPE_A).answers.map(show), ['b.a.svc.example.internal A 10.43.1.1']);
});

test('an EndpointSlice of another address type, or without its Service label, is left out', () => {
  const idx = fixture();
  const v6 = slice('default', 'db-v6', 'db', [{ addresses: ['fd00::1'] }]);
  v6.addressType = 'IPv6';
  idx.upsertSlice(v6);
  const orphan = slice('default', 'orphan', 'db', [{ addresses: ['10.244.9.9'] }]);
  delete orphan.metadata!.labels;
  idx.upsertSlice(orphan);
  const name = 'db.default.svc.cluster.local';
  assert.equal(idx.resolve(name, name, TYPE_A).answers.length, 4);
});
