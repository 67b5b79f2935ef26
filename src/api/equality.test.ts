import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffPaths, semanticDeepEqual } from './equality.ts';

test('omitted fields equal their zero values, as decoded Go structs do', () => {
  const cases: [unknown, unknown, boolean][] = [
    [{ a: 1 }, { a: 1 }, true],
    [{ a: 1, b: false }, { a: 1 }, true],
    [{ a: 1, b: '' }, { a: 1, c: [] }, true],
    [{ a: {} }, {}, true],
    [{ a: [0, 1] }, { a: [0, 1] }, true],
    [{ a: [1] }, { a: [1, 0] }, false],
    [{ a: 'x' }, { a: 'y' }, false],
    [{ a: true }, {}, false],
    [{ x: { y: { z: 0 } } }, { x: null }, true],
  ];
  for (const [a, b, want] of cases) assert.equal(semanticDeepEqual(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});

test('diffPaths names the changed leaves', () => {
  assert.deepEqual(diffPaths({ c: [{ p: 1, q: 2 }] }, { c: [{ p: 1, q: 3 }], n: 'x' }, 'spec'), [
    { path: 'spec.c[0].q', from: 2, to: 3 },
    { path: 'spec.n', from: undefined, to: 'x' },
  ]);
});
