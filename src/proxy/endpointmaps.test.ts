import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, buildServicePart, updateModel } from './builder.ts';
import { EndpointIdAllocator, endpointMap } from './endpointmaps.ts';
import { slice, svc } from './fixtures.ts';
import type { NodeFacts } from './model.ts';
import { diffScript, fullScript } from './script.ts';

const node: NodeFacts = { name: 'node-a', addresses: ['10.0.0.1'], podCIDR: '10.244.0.0/24' };
const T = 'ip tinykube-proxy';
const W = 'default/web/tcp/http';

test('EndpointIdAllocator: an id per chain for as long as it lives; freed ids are reused; shards by id', () => {
  const ids = new EndpointIdAllocator();
  assert.equal(ids.id('service-a'), 0);
  assert.equal(ids.id('service-b'), 1);
  assert.equal(ids.id('service-a'), 0, 'stable');
  ids.retain((c) => c !== 'service-a', ['service-a']);
  assert.equal(ids.size, 1);
  assert.equal(ids.id('service-c'), 0, 'the freed id');
  ids.retain((c) => c === 'service-c');
  assert.equal(ids.size, 1);
  assert.deepEqual([endpointMap('tcp', 0), endpointMap('udp', 65), endpointMap('sctp', 63)], ['endpoints-tcp-0', 'endpoints-udp-1', 'endpoints-sctp-63']);
});

test('EndpointIdAllocator: with every id taken, a chain gets none (the builder then cascades)', () => {
  const ids = new EndpointIdAllocator();
  for (let i = 0; i < 65536; i++) ids.id(`c${i}`);
  assert.equal(ids.id('one-more'), undefined);
  const p = buildServicePart(svc('web', '10.43.0.10'), [slice('web', [{ ip: '10.244.1.5', node: 'node-b' }, { ip: '10.244.1.6', node: 'node-b' }])], node, ids)!;
  assert.deepEqual(p.chains.get(`service-${W}`)!.slice(1), ['numgen random mod 2 0 meta l4proto tcp dnat to 10.244.1.5:8080', 'meta l4proto tcp dnat to 10.244.1.6:8080']);
});

test('with ids, a service chain has one DNAT rule reading its slots of the endpoint map', () => {
  const ids = new EndpointIdAllocator();
  ids.id('someone-else');
  const p = buildServicePart(svc('web', '10.43.0.10'), [slice('web', ['10.244.0.5', { ip: '10.244.1.6', node: 'node-b' }])], node, ids)!;
  assert.deepEqual(p.chains.get(`service-${W}`), [
    'ip daddr 10.43.0.10 tcp dport 80 ip saddr != 10.244.0.0/24 jump mark-for-masquerade',
    'ip saddr 10.244.0.5 jump mark-for-masquerade',
    'meta l4proto tcp dnat ip to numgen random mod 2 offset 65536 map @endpoints-tcp-1',
  ]);
  assert.deepEqual(p.elements.filter((e) => e.set.startsWith('endpoints-')), [
    { set: 'endpoints-tcp-1', key: '65536', value: '10.244.0.5 . 8080', exclusive: true },
    { set: 'endpoints-tcp-1', key: '65537', value: '10.244.1.6 . 8080', exclusive: true },
  ]);
});

test('session affinity keeps its per-endpoint chains: no id, no slots', () => {
  const ids = new EndpointIdAllocator();
  const p = buildServicePart(svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP' }), [slice('web', ['10.244.0.5'])], node, ids)!;
  assert.equal(ids.size, 0);
  assert.ok(p.elements.every((e) => !e.set.startsWith('endpoints-')));
});

test('an endpoint change is its slots and the rule\'s modulus; the same count is slots only', () => {
  const ids = new EndpointIdAllocator();
  const web = svc('web', '10.43.0.10');
  const remote = (...ips: string[]) => [slice('web', ips.map((ip) => ({ ip, node: 'node-b' })))];
  const two = buildModel([web], remote('10.244.1.5', '10.244.1.6'), node, ids);
  const change = (ips: string[]) => updateModel(two, new Map([['default/web', buildServicePart(web, remote(...ips), node, ids)]]));
  assert.equal(diffScript(two, change(['10.244.1.5']), ['default/web']).script, [
    `flush chain ${T} service-${W}`,
    `add rule ${T} service-${W} ip daddr 10.43.0.10 tcp dport 80 ip saddr != 10.244.0.0/24 jump mark-for-masquerade`,
    `add rule ${T} service-${W} meta l4proto tcp dnat ip to numgen random mod 1 offset 0 map @endpoints-tcp-0`,
    `delete element ${T} endpoints-tcp-0 { 1 }`,
    '',
  ].join('\n'));
  assert.equal(diffScript(two, change(['10.244.1.5', '10.244.1.7']), ['default/web']).script, [
    `delete element ${T} endpoints-tcp-0 { 1 }`,
    `add element ${T} endpoints-tcp-0 { 1 : 10.244.1.7 . 8080 }`,
    '',
  ].join('\n'));
  // The whole table declares every shard of every protocol, so a slot always has its map.
  const full = fullScript(two, 'recreate');
  for (const m of ['endpoints-tcp-0', 'endpoints-udp-63', 'endpoints-sctp-17']) assert.match(full, new RegExp(`add map ${T} ${m} \\{ typeof numgen random mod 65536 : ip daddr \\. \\w+ dport; \\}`));
});
