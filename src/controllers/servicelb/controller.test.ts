// The ServiceLB controller over real Informers fed by in-memory list/watches (no API server): what it
// writes, when it writes nothing, and the events it records.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Node, Service } from '../../api/types.ts';
import type { HasMetadata } from '../../client/client.ts';
import { ApiError } from '../../client/errors.ts';
import { Informer } from '../../client/informer.ts';
import { MemoryListerWatcher } from '../../client/testing/memory-listwatch.ts';
import { until } from '../../testing/until.ts';
import type { EventSink, EventTarget } from '../events.ts';
import { ServiceLBController, type ServiceStatusWriter } from './controller.ts';

type Svc = Service & HasMetadata;
type Slice = EndpointSlice & HasMetadata;

class RecordingWriter implements ServiceStatusWriter {
  readonly writes: Svc[] = [];
  readonly services: MemoryListerWatcher<Svc>;
  constructor(services: MemoryListerWatcher<Svc>) {
    this.services = services;
  }
  /** As the API server: a write from a stale copy is a 409 Conflict. */
  async writeStatus(svc: Svc): Promise<void> {
    const cur = this.services.get(svc);
    if (cur?.metadata?.resourceVersion !== svc.metadata?.resourceVersion) {
      throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 409, reason: 'Conflict', message: 'the object has been modified; please apply your changes to the latest version and try again' });
    }
    this.writes.push(svc);
    this.services.set(svc);
  }
}

class RecordingEvents implements EventSink {
  readonly events: string[] = [];
  event(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push(`${target.kind}/${target.name} ${type} ${reason}: ${message}`);
  }
}

function node(name: string, ip: string, ready = 'True'): Node {
  return { metadata: { name }, spec: {}, status: { conditions: [{ type: 'Ready', status: ready }], addresses: [{ type: 'InternalIP', address: ip }] } };
}

function svc(name: string, spec: Partial<NonNullable<Service['spec']>> = {}): Svc {
  return { metadata: { namespace: 'default', name, uid: `uid-${name}` }, spec: { type: 'LoadBalancer', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30080 }], ...spec } };
}

interface Harness {
  services: MemoryListerWatcher<Svc>;
  nodes: MemoryListerWatcher<Node>;
  slices: MemoryListerWatcher<Slice>;
  informers: { services: Informer<Svc>; nodes: Informer<Node>; endpointSlices: Informer<Slice> };
  writer: RecordingWriter;
  events: RecordingEvents;
  controller: ServiceLBController;
  ingressOf(name: string): string[] | undefined;
  settled(): Promise<void>;
  /** How often the controller asked for the EndpointSlice informer. */
  sliceRequests: number;
}

let open: Harness | undefined;

function harness(): Harness {
  const services = new MemoryListerWatcher<Svc>();
  const nodes = new MemoryListerWatcher<Node>();
  const slices = new MemoryListerWatcher<Slice>();
  const informers = { services: new Informer<Svc>(services), nodes: new Informer<Node>(nodes), endpointSlices: new Informer<Slice>(slices) };
  const writer = new RecordingWriter(services);
  const events = new RecordingEvents();
  const controller = new ServiceLBController({
    informers: {
      services: informers.services,
      nodes: informers.nodes,
      endpointSlices: () => {
        h.sliceRequests++;
        informers.endpointSlices.start();
        return informers.endpointSlices;
      },
      start: () => [informers.services, informers.nodes].forEach((i) => i.start()),
      waitForSync: async (signal?: AbortSignal) => {
        await Promise.all([informers.services.waitForSync(signal), informers.nodes.waitForSync(signal)]);
      },
    },
    writer,
    events,
    onError: (err) => assert.fail(err instanceof Error ? err : String(err)),
  });
  const h: Harness = {
    services, nodes, slices, informers, writer, events, controller, sliceRequests: 0,
    ingressOf: (name) => informers.services.store.get('default', name)?.status?.loadBalancer?.ingress?.map((i) => i.ip ?? ''),
    async settled() {
      await until('queue idle', () => controller.queue.idle, { intervalMs: 1, timeoutMs: 5000 });
    },
  };
  open = h;
  return h;
}

afterEach(async () => {
  await open?.controller.stop();
  for (const i of Object.values(open?.informers ?? {})) await i.stop();
  open = undefined;
});

describe('ServiceLB controller', () => {
  it('publishes the Ready nodes as ingress with ipMode VIP, then follows nodes coming and going', async () => {
    const h = harness();
    h.nodes.set(node('n1', '192.0.2.1'));
    h.services.set(svc('web'));
    h.controller.start();
    await until('ingress', () => h.ingressOf('web')?.length === 1, { intervalMs: 1, timeoutMs: 5000 });
    assert.deepEqual(h.informers.services.store.get('default', 'web')?.status?.loadBalancer, { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }] });

    h.nodes.set(node('n2', '192.0.2.2'));
    await until('two', () => h.ingressOf('web')?.length === 2, { intervalMs: 1, timeoutMs: 5000 });
    assert.deepEqual(h.ingressOf('web'), ['192.0.2.1', '192.0.2.2']);

    h.nodes.set(node('n1', '192.0.2.1', 'Unknown'));
    await until('n1 gone', () => h.ingressOf('web')?.join() === '192.0.2.2', { intervalMs: 1, timeoutMs: 5000 });
    await h.settled();
    assert.deepEqual(h.events.events, [
      'Service/web Normal UpdatedLoadBalancer: Updated LoadBalancer with new IPs: [] -> [192.0.2.1]',
      'Service/web Normal UpdatedLoadBalancer: Updated LoadBalancer with new IPs: [192.0.2.1] -> [192.0.2.1 192.0.2.2]',
      'Service/web Normal UpdatedLoadBalancer: Updated LoadBalancer with new IPs: [192.0.2.1 192.0.2.2] -> [192.0.2.2]',
    ]);
    assert.equal(h.sliceRequests, 0, 'Cluster policy never needs EndpointSlices');
  });

  it('writes nothing when the answer is unchanged (a node heartbeat, a resync)', async () => {
    const h = harness();
    h.nodes.set(node('n1', '192.0.2.1'));
    h.services.set(svc('web'));
    h.controller.start();
    await until('ingress', () => h.ingressOf('web') !== undefined, { intervalMs: 1, timeoutMs: 5000 });
    await h.settled();
    const n = h.writer.writes.length;
    const beat = node('n1', '192.0.2.1');
    beat.status!.conditions![0].lastHeartbeatTime = '2026-12-06T10:00:00Z';
    h.nodes.set(beat);
    h.nodes.set(node('n9', '192.0.2.9', 'False'));
    h.services.set({ ...h.informers.services.store.get('default', 'web')!, metadata: { ...h.informers.services.store.get('default', 'web')!.metadata, labels: { touched: 'yes' } } });
    await until('label seen', () => h.informers.services.store.get('default', 'web')?.metadata?.labels?.touched === 'yes', { intervalMs: 1, timeoutMs: 5000 });
    await h.settled();
    assert.equal(h.writer.writes.length, n);
  });

  it('no qualifying node: ingress stays empty (<pending>) with one UnAvailableLoadBalancer warning, until a node is Ready', async () => {
    const h = harness();
    h.nodes.set(node('n1', '192.0.2.1', 'False'));
    h.services.set(svc('web'));
    h.controller.start();
    await until('warned', () => h.events.events.length === 1, { intervalMs: 1, timeoutMs: 5000 });
    h.nodes.set(node('n2', '192.0.2.2', 'False'));
    await h.settled();
    assert.deepEqual(h.events.events, ['Service/web Warning UnAvailableLoadBalancer: There are no available nodes for LoadBalancer']);
    assert.equal(h.writer.writes.length, 0);
    h.nodes.set(node('n1', '192.0.2.1'));
    await until('ingress', () => h.ingressOf('web')?.join() === '192.0.2.1', { intervalMs: 1, timeoutMs: 5000 });
  });

  it('externalTrafficPolicy Local follows the nodes of ready endpoints', async () => {
    const h = harness();
    h.nodes.set(node('n1', '192.0.2.1'));
    h.nodes.set(node('n2', '192.0.2.2'));
    h.services.set(svc('web', { externalTrafficPolicy: 'Local' }));
    h.controller.start();
    await until('warned', () => h.events.events.some((e) => e.includes('UnAvailableLoadBalancer')), { intervalMs: 1, timeoutMs: 5000 });
    const slice: Slice = {
      addressType: 'IPv4',
      metadata: { namespace: 'default', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'n2', conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-1' } }],
    };
    h.slices.set(slice);
    await until('n2', () => h.ingressOf('web')?.join() === '192.0.2.2', { intervalMs: 1, timeoutMs: 5000 });
    h.slices.remove(slice);
    await until('emptied', () => h.ingressOf('web')?.length === 0 || h.ingressOf('web') === undefined, { intervalMs: 1, timeoutMs: 5000 });
    await h.settled();
    assert.equal(h.events.events.filter((e) => e.includes('UnAvailableLoadBalancer')).length, 2);
  });

  it('leaves other classes alone, and clears what it published once the Service is no longer a LoadBalancer', async () => {
    const h = harness();
    h.nodes.set(node('n1', '192.0.2.1'));
    h.services.set(svc('metal', { loadBalancerClass: 'metallb.io/metallb' }));
    h.services.set(svc('web'));
    h.controller.start();
    await until('ingress', () => h.ingressOf('web')?.length === 1, { intervalMs: 1, timeoutMs: 5000 });
    const cur = h.informers.services.store.get('default', 'web')!;
    h.services.set({ ...cur, spec: { ...cur.spec, type: 'ClusterIP' } });
    await until('cleared', () => h.ingressOf('web') === undefined, { intervalMs: 1, timeoutMs: 5000 });
    await h.settled();
    assert.deepEqual(h.writer.writes.map((w) => w.metadata?.name), ['web', 'web']);
    assert.equal(h.ingressOf('metal'), undefined);
  });

  it('publishes nothing before the nodes are listed (a restart never takes addresses away)', async () => {
    const h = harness();
    let release!: () => void;
    h.nodes.gate = new Promise((r) => (release = r));
    h.nodes.set(node('n1', '192.0.2.1'));
    const s = svc('web');
    s.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }] } };
    h.services.set(s);
    h.controller.start();
    await until('services listed', () => h.informers.services.hasSynced(), { intervalMs: 1, timeoutMs: 5000 });
    // The Service's key waits in the queue: workers start only once every informer has its first list.
    assert.equal(h.controller.queue.idle, false);
    assert.equal(h.writer.writes.length, 0);
    release();
    await until('nodes listed', () => h.informers.nodes.hasSynced(), { intervalMs: 1, timeoutMs: 5000 });
    await h.settled();
    assert.equal(h.writer.writes.length, 0);
    assert.deepEqual(h.events.events, []);
  });
});
