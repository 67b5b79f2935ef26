import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointSlice, Endpoints } from '../api/types.ts';
import { Registry } from '../registry/registry.ts';
import { openBackend } from '../storage/registry.ts';
import { FakeClock } from '../util/clock.ts';
import { LeaseEndpointReconciler } from './endpointreconciler.ts';

test('each server lists itself through its lease; a dead one drops out after the TTL; a clean stop removes at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-epr-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const registry = new Registry(backend, { clock });
  await registry.bootstrap();
  const errors: unknown[] = [];
  const make = (ip: string) => new LeaseEndpointReconciler(registry, backend, { ip, port: 6443, clock, onError: (e) => errors.push(e) });
  const ep = async () => (await registry.store('endpoints').get('default', 'kubernetes')) as Endpoints;
  const slice = async () => (await registry.store('endpointslices', 'discovery.k8s.io').get('default', 'kubernetes')) as EndpointSlice;
  try {
    const a = make('10.0.0.2');
    const b = make('10.0.0.1');
    await a.renewAndReconcile();
    await b.renewAndReconcile();
    let e = await ep();
    assert.deepEqual(e.subsets, [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
    assert.deepEqual(e.metadata?.labels, { 'endpointslice.kubernetes.io/skip-mirror': 'true' });
    const s = await slice();
    assert.deepEqual(s.metadata?.labels, { 'kubernetes.io/service-name': 'kubernetes' });
    assert.deepEqual([s.addressType, s.ports, s.endpoints], ['IPv4', [{ name: 'https', port: 6443, protocol: 'TCP' }], [{ addresses: ['10.0.0.1'], conditions: { ready: true } }, { addresses: ['10.0.0.2'], conditions: { ready: true } }]]);

    // An unchanged pass writes nothing.
    const rv = e.metadata?.resourceVersion;
    await a.renewAndReconcile();
    assert.equal((await ep()).metadata?.resourceVersion, rv);

    // b stops renewing (it died): after the 15 s TTL, a's next pass drops it.
    clock.advance(16_000);
    await a.renewAndReconcile();
    e = await ep();
    assert.deepEqual(e.subsets?.[0]?.addresses, [{ ip: '10.0.0.2' }]);
    assert.deepEqual((await slice()).endpoints.map((x) => x.addresses[0]), ['10.0.0.2']);

    // b comes back, then stops cleanly: it is gone at once.
    await b.start();
    assert.equal((await ep()).subsets?.[0]?.addresses?.length, 2);
    await b.stop();
    assert.deepEqual((await ep()).subsets?.[0]?.addresses, [{ ip: '10.0.0.2' }]);
    assert.deepEqual(errors, []);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
