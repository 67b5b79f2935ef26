// The proxy against the real kernel, inside network namespaces this test makes:
//
//   client (10.0.0.2) ──veth── node (10.0.0.1; bridge br0 10.244.0.1/24; the proxy's table) ──veth── b1 (10.244.0.2)
//                                                                                      └──veth── b2 (10.244.0.3)
//
// b1 and b2 run TCP servers on 8080 answering their name and the client address they see. Nothing leaves these namespaces. Needs root,
// Debian nft, conntrack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../../src/api/types.ts';
import { buildModel } from '../../src/proxy/builder.ts';
import { DNAT_ATTEMPTS, EndpointIdAllocator } from '../../src/proxy/endpointmaps.ts';
import { slice, svc } from '../../src/proxy/fixtures.ts';
import type { NodeFacts } from '../../src/proxy/model.ts';
import { CommandRunner } from '../../src/proxy/nft.ts';
import { FULL_SYNC_PERIOD_MS, Proxier } from '../../src/proxy/proxier.ts';
import type { SyncRecord } from '../../src/proxy/proxier.ts';
import { diffScript, fullScript } from '../../src/proxy/script.ts';
import { NetnsLab } from '../../src/proxy/testing/netns.ts';
import { PushSource } from '../../src/proxy/testing/source.ts';
import { FakeClock } from '../../src/util/clock.ts';

const lab = new NetnsLab('px');
let NODE = '';
let CLIENT = '';
let B1 = '';
let B2 = '';
const node: NodeFacts = { name: 'node-a', addresses: ['10.0.0.1'], podCIDR: '10.244.0.0/24' };

before(async () => {
  NODE = await lab.ns('node');
  CLIENT = await lab.ns('client');
  const b1 = await lab.ns('b1');
  const b2 = await lab.ns('b2');
  await lab.proxyNode(NODE);
  await lab.veth(NODE, 'cl0', '10.0.0.1/24', CLIENT, 'eth0', '10.0.0.2/24');
  await lab.exec(CLIENT, ['ip', 'route', 'add', 'default', 'via', '10.0.0.1']);
  for (const [ns, dev, ip] of [[b1, 'vb1', '10.244.0.2/24'], [b2, 'vb2', '10.244.0.3/24']]) {
    await lab.veth(NODE, dev, undefined, ns, 'eth0', ip);
    await lab.exec(NODE, ['ip', 'link', 'set', dev, 'master', 'br0']);
    // As the agent's CNI bridge (hairpinMode: true): a pod reaching itself through its Service is
    // DNATed back out of the port it came in by.
    await lab.exec(NODE, ['ip', 'link', 'set', dev, 'type', 'bridge_slave', 'hairpin', 'on']);
    await lab.exec(ns, ['ip', 'route', 'add', 'default', 'via', '10.244.0.1']);
  }
  // A second address each, so a Service can have four endpoints on two pods (the servers listen on all).
  await lab.exec(b1, ['ip', 'addr', 'add', '10.244.0.12/24', 'dev', 'eth0']);
  await lab.exec(b2, ['ip', 'addr', 'add', '10.244.0.13/24', 'dev', 'eth0']);
  await lab.tcpServer(b1, 8080, 'b1');
  await lab.tcpServer(b2, 8080, 'b2');
  B1 = b1;
  B2 = b2;
});

after(() => lab.cleanup());


/** The table as comparable data: chain → rules (kernel's own rendering), set → sorted elements. */
async function listing(ns: string): Promise<{ chains: Map<string, string[]>; sets: Map<string, string[]> }> {
  const json = JSON.parse(await lab.exec(ns, ['nft', '-j', 'list', 'table', 'ip', 'tinykube-proxy'])) as { nftables: Array<Record<string, Record<string, unknown>>> };
  const chains = new Map<string, string[]>();
  const sets = new Map<string, string[]>();
  for (const o of json.nftables) {
    if (o.chain) chains.set(String(o.chain.name), []);
    if (o.rule) chains.get(String(o.rule.chain))!.push(JSON.stringify(o.rule.expr));
    const s = o.set ?? o.map;
    if (s && !String(s.name).startsWith('affinity-')) sets.set(String(s.name), ((s.elem as unknown[]) ?? []).map((e) => JSON.stringify(e)).sort());
  }
  return { chains, sets };
}

const cluster = (): Service[] => [
  svc('web', '10.43.0.10', { type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] }),
  svc('empty', '10.43.0.11'),
  svc('sticky', '10.43.0.12', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
  {
    ...svc('local', '10.43.0.13', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32081, loadBalancerSourceRanges: ['10.0.0.0/24', '192.168.0.0/16'], ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30081 }] }),
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
  },
  svc('dns', '10.43.0.14', { internalTrafficPolicy: 'Local', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
  svc('spread', '10.43.0.16'),
];
const slices = (webIPs: string[]): EndpointSlice[] => [
  slice('web', webIPs),
  slice('sticky', ['10.244.0.2', '10.244.0.3']),
  slice('local', ['10.244.0.2', { ip: '10.244.1.9', node: 'node-b' }]),
  slice('dns', ['10.244.0.3', { ip: '10.244.1.9', node: 'node-b' }], [{ name: 'dns', port: 53, protocol: 'UDP' }]),
  slice('spread', ['10.244.0.2', '10.244.0.3', '10.244.0.12', '10.244.0.13']),
];

test('generated scripts pass nft check mode, and a diff leaves the same table as a recreate', async () => {
  // The proxier's path: endpoints as elements of the endpoint maps, ids kept across the two models.
  const ids = new EndpointIdAllocator();
  const prev = buildModel(cluster(), slices(['10.244.0.2', '10.244.0.3']), node, ids);
  const nextSvcs = cluster();
  nextSvcs[0].spec!.sessionAffinity = 'ClientIP';
  nextSvcs[3].spec!.loadBalancerSourceRanges = ['192.168.0.0/16'];
  nextSvcs.push(svc('new', '10.43.0.15'));
  const next = buildModel(nextSvcs.slice(1), slices(['10.244.0.3']), node, ids);
  const runner = new CommandRunner({ prefix: ['ip', 'netns', 'exec', NODE] });
  const check = async (script: string): Promise<void> => void (await lab.exec(NODE, ['nft', '-c', '-f', '-'], script));
  await check(fullScript(prev, 'recreate'));
  assert.deepEqual(await runner.apply(fullScript(prev, 'recreate')), { ok: true });
  await check(fullScript(next, 'refresh', prev));
  const tx = diffScript(prev, next);
  await check(tx.script);
  assert.deepEqual(await runner.apply(tx.script), { ok: true });
  const viaDiff = await listing(NODE);
  assert.deepEqual(await runner.apply(fullScript(next, 'recreate')), { ok: true });
  assert.deepEqual(viaDiff, await listing(NODE));
  assert.deepEqual(await runner.apply(fullScript(prev, 'refresh', next)), { ok: true });
  const refreshed = await listing(NODE);
  assert.deepEqual(await runner.apply(fullScript(prev, 'recreate')), { ok: true });
  assert.deepEqual(refreshed, await listing(NODE));
  assert.deepEqual(await runner.apply('add table ip tinykube-proxy\ndelete table ip tinykube-proxy\n'), { ok: true });
});

test('the proxier in the node namespace: ClusterIP and NodePort reach both backends, no endpoints refuses at once, an endpoint removal within the capacity changes its slots and the hairpin set, no rule', async () => {
  const services = new PushSource<Service>();
  const sliceSource = new PushSource<EndpointSlice>();
  const syncs: SyncRecord[] = [];
  const errors: Error[] = [];
  const synced: Array<() => void> = [];
  const proxier = new Proxier({
    services,
    slices: sliceSource,
    node,
    runner: new CommandRunner({ prefix: ['ip', 'netns', 'exec', NODE] }),
    onSync: (r) => {
      syncs.push(r);
      for (const w of synced.splice(0)) w();
    },
    onError: (e) => errors.push(e),
  });
  const nextSync = (): Promise<void> => new Promise((r) => synced.push(r));
  for (const s of cluster()) services.add(s);
  const initial = slices(['10.244.0.2', '10.244.0.3']);
  for (const s of initial) sliceSource.add(s);
  try {
    await proxier.start();
    assert.deepEqual(errors, []);
    assert.equal(syncs[0].kind, 'recreate');

    // What the backends answered: "<backend> <client address it saw>".
    const answers = async (ns: string, host: string, port: number, n: number): Promise<Set<string>> => new Set((await lab.connect(ns, host, port, n)).map((r) => r.got));
    // Off-node clients are masqueraded (the node's bridge address) so replies return through the node.
    assert.deepEqual(await answers(CLIENT, '10.43.0.10', 80, 30), new Set(['b1 10.244.0.1', 'b2 10.244.0.1']), 'ClusterIP from outside the node');
    assert.deepEqual(await answers(NODE, '10.43.0.10', 80, 30), new Set(['b1 10.244.0.1', 'b2 10.244.0.1']), 'ClusterIP from the node itself');
    assert.deepEqual(await answers(CLIENT, '10.0.0.1', 30080, 30), new Set(['b1 10.244.0.1', 'b2 10.244.0.1']), 'Cluster-policy NodePort');
    // A pod reaching its own Service works: landing on itself (hairpin) it is masqueraded, landing on
    // the other endpoint it keeps its address, as kube-proxy does.
    assert.deepEqual(await answers(B1, '10.43.0.10', 80, 30), new Set(['b1 10.244.0.1', 'b2 10.244.0.2']), 'ClusterIP from a backend pod');
    // externalTrafficPolicy Local: this node's endpoint only, and the client's own address.
    assert.deepEqual(await answers(CLIENT, '10.0.0.1', 30081, 10), new Set(['b1 10.0.0.2']), 'Local-policy NodePort');
    const sticky = await answers(CLIENT, '10.43.0.12', 80, 10);
    assert.equal(sticky.size, 1, `session affinity keeps one backend: ${[...sticky]}`);

    // No endpoints (from outside and from the node), and a ClusterIP port it does not serve: refused,
    // an ICMP answer at once (the client's 3 s timeout would say ERR:TIMEOUT).
    for (const [ns, host, port] of [[CLIENT, '10.43.0.11', 80], [NODE, '10.43.0.11', 80], [CLIENT, '10.43.0.10', 81]] as const) {
      assert.deepEqual(await answers(ns, host, port, 1), new Set(['ERR:ECONNREFUSED']), `${host}:${port} from ${ns}`);
    }

    const before = await listing(NODE);
    const done = nextSync();
    sliceSource.update(initial[0], slice('web', ['10.244.0.2']));
    await done;
    assert.deepEqual(syncs.at(-1)!.kind, 'partial');
    assert.ok(syncs.at(-1)!.ok);
    const afterRemoval = await listing(NODE);
    const changedChains = (a: typeof before, b: typeof before): string[] =>
      [...new Set([...a.chains.keys(), ...b.chains.keys()])].filter((n) => JSON.stringify(a.chains.get(n)) !== JSON.stringify(b.chains.get(n)));
    const changedSets = (a: typeof before, b: typeof before): string[] =>
      [...a.sets.keys()].filter((n) => JSON.stringify(a.sets.get(n)) !== JSON.stringify(b.sets.get(n))).map((n) => n.replace(/\d+$/, 'N'));
    // Two endpoints had capacity 2; one is fewer than its fallback rule needs: the chain is rewritten
    // for one. The endpoint left its slots; it stays a hairpin endpoint (the dns Service names it too).
    assert.deepEqual(changedChains(before, afterRemoval), ['service-default/web/tcp/http']);
    assert.equal(before.chains.get('service-default/web/tcp/http')!.filter((r) => r.includes('dnat')).length, DNAT_ATTEMPTS + 1);
    assert.deepEqual(changedSets(before, afterRemoval), ['endpoints-tcp-N']);
    assert.ok(afterRemoval.sets.get('hairpin-endpoints')!.some((e) => e.includes('"10.244.0.3"')));
    assert.deepEqual(await answers(CLIENT, '10.43.0.10', 80, 10), new Set(['b1 10.244.0.1']));

    // Four endpoints on the two pods: capacity 4, fallback rule over the first 3. One going leaves the
    // rules alone (its slot and its hairpin element go), and with a quarter of the draws missing,
    // every connection still lands, on both pods.
    assert.deepEqual(await answers(CLIENT, '10.43.0.16', 80, 20), new Set(['b1 10.244.0.1', 'b2 10.244.0.1']));
    const spreadBefore = await listing(NODE);
    const spreadDone = nextSync();
    sliceSource.update(initial[4], slice('spread', ['10.244.0.2', '10.244.0.3', '10.244.0.12']));
    await spreadDone;
    assert.ok(syncs.at(-1)!.ok);
    const spreadAfter = await listing(NODE);
    assert.deepEqual(changedChains(spreadBefore, spreadAfter), []);
    assert.deepEqual(changedSets(spreadBefore, spreadAfter).sort(), ['endpoints-tcp-N', 'hairpin-endpoints']);
    assert.ok(![...spreadAfter.sets.values()].flat().some((e) => e.includes('"10.244.0.13"')), 'no element names the endpoint gone');
    const got = (await lab.connect(CLIENT, '10.43.0.16', 80, 40)).map((r) => r.got);
    assert.deepEqual(new Set(got), new Set(['b1 10.244.0.1', 'b2 10.244.0.1']), `answers: ${got.join(', ')}`);
    // A pod of this node that is not an endpoint keeps its address.
    assert.deepEqual(await answers(B2, '10.43.0.10', 80, 5), new Set(['b1 10.244.0.3']), 'ClusterIP from a pod that is not an endpoint');
  } finally {
    assert.deepEqual(await proxier.stop(), { ok: true });
  }
  assert.equal((await lab.exec(NODE, ['nft', 'list', 'tables'])).trim(), '', 'stop() leaves no table');
});

test('the periodic refresh (hourly, on an injected clock) repairs drift: a chain flushed and a map element deleted from outside come back; partial syncs before it leave them alone', async () => {
  const clock = new FakeClock();
  const services = new PushSource<Service>();
  const sliceSource = new PushSource<EndpointSlice>();
  const syncs: SyncRecord[] = [];
  const synced: Array<() => void> = [];
  const proxier = new Proxier({
    services,
    slices: sliceSource,
    node,
    clock,
    runner: new CommandRunner({ prefix: ['ip', 'netns', 'exec', NODE] }),
    onSync: (r) => {
      syncs.push(r);
      for (const w of synced.splice(0)) w();
    },
  });
  // Resolves once a sync has finished and the proxier has scheduled what comes next (its timers are
  // set after onSync, so a clock advanced before then would pass them by).
  const nextSync = (): Promise<void> => new Promise((r) => synced.push(() => setImmediate(r)));
  for (const s of cluster()) services.add(s);
  const initial = slices(['10.244.0.2', '10.244.0.3']);
  for (const s of initial) sliceSource.add(s);
  try {
    await proxier.start();
    const programmed = await listing(NODE);
    const T = 'ip tinykube-proxy';
    await lab.exec(NODE, ['nft', `flush chain ${T} service-default/web/tcp/http`]);
    await lab.exec(NODE, ['nft', `delete element ${T} service-ips { 10.43.0.10 . tcp . 80 }`]);
    const drifted = await listing(NODE);
    assert.notDeepEqual(drifted, programmed);
    // A change elsewhere is a partial sync (due 10 ms after the last sync started): it writes its own Service only.
    const changed = slice('spread', ['10.244.0.2', '10.244.0.3', '10.244.0.12']);
    for (const [from, to] of [[initial[4], changed], [changed, initial[4]]]) {
      const partial = nextSync();
      sliceSource.update(from, to);
      clock.advance(10);
      await partial;
      assert.equal(syncs.at(-1)!.kind, 'partial');
    }
    assert.deepEqual((await listing(NODE)).chains.get('service-default/web/tcp/http'), [], 'not repaired by a partial sync');
    const refreshed = nextSync();
    clock.advance(FULL_SYNC_PERIOD_MS);
    await refreshed;
    assert.equal(syncs.at(-1)!.kind, 'refresh');
    assert.ok(syncs.at(-1)!.ok);
    assert.deepEqual(await listing(NODE), programmed);
  } finally {
    assert.deepEqual(await proxier.stop(), { ok: true });
  }
});

test('the runner\'s long-lived nft -i: one line is one atomic transaction, an error comes back with its line, the next transaction still applies', async () => {
  const runner = new CommandRunner({ prefix: ['ip', 'netns', 'exec', NODE] });
  const t = 'ip tinykube-runner-test';
  try {
    const bad = await runner.apply(`add table ${t}\nadd chain ${t} c\nadd rule ${t} nochain counter\n`);
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /No such file or directory[\s\S]*add rule ip tinykube-runner-test nochain counter/);
    assert.doesNotMatch(await lab.exec(NODE, ['nft', 'list', 'tables']), /tinykube-runner-test/, 'nothing of the failed transaction applied');
    assert.deepEqual(await runner.apply(`add table ${t}\nadd chain ${t} c\nadd rule ${t} c counter\n`), { ok: true });
    assert.match(await lab.exec(NODE, ['nft', 'list', 'chain', 'ip', 'tinykube-runner-test', 'c']), /counter packets 0/);
    runner.close();
    // After close, a transaction starts a new process.
    assert.deepEqual(await runner.apply(`delete table ${t}\n`), { ok: true });
  } finally {
    runner.close();
    await lab.exec(NODE, ['nft', `add table ${t}; delete table ${t}`]);
  }
});
