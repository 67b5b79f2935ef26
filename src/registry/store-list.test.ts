// Store.list with `encoded`: items come back as list-item JSON spliced from the stored text when it
// has the layout #encode writes, and decoded and encoded again otherwise; either way the text must
// equal what decoding the object gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../storage/registry.ts';
import type { Backend } from '../storage/backend.ts';
import { Store } from './store.ts';
import { configMaps } from './core/configmaps/kind.ts';
import { FakeClock } from '../util/clock.ts';
import type { KubeObject } from '../api/types.ts';

async function withStore(fn: (s: Store, b: Backend) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-store-list-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  try {
    await fn(new Store(backend, configMaps, { clock: new FakeClock() }), backend);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function asItem(o: KubeObject): unknown {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

test('store.list encoded: same items as decoding, whatever the stored layout', async () => {
  await withStore(async (store, backend) => {
    // Written by the store: the spliced path.
    await store.create('default', { metadata: { name: 'a', labels: { x: '1' } }, data: { k: 'v "quoted" é' } });
    // Key order of objects stored before #encode fixed it: the decode path.
    await backend.create('/registry/configmaps/default/b', JSON.stringify({ data: { k: 'v' }, metadata: { name: 'b', namespace: 'default' }, kind: 'ConfigMap', apiVersion: 'v1' }));
    // The expected head, but a resourceVersion key elsewhere: the decode path.
    await store.create('default', { metadata: { name: 'c' }, data: { resourceVersion: '7' } });
    // Empty metadata: the splice needs no comma.
    await backend.create('/registry/configmaps/default/d', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{},"data":{"k":"v"}}');
    // A string value that looks like the key (quotes escaped inside strings).
    await store.create('default', { metadata: { name: 'e', annotations: { note: '"resourceVersion":"1"' } } });

    const plain = await store.list({});
    const enc = await store.list({ encoded: true });
    assert.equal(enc.items.length, 0);
    assert.equal(enc.resourceVersion, plain.resourceVersion);
    assert.deepEqual(enc.encoded!.map((t) => JSON.parse(t) as unknown), plain.items.map(asItem));
    for (const [i, t] of enc.encoded!.entries()) {
      const name = plain.items[i]!.metadata!.name ?? '';
      // Spliced items have the resourceVersion first; decoded ones have it where decoding put it.
      assert.equal(t.startsWith('{"metadata":{"resourceVersion":'), [0, 3, 4].includes(i), `item ${i} (${name}): ${t}`);
      assert.equal((JSON.parse(t) as KubeObject).metadata!.resourceVersion, plain.items[i]!.metadata!.resourceVersion);
    }
    const stored = await backend.get('/registry/configmaps/default/a');
    assert.ok(stored!.value.startsWith('{"apiVersion":"v1","kind":"ConfigMap","metadata":{'), stored!.value);

    // Filters, limits and continue behave as without encoded.
    const filtered = await store.list({ encoded: true, filter: (o) => o.metadata!.name !== 'b' });
    assert.deepEqual(filtered.encoded!.map((t) => (JSON.parse(t) as KubeObject).metadata!.name), ['a', 'c', undefined, 'e']);
    const names: string[] = [];
    let cont: string | undefined;
    do {
      const page = await store.list({ encoded: true, limit: 2, continue: cont });
      const want = await store.list({ limit: 2, continue: cont });
      assert.equal(page.continue, want.continue);
      assert.equal(page.remainingItemCount, want.remainingItemCount);
      names.push(...page.encoded!.map((t) => (JSON.parse(t) as KubeObject).metadata!.name ?? '-'));
      cont = page.continue;
    } while (cont);
    assert.deepEqual(names, ['a', 'b', 'c', '-', 'e']);

    // remainingItemCount is carried by the continue token from page to page, at the first page's
    // revision: writes after it change neither the pages nor the counts.
    const counts: Array<number | undefined> = [];
    const seen: string[] = [];
    cont = undefined;
    let first = true;
    do {
      const page = await store.list({ encoded: true, limit: 2, continue: cont });
      counts.push(page.remainingItemCount);
      seen.push(...page.encoded!.map((t) => (JSON.parse(t) as KubeObject).metadata!.name ?? '-'));
      if (first) {
        await store.create('default', { metadata: { name: 'f' } });
        await store.delete('default', 'e');
        first = false;
      }
      cont = page.continue;
    } while (cont);
    assert.deepEqual(seen, ['a', 'b', 'c', '-', 'e']);
    assert.deepEqual(counts, [3, 1, undefined]);
  });
});
