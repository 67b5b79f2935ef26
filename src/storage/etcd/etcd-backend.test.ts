// The parts of the etcd backend that need no etcd; the backend itself is tested against a real
// etcd in test/integration/storage-etcd.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEtcdLocation } from './etcd-backend.ts';
import { StorageError } from '../errors.ts';

test('parseEtcdLocation', () => {
  const cases: [string, { endpoints: string[]; prefix: string } | 'error'][] = [
    ['http://127.0.0.1:2379', { endpoints: ['http://127.0.0.1:2379'], prefix: '' }],
    ['http://10.0.0.1:2379/,http://10.0.0.2:2379', { endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'], prefix: '' }],
    ['https://a:2379/tk-a, https://b:2379/tk-a/', { endpoints: ['https://a:2379', 'https://b:2379'], prefix: '/tk-a' }],
    ['10.0.0.1:2379', { endpoints: ['http://10.0.0.1:2379'], prefix: '' }],
    ['http://[::1]:2379/x%20y', { endpoints: ['http://[::1]:2379'], prefix: '/x y' }],
    ['http://a:2379/one,http://b:2379/two', 'error'],
    ['http://a:2379,http://b:2379/two', 'error'],
    ['unix:///run/etcd.sock', 'error'],
    ['http://a', 'error'],
    [' , ', 'error'],
  ];
  for (const [location, want] of cases) {
    if (want === 'error') {
      assert.throws(() => parseEtcdLocation(location), (e) => e instanceof StorageError && e.code === 'ERR_STORAGE_BAD_SPEC', location);
    } else {
      assert.deepEqual(parseEtcdLocation(location), want, location);
    }
  }
});
