import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, buildServicePart, updateModel } from './builder.ts';
import { DNAT_ATTEMPTS, EndpointIdAllocator, capacityFor, endpointMap, fallbackSlots, fits, spreadError } from './endpointmaps.ts';
import { slice, svc } from './fixtures.ts';
import type { NodeFacts } from './model.ts';
import { diffScript, fullScript } from './script.ts';

const node: NodeFacts = { name: 'node-a', addresses: ['10.0.0.1'], podCIDR: '10.244.0.0/24' };
const T = 'ip tinykube-proxy';
const W = 'default/web/tcp/http';

test('EndpointIdAllocator: an id per chain for as long as it lives; freed ids are reused; shards by id', () => {
  const ids = new EndpointIdAllocator();
  assert.deepEqual(ids.slots('service-a', 10), { id: 0, capacity: 13, fallback: 9 });
  assert.deepEqual(ids.slots('service-b', 1), { id: 1, capacity: 1, fallback: 1 });
  assert.deepEqual(ids.slots('service-a', 9), { id: 0, capacity: 13, fallback: 9 }, 'stable while the count fits');
  assert.deepEqual(ids.slots('service-a', 14), { id: 0, capacity: 18, fallback: 13 }, 'a count beyond the capacity: same id, new capacity');
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
  assert.deepEqual(p.chains.get(`service-${W}`), ['numgen random mod 2 0 meta l4proto tcp dnat to 10.244.1.5:8080', 'meta l4proto tcp dnat to 10.244.1.6:8080']);
});

test('capacities: a quarter of room, and kept only while every endpoint\'s share stays within 1% of 1/N', () => {
  assert.deepEqual([1, 2, 3, 4, 6, 10, 100].map(capacityFor), [1, 2, 3, 4, 7, 13, 126]);
  // M: the fewest endpoints for which four draws all miss at most 1% of the time.
  assert.deepEqual([1, 4, 13, 126].map(fallbackSlots), [1, 3, 9, 87]);
  assert.ok((1 - 9 / 13) ** DNAT_ATTEMPTS <= 0.01 && (1 - 8 / 13) ** DNAT_ATTEMPTS > 0.01);
  assert.equal(spreadError(13, 13), 0, 'every draw lands');
  const missed = (4 / 13) ** DNAT_ATTEMPTS;
  assert.ok(Math.abs(spreadError(13, 9) - missed) < 1e-12);
  // The shares themselves for N = 9 of 13: the fallback spreads over the first M = 9, i.e. all of them.
  const share = (n: number, c: number, i: number): number => {
    const m = (1 - n / c) ** DNAT_ATTEMPTS;
    return (1 - m) / n + (i < fallbackSlots(c) ? m / fallbackSlots(c) : 0);
  };
  for (const [c, n] of [[13, 9], [13, 11], [126, 90]]) {
    const shares = Array.from({ length: n }, (_, i) => share(n, c, i));
    assert.ok(Math.abs(shares.reduce((a, b) => a + b) - 1) < 1e-12);
    assert.ok(shares.every((p) => Math.abs(p * n - 1) <= spreadError(c, n) + 1e-12 && spreadError(c, n) <= 0.01), `${n} of ${c}`);
  }
  // From 4 endpoints on, one fewer keeps the rules; from 6 on, one more too.
  for (let n = 4; n <= 200; n++) assert.ok(fits(capacityFor(n), n - 1), `N = ${n} - 1`);
  for (let n = 6; n <= 200; n++) assert.ok(fits(capacityFor(n), n + 1), `N = ${n} + 1`);
  assert.equal(fits(13, 14), false, 'beyond the capacity');
  assert.equal(fits(13, 8), false, 'fewer than the fallback rule needs');
});

test('with ids, a service chain has DNAT rules of its capacity reading its slots of the endpoint map', () => {
  const ids = new EndpointIdAllocator();
  ids.slots('someone-else', 1);
  const p = buildServicePart(svc('web', '10.43.0.10'), [slice('web', ['10.244.0.5', { ip: '10.244.1.6', node: 'node-b' }])], node, ids)!;
  const draw = 'meta l4proto tcp dnat ip to numgen random mod 2 offset 65536 map @endpoints-tcp-1';
  assert.deepEqual(p.chains.get(`service-${W}`), [
    ...Array(DNAT_ATTEMPTS).fill(draw),
    'meta l4proto tcp dnat ip to numgen random mod 2 offset 65536 map @endpoints-tcp-1',
  ]);
  assert.deepEqual(p.slots, [{ map: 'endpoints-tcp-1', base: 65536, capacity: 2, ips: ['10.244.0.5', '10.244.1.6'], ports: 8080 }]);
  assert.ok(p.elements.every((e) => !e.set.startsWith('endpoints-tcp-')));
});

test('session affinity keeps its per-endpoint chains: no id, no slots', () => {
  const ids = new EndpointIdAllocator();
  const p = buildServicePart(svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP' }), [slice('web', ['10.244.0.5'])], node, ids)!;
  assert.equal(ids.size, 0);
  assert.deepEqual(p.slots, []);
});

test('an endpoint change within the capacity is slots only; beyond it, the rules get the new moduli', () => {
  const ids = new EndpointIdAllocator();
  const web = svc('web', '10.43.0.10');
  const remote = (...ips: string[]) => [slice('web', ips.map((ip) => ({ ip, node: 'node-b' })))];
  const ten = Array.from({ length: 10 }, (_, i) => `10.244.1.${10 + i}`);
  const before = buildModel([web], remote(...ten), node, ids);
  const change = (ips: string[]) => updateModel(before, new Map([['default/web', buildServicePart(web, remote(...ips), node, ids)]]));
  // Capacity 13, fallback 9: endpoint i at key i.
  assert.match(fullScript(before, 'recreate'), /dnat ip to numgen random mod 13 offset 0 map @endpoints-tcp-0\n.*dnat ip to numgen random mod 9 offset 0 map @endpoints-tcp-0\n/);
  assert.equal(diffScript(before, change(ten.slice(0, 9)), ['default/web']).script, `delete element ${T} endpoints-tcp-0 { 9 }\n`, 'the last of 10 gone');
  assert.equal(diffScript(before, change(ten.filter((ip) => ip !== '10.244.1.14')), ['default/web']).script, [
    `delete element ${T} endpoints-tcp-0 { 4, 5, 6, 7, 8, 9 }`,
    `add element ${T} endpoints-tcp-0 { 4 : 10.244.1.15 . 8080, 5 : 10.244.1.16 . 8080, 6 : 10.244.1.17 . 8080, 7 : 10.244.1.18 . 8080, 8 : 10.244.1.19 . 8080 }`,
    '',
  ].join('\n'), 'one in the middle gone: the ones after it move down a key');
  assert.equal(diffScript(before, change([...ten, '10.244.1.30']), ['default/web']).script, `add element ${T} endpoints-tcp-0 { 10 : 10.244.1.30 . 8080 }\n`);
  const eight = diffScript(before, change(ten.slice(0, 8)), ['default/web']).script;
  assert.match(eight, new RegExp(`^flush chain ${T} service-${W}$`, 'm'), 'eight is fewer than the fallback rule needs');
  assert.match(eight, /dnat ip to numgen random mod 10 offset 0 map @endpoints-tcp-0$/m, 'capacity 10 for 8 endpoints');
  assert.match(eight, /dnat ip to numgen random mod 7 offset 0 map @endpoints-tcp-0$/m, 'fallback 7');
  // The whole table declares every shard of every protocol, so a slot always has its map.
  const full = fullScript(before, 'recreate');
  for (const m of ['endpoints-tcp-0', 'endpoints-tcp-511', 'endpoints-udp-63', 'endpoints-sctp-15']) assert.match(full, new RegExp(`add map ${T} ${m} \\{ typeof numgen random mod 65536 : ip daddr \\. \\w+ dport; \\}`));
  assert.match(full, new RegExp(`add element ${T} endpoints-tcp-0 \\{ 0 : 10.244.1.10 . 8080, 1 : 10.244.1.11 . 8080, .*, 9 : 10.244.1.19 . 8080 \\}`));
});
