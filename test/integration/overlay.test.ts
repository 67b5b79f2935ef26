// The pod network between nodes against the real kernel and a real API server. Three node network
// namespaces, each with a veth to a bridge in a fourth namespace (the "switch"; nothing on the host),
// a node IP on it, and a port-less bridge holding the node's pod gateway address (10.244.X.1/24) as
// the CNI bridge's stand-in (these kernels have no dummy driver). One overlay per node namespace,
// each with its own node credential (system:node:<name>), so the Node authorizer, NodeRestriction and
// RBAC decide what it may do, as they would for an agent.
//
//            switch: br0
//        ┌──────┼───────┐
//   n1 10.99.0.1  n2 .2  n3 .3        pod gateways 10.244.101.1, .102.1, .103.1
//
// Needs root, iproute2, iptables, busybox (ping).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from '../../src/api/types.ts';
import { issueClientCert } from '../../src/apiserver/auth/pki.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Nodes } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { ensureMasquerade } from '../../src/kubelet/network/cni.ts';
import { CommandExec } from '../../src/overlay/exec.ts';
import { BACKEND_TYPE_ANNOTATION, PUBLIC_IP_ANNOTATION, VTEP_MAC_ANNOTATION, vtepMac, type Backend } from '../../src/overlay/model.ts';
import { Overlay, type SyncResult } from '../../src/overlay/overlay.ts';
import { NetnsLab } from '../../src/proxy/testing/netns.ts';
import { until } from '../../src/testing/until.ts';

interface TestNode {
  name: string;
  ns: string;
  ip: string;
  podCIDR: string;
  gateway: string;
  client: ApiClient;
}

const lab = new NetnsLab('ov');
let dir = '';
let cp: ControlPlane;
let admin: ApiClient;
const nodes: TestNode[] = [];
const running = new Map<string, Overlay>();
const refusals: Array<{ on: string; node: string; reason: string }> = [];
const warnings: string[] = [];
const errors: string[] = [];
const syncs = new Map<string, SyncResult[]>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-overlay-'));
  const sw = await lab.ns('sw');
  await lab.exec(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  await lab.exec(sw, ['ip', 'link', 'set', 'br0', 'up']);
  cp = await startControlPlane({ dataDir: join(dir, 'server'), listen: '127.0.0.1:0', advertiseAddress: false, localStorage: false });
  admin = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'overlay-test' });
  for (const i of [1, 2, 3]) {
    const name = `n${i}`;
    const ns = await lab.ns(name);
    const ip = `10.99.0.${i}`;
    await lab.veth(sw, `p${i}`, undefined, ns, 'eth0', `${ip}/24`);
    await lab.exec(sw, ['ip', 'link', 'set', `p${i}`, 'master', 'br0']);
    const gateway = `10.244.${100 + i}.1`;
    await lab.exec(ns, ['ip', 'link', 'add', 'cni0', 'type', 'bridge']);
    await lab.exec(ns, ['ip', 'addr', 'add', `${gateway}/24`, 'dev', 'cni0']);
    await lab.exec(ns, ['ip', 'link', 'set', 'cni0', 'up']);
    const podCIDR = `10.244.${100 + i}.0/24`;
    await admin.create<Node>(Nodes, undefined, { metadata: { name }, spec: { podCIDR, podCIDRs: [podCIDR] } });
    const cert = await issueClientCert(cp.pki, `system:node:${name}`, ['system:nodes']);
    const client = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: cert.certPem, keyPem: cert.keyPem, userAgent: `overlay-${name}` });
    nodes.push({ name, ns, ip, podCIDR, gateway, client });
  }
});

after(async () => {
  for (const o of running.values()) await o.stop({ deleteDevice: true }).catch(() => undefined);
  for (const n of nodes) n.client.close();
  admin?.close();
  await lab.cleanup();
  await cp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startOverlay(n: TestNode, backend: Backend): Promise<Overlay> {
  const o = new Overlay({
    client: n.client,
    nodeName: n.name,
    nodeIP: n.ip,
    podCIDR: n.podCIDR,
    backend,
    exec: new CommandExec({ netns: n.ns }),
    resyncMs: 60_000,
    onRefused: (node, reason) => refusals.push({ on: n.name, node, reason }),
    onWarning: (w) => warnings.push(`${n.name}: ${w}`),
    onError: (err, ctx) => errors.push(`${n.name}: ${ctx}: ${err instanceof Error ? err.message : String(err)}`),
    onSync: (r) => syncs.set(n.name, [...(syncs.get(n.name) ?? []), r]),
  });
  running.set(n.name, o);
  await o.start();
  return o;
}

async function stopOverlay(n: TestNode, deleteDevice: boolean): Promise<void> {
  await running.get(n.name)?.stop({ deleteDevice });
  running.delete(n.name);
}

const json = async (n: TestNode, argv: string[]): Promise<Array<Record<string, unknown>>> => JSON.parse((await lab.exec(n.ns, argv)) || '[]') as Array<Record<string, unknown>>;
const routeDsts = async (n: TestNode): Promise<string[]> => (await json(n, ['ip', '-j', 'route', 'show', 'proto', '77'])).map((r) => String(r.dst)).sort();

async function ping(from: TestNode, to: TestNode): Promise<void> {
  await lab.exec(from.ns, ['busybox', 'ping', '-c1', '-W2', '-I', from.gateway, to.gateway]);
}

/** A TCP connection from `src` (an address in `from`) to `host:port`; the answer of lab.tcpServer: "<name> <peer address it saw>". */
async function connectFrom(from: TestNode, src: string, host: string, port: number): Promise<string> {
  const script = `const s = require('net').connect({ host: ${JSON.stringify(host)}, port: ${port}, localAddress: ${JSON.stringify(src)} });
    let d = ''; s.setTimeout(3000, () => { console.log('ERR:TIMEOUT'); s.destroy(); });
    s.on('data', (x) => (d += x)); s.on('end', () => console.log(d.trim())); s.on('error', (e) => console.log('ERR:' + e.code));`;
  return (await lab.exec(from.ns, [process.execPath, '-e', script])).trim();
}

const others = (n: TestNode): string[] => nodes.filter((m) => m !== n).map((m) => m.podCIDR).sort();

test('vxlan: every node reaches every other pod range, publishes its facts, and nothing is NATed inside the cluster', async () => {
  await Promise.all(nodes.map((n) => startOverlay(n, 'vxlan')));
  for (const n of nodes) {
    await until(`${n.name} routes to the other nodes' pod ranges`, async () => JSON.stringify(await routeDsts(n)) === JSON.stringify(others(n)), { intervalMs: 50, detail: () => errors.join('\n') });
  }
  assert.deepEqual(errors, []);
  // Published with the node's own credential.
  const n1 = await admin.get<Node>(Nodes, undefined, 'n1');
  assert.deepEqual(
    [n1.metadata?.annotations?.[BACKEND_TYPE_ANNOTATION], n1.metadata?.annotations?.[PUBLIC_IP_ANNOTATION], n1.metadata?.annotations?.[VTEP_MAC_ANNOTATION]],
    ['vxlan', '10.99.0.1', vtepMac('n1')],
  );
  // The device: flannel's settings, MTU of the parent minus 50, the VTEP /32.
  const [dev] = await json(nodes[0], ['ip', '-d', '-j', 'addr', 'show', 'dev', 'tinykube.1']);
  const info = (dev.linkinfo as { info_data: Record<string, unknown> }).info_data;
  assert.deepEqual([dev.mtu, info.id, info.port, info.local, info.link, info.learning], [1450, 1, 8472, '10.99.0.1', 'eth0', false]);
  assert.deepEqual((dev.addr_info as Array<{ family: string; local: string; prefixlen: number }>).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), ['10.244.101.0/32']);
  // n1's entries for n2: neighbour and fdb.
  const neigh = await json(nodes[0], ['ip', '-j', 'neigh', 'show', 'dev', 'tinykube.1']);
  assert.ok(neigh.some((e) => e.dst === '10.244.102.0' && e.lladdr === vtepMac('n2')), JSON.stringify(neigh));
  const fdb = await json(nodes[0], ['bridge', '-j', 'fdb', 'show', 'dev', 'tinykube.1']);
  assert.ok(fdb.some((e) => e.mac === vtepMac('n2') && e.dst === '10.99.0.2'), JSON.stringify(fdb));
  // ethtool is not on these machines: said once per node, not an error.
  if (warnings.length) assert.ok(warnings.every((w) => /ethtool/.test(w)), warnings.join('\n'));

  for (const a of nodes) for (const b of nodes) if (a !== b) await ping(a, b);

  // The masquerade rule of the agent, with the rule an older agent left behind in n1.
  const legacy = ['-t', 'nat', '-A', 'POSTROUTING', '-s', nodes[0].podCIDR, '!', '-d', nodes[0].podCIDR, '-m', 'comment', '--comment', 'tinykube cni0', '-j', 'MASQUERADE'];
  await lab.exec(nodes[0].ns, ['iptables', '-w', ...legacy]);
  for (const n of nodes) await ensureMasquerade(n.podCIDR, 'cni0', { netns: n.ns });
  await ensureMasquerade(nodes[0].podCIDR, 'cni0', { netns: nodes[0].ns });
  const rules = (await lab.exec(nodes[0].ns, ['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n').filter((l) => l.includes('MASQUERADE'));
  assert.deepEqual(rules, ['-A POSTROUTING -s 10.244.101.0/24 ! -d 10.244.0.0/16 -m comment --comment "tinykube cni0" -j MASQUERADE']);

  await lab.tcpServer(nodes[1].ns, 8080, 'n2');
  // Pod to pod across nodes: the server sees the client pod's own address.
  assert.equal(await connectFrom(nodes[0], nodes[0].gateway, nodes[1].gateway, 8080), 'n2 10.244.101.1');
  // Leaving the cluster network (to a node address): masqueraded, so the rule is live.
  assert.equal(await connectFrom(nodes[0], nodes[0].gateway, nodes[1].ip, 8080), 'n2 10.99.0.1');
});

test('vxlan: a restarted overlay adopts its device and changes nothing; a removed Node leaves nothing behind', async () => {
  const n1 = nodes[0];
  const before = await lab.exec(n1.ns, ['ip', '-d', '-j', 'link', 'show', 'dev', 'tinykube.1']);
  await stopOverlay(n1, false);
  syncs.delete(n1.name);
  await startOverlay(n1, 'vxlan');
  assert.deepEqual(syncs.get(n1.name)?.[0]?.commands, [], 'the first sync after a restart finds the kernel as it should be');
  assert.equal(JSON.parse(await lab.exec(n1.ns, ['ip', '-d', '-j', 'link', 'show', 'dev', 'tinykube.1']))[0].ifindex, JSON.parse(before)[0].ifindex, 'the same device');
  assert.ok(!warnings.some((w) => /made again/.test(w)), warnings.join('\n'));

  // n3 leaves: its agent stops (device kept, as after a crash) and its Node is deleted.
  await stopOverlay(nodes[2], false);
  await admin.delete(Nodes, undefined, 'n3');
  for (const n of nodes.slice(0, 2)) {
    await until(`${n.name} forgets n3`, async () => {
      const neigh = await json(n, ['ip', '-j', 'neigh', 'show', 'dev', 'tinykube.1']);
      const fdb = await json(n, ['bridge', '-j', 'fdb', 'show', 'dev', 'tinykube.1']);
      return !(await routeDsts(n)).includes('10.244.103.0/24') && !neigh.some((e) => e.dst === '10.244.103.0') && !fdb.some((e) => e.mac === vtepMac('n3'));
    }, { intervalMs: 50 });
  }
  await assert.rejects(ping(nodes[0], nodes[2]));
  await ping(nodes[0], nodes[1]);
});

test('a node whose podCIDR overlaps another is refused, with its reason, and gets no routes', async () => {
  // Published as an agent would, but over n2's range.
  await admin.create<Node>(Nodes, undefined, {
    metadata: { name: 'intruder', annotations: { [BACKEND_TYPE_ANNOTATION]: 'vxlan', [PUBLIC_IP_ANNOTATION]: '10.99.0.9', [VTEP_MAC_ANNOTATION]: vtepMac('intruder') } },
    spec: { podCIDR: '10.244.102.128/25', podCIDRs: ['10.244.102.128/25'] },
  });
  // Each node's overlay sees the Node on its own watch: await both refusals, not the first.
  await until('n1 and n2 refuse the intruder', () => ['n1', 'n2'].every((on) => refusals.some((r) => r.on === on && r.node === 'intruder')), { intervalMs: 50 });
  assert.match(refusals.find((r) => r.on === 'n1' && r.node === 'intruder')!.reason, /podCIDR 10.244.102.128\/25 overlaps node n2's 10.244.102.0\/24/);
  assert.match(refusals.find((r) => r.on === 'n2' && r.node === 'intruder')!.reason, /overlaps this node's own 10.244.102.0\/24/);
  await running.get('n1')!.syncNow();
  assert.deepEqual(await routeDsts(nodes[0]), ['10.244.102.0/24']);
  const fdb = await json(nodes[0], ['bridge', '-j', 'fdb', 'show', 'dev', 'tinykube.1']);
  assert.ok(!fdb.some((e) => e.dst === '10.99.0.9'));
  await admin.delete(Nodes, undefined, 'intruder');
});

test('host-gw: routes via the node IPs, no device; stop with deleteDevice removes the routes', async () => {
  for (const n of nodes.slice(0, 2)) await stopOverlay(n, true);
  for (const n of nodes.slice(0, 2)) assert.deepEqual(await json(n, ['ip', '-j', 'link', 'show', 'type', 'vxlan']), [], `${n.name} has no VXLAN device`);
  for (const n of nodes.slice(0, 2)) assert.deepEqual(await routeDsts(n), [], `${n.name} has no overlay route left`);
  await Promise.all(nodes.slice(0, 2).map((n) => startOverlay(n, 'host-gw')));
  await until('n1 routes to n2 via its node IP', async () => (await json(nodes[0], ['ip', '-j', 'route', 'show', 'proto', '77'])).some((r) => r.dst === '10.244.102.0/24' && r.gateway === '10.99.0.2'), { intervalMs: 50 });
  await until('n2 routes to n1 via its node IP', async () => (await json(nodes[1], ['ip', '-j', 'route', 'show', 'proto', '77'])).some((r) => r.dst === '10.244.101.0/24' && r.gateway === '10.99.0.1'), { intervalMs: 50 });
  const n2 = await admin.get<Node>(Nodes, undefined, 'n2');
  assert.equal(n2.metadata?.annotations?.[BACKEND_TYPE_ANNOTATION], 'host-gw');
  assert.equal(n2.metadata?.annotations?.[VTEP_MAC_ANNOTATION], undefined, 'a host-gw node publishes no VTEP MAC');
  await ping(nodes[0], nodes[1]);
  await ping(nodes[1], nodes[0]);
  assert.equal(await connectFrom(nodes[0], nodes[0].gateway, nodes[1].gateway, 8080), 'n2 10.244.101.1');
  for (const n of nodes.slice(0, 2)) await stopOverlay(n, true);
  for (const n of nodes.slice(0, 2)) assert.deepEqual(await routeDsts(n), []);
  assert.deepEqual(errors, []);
});
