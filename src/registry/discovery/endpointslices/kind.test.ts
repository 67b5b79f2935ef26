import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointSlice, KubeObject } from '../../../api/types.ts';
import { openBackend } from '../../../storage/registry.ts';
import { FakeClock } from '../../../util/clock.ts';
import { Store } from '../../store.ts';
import { endpointSlices } from './kind.ts';

test('EndpointSlice writes: v1 drops deprecatedTopology; endpoints and label changes are new generations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-eps-kind-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  try {
    const store = new Store(backend, endpointSlices, { clock: new FakeClock() });
    const s = (await store.create('default', {
      metadata: { name: 'web-1', namespace: 'default', labels: { a: '1' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'], deprecatedTopology: { 'kubernetes.io/hostname': 'n1' } }],
      ports: [{ port: 80 }],
    } as KubeObject)) as EndpointSlice;
    assert.deepEqual([s.metadata?.generation, s.endpoints, s.ports], [1, [{ addresses: ['10.0.0.1'] }], [{ port: 80, name: '', protocol: 'TCP' }]]);
    const relabelled = (await store.update('default', 'web-1', { ...s, metadata: { ...s.metadata, labels: { a: '2' } } } as KubeObject)) as EndpointSlice;
    assert.equal(relabelled.metadata?.generation, 2);
    const moved = (await store.update('default', 'web-1', { ...relabelled, endpoints: [{ addresses: ['10.0.0.2'] }] } as KubeObject)) as EndpointSlice;
    assert.equal(moved.metadata?.generation, 3);
    const same = (await store.update('default', 'web-1', moved as KubeObject)) as EndpointSlice;
    assert.equal(same.metadata?.generation, 3);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
