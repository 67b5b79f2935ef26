import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import type { ListerWatcher } from '../client/informer.ts';
import type { HasMetadata, ObjectList } from '../client/client.ts';
import type { WatchEvent } from '../client/watch.ts';
import type { EndpointSlice, Service } from '../api/types.ts';
import { until } from '../testing/until.ts';
import { ClusterDNS, trimServiceForDNS, trimSliceForDNS } from './component.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../api/network.ts';
import { UpstreamForwarder, parseResolvConf, withoutSelf } from './forward.ts';
import { closedPort, query, tcp, udp } from './dnstest.ts';
import { fixtureServices, fixtureSlices, service, slice } from './testdata.ts';

/** An in-memory collection: a list (held back until `release()` when `gated`) and one watch to push events into. */
class MemorySource<T extends HasMetadata> implements ListerWatcher<T> {
  #items: T[];
  #push: ((ev: WatchEvent<T> | undefined) => void) | undefined;
  #queue: Array<WatchEvent<T> | undefined> = [];
  #gate: Promise<void>;
  release: () => void = () => {};

  constructor(items: T[], gated = false) {
    this.#items = items;
    this.#gate = gated ? new Promise((r) => (this.release = r)) : Promise.resolve();
  }

  async list(): Promise<ObjectList<T>> {
    await this.#gate;
    return { metadata: { resourceVersion: '10' }, items: this.#items };
  }

  async watch(): Promise<AsyncIterable<WatchEvent<T>> & { close(): void }> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const ev = self.#queue.length > 0 ? self.#queue.shift() : await new Promise<WatchEvent<T> | undefined>((r) => (self.#push = r));
          if (!ev) return;
          yield ev;
        }
      },
      close: () => this.emit(undefined),
    };
  }

  emit(ev: WatchEvent<T> | undefined): void {
    const push = this.#push;
    this.#push = undefined;
    if (push) push(ev);
    else this.#queue.push(ev);
  }
}

function withRV<T extends HasMetadata>(o: T, rv: string): T {
  return { ...o, metadata: { ...o.metadata, resourceVersion: rv } };
}

test('ClusterDNS: answers from its informers, follows watch events, SERVFAIL before the first list, and stop() frees the port', async () => {
  const services = new MemorySource<Service & HasMetadata>(fixtureServices.map((s) => withRV(s as Service & HasMetadata, '1')), true);
  const slices = new MemorySource<EndpointSlice & HasMetadata>(fixtureSlices.map((s) => withRV(s as EndpointSlice & HasMetadata, '1')));
  const logs: string[] = [];
  const dns = new ClusterDNS({ services, slices }, { host: '127.0.0.1', port: 0, upstreams: [], log: (m) => logs.push(m) });
  const { port } = await dns.start();
  assert.ok(logs.some((l) => l.includes('no upstream resolvers')));

  // Services not listed yet: an unknown name is not yet known to be missing.
  assert.equal((await udp(port, query('web.default.svc.cluster.local', 'A'))).rcode, 'SERVFAIL');
  services.release();
  await dns.waitForSync();
  assert.deepEqual((await udp(port, query('web.default.svc.cluster.local', 'A'))).answers.map((a) => a.data), ['10.43.0.5']);
  assert.equal((await tcp(port, query('nosuch.default.svc.cluster.local', 'A'))).rcode, 'NXDOMAIN');
  assert.equal((await udp(port, query('db.default.svc.cluster.local', 'A'))).answers.length, 4);

  // A new Service and its slice arrive by watch; a Service is deleted.
  services.emit({ type: 'ADDED', object: withRV(service('apps', 'api', { clusterIP: 'None', ports: [{ name: 'grpc', port: 9000 }] }) as Service & HasMetadata, '11') });
  slices.emit({
    type: 'ADDED',
    object: withRV(slice('apps', 'api-1', 'api', [{ addresses: ['10.244.5.5'], hostname: 'api-0' }], [{ name: 'grpc', port: 9000, protocol: 'TCP' }]) as EndpointSlice & HasMetadata, '12'),
  });
  services.emit({ type: 'DELETED', object: withRV(fixtureServices[0] as Service & HasMetadata, '13') });
  const srv = await until('the watched Service answers SRV', async () => {
    const r = await udp(port, query('_grpc._tcp.api.apps.svc.cluster.local', 'SRV'));
    return r.answers.length === 1 ? r : undefined;
  });
  assert.deepEqual(srv.answers[0].data, { priority: 0, weight: 100, port: 9000, target: 'api-0.api.apps.svc.cluster.local' });
  await until('the deleted Service is gone', async () => (await udp(port, query('web.default.svc.cluster.local', 'A'))).rcode === 'NXDOMAIN');

  await dns.stop();
  const u = dgram.createSocket('udp4');
  await new Promise<void>((r) => u.bind(port, '127.0.0.1', r));
  const t = net.createServer();
  await new Promise<void>((r) => t.listen(port, '127.0.0.1', r));
  u.close();
  t.close();
});

test('resolv.conf: IPv4 nameservers in order, comments and IPv6 skipped', () => {
  const text = '# generated\nsearch example.internal\nnameserver 127.0.0.53\nnameserver ::1\n  nameserver 10.0.0.2 # second\noptions edns0 trust-ad\n';
  assert.deepEqual(parseResolvConf(text), [
    { host: '127.0.0.53', port: 53 },
    { host: '10.0.0.2', port: 53 },
  ]);
});

test('upstreams: this server itself is skipped, systemd-resolved is kept', () => {
  const ups = [
    { host: '127.0.0.53', port: 53 },
    { host: '10.43.0.10', port: 53 },
    { host: '10.0.0.2', port: 53 },
  ];
  const cases: Array<[{ host: string; port: number }, string[]]> = [
    [{ host: '10.43.0.10', port: 53 }, ['127.0.0.53', '10.0.0.2']],
    [{ host: '127.0.0.1', port: 5353 }, ['127.0.0.53', '10.43.0.10', '10.0.0.2']],
    [{ host: '127.0.0.53', port: 53 }, ['10.43.0.10', '10.0.0.2']],
    // On every address: loopback and the node's own addresses are this server.
    [{ host: '0.0.0.0', port: 53 }, ['10.43.0.10', '10.0.0.2']],
  ];
  // The machine's addresses are given, not read: another cluster on the machine may hold 10.43.0.10.
  const hostAddresses = () => ['127.0.0.1', '192.0.2.7'];
  for (const [self, want] of cases) assert.deepEqual(withoutSelf(ups, self, hostAddresses).map((u) => u.host), want, JSON.stringify(self));
  assert.deepEqual(withoutSelf(ups, { host: '0.0.0.0', port: 53 }, () => ['10.0.0.2']).map((u) => u.host), ['10.43.0.10'], 'a node address is this server');
});

test('forwarder: beyond maxConcurrent forwards in flight, a query is not sent (the server answers SERVFAIL)', async () => {
  const dead = await closedPort();
  const f = new UpstreamForwarder({ upstreams: () => [{ host: '127.0.0.1', port: dead }], timeoutMs: 5000, maxConcurrent: 2 });
  const q = query('example.org', 'A');
  const held = [f.forward(q, q.length, false), f.forward(q, q.length, false)];
  assert.equal(await f.forward(q, q.length, false), undefined);
  f.close();
  assert.deepEqual(await Promise.all(held), [undefined, undefined]);
});

test('the informers keep only what the records read; readiness keeps EndpointSlice semantics (unset is ready)', () => {
  const s = slice('default', 'db-x', 'db', [{ addresses: ['10.244.1.1'], hostname: 'db-0', nodeName: 'n1', conditions: { serving: true } }, { addresses: ['10.244.1.2'], conditions: { ready: false, terminating: true } }], [
    { name: 'pg', port: 5432, protocol: 'TCP', appProtocol: 'postgres' },
  ]) as EndpointSlice & HasMetadata;
  s.metadata!.uid = 'u';
  s.metadata!.labels![LABEL_MANAGED_BY] = 'endpointslice-controller.k8s.io';
  const t = trimSliceForDNS(s);
  assert.deepEqual(JSON.parse(JSON.stringify(t)), {
    metadata: { name: 'db-x', namespace: 'default', labels: { [LABEL_SERVICE_NAME]: 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.1'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.1.2'], conditions: { ready: false } },
    ],
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  });
  const svc = trimServiceForDNS({ ...service('default', 'web', { clusterIP: '10.43.0.5', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }), metadata: { name: 'web', namespace: 'default', annotations: { a: 'b' } } } as Service & HasMetadata);
  assert.deepEqual(JSON.parse(JSON.stringify(svc)), { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.5', ports: [{ name: 'http', port: 80 }] } });
});
