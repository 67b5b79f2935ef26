import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../api/types.ts';
import { buildModel, buildServicePart, updateModel } from './builder.ts';
import { slice, svc } from './fixtures.ts';
import type { NodeFacts, TableModel } from './model.ts';
import { HairpinRefs, diffScript, fullScript, fullScriptChunks } from './script.ts';
import { EndpointIdAllocator } from './endpointmaps.ts';

const node: NodeFacts = { name: 'node-a', addresses: ['10.0.0.1'], podCIDR: '10.244.0.0/24' };
const T = 'ip tinykube-proxy';
const W = 'default/web/tcp/http';
const ep = (ip: string): string => `endpoint-${W}__${ip}/8080`;

/** The model after replacing one Service's objects, as the proxier's partial sync computes it. */
function change(prev: TableModel, s: Service | undefined, slices: EndpointSlice[], key = 'default/web'): TableModel {
  return updateModel(prev, new Map([[key, s ? buildServicePart(s, slices, node) : undefined]]));
}

const web = svc('web', '10.43.0.10');
const two = buildModel([web, svc('db', '10.43.0.20')], [slice('web', ['10.244.0.5', '10.244.1.6']), slice('db', ['10.244.0.7'])], node);

test('removing an endpoint (cascade, no endpoint maps) rewrites only its service chain and its hairpin element, no other chain', () => {
  const next = change(two, web, [slice('web', ['10.244.0.5'])]);
  assert.equal(diffScript(two, next, ['default/web']).script, [
    `flush chain ${T} service-${W}`,
    `add rule ${T} service-${W} meta l4proto tcp dnat to 10.244.0.5:8080`,
    `delete element ${T} hairpin-endpoints { 10.244.1.6 . 10.244.1.6 }`,
    '',
  ].join('\n'));
});

test('hairpin endpoints: an element while any Service names the endpoint; the masquerading chain tests the pair', () => {
  const full = fullScript(two, 'recreate');
  assert.match(full, new RegExp(`^add set ${T} hairpin-endpoints \\{ type ipv4_addr \\. ipv4_addr; \\}$`, 'm'));
  assert.match(full, new RegExp(`^add rule ${T} masquerading ip saddr \\. ip daddr @hairpin-endpoints jump mark-for-masquerade$`, 'm'));
  assert.match(full, new RegExp(`^add element ${T} hairpin-endpoints \\{ 10.244.0.5 \\. 10.244.0.5, 10.244.1.6 \\. 10.244.1.6, 10.244.0.7 \\. 10.244.0.7 \\}$`, 'm'));
  // A second Service naming 10.244.0.5: no element added; its going leaves the element for web's.
  const api = svc('api', '10.43.0.30');
  const three = updateModel(two, new Map([['default/api', buildServicePart(api, [slice('api', ['10.244.0.5'])], node)]]));
  const tx = diffScript(two, three, ['default/api']);
  assert.doesNotMatch(tx.script, /hairpin/);
  assert.deepEqual(tx.hairpin, new Map([['10.244.0.5', 1]]));
  const refs = HairpinRefs.of(two);
  refs.apply(tx.hairpin);
  assert.equal(refs.count('10.244.0.5'), 2);
  assert.doesNotMatch(diffScript(three, two, ['default/api'], refs).script, /hairpin/);
  // Web's endpoints both elsewhere now: only 10.244.1.6's element goes (api still names 10.244.0.5);
  // api gone too: 10.244.0.5's goes with it.
  const webRemote = change(three, web, [slice('web', [{ ip: '10.244.0.5', node: 'node-b' }, { ip: '10.244.1.6', node: 'node-b' }])]);
  assert.match(diffScript(three, webRemote, ['default/web'], refs).script, new RegExp(`^delete element ${T} hairpin-endpoints \\{ 10.244.1.6 \\. 10.244.1.6 \\}$`, 'm'));
  const none = change(webRemote, undefined, [], 'default/api');
  assert.match(diffScript(three, none, ['default/web', 'default/api'], refs).script, new RegExp(`^delete element ${T} hairpin-endpoints \\{ 10.244.0.5 \\. 10.244.0.5, 10.244.1.6 \\. 10.244.1.6 \\}$`, 'm'));
});

test('with session affinity, an added endpoint\'s chain and set exist before the service chain names them', () => {
  const sticky = svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
  const a = buildModel([sticky], [slice('web', ['10.244.0.5'])], node);
  const b = change(a, sticky, [slice('web', ['10.244.0.5', '10.244.2.8'])]);
  const set = (ip: string): string => `affinity-60s-${W}__${ip}/8080`;
  assert.equal(diffScript(a, b).script, [
    `add chain ${T} ${ep('10.244.2.8')}`,
    `add set ${T} ${set('10.244.2.8')} { type ipv4_addr; flags dynamic,timeout; timeout 60s; }`,
    `add rule ${T} ${ep('10.244.2.8')} ip saddr 10.244.2.8 jump mark-for-masquerade`,
    `add rule ${T} ${ep('10.244.2.8')} update @${set('10.244.2.8')} { ip saddr }`,
    `add rule ${T} ${ep('10.244.2.8')} meta l4proto tcp dnat to 10.244.2.8:8080`,
    `flush chain ${T} service-${W}`,
    `add rule ${T} service-${W} ip saddr @${set('10.244.0.5')} goto ${ep('10.244.0.5')}`,
    `add rule ${T} service-${W} ip saddr @${set('10.244.2.8')} goto ${ep('10.244.2.8')}`,
    `add rule ${T} service-${W} numgen random mod 2 0 goto ${ep('10.244.0.5')}`,
    `add rule ${T} service-${W} goto ${ep('10.244.2.8')}`,
    '',
  ].join('\n'));
  // And taking it away again: the service chain first, then the endpoint's chain, then its set.
  assert.deepEqual(diffScript(b, a).script.trim().split('\n').slice(-3), [
    `flush chain ${T} ${ep('10.244.2.8')}`,
    `delete chain ${T} ${ep('10.244.2.8')}`,
    `delete set ${T} ${set('10.244.2.8')}`,
  ]);
});

test('the last endpoint going away swaps the map entry to reject and deletes the chains', () => {
  const next = change(two, web, []);
  assert.equal(diffScript(two, next).script, [
    `delete element ${T} service-ips { 10.43.0.10 . tcp . 80 }`,
    `delete element ${T} hairpin-endpoints { 10.244.0.5 . 10.244.0.5, 10.244.1.6 . 10.244.1.6 }`,
    `add element ${T} no-endpoint-services { 10.43.0.10 . tcp . 80 : goto reject-chain }`,
    `flush chain ${T} service-${W}`,
    `delete chain ${T} service-${W}`,
    '',
  ].join('\n'));
});

test('a deleted Service: its elements go before its chains', () => {
  const next = change(two, undefined, []);
  assert.equal(diffScript(two, next).script, [
    `delete element ${T} cluster-ips { 10.43.0.10 }`,
    `delete element ${T} service-ips { 10.43.0.10 . tcp . 80 }`,
    `delete element ${T} hairpin-endpoints { 10.244.0.5 . 10.244.0.5, 10.244.1.6 . 10.244.1.6 }`,
    `flush chain ${T} service-${W}`,
    `delete chain ${T} service-${W}`,
    '',
  ].join('\n'));
});

test('an unchanged Service (same objects, rebuilt) makes an empty transaction', () => {
  const next = change(two, web, [slice('web', ['10.244.0.5', '10.244.1.6'])]);
  assert.deepEqual(diffScript(two, next, ['default/web']), { script: '', conntrack: [], hairpin: new Map() });
});

test('UDP: a removed endpoint\'s flows are forgotten; a frontend gaining its first endpoint is flushed', () => {
  const dns = svc('dns', '10.43.0.10', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] });
  const ports = [{ name: 'dns', port: 5353, protocol: 'UDP' }];
  const before = buildModel([dns], [slice('dns', ['10.244.0.5', '10.244.0.6'], ports)], node);
  const after = change(before, dns, [slice('dns', ['10.244.0.6'], ports)], 'default/dns');
  assert.deepEqual(diffScript(before, after).conntrack, [
    { origDst: '10.43.0.10', origPortDst: 53, replySrc: '10.244.0.5' },
    { origPortDst: 30053, replySrc: '10.244.0.5' },
  ]);
  const empty = buildModel([dns], [], node);
  assert.deepEqual(diffScript(empty, change(empty, dns, [slice('dns', ['10.244.0.6'], ports)], 'default/dns')).conntrack, [
    { origDst: '10.43.0.10', origPortDst: 53 },
    { origPortDst: 30053 },
  ]);
});

test('an affinity timeout change swaps the sets by name within one transaction', () => {
  const a = buildModel([svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP' })], [slice('web', ['10.244.0.5'])], node);
  const b = change(a, svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } }), [slice('web', ['10.244.0.5'])]);
  const lines = diffScript(a, b).script.trim().split('\n');
  assert.equal(lines[0], `add set ${T} affinity-30s-${W}__10.244.0.5/8080 { type ipv4_addr; flags dynamic,timeout; timeout 30s; }`);
  assert.equal(lines.at(-1), `delete set ${T} affinity-10800s-${W}__10.244.0.5/8080`);
});

test('recreate deletes and rebuilds the table in one script; refresh keeps affinity sets and deletes stale chains', () => {
  const recreate = fullScript(two, 'recreate').split('\n');
  assert.deepEqual(recreate.slice(0, 3), [`add table ${T}`, `delete table ${T}`, `add table ${T}`]);
  const aff = buildModel([svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP' })], [slice('web', ['10.244.0.5'])], node);
  const refresh = fullScript(aff, 'refresh', two).split('\n');
  assert.deepEqual(refresh.slice(0, 2), [`add table ${T}`, `flush table ${T}`]);
  for (const map of ['cluster-ips', 'service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports']) assert.ok(refresh.some((l) => l.startsWith(`flush `) && l.endsWith(` ${T} ${map}`)), map);
  assert.ok(!refresh.some((l) => l.startsWith('flush set') && l.includes('affinity-')));
  assert.ok(refresh.includes(`add set ${T} affinity-10800s-${W}__10.244.0.5/8080 { type ipv4_addr; flags dynamic,timeout; timeout 10800s; }`));
  assert.ok(refresh.includes(`delete chain ${T} service-default/db/tcp/http`));
});

test('two LoadBalancers on one ingress address and port: the first keeps the entry', () => {
  const lb = (name: string, ip: string): Service => {
    const s = svc(name, ip, { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: ip.endsWith('1') ? 30001 : 30002 }] });
    s.status = { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } };
    return s;
  };
  const m = buildModel([lb('a', '10.43.0.1'), lb('b', '10.43.0.2')], [slice('a', ['10.244.0.5']), slice('b', ['10.244.0.6'])], node);
  const adds = fullScript(m, 'recreate').split('\n').filter((l) => l.includes('10.0.0.1 . tcp . 80'));
  assert.deepEqual(adds.map((l) => /10\.0\.0\.1 \. tcp \. 80 : goto ([^,} ]+)/.exec(l)?.[1]), ['external-default/a/tcp/http']);
  const gone = updateModel(m, new Map([['default/b', undefined]]));
  assert.ok(!diffScript(m, gone).script.includes('10.0.0.1 . tcp . 80'), 'b never held the entry, so its removal leaves it');
});

test('a whole table comes in pieces of about 64 KiB, made as they are read, that together are the whole script', () => {
  const n = 2000;
  const services = Array.from({ length: n }, (_, i) => svc(`s${i}`, `10.43.${i >> 8}.${i & 255}`));
  const slices = Array.from({ length: n }, (_, i) => slice(`s${i}`, [`10.244.${i >> 8}.${i & 255}`, { ip: `10.245.${i >> 8}.${i & 255}`, node: 'node-b' }]));
  const model = buildModel(services, slices, node, new EndpointIdAllocator());
  const it = fullScriptChunks(model, 'recreate');
  const first = it.next();
  assert.ok(!first.done && first.value.startsWith(`add table ${T}\ndelete table ${T}\n`));
  const chunks = [first.value, ...it];
  assert.ok(chunks.length > 5, `${chunks.length} chunks`);
  for (const c of chunks.slice(0, -1)) assert.ok(c.length >= 64 * 1024 && c.length < 66 * 1024 && c.endsWith('\n'), `${c.length}`);
  const whole = chunks.join('');
  assert.equal(whole, fullScript(model, 'recreate'));
  assert.match(whole, /^add element ip tinykube-proxy endpoints-tcp-463 \{ 131006464 : 10\.244\.7\.207 \. 8080, /m, 'a chain\'s slots, written with its rules');
});
