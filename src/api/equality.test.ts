import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffPaths, jsonEqual, jsonObjectEqual, semanticDeepEqual } from './equality.ts';

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

test('jsonEqual agrees with comparing key-sorted JSON texts', () => {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : sorted(x)));
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
    return v;
  };
  const viaText = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
  // A seeded generator of small JSON-like values, undefined included where JSON.stringify drops it.
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const gen = (depth: number): unknown => {
    switch (rand(depth > 2 ? 5 : 8)) {
      case 0: return rand(3);
      case 1: return ['a', 'b', ''][rand(3)];
      case 2: return [true, false, null][rand(3)];
      case 3: return undefined;
      case 4: return rand(2) === 0 ? 0 : '0';
      case 5: case 6: return Object.fromEntries(Array.from({ length: rand(3) }, () => [['x', 'y', 'z'][rand(3)], gen(depth + 1)]));
      default: return Array.from({ length: rand(3) }, () => gen(depth + 1));
    }
  };
  let equal = 0;
  for (let i = 0; i < 20_000; i++) {
    const a = gen(0);
    const b = rand(3) === 0 ? a : gen(0);
    const want = viaText(a, b);
    if (want) equal++;
    assert.equal(jsonEqual(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  assert.ok(equal > 1000, 'the generator makes equal pairs too');
  assert.equal(jsonEqual({ a: 1, b: undefined }, { a: 1 }), true);
  assert.equal(jsonEqual({ a: [1, { b: 2, c: 3 }] }, { a: [1, { c: 3, b: 2 }] }), true);
  assert.equal(jsonEqual([undefined], [null]), true);
  assert.equal(jsonEqual({ a: 1 }, [1]), false);
});

test('jsonObjectEqual ignores the skipped keys', () => {
  const skip = new Set(['resourceVersion']);
  assert.equal(jsonObjectEqual({ name: 'a', resourceVersion: '1' }, { name: 'a', resourceVersion: '2' }, skip), true);
  assert.equal(jsonObjectEqual({ name: 'a', resourceVersion: '1' }, { name: 'a' }, skip), true);
  assert.equal(jsonObjectEqual({ name: 'a' }, { name: 'b', resourceVersion: '1' }, skip), false);
});
