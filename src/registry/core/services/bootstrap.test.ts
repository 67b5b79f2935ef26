import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../../../storage/registry.ts';
import { Registry } from '../../registry.ts';
import type { KubeObject, Service } from '../../../api/types.ts';
import { ensureBootstrapServices, KubernetesServiceReconciler } from './bootstrap.ts';
import { FakeClock } from '../../../util/clock.ts';

test('bootstrap Services: made once, the kubernetes port follows the API server, a taken address is reported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'svc-boot-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  try {
    const ranges = { serviceCidr: '10.96.0.0/12', nodePorts: { base: 30000, size: 2768 } };
    const reg = new Registry(backend, { serviceRanges: ranges });
    await reg.bootstrap();
    const store = reg.store('services');
    assert.deepEqual(await ensureBootstrapServices(store, ranges, 6443), { changed: ['default/kubernetes', 'kube-system/kube-dns'], failed: [] });
    const k = (await store.get('default', 'kubernetes')) as Service;
    assert.equal(k.spec?.clusterIP, '10.96.0.1');
    assert.deepEqual(k.spec?.ports, [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }]);
    const dns = (await store.get('kube-system', 'kube-dns')) as Service;
    assert.equal(dns.spec?.clusterIP, '10.96.0.10');
    assert.deepEqual(dns.spec?.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`), ['dns 53/UDP', 'dns-tcp 53/TCP']);
    assert.deepEqual(dns.metadata?.labels, { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS', 'service.kubernetes.io/service-proxy-name': 'tinykube-node-dns' });

    // A restart on the same port changes nothing; on another port it corrects the target.
    assert.deepEqual(await ensureBootstrapServices(store, ranges, 6443), { changed: [], failed: [] });
    assert.deepEqual(await ensureBootstrapServices(store, ranges, 7443), { changed: ['default/kubernetes'], failed: [] });
    assert.equal(((await store.get('default', 'kubernetes')) as Service).spec?.ports?.[0].targetPort, 7443);

    // Someone took the DNS address while kube-dns was gone: the failure is reported, not thrown.
    await store.delete('kube-system', 'kube-dns');
    await store.create('default', { metadata: { name: 'squatter' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 1 }] } } as KubeObject);
    const r = await ensureBootstrapServices(store, ranges, 7443);
    assert.deepEqual(r.failed, [{ service: 'kube-system/kube-dns', reason: 'Service "kube-dns" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated' }]);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the kubernetes Service comes back after `kubectl delete all --all`, at the next 10 s check', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'svc-boot-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  const clock = new FakeClock();
  const reg = new Registry(backend, { clock });
  const rec = new KubernetesServiceReconciler(reg.store('services'), reg.serviceRanges, 6443, clock);
  try {
    await reg.bootstrap();
    const store = reg.store('services');
    await ensureBootstrapServices(store, reg.serviceRanges, 6443);
    rec.start();
    await store.delete('default', 'kubernetes');
    clock.advance(10_000);
    // The check runs on the timer; wait for its write (a watch would do; the store is polled between turns).
    let back: KubeObject | null = null;
    for (let i = 0; i < 1000 && !back; i++) {
      await new Promise((r) => setImmediate(r));
      back = await store.tryGet('default', 'kubernetes');
    }
    assert.equal((back as Service | null)?.spec?.clusterIP, '10.43.0.1');
  } finally {
    rec.stop();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
});
