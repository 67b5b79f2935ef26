// Services and their endpoints end to end on simulated nodes (pods get IPs and turn Ready without
// containers): the EndpointSlice and Endpoints controllers follow a Deployment's pods through
// readiness changes, scaling past 100 endpoints a slice and deletions; the real kubectl prints them
// (`get ep,endpointslices -o wide`, `describe service`); services/proxy answers 503 without endpoints.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent, EndpointSlice, Endpoints, Pod } from '../../src/api/types.ts';
import { EndpointSlices, EndpointsRef, Events, Pods } from '../../src/client/resources.ts';
import { defaultAdvertiseAddress } from '../../src/cmd/listen.ts';
import { startWorkloadCluster, type WorkloadCluster } from './workloads-harness.ts';

const manifest = (replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: c
        image: busybox
        ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, labels: { tier: front } }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

const isReady = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true && !!p.status?.podIP;
const webSlices = (all: EndpointSlice[]) => all.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'web');
const sliceEndpoints = (all: EndpointSlice[]) => webSlices(all).flatMap((s) => s.endpoints ?? []);
const ipNum = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const byIP = (a: string, b: string) => ipNum(a) - ipNum(b);

/** kubectl's table with the AGE column's values blanked (they depend on timing). */
function ageless(out: string): string {
  return out.replace(/(?<= )\d+[smhd](\d+[smh])?$/gm, 'AGE');
}

test('a Deployment behind a Service: slices and Endpoints follow readiness, scaling past 100 a slice and deletions', { timeout: 60_000 }, async () => {
  const c: WorkloadCluster = await startWorkloadCluster({ nodes: 3 });
  try {
    const pods = await c.watch<Pod>(Pods, 'default');
    const slices = await c.watch<EndpointSlice>(EndpointSlices, 'default');
    const eps = await c.watch<Endpoints>(EndpointsRef, 'default');
    const applied = await c.kubectl(['apply', '-f', '-'], { input: manifest(3) });
    assert.equal(applied.code, 0, applied.stderr);

    await pods.until((all) => all.filter(isReady).length === 3, '3 ready pods');
    await slices.until((all) => sliceEndpoints(all).filter((e) => e.conditions?.ready).length === 3, 'a slice with 3 ready endpoints');
    const [slice] = webSlices(slices.items());
    assert.match(slice!.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.deepEqual(slice!.metadata!.labels, { tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.equal(slice!.metadata!.ownerReferences?.[0]?.kind, 'Service');
    assert.deepEqual(slice!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const podIPs = pods.items().map((p) => p.status!.podIP!).sort(byIP);
    for (const e of slice!.endpoints) {
      const pod = pods.items().find((p) => p.metadata?.name === e.targetRef?.name)!;
      assert.deepEqual(e, { addresses: [pod.status!.podIP!], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default', name: pod.metadata!.name, uid: pod.metadata!.uid }, nodeName: pod.spec!.nodeName });
    }
    const ep = (await eps.until((all) => all.some((e) => e.metadata?.name === 'web' && e.subsets?.[0]?.addresses?.length === 3), 'Endpoints with 3 addresses')).find((e) => e.metadata?.name === 'web')!;
    assert.deepEqual(ep.subsets![0]!.addresses!.map((a) => a.ip), podIPs);
    assert.deepEqual(ep.subsets![0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);

    // The API server lists itself behind the `kubernetes` Service, which the controllers leave alone.
    const apiEp = (await eps.until((all) => all.some((e) => e.metadata?.name === 'kubernetes'), 'the kubernetes Endpoints')).find((e) => e.metadata?.name === 'kubernetes')!;
    assert.deepEqual(apiEp.subsets?.[0]?.ports, [{ name: 'https', port: c.server.controlPlane.port, protocol: 'TCP' }]);
    assert.equal(apiEp.subsets?.[0]?.addresses?.length, 1);
    assert.equal(slices.items().find((s) => s.metadata?.name === 'kubernetes')?.endpoints[0]?.addresses[0], apiEp.subsets?.[0]?.addresses?.[0]?.ip);

    // The real kubectl's tables, exactly (the Service's labels are on both, which leaves out `kubernetes`).
    const table = await c.kubectl(['get', 'ep,endpointslices', '-o', 'wide', '-l', 'tier=front']);
    assert.equal(table.code, 0, table.stderr);
    const eps3 = podIPs.map((ip) => `${ip}:8080`).join(',');
    const render = (r: string[][]) => {
      const w = r[0]!.map((_, i) => Math.max(...r.map((x) => x[i]!.length)));
      return r.map((x) => x.map((cell, i) => (i === x.length - 1 ? cell : cell.padEnd(w[i]! + 3))).join('')).join('\n');
    };
    const expected = [
      render([['NAME', 'ENDPOINTS', 'AGE'], ['endpoints/web', eps3, 'AGE']]),
      render([['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], [`endpointslice.discovery.k8s.io/${slice!.metadata!.name}`, 'IPv4', '8080', slice!.endpoints.map((e) => e.addresses[0]).join(','), 'AGE']]),
    ].join('\n\n');
    assert.equal(ageless(table.stdout).trimEnd(), expected);

    const described = await c.kubectl(['describe', 'service', 'web']);
    assert.equal(described.code, 0, described.stderr);
    // kubectl 1.32 reads the Service's EndpointSlices for this line, in its own order.
    const line = /^Endpoints:\s+(\S+)$/m.exec(described.stdout)?.[1] ?? '';
    assert.deepEqual(line.split(',').sort(), eps3.split(',').sort(), described.stdout);

    // One pod turns unready: ready=false in its slice, notReadyAddresses in the Endpoints.
    const victim = pods.items().find(isReady)!;
    const patched = await c.kubectl(['patch', 'pod', victim.metadata!.name!, '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False' }] } })]);
    assert.equal(patched.code, 0, patched.stderr);
    await slices.until((all) => sliceEndpoints(all).find((e) => e.targetRef?.name === victim.metadata!.name)?.conditions?.ready === false, 'the unready pod ready=false');
    const unready = sliceEndpoints(slices.items()).find((e) => e.targetRef?.name === victim.metadata!.name)!;
    assert.deepEqual(unready.conditions, { ready: false, serving: false, terminating: false });
    await eps.until((all) => all.find((e) => e.metadata?.name === 'web')?.subsets?.some((s) => s.notReadyAddresses?.some((a) => a.ip === victim.status!.podIP)) === true, 'the unready pod in notReadyAddresses');

    // 250 replicas: 3 slices of at most 100.
    assert.equal((await c.kubectl(['scale', 'deployment', 'web', '--replicas=250'])).code, 0);
    await pods.until((all) => all.filter(isReady).length >= 249, '249 ready pods');
    await slices.until((all) => sliceEndpoints(all).length === 250, '250 endpoints');
    // Slices fill as the pods come (kube packs incrementally, touching few slices): at most 100 each,
    // so at least 3, not necessarily 100/100/50.
    const sizes = webSlices(slices.items()).map((s) => s.endpoints.length);
    assert.ok(sizes.length >= 3 && sizes.every((n) => n <= 100), `slice sizes ${sizes}`);
    assert.equal(new Set(sliceEndpoints(slices.items()).map((e) => e.targetRef?.uid)).size, 250, 'no pod twice');
    await eps.until((all) => {
      const e = all.find((x) => x.metadata?.name === 'web');
      return (e?.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0) === 250;
    }, 'Endpoints with 250 addresses');

    // Back to 2: the deleted pods leave both.
    assert.equal((await c.kubectl(['scale', 'deployment', 'web', '--replicas=2'])).code, 0);
    await pods.until((all) => all.length === 2, 'two pods left');
    const left = new Set(pods.items().map((p) => p.status?.podIP));
    await slices.until((all) => sliceEndpoints(all).length === 2 && sliceEndpoints(all).every((e) => left.has(e.addresses[0])), 'slices with the two pods left');
    await eps.until((all) => {
      const ips = (all.find((x) => x.metadata?.name === 'web')?.subsets ?? []).flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]).map((a) => a.ip);
      return ips.length === 2 && ips.every((ip) => left.has(ip));
    }, 'Endpoints with the two pods left');
    assert.ok(webSlices(slices.items()).length <= 3);
    assert.deepEqual(c.controllerErrors.map(String), []);
  } finally {
    await c.close();
  }
});

test('services/proxy answers 503 without endpoints, as kube-apiserver; a pod on a missing node is reported in an event', { timeout: 30_000 }, async () => {
  const c = await startWorkloadCluster({ nodes: 1 });
  try {
    const svc = `apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  selector: { app: nothing }\n  ports: [{ name: http, port: 80 }]\n`;
    assert.equal((await c.kubectl(['apply', '-f', '-'], { input: svc })).code, 0);
    const eps = await c.watch<Endpoints>(EndpointsRef, 'default');
    await eps.until((all) => all.some((e) => e.metadata?.name === 'web'), 'the Endpoints of web');
    const raw = await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/web:80/proxy/']);
    assert.notEqual(raw.code, 0);
    assert.match(raw.stderr, /Error from server \(ServiceUnavailable\): no endpoints available for service "web"/);
    const port = await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/web:81/proxy/']);
    assert.match(port.stderr, /no service port 81 found for service "web"/);

    // A pod bound to a node that does not exist is left out, and the Service says why (and is retried).
    const ghost = `apiVersion: v1\nkind: Pod\nmetadata: { name: ghost, labels: { app: ghost } }\nspec:\n  nodeName: nowhere\n  containers: [{ name: c, image: busybox }]\n---\napiVersion: v1\nkind: Service\nmetadata: { name: ghost }\nspec:\n  selector: { app: ghost }\n  ports: [{ port: 80 }]\n`;
    assert.equal((await c.kubectl(['apply', '-f', '-'], { input: ghost })).code, 0);
    const status = { status: { phase: 'Running', podIP: '10.244.9.9', podIPs: [{ ip: '10.244.9.9' }], conditions: [{ type: 'Ready', status: 'True' }] } };
    const patched = await c.kubectl(['patch', 'pod', 'ghost', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    assert.equal(patched.code, 0, patched.stderr);
    const events = await c.watch<CoreEvent>(Events, 'default');
    const ev = (await events.until((all) => all.some((e) => e.reason === 'FailedToUpdateEndpointSlices'), 'the FailedToUpdateEndpointSlices event')).find((e) => e.reason === 'FailedToUpdateEndpointSlices')!;
    assert.deepEqual([ev.type, ev.involvedObject.kind, ev.involvedObject.name, ev.source?.component, ev.message], ['Warning', 'Service', 'ghost', 'endpointslice-controller', 'Error updating Endpoint Slices for Service default/ghost: skipping Pod ghost for Service default/ghost: Node nowhere Not Found']);
  } finally {
    await c.close();
  }
});

// Simulated pods run no server: a pod whose status gives it this host's routable address stands in
// for one, in front of a real HTTP server here, behind a Service whose Endpoints are written by hand.
const hostIP = defaultAdvertiseAddress('0.0.0.0');
test('services/proxy reaches a ready address of the Service\'s Endpoints', { timeout: 30_000, skip: hostIP ? false : 'no routable IPv4 address on this host' }, async () => {
  const backend = createServer((req, res) => res.end(`hello from ${req.url}`));
  await new Promise<void>((r) => backend.listen(0, '0.0.0.0', r));
  const port = (backend.address() as AddressInfo).port;
  const c = await startWorkloadCluster({ nodes: 1 });
  try {
    const objs = `apiVersion: v1\nkind: Pod\nmetadata: { name: backend }\nspec:\n  nodeName: elsewhere\n  containers: [{ name: c, image: busybox }]\n---\napiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  ports: [{ name: http, port: 80, targetPort: ${port} }]\n`;
    assert.equal((await c.kubectl(['apply', '-f', '-'], { input: objs })).code, 0);
    const pod = await c.client.get<Pod>(Pods, 'default', 'backend');
    const status = { status: { phase: 'Running', podIP: hostIP, podIPs: [{ ip: hostIP }], conditions: [{ type: 'Ready', status: 'True' }] } };
    assert.equal((await c.kubectl(['patch', 'pod', 'backend', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)])).code, 0);
    const ep = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: hostIP, targetRef: { kind: 'Pod', namespace: 'default', name: 'backend', uid: pod.metadata!.uid } }], ports: [{ name: 'http', port }] }] };
    assert.equal((await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(ep) })).code, 0);
    for (const id of ['web:80', 'web:http', 'http:web:80']) {
      const got = await c.kubectl(['get', '--raw', `/api/v1/namespaces/default/services/${id}/proxy/some/path?x=1`]);
      assert.equal(got.stdout, 'hello from /some/path?x=1', `${id}: ${got.stderr}`);
    }
  } finally {
    await c.close();
    backend.close();
  }
});
