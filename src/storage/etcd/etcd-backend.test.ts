// The parts of the etcd backend that need no etcd; the backend itself is tested against a real
// etcd in test/integration/storage-etcd.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neverSent, parseEtcdLocation, safeRetry } from './etcd-backend.ts';
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

// The messages are grpc-js' and etcd's as etcd3 passes them on.
const unavailable = (m: string) => new Error(`14 UNAVAILABLE: ${m}`);
const RETRY_CASES: Array<[string, Error, boolean]> = [
  ['no connection to the member', unavailable('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379'), true],
  ['refused before any connection', unavailable('connect ECONNREFUSED 127.0.0.1:2379'), true],
  // Sent: etcd may have applied the write.
  ['etcd request timed out', unavailable('etcdserver: request timed out, possibly due to previous leader failure'), false],
  ['connection dropped mid-call', unavailable('Connection dropped'), false],
  ['deadline', new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), false],
  ['a conflict of etcd', new Error('etcdserver: mvcc: required revision has been compacted'), false],
];

test('neverSent: only a call that made no connection is sent again', () => {
  for (const [what, err, want] of RETRY_CASES) assert.equal(neverSent(err), want, what);
  assert.equal(neverSent('UNAVAILABLE: No connection established'), false, 'not an Error');
});

test('safeRetry: sends a call that never left again, up to its attempts; anything else once', async () => {
  for (const [what, err, retried] of RETRY_CASES) {
    let calls = 0;
    const policy = safeRetry(3);
    const out = await policy
      .execute(async () => {
        if (++calls < 3) throw err;
        return 'ok';
      })
      .catch((e: unknown) => e);
    assert.deepEqual([calls, out], retried ? [3, 'ok'] : [1, err], what);
  }
  let calls = 0;
  const never = unavailable('No connection established');
  const out = await safeRetry(2)
    .execute(async () => {
      calls++;
      throw never;
    })
    .catch((e: unknown) => e);
  assert.deepEqual([calls, out], [2, never], 'gives up after its attempts with the last error');
});
