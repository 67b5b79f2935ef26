import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service } from '../../api/types.ts';
import { makePod } from '../../testing/objects.ts';
import { desiredEndpoints, MAX_ENDPOINTS_CAPACITY, OVER_CAPACITY } from './subsets.ts';

const svc = (over: Partial<NonNullable<Service['spec']>> = {}): Service => ({
  metadata: { name: 'web', namespace: 'default', uid: 'svc', labels: { app: 'web' } },
  spec: { selector: { app: 'web' }, clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...over },
});
const pod = (name: string, ip: string, ready = true): Pod =>
  makePod(name).labels({ app: 'web' }).onNode('n1').phase('Running').condition('Ready', ready ? 'True' : 'False').ip(ip).build();

test('ready pods in addresses, others in notReadyAddresses, sorted by IP; labels from the Service; no write when equal', () => {
  const pods = [pod('b', '10.244.0.12'), pod('a', '10.244.0.3'), pod('c', '10.244.0.7', false)];
  const ep = desiredEndpoints(svc(), pods, undefined, undefined)!;
  assert.deepEqual(ep.metadata, { name: 'web', namespace: 'default', labels: { app: 'web' } });
  assert.deepEqual(ep.subsets, [{
    addresses: [
      { ip: '10.244.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: pods[1]!.metadata!.uid } },
      { ip: '10.244.0.12', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: pods[0]!.metadata!.uid } },
    ],
    notReadyAddresses: [{ ip: '10.244.0.7', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: pods[2]!.metadata!.uid } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }]);
  const stored: Endpoints = { ...ep, metadata: { ...ep.metadata, resourceVersion: '7' } };
  assert.equal(desiredEndpoints(svc(), pods, stored, undefined), undefined);
  const headless = desiredEndpoints(svc({ clusterIP: 'None', ports: [] }), pods, undefined, Date.parse('2026-01-01T00:00:00Z'))!;
  assert.equal(headless.metadata?.labels?.['service.kubernetes.io/headless'], '');
  assert.equal(headless.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2026-01-01T00:00:00Z');
  assert.equal(headless.subsets?.[0]?.ports, undefined, 'headless without ports');
  assert.equal(desiredEndpoints(svc(), [], undefined, undefined)!.subsets, undefined, 'no pods: no subsets');
});

test('addresses offering the same ports share one subset (RepackSubsets); terminating pods only with publishNotReadyAddresses', () => {
  const p = makePod('a').labels({ app: 'web' }).onNode('n1').container({ name: 'c', ports: [{ name: 'metrics', containerPort: 9100 }] }).condition('Ready', 'True').ip('10.244.0.3').build();
  const two = desiredEndpoints(svc({ ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9100, targetPort: 'metrics' }] }), [p], undefined, undefined)!;
  assert.deepEqual(two.subsets?.map((s) => s.ports?.map((x) => x.name)), [['http', 'metrics']]);
  const terminating = makePod('t').labels({ app: 'web' }).onNode('n1').condition('Ready', 'True').ip('10.244.0.9').terminating().build();
  assert.equal(desiredEndpoints(svc(), [terminating], undefined, undefined)!.subsets, undefined);
  assert.deepEqual(desiredEndpoints(svc({ publishNotReadyAddresses: true }), [terminating], undefined, undefined)!.subsets?.[0]?.addresses?.map((a) => a.ip), ['10.244.0.9']);
});

test('over 1000 addresses: truncated to 1000 with the over-capacity annotation, not-ready ones first', () => {
  const pods = Array.from({ length: 1100 }, (_, i) => pod(`p${i}`, `10.244.${i >> 8}.${(i & 255) + 0}`.replace(/\.0$/, '.254'), i % 2 === 0));
  const ep = desiredEndpoints(svc(), pods, undefined, undefined)!;
  const ready = ep.subsets!.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
  const notReady = ep.subsets!.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
  assert.equal(ready + notReady, MAX_ENDPOINTS_CAPACITY);
  assert.equal(ready, 550);
  assert.equal(ep.metadata?.annotations?.[OVER_CAPACITY], 'truncated');
});
