import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys, listRange, prefixEnd } from './keyrange.ts';

test('prefixEnd bounds exactly the keys with the prefix', () => {
  const cases: [string, string | null][] = [
    ['/registry/pods/', '/registry/pods0'],
    ['a', 'b'],
    ['', null],
    ['a\u{10FFFF}', 'b'],
    ['\u{10FFFF}', null],
    ['x\uD7FF', 'x\uE000'],
    ['x😀', 'x😁'],
  ];
  for (const [prefix, want] of cases) assert.equal(prefixEnd(prefix), want, JSON.stringify(prefix));
});

test('compareKeys orders by code point, unlike UTF-16 comparison', () => {
  assert.ok(compareKeys('\uFFFF', '😀') < 0);
  assert.ok('\uFFFF' > '😀', 'the JavaScript order differs, which is why compareKeys exists');
  assert.equal(compareKeys('a', 'a'), 0);
  assert.ok(compareKeys('a/b', 'ab') < 0);
});

test('listRange keeps a continue key inside the prefix', () => {
  assert.deepEqual(listRange('/p/'), { lower: '/p/', lowerExclusive: false, upper: '/p0', empty: false });
  assert.deepEqual(listRange('/p/', '/p/x'), { lower: '/p/x', lowerExclusive: true, upper: '/p0', empty: false });
  assert.deepEqual(listRange('/p/', '/a'), { lower: '/p/', lowerExclusive: false, upper: '/p0', empty: false });
  assert.equal(listRange('/p/', '/q').empty, true);
  assert.equal(listRange('/p/', '/p0').empty, true);
});
