// DELETE with a propagationPolicy: the store records Orphan/Foreground as the garbage collector's
// finalizers (and the object stays, being deleted, until the collector removes them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../storage/registry.ts';
import { Store } from './store.ts';
import { configMaps } from './core/configmaps/kind.ts';
import { FakeClock } from '../util/clock.ts';

async function withStore(fn: (s: Store) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-store-gc-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  try {
    await fn(new Store(backend, configMaps, { clock: new FakeClock() }));
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('store.delete: propagationPolicy sets the garbage collector finalizers', async () => {
  const cases: Array<{ name: string; finalizers?: string[]; policy?: string; deleted: boolean; want?: string[] }> = [
    { name: 'no policy, no finalizers: gone at once', policy: undefined, deleted: true },
    { name: 'Background: gone at once', policy: 'Background', deleted: true },
    { name: 'Foreground: held by foregroundDeletion', policy: 'Foreground', deleted: false, want: ['foregroundDeletion'] },
    { name: 'Orphan: held by orphan', policy: 'Orphan', deleted: false, want: ['orphan'] },
    { name: 'Orphan keeps other finalizers', finalizers: ['example.com/x'], policy: 'Orphan', deleted: false, want: ['example.com/x', 'orphan'] },
    { name: 'no policy keeps an orphan finalizer set by hand', finalizers: ['orphan'], policy: undefined, deleted: false, want: ['orphan'] },
    { name: 'Foreground replaces orphan', finalizers: ['orphan'], policy: 'Foreground', deleted: false, want: ['foregroundDeletion'] },
    { name: 'Background drops a GC finalizer', finalizers: ['orphan'], policy: 'Background', deleted: true },
  ];
  await withStore(async (store) => {
    for (const [i, c] of cases.entries()) {
      const name = `cm${i}`;
      await store.create('default', { metadata: { name, finalizers: c.finalizers } });
      const out = await store.delete('default', name, { propagationPolicy: c.policy });
      assert.equal(out.deleted, c.deleted, c.name);
      const stored = await store.tryGet('default', name);
      if (c.deleted) {
        assert.equal(stored, null, c.name);
        continue;
      }
      assert.deepEqual(stored?.metadata?.finalizers, c.want, c.name);
      assert.ok(stored?.metadata?.deletionTimestamp, `${c.name}: deletionTimestamp`);
      assert.equal(stored?.metadata?.deletionGracePeriodSeconds, 0, c.name);
    }
  });
});

test('store.delete: a second delete may switch the policy; removing the last finalizer removes the object', async () => {
  await withStore(async (store) => {
    await store.create('default', { metadata: { name: 'owner' } });
    await store.delete('default', 'owner', { propagationPolicy: 'Foreground' });
    const first = await store.get('default', 'owner');
    const again = await store.delete('default', 'owner', { propagationPolicy: 'Foreground' });
    assert.equal(again.object.metadata?.resourceVersion, first.metadata?.resourceVersion, 'same policy: no write');
    await store.delete('default', 'owner', { propagationPolicy: 'Orphan' });
    const switched = await store.get('default', 'owner');
    assert.deepEqual(switched.metadata?.finalizers, ['orphan']);
    assert.equal(switched.metadata?.deletionTimestamp, first.metadata?.deletionTimestamp, 'the deletion time stays');
    // What the collector does when done: drop its finalizer.
    await store.guaranteedUpdate('default', 'owner', (o) => {
      o.metadata!.finalizers = [];
      return o;
    });
    assert.equal(await store.tryGet('default', 'owner'), null);
  });
});
