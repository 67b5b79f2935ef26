import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../api/types.ts';
import {
  addressCommands,
  BACKEND_TYPE_ANNOTATION,
  cidrsOverlap,
  createDeviceCommand,
  deviceSpec,
  desiredState,
  diffState,
  EMPTY_STATE,
  isPublished,
  judgeDevice,
  linkHolding,
  parseFdb,
  parseNeighs,
  parseRoutes,
  peersFromNodes,
  PUBLIC_IP_ANNOTATION,
  publishedAnnotations,
  vtepAddress,
  vtepMac,
  VTEP_MAC_ANNOTATION,
  type Backend,
  type NetState,
  type Self,
} from './model.ts';

const MAC_B = '02:00:00:00:00:0b';
const MAC_C = '02:00:00:00:00:0c';

function node(name: string, podCIDR: string | undefined, o: { ip?: string; mac?: string; backend?: Backend | null; created?: string } = {}): Node {
  const annotations: Record<string, string> = {};
  if (o.backend !== null) annotations[BACKEND_TYPE_ANNOTATION] = o.backend ?? 'vxlan';
  if (o.ip) annotations[PUBLIC_IP_ANNOTATION] = o.ip;
  if (o.mac) annotations[VTEP_MAC_ANNOTATION] = o.mac;
  return {
    metadata: { name, annotations, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
  };
}

const selfA: Self = { name: 'a', podCIDR: '10.244.1.0/24', publicIP: '10.0.0.1', backend: 'vxlan' };

test('peersFromNodes: who gets entries, who is skipped, who is refused and why', () => {
  const cases: Array<{ name: string; self?: Self; nodes: Node[]; peers: string[]; refused?: Array<[string, RegExp]>; pending?: string[] }> = [
    { name: 'itself is never a peer', nodes: [node('a', '10.244.1.0/24', { ip: '10.0.0.1', mac: MAC_B })], peers: [] },
    { name: 'a published node', nodes: [node('b', '10.244.2.0/24', { ip: '10.0.0.2', mac: MAC_B })], peers: ['b'] },
    { name: 'no podCIDR yet', nodes: [node('b', undefined, { ip: '10.0.0.2', mac: MAC_B })], peers: [], pending: ['b'] },
    { name: 'nothing published yet', nodes: [node('b', '10.244.2.0/24', { backend: null })], peers: [], pending: ['b'] },
    { name: 'vxlan without a MAC yet', nodes: [node('b', '10.244.2.0/24', { ip: '10.0.0.2' })], peers: [], pending: ['b'] },
    { name: 'another backend', nodes: [node('b', '10.244.2.0/24', { ip: '10.0.0.2', backend: 'host-gw' })], peers: [], refused: [['b', /host-gw backend, this node vxlan/]] },
    { name: 'overlaps this node', nodes: [node('b', '10.244.1.0/24', { ip: '10.0.0.2', mac: MAC_B })], peers: [], refused: [['b', /overlaps this node's own 10.244.1.0\/24/]] },
    { name: 'a wider range holding ours', nodes: [node('b', '10.244.0.0/16', { ip: '10.0.0.2', mac: MAC_B })], peers: [], refused: [['b', /overlaps this node's own/]] },
    {
      name: 'two peers overlap: the later one is refused, whatever the order of the list',
      nodes: [node('late', '10.244.2.0/24', { ip: '10.0.0.3', mac: MAC_C, created: '2026-02-01T00:00:00Z' }), node('early', '10.244.2.0/25', { ip: '10.0.0.2', mac: MAC_B })],
      peers: ['early'],
      refused: [['late', /overlaps node early's 10.244.2.0\/25/]],
    },
    { name: 'a podCIDR that is no CIDR', nodes: [node('b', 'bogus', { ip: '10.0.0.2', mac: MAC_B })], peers: [], refused: [['b', /not an IPv4 CIDR/]] },
    { name: 'a public IP that is no IP', nodes: [node('b', '10.244.2.0/24', { ip: 'x', mac: MAC_B })], peers: [], refused: [['b', /public IP "x"/]] },
    { name: 'a MAC that is no MAC', nodes: [node('b', '10.244.2.0/24', { ip: '10.0.0.2', mac: 'zz' })], peers: [], refused: [['b', /VTEP MAC "zz"/]] },
    {
      name: 'host-gw needs no MAC',
      self: { ...selfA, backend: 'host-gw' },
      nodes: [node('b', '10.244.2.0/24', { ip: '10.0.0.2', backend: 'host-gw' })],
      peers: ['b'],
    },
  ];
  for (const c of cases) {
    const r = peersFromNodes(c.nodes, c.self ?? selfA);
    assert.deepEqual(r.peers.map((p) => p.name), c.peers, c.name);
    assert.deepEqual(r.pending.map((p) => p.node), c.pending ?? [], c.name);
    assert.equal(r.refused.length, (c.refused ?? []).length, `${c.name}: ${JSON.stringify(r.refused)}`);
    for (const [i, [who, why]] of (c.refused ?? []).entries()) {
      assert.equal(r.refused[i].node, who, c.name);
      assert.match(r.refused[i].reason, why, c.name);
    }
  }
});

test('peersFromNodes normalises the podCIDR and lower-cases the MAC', () => {
  const r = peersFromNodes([node('b', '10.244.2.7/24', { ip: '10.0.0.2', mac: '02:AA:00:00:00:0B' })], selfA);
  assert.deepEqual(r.peers, [{ name: 'b', podCIDR: '10.244.2.0/24', publicIP: '10.0.0.2', vtepMac: '02:aa:00:00:00:0b' }]);
});

test('desiredState: vxlan (route via the VTEP onlink, neighbour, fdb) and host-gw (route via the node IP)', () => {
  const peers = [{ name: 'b', podCIDR: '10.244.2.0/24', publicIP: '10.0.0.2', vtepMac: MAC_B }];
  assert.deepEqual(desiredState('vxlan', peers), {
    routes: [{ dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'tinykube.1', onlink: true }],
    neighs: [{ ip: '10.244.2.0', mac: MAC_B }],
    fdb: [{ mac: MAC_B, dst: '10.0.0.2' }],
  });
  assert.deepEqual(desiredState('host-gw', peers), { routes: [{ dst: '10.244.2.0/24', gateway: '10.0.0.2', onlink: false }], neighs: [], fdb: [] });
});

const B: NetState = desiredState('vxlan', [{ name: 'b', podCIDR: '10.244.2.0/24', publicIP: '10.0.0.2', vtepMac: MAC_B }]);
const C: NetState = desiredState('vxlan', [{ name: 'c', podCIDR: '10.244.3.0/24', publicIP: '10.0.0.3', vtepMac: MAC_C }]);
const both = (x: NetState, y: NetState): NetState => ({ routes: [...x.routes, ...y.routes], neighs: [...x.neighs, ...y.neighs], fdb: [...x.fdb, ...y.fdb] });

test('diffState: only the difference, adds before removals, routes removed before what they use', () => {
  const addB = [
    ['bridge', 'fdb', 'append', MAC_B, 'dev', 'tinykube.1', 'dst', '10.0.0.2', 'self', 'permanent'],
    ['ip', 'neigh', 'replace', '10.244.2.0', 'lladdr', MAC_B, 'dev', 'tinykube.1', 'nud', 'permanent'],
    ['ip', 'route', 'replace', '10.244.2.0/24', 'via', '10.244.2.0', 'dev', 'tinykube.1', 'onlink', 'proto', '77'],
  ];
  const delC = [
    ['ip', 'route', 'del', '10.244.3.0/24', 'via', '10.244.3.0', 'dev', 'tinykube.1', 'onlink', 'proto', '77'],
    ['ip', 'neigh', 'del', '10.244.3.0', 'dev', 'tinykube.1'],
    ['bridge', 'fdb', 'del', MAC_C, 'dev', 'tinykube.1', 'dst', '10.0.0.3', 'self'],
  ];
  const cases: Array<{ name: string; want: NetState; have: NetState; commands: string[][] }> = [
    { name: 'nothing to do', want: B, have: B, commands: [] },
    { name: 'a node joins', want: B, have: EMPTY_STATE, commands: addB },
    { name: 'a node leaves', want: EMPTY_STATE, have: C, commands: delC },
    { name: 'one joins as another leaves', want: B, have: C, commands: [...addB, ...delC] },
    { name: 'an unrelated node stays untouched', want: both(B, C), have: C, commands: addB },
    {
      name: "a node's VTEP MAC changes (its device was made again)",
      want: desiredState('vxlan', [{ name: 'b', podCIDR: '10.244.2.0/24', publicIP: '10.0.0.2', vtepMac: MAC_C }]),
      have: B,
      commands: [
        ['bridge', 'fdb', 'append', MAC_C, 'dev', 'tinykube.1', 'dst', '10.0.0.2', 'self', 'permanent'],
        ['ip', 'neigh', 'replace', '10.244.2.0', 'lladdr', MAC_C, 'dev', 'tinykube.1', 'nud', 'permanent'],
        ['bridge', 'fdb', 'del', MAC_B, 'dev', 'tinykube.1', 'dst', '10.0.0.2', 'self'],
      ],
    },
    {
      name: "a node's IP changes: its old fdb entry goes first",
      want: desiredState('vxlan', [{ name: 'b', podCIDR: '10.244.2.0/24', publicIP: '10.0.0.9', vtepMac: MAC_B }]),
      have: B,
      commands: [
        ['bridge', 'fdb', 'del', MAC_B, 'dev', 'tinykube.1', 'dst', '10.0.0.2', 'self'],
        ['bridge', 'fdb', 'append', MAC_B, 'dev', 'tinykube.1', 'dst', '10.0.0.9', 'self', 'permanent'],
      ],
    },
    {
      name: 'host-gw after vxlan: the route is replaced in one step, the old entries were on the device',
      want: desiredState('host-gw', [{ name: 'b', podCIDR: '10.244.2.0/24', publicIP: '10.0.0.2' }]),
      have: { routes: B.routes, neighs: [], fdb: [] },
      commands: [['ip', 'route', 'replace', '10.244.2.0/24', 'via', '10.0.0.2', 'proto', '77']],
    },
    {
      name: 'a host-gw route on whichever link the kernel chose is right',
      want: desiredState('host-gw', [{ name: 'b', podCIDR: '10.244.2.0/24', publicIP: '10.0.0.2' }]),
      have: { routes: [{ dst: '10.244.2.0/24', gateway: '10.0.0.2', dev: 'eth0', onlink: false }], neighs: [], fdb: [] },
      commands: [],
    },
    {
      name: 'a second route to one range goes',
      want: B,
      have: { ...B, routes: [...B.routes, { dst: '10.244.2.0/24', gateway: '10.0.0.7', dev: 'eth0', onlink: false }] },
      commands: [['ip', 'route', 'del', '10.244.2.0/24', 'via', '10.0.0.7', 'dev', 'eth0', 'proto', '77']],
    },
  ];
  for (const c of cases) assert.deepEqual(diffState(c.want, c.have), c.commands, c.name);
});

test('the kernel JSON readers keep only the overlay entries', () => {
  assert.deepEqual(parseRoutes('[{"dst":"10.244.2.0/24","gateway":"10.244.2.0","dev":"tinykube.1","flags":["onlink"]},{"dst":"10.9.9.9","gateway":"10.0.0.1","dev":"eth0","flags":[]},{"dst":"10.1.0.0/16","dev":"eth0","flags":[]}]'), [
    { dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'tinykube.1', onlink: true },
    { dst: '10.9.9.9/32', gateway: '10.0.0.1', dev: 'eth0', onlink: false },
  ]);
  assert.deepEqual(parseNeighs('[{"dst":"10.244.2.0","lladdr":"02:00:00:00:00:0B","state":["PERMANENT"]},{"dst":"10.244.9.0","state":["FAILED"]},{"dst":"10.244.8.0","lladdr":"02:00:00:00:00:01","state":["REACHABLE"]}]'), [{ ip: '10.244.2.0', mac: MAC_B }]);
  assert.deepEqual(parseFdb('[{"mac":"02:00:00:00:00:0b","dst":"10.0.0.2","flags":["self"],"state":"permanent"},{"mac":"33:33:00:00:00:01","flags":["self"],"state":"permanent"}]'), [{ mac: MAC_B, dst: '10.0.0.2' }]);
  assert.deepEqual(parseRoutes(''), []);
});

test('the VXLAN device: spec from the parent link, adopted when it matches, fixed in place or made again', () => {
  const spec = deviceSpec('a', '10.0.0.1', { name: 'eth0', mtu: 1500 });
  assert.equal(spec.mtu, 1450);
  assert.equal(spec.mac, vtepMac('a'));
  assert.deepEqual(createDeviceCommand(spec), ['ip', 'link', 'add', 'tinykube.1', 'address', spec.mac, 'mtu', '1450', 'type', 'vxlan', 'id', '1', 'local', '10.0.0.1', 'dev', 'eth0', 'dstport', '8472', 'nolearning']);
  const link = (o: { kind?: string; id?: number; local?: string; link?: string; learning?: boolean; port?: number; mtu?: number; address?: string } = {}) => ({
    mtu: o.mtu ?? 1450,
    address: o.address ?? spec.mac,
    linkinfo: { info_kind: o.kind ?? 'vxlan', info_data: { id: o.id ?? 1, local: o.local ?? '10.0.0.1', link: o.link ?? 'eth0', port: o.port ?? 8472, learning: o.learning ?? false } },
  });
  const cases: Array<[string, Record<string, unknown>, string | Array<readonly string[]>]> = [
    ['matches', link(), []],
    ['MTU and MAC fixed in place', link({ mtu: 1500, address: '02:00:00:00:00:01' }), [['ip', 'link', 'set', 'dev', 'tinykube.1', 'mtu', '1450'], ['ip', 'link', 'set', 'dev', 'tinykube.1', 'address', spec.mac]]],
    ['another VNI', link({ id: 2 }), 'its VNI is 2, not 1'],
    ['another local address', link({ local: '10.0.0.9' }), 'its local address is "10.0.0.9", not "10.0.0.1"'],
    ['another parent', link({ link: 'eth1' }), 'its parent link is "eth1", not "eth0"'],
    ['learning on', link({ learning: true }), 'its learning is true, not false'],
    ['another port', link({ port: 4789 }), 'its port is 4789, not 8472'],
    ['not vxlan', link({ kind: 'bridge' }), 'it is a bridge link, not vxlan'],
  ];
  for (const [name, l, want] of cases) {
    const v = judgeDevice(l, spec);
    if (typeof want === 'string') assert.deepEqual(v, { kind: 'recreate', why: want }, name);
    else assert.deepEqual(v, { kind: 'adopt', fixes: want }, name);
  }
});

test('addresses, parent link, VTEP address and MAC', () => {
  const addrs = (...a: string[]) => JSON.stringify([{ ifname: 'tinykube.1', mtu: 1450, addr_info: a.map((x) => ({ family: 'inet', local: x.split('/')[0], prefixlen: Number(x.split('/')[1]) })) }]);
  assert.deepEqual(addressCommands(addrs(), 'tinykube.1', '10.244.1.0'), [['ip', 'addr', 'add', '10.244.1.0/32', 'dev', 'tinykube.1']]);
  assert.deepEqual(addressCommands(addrs('10.244.1.0/32'), 'tinykube.1', '10.244.1.0'), []);
  assert.deepEqual(addressCommands(addrs('10.244.7.0/32'), 'tinykube.1', '10.244.1.0'), [['ip', 'addr', 'del', '10.244.7.0/32', 'dev', 'tinykube.1'], ['ip', 'addr', 'add', '10.244.1.0/32', 'dev', 'tinykube.1']]);
  const all = JSON.stringify([{ ifname: 'lo', mtu: 65536, addr_info: [{ family: 'inet', local: '127.0.0.1' }] }, { ifname: 'eth0', mtu: 9000, addr_info: [{ family: 'inet', local: '10.0.0.1' }] }]);
  assert.deepEqual(linkHolding(all, '10.0.0.1'), { name: 'eth0', mtu: 9000 });
  assert.equal(linkHolding(all, '10.0.0.2'), undefined);
  assert.equal(vtepAddress('10.244.3.0/24'), '10.244.3.0');
  assert.match(vtepMac('a'), /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/, 'locally administered unicast');
  assert.equal(vtepMac('a'), vtepMac('a'));
  assert.notEqual(vtepMac('a'), vtepMac('b'));
  assert.ok(cidrsOverlap('10.244.0.0/16', '10.244.3.0/24'));
  assert.ok(!cidrsOverlap('10.244.2.0/24', '10.244.3.0/24'));
});

test('published annotations: vxlan carries the MAC, host-gw removes it; isPublished compares', () => {
  const vx = publishedAnnotations(selfA, MAC_B);
  assert.deepEqual(vx, { [BACKEND_TYPE_ANNOTATION]: 'vxlan', [PUBLIC_IP_ANNOTATION]: '10.0.0.1', [VTEP_MAC_ANNOTATION]: MAC_B });
  const gw = publishedAnnotations({ ...selfA, backend: 'host-gw' }, MAC_B);
  assert.equal(gw[VTEP_MAC_ANNOTATION], null);
  const n = node('a', '10.244.1.0/24', { ip: '10.0.0.1', mac: MAC_B });
  assert.ok(isPublished(n, vx));
  assert.ok(!isPublished(n, gw), 'the MAC is still there');
  assert.ok(!isPublished(undefined, vx));
});
