import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from './fifo.ts';

test('Fifo: first in, first out, across the compaction of its consumed front', () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  let next = 0;
  let expect = 0;
  // Never empty for long: pushes outpace shifts, so the front is compacted many times.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) q.push(next++);
    for (let i = 0; i < 200; i++) {
      assert.equal(q.peek(), expect);
      assert.equal(q.shift(), expect++);
    }
    assert.equal(q.length, next - expect);
  }
  while (q.length > 0) assert.equal(q.shift(), expect++);
  assert.equal(expect, next);
  assert.equal(q.shift(), undefined);
});
