// The overlay's loop over a pretend kernel (./testing.ts) and Nodes from an in-memory list/watch, on
// a fake clock: what it publishes, what it changes when Nodes come, change and go, how it retries a
// failed change, what it says once about a refused node, and what a restart and a stop leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../api/types.ts';
import { MemoryListerWatcher } from '../client/testing/memory-listwatch.ts';
import { until } from '../testing/until.ts';
import { FakeClock } from '../util/clock.ts';
import { BACKEND_TYPE_ANNOTATION, PUBLIC_IP_ANNOTATION, vtepMac, VTEP_MAC_ANNOTATION, type Backend } from './model.ts';
import { Overlay, podMTU, type OverlayOptions, type SyncResult } from './overlay.ts';
import { FakeKernel } from './testing.ts';

function node(name: string, podCIDR?: string, ip?: string, backend: Backend = 'vxlan'): Node {
  const annotations: Record<string, string> = ip ? { [BACKEND_TYPE_ANNOTATION]: backend, [PUBLIC_IP_ANNOTATION]: ip, ...(backend === 'vxlan' ? { [VTEP_MAC_ANNOTATION]: vtepMac(name) } : {}) } : {};
  return { metadata: { name, annotations, creationTimestamp: `2026-01-01T00:00:0${name.length}Z` }, spec: podCIDR ? { podCIDR } : {} };
}

function harness(kernel = new FakeKernel(), lw = new MemoryListerWatcher<Node>(), backend: Backend = 'vxlan', offload: Pick<OverlayOptions, 'txChecksumOffload' | 'kernelRelease'> = { kernelRelease: '5.4.0-150-generic' }) {
  const clock = new FakeClock();
  const patches: unknown[] = [];
  const refused: string[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const syncs: SyncResult[] = [];
  const states: string[] = [];
  if (!lw.get(node('a'))) lw.set(node('a', '10.244.1.0/24'));
  const client = {
    patch: async <T>(_ref: unknown, _ns: unknown, name: string, _type: unknown, body: unknown): Promise<T> => {
      patches.push(body);
      const cur = lw.get({ metadata: { name } })!;
      const ann = { ...cur.metadata?.annotations };
      for (const [k, v] of Object.entries((body as { metadata: { annotations: Record<string, string | null> } }).metadata.annotations)) {
        if (v === null) delete ann[k];
        else ann[k] = v;
      }
      return lw.set({ ...cur, metadata: { ...cur.metadata, annotations: ann } }) as T;
    },
  };
  const overlay = new Overlay({
    client,
    nodes: lw,
    nodeName: 'a',
    nodeIP: '10.0.0.1',
    podCIDR: '10.244.1.0/24',
    backend,
    exec: kernel,
    clock,
    ...offload,
    onRefused: (n, why) => refused.push(`${n}: ${why}`),
    onWarning: (w) => warnings.push(w),
    onError: (err, ctx) => errors.push(`${ctx}: ${err instanceof Error ? err.message : String(err)}`),
    onSync: (r) => syncs.push(r),
    onState: (up, message) => states.push(`${up ? 'up' : 'down'}: ${message}`),
  });
  return { kernel, lw, clock, patches, refused, warnings, errors, syncs, states, overlay };
}

test('TX checksum offload: off only on kernels before 5.7 or when asked; ethtool missing is a warning only when it had to go off', async () => {
  const cases: [OverlayOptions['txChecksumOffload'], string, 'on' | 'off'][] = [
    [undefined, '5.4.0-150-generic', 'off'],
    ['auto', '5.6.19', 'off'],
    ['auto', '5.7.0', 'on'],
    [undefined, '6.18.44-fc-v1272', 'on'],
    ['auto', 'weird', 'off'],
    ['on', '4.19.0', 'on'],
    ['off', '6.1.0', 'off'],
  ];
  for (const [mode, kernelRelease, want] of cases) {
    const h = harness(new FakeKernel(), new MemoryListerWatcher<Node>(), 'vxlan', { txChecksumOffload: mode, kernelRelease });
    await h.overlay.start();
    await h.overlay.stop({ deleteDevice: false });
    const ethtool = h.kernel.ran.filter((c) => c[0] === 'ethtool').map((c) => c.join(' '));
    assert.deepEqual(ethtool, [`ethtool -K tinykube.1 tx-checksum-ip-generic ${want}`], `${mode} on ${kernelRelease}`);
    assert.equal(h.warnings.some((w) => /ethtool is not installed/.test(w)), want === 'off', `${mode} on ${kernelRelease}: ${h.warnings.join('; ')}`);
  }
});

test('vxlan: the device and the annotations at start, then entries that follow the Nodes', async () => {
  const h = harness();
  h.lw.set(node('b', '10.244.2.0/24', '10.0.0.2'));
  h.lw.set(node('c')); // no podCIDR, nothing published: skipped
  await h.overlay.start();
  try {
    assert.deepEqual(h.errors, []);
    assert.deepEqual({ mtu: h.kernel.device?.mtu, address: h.kernel.device?.address, addrs: [...(h.kernel.device?.addrs ?? [])], link: h.kernel.device?.link }, { mtu: 1450, address: vtepMac('a'), addrs: ['10.244.1.0/32'], link: 'eth0' });
    assert.deepEqual(h.patches, [{ metadata: { annotations: { [BACKEND_TYPE_ANNOTATION]: 'vxlan', [PUBLIC_IP_ANNOTATION]: '10.0.0.1', [VTEP_MAC_ANNOTATION]: vtepMac('a') } } }]);
    assert.match(h.warnings.join('\n'), /ethtool is not installed/);
    assert.deepEqual([...h.kernel.routes.keys()], ['10.244.2.0/24']);
    assert.equal(h.kernel.neighs.get('10.244.2.0'), vtepMac('b'));
    assert.equal(h.kernel.fdb.get(vtepMac('b')), '10.0.0.2');

    h.lw.set(node('c', '10.244.3.0/24', '10.0.0.3'));
    await until('entries for c', () => h.kernel.fdb.get(vtepMac('c')) === '10.0.0.3');
    const before = h.kernel.changes().length;
    h.lw.remove(node('b'));
    await until('b forgotten', () => !h.kernel.routes.has('10.244.2.0/24') && !h.kernel.neighs.has('10.244.2.0') && !h.kernel.fdb.has(vtepMac('b')));
    assert.deepEqual(h.kernel.changes().slice(before), [
      'ip route del 10.244.2.0/24 via 10.244.2.0 dev tinykube.1 onlink proto 77',
      'ip neigh del 10.244.2.0 dev tinykube.1',
      `bridge fdb del ${vtepMac('b')} dev tinykube.1 dst 10.0.0.2 self`,
    ], 'only the removed node is touched');
    assert.equal(h.patches.length, 1, 'published once');
  } finally {
    await h.overlay.stop();
  }
});

test('a failed change is reported and retried after the back-off; a refusal is said once', async () => {
  const h = harness();
  await h.overlay.start();
  try {
    h.kernel.failOnce.push('route replace 10.244.4.0/24');
    h.lw.set(node('d', '10.244.4.0/24', '10.0.0.4'));
    await until('the failure reported', () => h.errors.find((e) => /route replace 10.244.4.0\/24.*Operation not permitted/.test(e)));
    assert.ok(!h.kernel.routes.has('10.244.4.0/24'));
    h.clock.advance(1000);
    await until('the retry adds the route', () => h.kernel.routes.has('10.244.4.0/24'));
    // What the agent posts as NetworkUnavailable: said on each change only.
    await until('up again', () => h.states.length === 3);
    assert.deepEqual(h.states.map((s) => s.replace(/:.*Operation not permitted$/, ': …Operation not permitted')), [
      'up: the vxlan pod network is up on this node (0 other nodes)',
      'down: …Operation not permitted',
      'up: the vxlan pod network is up on this node (1 other node)',
    ]);

    h.lw.set(node('e', '10.244.4.0/25', '10.0.0.5'));
    await until('e refused', () => h.refused.length > 0);
    h.lw.set(node('f', '10.244.6.0/24', '10.0.0.6'));
    await until('f routed', () => h.kernel.routes.has('10.244.6.0/24'));
    assert.deepEqual(h.refused, ["e: its podCIDR 10.244.4.0/25 overlaps node d's 10.244.4.0/24"], 'said once, not at every sync');
    assert.ok(!h.kernel.routes.has('10.244.4.0/25'));
  } finally {
    await h.overlay.stop();
  }
});

test('a restart adopts the device and changes nothing; stop with deleteDevice leaves nothing', async () => {
  const first = harness();
  first.lw.set(node('b', '10.244.2.0/24', '10.0.0.2'));
  await first.overlay.start();
  await first.overlay.stop();
  assert.ok(first.kernel.device, 'a plain stop keeps the device');
  const changes = first.kernel.changes().length;

  const second = harness(first.kernel, first.lw);
  await second.overlay.start();
  assert.deepEqual(second.syncs[0]?.commands, []);
  assert.deepEqual(first.kernel.changes().slice(changes), [], 'no device made, no entry rewritten');
  await second.overlay.stop({ deleteDevice: true });
  assert.equal(first.kernel.device, undefined);
  assert.equal(first.kernel.routes.size, 0);
});

test('host-gw: a VXLAN device left from before goes, routes via the node IPs, no MAC published', async () => {
  const kernel = new FakeKernel();
  const lw = new MemoryListerWatcher<Node>();
  const vx = harness(kernel, lw);
  await vx.overlay.start();
  await vx.overlay.stop();
  assert.ok(kernel.device);

  const h = harness(kernel, lw, 'host-gw');
  h.lw.set(node('b', '10.244.2.0/24', '10.0.0.2', 'host-gw'));
  await h.overlay.start();
  try {
    assert.equal(kernel.device, undefined);
    assert.deepEqual(Object.fromEntries(kernel.routes), { '10.244.2.0/24': { gateway: '10.0.0.2', dev: undefined, onlink: false } });
    assert.deepEqual(h.patches, [{ metadata: { annotations: { [BACKEND_TYPE_ANNOTATION]: 'host-gw', [PUBLIC_IP_ANNOTATION]: '10.0.0.1', [VTEP_MAC_ANNOTATION]: null } } }]);
  } finally {
    await h.overlay.stop({ deleteDevice: true });
  }
  assert.equal(kernel.routes.size, 0);
});

test("the pods' MTU: the node link's, less the VXLAN headers with vxlan", async () => {
  const kernel = new FakeKernel();
  kernel.parent = { name: 'eth0', ip: '10.0.0.1', mtu: 9000 };
  const cases: Array<[Backend, string, number | undefined]> = [
    ['vxlan', '10.0.0.1', 8950],
    ['host-gw', '10.0.0.1', 9000],
    ['vxlan', '10.0.0.99', undefined],
  ];
  for (const [backend, ip, want] of cases) assert.equal(await podMTU(backend, ip, kernel), want, `${backend} ${ip}`);
});
