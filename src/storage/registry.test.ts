import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendSpecError, backendDrivers, openBackend, parseBackendSpec } from './registry.ts';

test('parseBackendSpec', () => {
  const cases: [string, { driver: string; location: string } | 'error'][] = [
    ['sqlite:/var/lib/tinykube/state.db', { driver: 'sqlite', location: '/var/lib/tinykube/state.db' }],
    ['sqlite::memory:', { driver: 'sqlite', location: ':memory:' }],
    ['/plain/path.db', { driver: 'sqlite', location: '/plain/path.db' }],
    [':memory:', { driver: 'sqlite', location: ':memory:' }],
    ['relative.db', { driver: 'sqlite', location: 'relative.db' }],
    ['C:\\data\\x.db', { driver: 'sqlite', location: 'C:\\data\\x.db' }],
    ['nosuch:foo', 'error'],
  ];
  for (const [spec, want] of cases) {
    if (want === 'error') assert.throws(() => parseBackendSpec(spec), BackendSpecError, spec);
    else assert.deepEqual(parseBackendSpec(spec), want, spec);
  }
  assert.ok(backendDrivers().includes('sqlite'));
});

test('openBackend opens a working sqlite store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-registry-'));
  try {
    const b = await openBackend(`sqlite:${join(dir, 'state.db')}`);
    assert.equal(b.name, 'sqlite');
    assert.equal(await b.create('/k', 'v'), 1);
    await b.close();
    const again = await openBackend(join(dir, 'state.db'));
    assert.equal((await again.get('/k'))?.value, 'v');
    await again.close();
    await assert.rejects(openBackend('sqlite:'), BackendSpecError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
