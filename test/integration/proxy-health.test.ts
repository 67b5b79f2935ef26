// The node proxy as a process of its own inside a node network namespace this test makes (so its health
// check ports, nft and conntrack act there), fed Services and EndpointSlices by hand:
//
//   client   (10.0.0.2) ──veth── node (10.0.0.1, 10.0.1.1; bridge br0 10.244.0.1/24) ──veth── b1 (10.244.0.2)
//   outsider (10.0.1.2) ──veth──┘                                                 └──veth── b2 (10.244.0.3)
//
// What kube-proxy promises and the unit tests cannot show: the healthCheckNodePort answers 200/503 as
// the node's endpoint becomes ready/unready; loadBalancerSourceRanges let one client in and drop the
// other; a restart of the proxy (the table recreated) keeps an established connection through a
// ClusterIP; the conntrack flows of a removed UDP endpoint are forgotten, so the client's next datagram
// reaches a remaining one. Real traffic, real conntrack; nothing leaves these namespaces. Needs root,
// Debian nft, conntrack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../../src/api/types.ts';
import { slice, svc } from '../../src/proxy/fixtures.ts';
import { serviceHealthBody } from '../../src/proxy/health.ts';
import type { NodeFacts } from '../../src/proxy/model.ts';
import { NetnsLab } from '../../src/proxy/testing/netns.ts';
import { ProxyProcess } from '../../src/proxy/testing/node-proxy.ts';

const lab = new NetnsLab('ph');
let NODE = '';
let CLIENT = '';
let OUTSIDER = '';
const node: NodeFacts = { name: 'node-a', addresses: ['10.0.0.1', '10.0.1.1'], podCIDR: '10.244.0.0/24' };
let proxy: ProxyProcess | undefined;

const lb = (): Service => {
  const s = svc('lb', '10.43.0.20', {
    type: 'LoadBalancer',
    externalTrafficPolicy: 'Local',
    healthCheckNodePort: 32100,
    loadBalancerSourceRanges: ['10.0.0.0/24'],
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30180 }],
  });
  s.metadata!.uid = 'uid-lb';
  // As ServiceLB publishes it: the node's address.
  s.status = { loadBalancer: { ingress: [{ ip: '10.0.0.1', ipMode: 'VIP' }] } };
  return s;
};
const echo = (): Service => svc('echo', '10.43.0.21', { ports: [{ name: 'echo', port: 9000, protocol: 'TCP', targetPort: 9000 }] });
const dns = (): Service => svc('dns', '10.43.0.22', { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] });
const lbSlice = (b1Ready: boolean): EndpointSlice => slice('lb', [{ ip: '10.244.0.2', ready: b1Ready }, { ip: '10.244.1.9', node: 'node-b' }]);
const echoSlice = (): EndpointSlice => slice('echo', ['10.244.0.2'], [{ name: 'echo', port: 9000, protocol: 'TCP' }]);
const dnsSlice = (ips: string[]): EndpointSlice => slice('dns', ips, [{ name: 'dns', port: 5353, protocol: 'UDP' }]);

before(async () => {
  NODE = await lab.ns('node');
  CLIENT = await lab.ns('client');
  OUTSIDER = await lab.ns('outsider');
  const b1 = await lab.ns('b1');
  const b2 = await lab.ns('b2');
  await lab.proxyNode(NODE);
  await lab.veth(NODE, 'cl0', '10.0.0.1/24', CLIENT, 'eth0', '10.0.0.2/24');
  await lab.veth(NODE, 'cl1', '10.0.1.1/24', OUTSIDER, 'eth0', '10.0.1.2/24');
  await lab.exec(CLIENT, ['ip', 'route', 'add', 'default', 'via', '10.0.0.1']);
  await lab.exec(OUTSIDER, ['ip', 'route', 'add', 'default', 'via', '10.0.1.1']);
  for (const [ns, dev, ip] of [[b1, 'vb1', '10.244.0.2/24'], [b2, 'vb2', '10.244.0.3/24']]) {
    await lab.veth(NODE, dev, undefined, ns, 'eth0', ip);
    await lab.exec(NODE, ['ip', 'link', 'set', dev, 'master', 'br0']);
    await lab.exec(ns, ['ip', 'route', 'add', 'default', 'via', '10.244.0.1']);
  }
  await lab.tcpServer(b1, 8080, 'b1');
  await lab.echoServer(b1, 9000, 'b1');
  await lab.udpServer(b1, 5353, 'b1');
  await lab.udpServer(b2, 5353, 'b2');
  proxy = await startProxy([lb(), echo(), dns()], [lbSlice(true), echoSlice(), dnsSlice(['10.244.0.2', '10.244.0.3'])]);
});

after(async () => {
  await proxy?.kill();
  await lab.cleanup();
});

/** A proxy process in the node namespace, given the informers' initial lists, after its first sync. */
async function startProxy(services: Service[], slices: EndpointSlice[]): Promise<ProxyProcess> {
  const p = new ProxyProcess(lab, NODE, node);
  for (const obj of services) p.send({ op: 'add', kind: 'service', obj });
  for (const obj of slices) p.send({ op: 'add', kind: 'slice', obj });
  p.send({ op: 'start' });
  const first = await p.next((o) => o.event === 'sync' || o.event === 'exited');
  assert.deepEqual([first.kind, first.ok], ['recreate', true], JSON.stringify(first));
  assert.deepEqual(await p.next((o) => o.event === 'started' || o.event === 'exited'), { event: 'started' });
  return p;
}

/** Sends one informer event and waits for the sync that carries it to the kernel. */
async function change(m: Parameters<ProxyProcess['send']>[0]): Promise<void> {
  const p = proxy!;
  p.drain();
  p.send(m);
  const s = await p.next((o) => o.event === 'sync' || o.event === 'exited');
  assert.deepEqual([s.kind, s.ok], ['partial', true], JSON.stringify(s));
}

test('healthCheckNodePort: 200 while the node has a ready endpoint, 503 while not, kube-proxy\'s body and headers; a taken port is reported once', async () => {
  const url = 'http://10.0.0.1:32100/';
  const ok = await lab.httpGet(CLIENT, url);
  assert.deepEqual(ok, {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' },
    body: serviceHealthBody('default', 'lb', 1, true),
  });
  await change({ op: 'update', kind: 'slice', old: lbSlice(true), obj: lbSlice(false) });
  // The endpoint on node-b is still ready: the Service works, but not through this node.
  const unready = await lab.httpGet(CLIENT, url);
  assert.deepEqual([unready.status, unready.body], [503, serviceHealthBody('default', 'lb', 0, true)]);
  await change({ op: 'update', kind: 'slice', old: lbSlice(false), obj: lbSlice(true) });
  assert.equal((await lab.httpGet(CLIENT, url)).status, 200);

  // A port something else holds on the node: one warning for the Service, the proxy carries on.
  await lab.tcpServer(NODE, 32101, 'squatter');
  const taken = lb();
  taken.metadata!.name = 'lb2';
  taken.metadata!.uid = 'uid-lb2';
  taken.spec!.clusterIP = '10.43.0.23';
  taken.spec!.healthCheckNodePort = 32101;
  taken.spec!.ports = [{ name: 'http', port: 81, protocol: 'TCP', targetPort: 8080, nodePort: 30181 }];
  proxy!.send({ op: 'add', kind: 'service', obj: taken });
  const warning = await proxy!.next((o) => o.event === 'warning' || o.event === 'exited');
  assert.deepEqual(warning, {
    event: 'warning',
    svc: { namespace: 'default', name: 'lb2', uid: 'uid-lb2' },
    reason: 'FailedToStartServiceHealthcheck',
    message: 'node node-a failed to start healthcheck "default/lb2" on port 32101: listen tcp 0.0.0.0:32101: bind: address already in use',
  });
  await change({ op: 'delete', kind: 'service', obj: taken });
  // The port stays whoever's it was.
  assert.deepEqual((await lab.connect(CLIENT, '10.0.0.1', 32101, 1)).map((r) => r.got), ['squatter 10.0.0.2']);
  assert.deepEqual(proxy!.drain().filter((o) => o.event === 'warning' || o.event === 'error'), [], 'said once');
});

test('loadBalancerSourceRanges: a client inside the ranges reaches the ingress address, one outside is dropped; NodePorts stay open', async () => {
  const [inside] = await lab.connect(CLIENT, '10.0.0.1', 80, 1);
  assert.equal(inside.got, 'b1 10.0.0.2', 'Local policy keeps the allowed client\'s address');
  // Dropped, not refused: the connection attempt goes unanswered (the helper gives up after 3 s).
  const [outside] = await lab.connect(OUTSIDER, '10.0.0.1', 80, 1);
  assert.equal(outside.got, 'ERR:TIMEOUT');
  // kube-proxy: "nodeports are not subject to loadBalancerSourceRanges".
  const [nodePort] = await lab.connect(OUTSIDER, '10.0.0.1', 30180, 1);
  assert.equal(nodePort.got, 'b1 10.0.1.2');
  const rules = await lab.exec(NODE, ['nft', 'list', 'chain', 'ip', 'tinykube-proxy', 'firewall-default/lb/tcp/http']);
  // The ingress address (the node's own) joins the allowed sources as the range holds the node; nft merges it into the range.
  assert.match(rules, /ip saddr != \{ 10\.0\.0\.0\/24 \} drop/);
});

test('a restart of the proxy recreates the table and keeps an established connection through a ClusterIP', async () => {
  const session = await lab.session(CLIENT, '10.43.0.21', 9000);
  try {
    assert.equal(await session.send('before'), 'b1 before');
    await proxy!.kill();
    // The new process starts from the informers' lists, as after an agent restart: a recreate.
    proxy = await startProxy([lb(), echo(), dns()], [lbSlice(true), echoSlice(), dnsSlice(['10.244.0.2', '10.244.0.3'])]);
    assert.equal(await session.send('after'), 'b1 after', 'conntrack keeps the flow across the recreate');
    const fresh = await lab.connect(CLIENT, '10.0.0.1', 80, 1);
    assert.equal(fresh[0].got, 'b1 10.0.0.2', 'new connections work with the new table');
  } finally {
    session.close();
  }
});

test('UDP: the conntrack flows of a removed endpoint are deleted, so the same client flow moves to a remaining endpoint', async () => {
  const first = await lab.udpAsk(CLIENT, '10.43.0.22', 53, 40053);
  assert.ok(first === 'b1' || first === 'b2', first);
  // The same source port is the same conntrack flow: the same backend every time.
  for (let i = 0; i < 3; i++) assert.equal(await lab.udpAsk(CLIENT, '10.43.0.22', 53, 40053), first);
  const keep = first === 'b1' ? '10.244.0.3' : '10.244.0.2';
  const conntrack = async (): Promise<string> => lab.exec(NODE, ['conntrack', '-L', '-p', 'udp', '--orig-dst', '10.43.0.22']).catch(() => '');
  assert.match(await conntrack(), new RegExp(`src=${first === 'b1' ? '10\\.244\\.0\\.2' : '10\\.244\\.0\\.3'} `));
  // The removed backend keeps running: without the flush its flow would keep answering.
  await change({ op: 'update', kind: 'slice', old: dnsSlice(['10.244.0.2', '10.244.0.3']), obj: dnsSlice([keep]) });
  assert.doesNotMatch(await conntrack(), /dport=53/, 'the flow is gone from conntrack');
  assert.equal(await lab.udpAsk(CLIENT, '10.43.0.22', 53, 40053), first === 'b1' ? 'b2' : 'b1');
});
