// The proxy and the cluster DNS of a node share one pair of trimmed informers (node-services.ts wires
// them): tested here, where both components may be imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../api/types.ts';
import { LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../api/network.ts';
import type { HasMetadata } from '../client/client.ts';
import { MemoryListerWatcher } from '../client/testing/memory-listwatch.ts';
import { ClusterDNS } from '../dns/component.ts';
import { query, udp } from '../dns/dnstest.ts';
import { until } from '../testing/until.ts';
import { slice, svc } from '../proxy/fixtures.ts';
import type { NftRunner, RunResult } from '../proxy/nft.ts';
import { Proxier } from '../proxy/proxier.ts';
import { serviceInformers, trimService, trimSlice } from '../proxy/informers.ts';

type S = Service & HasMetadata;
type E = EndpointSlice & HasMetadata;

test('trimService keeps what the proxy and the DNS read, and nothing else', () => {
  const full: S = {
    ...svc('web', '10.43.0.10', {
      type: 'LoadBalancer',
      selector: { app: 'web' },
      externalIPs: ['192.0.2.1'],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: 32000,
      loadBalancerSourceRanges: ['10.0.0.0/8'],
      publishNotReadyAddresses: true,
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }],
    }),
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'web', [LABEL_HEADLESS]: '' }, annotations: { a: 'b' }, managedFields: [{ manager: 'kubectl' }] },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.1', ipMode: 'VIP', ports: [] }] } },
  };
  assert.deepEqual(JSON.parse(JSON.stringify(trimService(full))), {
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { [LABEL_HEADLESS]: '' } },
    spec: {
      type: 'LoadBalancer', clusterIP: '10.43.0.10', externalIPs: ['192.0.2.1'],
      ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }],
      sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 32000,
      loadBalancerSourceRanges: ['10.0.0.0/8'], publishNotReadyAddresses: true,
    },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.1', ipMode: 'VIP' }] } },
  });
});

test('trimSlice keeps addresses, conditions, node, hostname and ports; endpoints share their conditions and node names', () => {
  const full = slice('web', [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }, { ip: '10.244.1.7', node: 'node-b', ready: false }]) as E;
  full.metadata!.annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': 'x' };
  full.endpoints[0].targetRef = { kind: 'Pod', name: 'web-0', namespace: 'default', uid: 'p0' };
  full.endpoints[0].hostname = 'web-0';
  const t = trimSlice(full);
  assert.deepEqual(t.metadata, { name: 'web-abc', namespace: 'default', resourceVersion: '1', labels: { [LABEL_SERVICE_NAME]: 'web' } });
  assert.equal(full.metadata!.labels![LABEL_MANAGED_BY] !== undefined, true, 'the managed-by label was there and is dropped');
  assert.deepEqual(JSON.parse(JSON.stringify(t.endpoints)), [
    { addresses: ['10.244.0.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a', hostname: 'web-0' },
    { addresses: ['10.244.0.6'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a' },
    { addresses: ['10.244.1.7'], conditions: { ready: false, serving: false, terminating: false }, nodeName: 'node-b' },
  ]);
  assert.equal(t.endpoints[0].conditions, t.endpoints[1].conditions, 'one conditions object for equal conditions');
  assert.ok(Object.isFrozen(t.endpoints[0].conditions));
  assert.equal(trimSlice(full).endpoints[2].conditions, t.endpoints[2].conditions, 'shared across slices too');
  assert.deepEqual(t.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
});

class OkRunner implements NftRunner {
  scripts: string[] = [];
  async apply(script: string): Promise<RunResult> {
    this.scripts.push(script);
    return { ok: true };
  }
  async flushConntrack(): Promise<RunResult> {
    return { ok: true };
  }
}

test('one pair of informers feeds the proxy and the DNS: headless Services reach the DNS only; the DNS stopping leaves the informers to the proxy', async () => {
  const services = new MemoryListerWatcher<S>();
  const slices = new MemoryListerWatcher<E>();
  services.set(svc('web', '10.43.0.10') as S);
  slices.set(slice('web', ['10.244.0.5']) as E);
  services.set(svc('db', 'None') as S);
  const dbSlice = slice('db', ['10.244.0.9']) as E;
  dbSlice.metadata!.labels![LABEL_HEADLESS] = '';
  slices.set(dbSlice);
  const informers = serviceInformers({ services, slices });
  const runner = new OkRunner();
  const proxier = new Proxier({ services: informers.services, slices: informers.slices, runner, node: { name: 'node-a', addresses: [], podCIDR: '10.244.0.0/24' } });
  const dns = new ClusterDNS(informers, { host: '127.0.0.1', port: 0, upstreams: [] });
  try {
    const { port } = await dns.start();
    informers.services.start();
    informers.slices.start();
    await Promise.all([proxier.start(), dns.waitForSync()]);
    assert.deepEqual([...proxier.model!.services.keys()], ['default/web'], 'the headless Service is the DNS\'s only');
    assert.deepEqual((await udp(port, query('web.default.svc.cluster.local', 'A'))).answers.map((a) => a.data), ['10.43.0.10']);
    assert.deepEqual((await udp(port, query('db.default.svc.cluster.local', 'A'))).answers.map((a) => a.data), ['10.244.0.9']);
    // The cache holds trimmed objects.
    assert.equal(informers.slices.store.list().every((s) => s.metadata?.labels?.[LABEL_MANAGED_BY] === undefined), true);

    await dns.stop();
    slices.set(slice('web', ['10.244.0.5', '10.244.0.6']) as E);
    await until('the proxy still follows the shared informers', () => runner.scripts.some((s) => s.includes('10.244.0.6 . 8080')));
  } finally {
    await dns.stop();
    await proxier.stop();
    await Promise.all([informers.services.stop(), informers.slices.stop()]);
  }
});
