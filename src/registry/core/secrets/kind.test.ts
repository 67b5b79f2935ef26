import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../../../storage/registry.ts';
import { FakeClock } from '../../../util/clock.ts';
import { Store } from '../../store.ts';
import { secrets } from './kind.ts';

test('stringData is merged into data, wins over data for the same key, and is not stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-secret-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  try {
    const store = new Store(backend, secrets, { clock: new FakeClock() });
    await store.create('default', { metadata: { name: 's' }, data: { k1: 'djE=', k2: '' }, stringData: { k2: 'v2' } });
    const got = await store.get('default', 's');
    assert.deepEqual(got.data, { k1: 'djE=', k2: 'djI=' });
    assert.equal(got.stringData, undefined);
    assert.equal(got.type, 'Opaque');
    // An update's stringData is merged the same way.
    await store.guaranteedUpdate('default', 's', (cur) => ({ ...cur, stringData: { k3: 'v3' } }));
    assert.deepEqual((await store.get('default', 's')).data, { k1: 'djE=', k2: 'djI=', k3: 'djM=' });
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
