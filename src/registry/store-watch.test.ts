// Store.watch: what watchers with and without a filter see as objects enter, change in, leave and are
// deleted from their selection. Every watcher shares one decode per event, and an update's previous
// state is decoded only for filtered watchers (often taken from the key's last decode).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../storage/registry.ts';
import { Store, type StoreWatchEvent } from './store.ts';
import { configMaps } from './core/configmaps/kind.ts';
import { FakeClock } from '../util/clock.ts';
import type { KubeObject } from '../api/types.ts';

interface Seen {
  type: string;
  name: string;
  rv: string;
  x?: string;
}

test('store.watch: filtered and unfiltered watchers see entering, changing, leaving and deleted objects', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-store-watch-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  try {
    const store = new Store(backend, configMaps, { clock: new FakeClock() });
    const all: Seen[] = [];
    const picked: Seen[] = [];
    const objects: StoreWatchEvent[] = [];
    const record = (into: Seen[]) => (ev: StoreWatchEvent) => {
      const o = ev.object as KubeObject & { data?: { x?: string } };
      into.push({ type: ev.type, name: o.metadata!.name!, rv: o.metadata!.resourceVersion!, x: o.data?.x });
    };
    const onError = (err: unknown) => assert.fail(String(err));
    const rv = String(await backend.currentRevision());
    const w1 = await store.watch({ resourceVersion: rv, onEvent: (ev) => (record(all)(ev), objects.push(ev)), onError });
    const w2 = await store.watch({ resourceVersion: rv, filter: (o) => (o as { data?: { x?: string } }).data?.x === 'yes', onEvent: (ev) => (record(picked)(ev), objects.push(ev)), onError });

    const a = await store.create('default', { metadata: { name: 'a' }, data: { x: 'no' } });
    const a2 = await store.update('default', 'a', { metadata: { name: 'a' }, data: { x: 'yes' } }); // enters
    const a3 = await store.update('default', 'a', { metadata: { name: 'a' }, data: { x: 'yes', y: '1' } }); // changes in
    const a4 = await store.update('default', 'a', { metadata: { name: 'a' }, data: { x: 'no' } }); // leaves
    const a5 = await store.update('default', 'a', { metadata: { name: 'a' }, data: { x: 'yes' } }); // enters again
    const gone = await store.delete('default', 'a', {});
    await store.create('default', { metadata: { name: 'b' }, data: { x: 'no' } });
    await store.delete('default', 'b', {});
    const goneRv = gone.object.metadata!.resourceVersion!;
    // Writes are acknowledged after their events are published.
    const rvOf = (o: KubeObject) => o.metadata!.resourceVersion!;
    assert.deepEqual(all.slice(0, 6), [
      { type: 'ADDED', name: 'a', rv: rvOf(a), x: 'no' },
      { type: 'MODIFIED', name: 'a', rv: rvOf(a2), x: 'yes' },
      { type: 'MODIFIED', name: 'a', rv: rvOf(a3), x: 'yes' },
      { type: 'MODIFIED', name: 'a', rv: rvOf(a4), x: 'no' },
      { type: 'MODIFIED', name: 'a', rv: rvOf(a5), x: 'yes' },
      { type: 'DELETED', name: 'a', rv: goneRv, x: 'yes' },
    ]);
    assert.deepEqual(all.slice(6).map((e) => e.type), ['ADDED', 'DELETED']);
    assert.deepEqual(picked, [
      { type: 'ADDED', name: 'a', rv: rvOf(a2), x: 'yes' },
      { type: 'MODIFIED', name: 'a', rv: rvOf(a3), x: 'yes' },
      // Left the selection: reported as a deletion carrying the new state.
      { type: 'DELETED', name: 'a', rv: rvOf(a4), x: 'no' },
      { type: 'ADDED', name: 'a', rv: rvOf(a5), x: 'yes' },
      { type: 'DELETED', name: 'a', rv: goneRv, x: 'yes' },
    ]);
    // The deletion's revision went on a copy: the MODIFIED event that carried that state keeps its own.
    assert.equal(all[4].rv, rvOf(a5));
    assert.equal(objects.filter((e) => (e.object as KubeObject).metadata!.resourceVersion === rvOf(a5)).length, 2);
    // One decoded object per event, shared by both watchers.
    const a2Events = objects.filter((e) => (e.object as KubeObject).metadata!.resourceVersion === rvOf(a2));
    assert.equal(a2Events.length, 2);
    assert.equal(a2Events[0].object, a2Events[1].object);
    w1.close();
    w2.close();
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
