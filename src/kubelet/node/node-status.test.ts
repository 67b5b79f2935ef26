import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient } from '../../client/client.ts';
import { FakeClock } from '../../util/clock.ts';
import { FakeRuntime } from '../runtime/fake-runtime.ts';
import type { Node } from '../../api/types.ts';
import { buildNodeStatus, NodeStatusManager, type NodeStatusInput, type NodeStatusOptions } from './node-status.ts';

const machine = { cpus: 2, memoryBytes: 4 << 30, storageBytes: 20 << 30, machineID: 'm', systemUUID: 'u', bootID: 'b', kernelVersion: '6.1.0', osImage: 'Debian', architecture: 'amd64' };

function input(now: number, extra: NodeStatusInput['extra'], previous: NodeStatusInput['previous'] = []): NodeStatusInput {
  return { nodeName: 'n1', nodeIP: '10.0.0.1', machine, capacity: { cpu: '2' }, ready: { ok: true, message: 'kubelet is posting ready status' }, pressure: { memory: false, disk: false, pid: false }, previous, runtimeVersion: 'containerd://1.6', images: [], kubeletPort: 10250, now, extra };
}

test('conditions another component owns come first, and keep their transition time while unchanged', () => {
  const up = { type: 'NetworkUnavailable', status: false, reason: 'PodNetworkIsUp', message: 'the vxlan pod network is up on this node (2 other nodes)' };
  const first = buildNodeStatus(input(Date.parse('2026-01-01T00:00:00Z'), [up])).conditions!;
  assert.deepEqual(first.map((c) => `${c.type}=${c.status}`), ['NetworkUnavailable=False', 'MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
  assert.deepEqual(first[0], { type: 'NetworkUnavailable', status: 'False', reason: 'PodNetworkIsUp', message: up.message, lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' });

  const same = buildNodeStatus(input(Date.parse('2026-01-01T00:00:10Z'), [up], first)).conditions!;
  assert.equal(same[0].lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(same[0].lastHeartbeatTime, '2026-01-01T00:00:10Z');

  const down = buildNodeStatus(input(Date.parse('2026-01-01T00:00:20Z'), [{ ...up, status: true, reason: 'PodNetworkFailed', message: 'route replace: Operation not permitted' }], same)).conditions!;
  assert.deepEqual([down[0].status, down[0].reason, down[0].lastTransitionTime], ['True', 'PodNetworkFailed', '2026-01-01T00:00:20Z']);

  assert.deepEqual(buildNodeStatus(input(0, undefined)).conditions!.map((c) => c.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'], 'a node without an overlay has the kubelet\'s four');
});

test('a node not Ready yet asks its runtime every 100 ms and posts the moment it is Ready, else once a second', async () => {
  const clock = new FakeClock();
  const runtime = new FakeRuntime({ clock, networkReady: false });
  const posted: { at: number; ready: string }[] = [];
  // Only what the status loop calls: a status patch.
  const client = {
    patch: async (_r: unknown, _ns: unknown, _name: string, _type: string, body: { status: { conditions: { type: string; status: string }[] } }) => {
      posted.push({ at: clock.now(), ready: body.status.conditions.find((c) => c.type === 'Ready')!.status });
      return {};
    },
  } as unknown as ApiClient;
  const m = new NodeStatusManager({ client, runtime, clock, nodeName: 'n1', nodeIP: '10.0.0.1', machine, dataDir: '/nonexistent', kubeletPort: () => 10250, networkConfigured: () => true, pressure: () => ({ memory: false, disk: false, pid: false }), periodMs: 10_000 });
  const settle = () => new Promise((r) => setImmediate(r));
  const step = async (ms: number) => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await settle();
  };
  const t0 = clock.now();
  m.start();
  await step(0);
  assert.deepEqual(posted.map((p) => [p.at - t0, p.ready]), [[0, 'False']], 'the first status is posted at once, NotReady');
  const checks = () => runtime.calls.filter((c) => c.method === 'status').length;
  const before = checks();
  for (let i = 0; i < 9; i++) await step(100);
  assert.equal(checks() - before, 9, 'readiness asked every 100 ms');
  assert.equal(posted.length, 1, 'but nothing posted before a second has passed');
  await step(100);
  assert.deepEqual(posted.map((p) => [p.at - t0, p.ready]), [[0, 'False'], [1000, 'False']], 'a NotReady node posts once a second');
  await step(50);
  runtime.networkReady = true;
  const asked = checks();
  await step(50);
  assert.deepEqual(posted.at(-1), { at: t0 + 1100, ready: 'True' }, 'Ready is posted at the next 100 ms check');
  assert.equal(checks() - asked, 1, 'with the answer of that check: the runtime is not asked twice');
  assert.equal(m.ready, true);
  const n = posted.length;
  await step(9_900);
  assert.equal(posted.length, n, 'a Ready node posts at its period');
  await step(100);
  assert.equal(posted.length, n + 1);
  await m.stop();
});

/** A NodeStatusManager registering node n1 against a fake API: `create` answers a Node without a podCIDR, `get` what `stored` holds. */
function registering(stored: { podCIDR?: string }, watched?: NodeStatusOptions['watched']) {
  const calls = { create: 0, get: 0 };
  let created!: () => void;
  const createdP = new Promise<void>((r) => (created = r));
  const node = (): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', resourceVersion: '1' }, spec: stored.podCIDR ? { podCIDR: stored.podCIDR } : {} });
  const client = {
    create: async () => {
      calls.create++;
      created();
      return node();
    },
    get: async () => {
      calls.get++;
      return node();
    },
  } as unknown as ApiClient;
  const clock = new FakeClock();
  const m = new NodeStatusManager({ client, runtime: new FakeRuntime({ clock }), clock, nodeName: 'n1', nodeIP: '10.0.0.1', machine, dataDir: '/nonexistent', kubeletPort: () => 10250, networkConfigured: () => true, podCIDRWaitMs: 5000, watched });
  return { m, calls, created: createdP };
}

/** What the agent's node informer gives registration: the Node as last seen, and its changes. */
function watchedNode() {
  let current: Node | undefined;
  const handlers = new Set<() => void>();
  return {
    watched: {
      get: () => current,
      onChange(fn: () => void) {
        handlers.add(fn);
        return () => handlers.delete(fn);
      },
    },
    set(n: Node) {
      current = n;
      for (const h of [...handlers]) h();
    },
    handlers,
  };
}

test('registration takes the podCIDR from the watched Node the moment the controller assigns it, not at its next poll', async () => {
  const w = watchedNode();
  const r = registering({}, w.watched);
  const done = r.m.register();
  await r.created;
  w.set({ metadata: { name: 'n1', resourceVersion: '2' }, spec: { podCIDR: '10.244.3.0/24', podCIDRs: ['10.244.3.0/24'] } });
  assert.equal(await done, '10.244.3.0/24');
  assert.equal(r.calls.get, 0, 'no poll was needed');
  assert.equal(w.handlers.size, 0, 'its handler is removed');
});

test('registration still polls as a backstop when the watch says nothing, and a watch that already holds the podCIDR answers at once', async () => {
  const stored: { podCIDR?: string } = {};
  const w = watchedNode();
  const r = registering(stored, w.watched);
  const done = r.m.register();
  await r.created;
  stored.podCIDR = '10.244.7.0/24';
  assert.equal(await done, '10.244.7.0/24');
  assert.equal(r.calls.get, 1);
  assert.equal(w.handlers.size, 0);

  const w2 = watchedNode();
  w2.set({ metadata: { name: 'n1' }, spec: { podCIDR: '10.244.9.0/24' } });
  const r2 = registering({}, w2.watched);
  assert.equal(await r2.m.register(), '10.244.9.0/24');
  assert.equal(r2.calls.get, 0);
  assert.equal(w2.handlers.size, 0);
});
