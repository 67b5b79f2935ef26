// ServiceLB end to end on simulated nodes: a LoadBalancer Service gets the nodes' InternalIPs as its
// ingress (kubectl's EXTERNAL-IP), follows a cordon, and with externalTrafficPolicy Local only lists
// the nodes running a ready endpoint (none: <pending> and an UnAvailableLoadBalancer event).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Node, Service } from '../../src/api/types.ts';
import { Events, Nodes, Services } from '../../src/client/resources.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';


let c: WorkloadCluster;
let services: Watched<Service>;
let events: Watched<Event>;
let nodeIPs: Map<string, string>;

const ingressOf = (all: Service[], name: string) => all.find((s) => s.metadata?.name === name)?.status?.loadBalancer?.ingress?.map((i) => i.ip ?? '') ?? [];
const sortIPs = (ips: string[]) => [...ips].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

before(async () => {
  c = await startWorkloadCluster({ nodes: 3 });
  services = await c.watch<Service>(Services, 'default');
  events = await c.watch<Event>(Events, 'default');
  const nodes = await c.client.list<Node>(Nodes);
  nodeIPs = new Map(nodes.items.map((n) => [n.metadata!.name!, n.status!.addresses!.find((a) => a.type === 'InternalIP')!.address]));
});

after(async () => {
  await c?.close();
});

describe('ServiceLB', () => {
  it('publishes every Ready node as EXTERNAL-IP, and drops a cordoned one', async () => {
    const r = await c.kubectl(['create', 'service', 'loadbalancer', 'web', '--tcp=80:8080']);
    assert.equal(r.code, 0, r.stderr);
    const all = sortIPs([...nodeIPs.values()]);
    await services.until((s) => ingressOf(s, 'web').join() === all.join(), 'web ingress = all nodes');
    const svc = services.items().find((s) => s.metadata?.name === 'web')!;
    assert.ok(svc.status!.loadBalancer!.ingress!.every((i) => i.ipMode === 'VIP'));

    const get = await c.kubectl(['get', 'svc', 'web', '--no-headers']);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout.trim().split(/\s+/)[3], all.join(','));

    const [first] = [...nodeIPs.keys()];
    assert.equal((await c.kubectl(['cordon', first])).code, 0);
    const rest = sortIPs([...nodeIPs].filter(([n]) => n !== first).map(([, ip]) => ip));
    await services.until((s) => ingressOf(s, 'web').join() === rest.join(), 'cordoned node dropped');
    assert.equal((await c.kubectl(['uncordon', first])).code, 0);
    await services.until((s) => ingressOf(s, 'web').length === 3, 'uncordoned node back');
    await events.until((e) => e.some((x) => x.involvedObject?.name === 'web' && x.reason === 'UpdatedLoadBalancer' && x.source?.component === 'service-lb-controller'), 'UpdatedLoadBalancer event');
  });

  it('externalTrafficPolicy Local: pending without endpoints, then the nodes of ready pods', async (t) => {
    // Local reads the EndpointSlices the EndpointSlice controller writes (issue 12's Endpoints part).
    const served = await c.client.requestJson<{ resources?: { name: string }[] }>('GET', '/apis/discovery.k8s.io/v1').then((l) => l.resources?.some((r) => r.name === 'endpointslices'), () => false);
    if (!served) {
      t.skip('this API server does not serve discovery.k8s.io/v1 endpointslices yet');
      return;
    }
    const r = await c.kubectl(['create', 'service', 'loadbalancer', 'local', '--tcp=80:8080']);
    assert.equal(r.code, 0, r.stderr);
    const p = await c.kubectl(['patch', 'svc', 'local', '-p', '{"spec":{"externalTrafficPolicy":"Local"}}']);
    assert.equal(p.code, 0, p.stderr);
    await events.until((e) => e.some((x) => x.involvedObject?.name === 'local' && x.reason === 'UnAvailableLoadBalancer' && x.message === 'There are no available nodes for LoadBalancer'), 'UnAvailableLoadBalancer');
    await services.until((s) => {
      const svc = s.find((x) => x.metadata?.name === 'local');
      return svc?.spec?.externalTrafficPolicy === 'Local' && ingressOf(s, 'local').length === 0;
    }, 'local pending');
    const get = await c.kubectl(['get', 'svc', 'local', '--no-headers']);
    assert.equal(get.stdout.trim().split(/\s+/)[3], '<pending>');

    // `kubectl create service loadbalancer local` selects app=local; one pod lands on one node.
    const d = await c.kubectl(['create', 'deployment', 'local', '--image=busybox', '--replicas=1']);
    assert.equal(d.code, 0, d.stderr);
    await services.until((s) => ingressOf(s, 'local').length === 1, 'the ready pod node');
    const pods = await c.kubectl(['get', 'pods', '-l', 'app=local', '-o', 'jsonpath={.items[0].spec.nodeName}']);
    assert.deepEqual(ingressOf(services.items(), 'local'), [nodeIPs.get(pods.stdout.trim())!]);
  });
});
