import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdKeys, prefixRangeEnd } from './keys.ts';

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
const bytes = (s: string) => Buffer.from(s, 'utf8');

test('prefixRangeEnd increments the last byte below 0xff', () => {
  const cases: [Buffer, string][] = [
    [bytes('/a/'), hex(bytes('/a0'))!],
    [Buffer.from([0x61, 0xff]), '62'],
    [Buffer.from([0x61, 0xfe, 0xff, 0xff]), '61ff'],
    [Buffer.from([0xff, 0xff]), '00'],
    [Buffer.alloc(0), '00'],
  ];
  for (const [prefix, want] of cases) assert.equal(hex(prefixRangeEnd(prefix)), want, prefix.toString('hex'));
});

test('EtcdKeys puts keys under the cluster prefix and takes it off again', () => {
  for (const prefix of ['', '/tk-a', '/ü']) {
    const k = new EtcdKeys(prefix);
    const stored = k.encode('/registry/pods/ns/😀');
    assert.equal(stored.toString('utf8'), `${prefix}/registry/pods/ns/😀`);
    assert.equal(k.decode(stored), '/registry/pods/ns/😀');
  }
});

test('EtcdKeys.range covers the prefix, strictly after startAfter, never outside it', () => {
  const k = new EtcdKeys('/c1');
  const cases: { prefix: string; startAfter?: string; want: [string, string] | null }[] = [
    { prefix: '/registry/pods/', want: ['/c1/registry/pods/', '/c1/registry/pods0'] },
    { prefix: '/registry/pods/', startAfter: '/registry/pods/ns/a', want: ['/c1/registry/pods/ns/a\0', '/c1/registry/pods0'] },
    // Before the prefix: ignored. At or after its end: nothing.
    { prefix: '/registry/pods/', startAfter: '/registry/a', want: ['/c1/registry/pods/', '/c1/registry/pods0'] },
    { prefix: '/registry/pods/', startAfter: '/registry/pods0', want: null },
    { prefix: '/registry/pods/', startAfter: '/registry/podsx/a', want: null },
    // The whole cluster.
    { prefix: '', want: ['/c1', '/c2'] },
  ];
  for (const c of cases) {
    const r = k.range(c.prefix, c.startAfter);
    assert.deepEqual(r && [r.key.toString('utf8'), r.rangeEnd.toString('utf8')], c.want, `${c.prefix} after ${c.startAfter}`);
  }
  // Without a cluster prefix, the empty prefix is etcd's whole key space.
  const all = new EtcdKeys('').range('');
  assert.deepEqual(all && [hex(all.key), hex(all.rangeEnd)], ['00', '00']);
});
