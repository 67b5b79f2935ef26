import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, buildServicePart, updateModel } from './builder.ts';
import { DNAT_ATTEMPTS, EndpointIdAllocator, capacityFor, endpointMap, fits, spreadError } from './endpointmaps.ts';
import { slice, svc } from './fixtures.ts';
import type { NodeFacts } from './model.ts';
import { diffScript, fullScript } from './script.ts';

const node: NodeFacts = { name: 'node-a', addresses: ['10.0.0.1'], podCIDR: '10.244.0.0/24' };
const T = 'ip tinykube-proxy';
const W = 'default/web/tcp/http';

test('EndpointIdAllocator: an id per chain for as long as it lives; freed ids are reused; shards by id', () => {
  const ids = new EndpointIdAllocator();
  assert.deepEqual(ids.slots('service-a', 10), { id: 0, capacity: 13 });
  assert.deepEqual(ids.slots('service-b', 1), { id: 1, capacity: 2 });
  assert.deepEqual(ids.slots('service-a', 9), { id: 0, capacity: 13 }, 'stable while the count fits');
  assert.deepEqual(ids.slots('service-a', 14), { id: 0, capacity: 18 }, 'a count beyond the capacity: same id, new capacity');
  ids.retain((c) => c !== 'service-a', ['service-a']);
  assert.equal(ids.size, 1);
  assert.equal(ids.slots('service-c', 3)?.id, 0, 'the freed id');
  ids.retain((c) => c === 'service-c');
  assert.equal(ids.size, 1);
  assert.deepEqual([endpointMap('tcp', 0), endpointMap('tcp', 513), endpointMap('udp', 65), endpointMap('sctp', 17)], ['endpoints-tcp-0', 'endpoints-tcp-1', 'endpoints-udp-1', 'endpoints-sctp-1']);
});

test('EndpointIdAllocator: with every id taken, a chain gets none (the builder then cascades)', () => {
  const ids = new EndpointIdAllocator();
  for (let i = 0; i < 65536; i++) ids.slots(`c${i}`, 1);
  assert.equal(ids.slots('one-more', 1), undefined);
  const p = buildServicePart(svc('web', '10.43.0.10'), [slice('web', [{ ip: '10.244.1.5', node: 'node-b' }, { ip: '10.244.1.6', node: 'node-b' }])], node, ids)!;
  assert.deepEqual(p.chains.get(`service-${W}`)!.slice(1), ['numgen random mod 2 0 meta l4proto tcp dnat to 10.244.1.5:8080', 'meta l4proto tcp dnat to 10.244.1.6:8080']);
});

test('capacities: a quarter of room, and kept only while every endpoint\'s share stays within 1% of 1/N', () => {
  assert.deepEqual([1, 2, 3, 5, 10, 100].map(capacityFor), [2, 3, 4, 7, 13, 126]);
  // Exact when N divides C; the fill region's unevenness weighs by the share of draws that all miss.
  assert.equal(spreadError(12, 4), 0);
  assert.equal(spreadError(13, 13), 0);
  const miss = (4 / 13) ** DNAT_ATTEMPTS;
  assert.ok(Math.abs(spreadError(13, 9) - (miss * 5) / 13) < 1e-12, 'N = 9 of 13: four endpoints hold 2 fill slots, five hold 1');
  // One endpoint fewer or more fits the capacity it was given, for every N from 6 to 200.
  for (let n = 6; n <= 200; n++) assert.ok(fits(capacityFor(n), n - 1) && fits(capacityFor(n), n + 1), `N = ${n}`);
  assert.equal(fits(13, 14), false, 'beyond the capacity');
  assert.equal(fits(13, 5), false, 'too few: most draws would miss');
  assert.equal(fits(13, 1), true, 'one endpoint takes every slot');
  // The shares themselves, computed slot by slot for N = 9 of 13.
  const shares = Array.from({ length: 9 }, (_, i) => (1 - miss) / 9 + (miss * [...Array(13).keys()].filter((j) => j % 9 === i).length) / 13);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b) - 1) < 1e-12);
  assert.ok(shares.every((p) => Math.abs(p * 9 - 1) <= spreadError(13, 9) + 1e-12));
});

test('with ids, a service chain has DNAT rules of its capacity reading its slots of the endpoint map', () => {
  const ids = new EndpointIdAllocator();
  ids.slots('someone-else', 1);
  const p = buildServicePart(svc('web', '10.43.0.10'), [slice('web', ['10.244.0.5', { ip: '10.244.1.6', node: 'node-b' }])], node, ids)!;
  const draw = 'meta l4proto tcp dnat ip to numgen random mod 3 offset 65536 map @endpoints-tcp-1';
  assert.deepEqual(p.chains.get(`service-${W}`), [
    'ip daddr 10.43.0.10 tcp dport 80 ip saddr != 10.244.0.0/24 jump mark-for-masquerade',
    ...Array(DNAT_ATTEMPTS).fill(draw),
    'meta l4proto tcp dnat ip to numgen random mod 3 offset 65539 map @endpoints-tcp-1',
  ]);
  assert.deepEqual(p.slots, [{ map: 'endpoints-tcp-1', base: 65536, capacity: 3, ips: ['10.244.0.5', '10.244.1.6'], ports: 8080 }]);
  assert.ok(p.elements.every((e) => !e.set.startsWith('endpoints-tcp-')));
});

test('session affinity keeps its per-endpoint chains: no id, no slots', () => {
  const ids = new EndpointIdAllocator();
  const p = buildServicePart(svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP' }), [slice('web', ['10.244.0.5'])], node, ids)!;
  assert.equal(ids.size, 0);
  assert.deepEqual(p.slots, []);
});

test('an endpoint change within the capacity is slots only; beyond it, the rules get the new modulus', () => {
  const ids = new EndpointIdAllocator();
  const web = svc('web', '10.43.0.10');
  const remote = (...ips: string[]) => [slice('web', ips.map((ip) => ({ ip, node: 'node-b' })))];
  const two = buildModel([web], remote('10.244.1.5', '10.244.1.6'), node, ids);
  const change = (ips: string[]) => updateModel(two, new Map([['default/web', buildServicePart(web, remote(...ips), node, ids)]]));
  // Capacity 3: exact region keys 0-2, fill region 3-5 (j mod N).
  assert.equal(diffScript(two, change(['10.244.1.5']), ['default/web']).script, [
    `delete element ${T} endpoints-tcp-0 { 1, 4 }`,
    `add element ${T} endpoints-tcp-0 { 4 : 10.244.1.5 . 8080 }`,
    '',
  ].join('\n'));
  assert.equal(diffScript(two, change(['10.244.1.5', '10.244.1.6', '10.244.1.7']), ['default/web']).script, [
    `delete element ${T} endpoints-tcp-0 { 5 }`,
    `add element ${T} endpoints-tcp-0 { 2 : 10.244.1.7 . 8080, 5 : 10.244.1.7 . 8080 }`,
    '',
  ].join('\n'));
  const four = diffScript(two, change(['10.244.1.5', '10.244.1.6', '10.244.1.7', '10.244.1.8']), ['default/web']).script;
  assert.match(four, new RegExp(`^flush chain ${T} service-${W}$`, 'm'));
  assert.match(four, /dnat ip to numgen random mod 6 offset 0 map @endpoints-tcp-0$/m, 'capacity 6 for 4 endpoints');
  assert.match(four, /dnat ip to numgen random mod 6 offset 6 map @endpoints-tcp-0$/m);
  // The whole table declares every shard of every protocol, so a slot always has its map.
  const full = fullScript(two, 'recreate');
  for (const m of ['endpoints-tcp-0', 'endpoints-tcp-511', 'endpoints-udp-63', 'endpoints-sctp-15']) assert.match(full, new RegExp(`add map ${T} ${m} \\{ typeof numgen random mod 65536 : ip daddr \\. \\w+ dport; \\}`));
  assert.match(full, new RegExp(`add element ${T} endpoints-tcp-0 \\{ 0 : 10.244.1.5 . 8080, 1 : 10.244.1.6 . 8080, 3 : 10.244.1.5 . 8080, 4 : 10.244.1.6 . 8080, 5 : 10.244.1.5 . 8080 \\}`));
});
