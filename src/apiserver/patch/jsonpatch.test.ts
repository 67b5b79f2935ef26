import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, MAX_COPY_BYTES } from './jsonpatch.ts';
import { GENERIC_INVALID_MESSAGE, PatchApplyError } from './errors.ts';
import { assertStatus, nested } from './testing.ts';

interface Case {
  name: string;
  doc: unknown;
  patch: unknown[];
  want: unknown;
}

const doc = () => ({ metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'a' }, { name: 'b' }] } });

const cases: Case[] = [
  { name: 'add a member', doc: { a: 1 }, patch: [{ op: 'add', path: '/b', value: 2 }], want: { a: 1, b: 2 } },
  { name: 'add replaces an existing member', doc: { a: 1 }, patch: [{ op: 'add', path: '/a', value: [1] }], want: { a: [1] } },
  { name: 'add inserts into an array', doc: { l: [1, 3] }, patch: [{ op: 'add', path: '/l/1', value: 2 }], want: { l: [1, 2, 3] } },
  { name: 'add at the array length appends', doc: { l: [1] }, patch: [{ op: 'add', path: '/l/1', value: 2 }], want: { l: [1, 2] } },
  { name: 'add with "-" appends', doc: { l: [1] }, patch: [{ op: 'add', path: '/l/-', value: 2 }], want: { l: [1, 2] } },
  { name: 'add at "" replaces the document', doc: { a: 1 }, patch: [{ op: 'add', path: '', value: { b: 2 } }], want: { b: 2 } },
  { name: 'add without value adds null (json-patch v4)', doc: {}, patch: [{ op: 'add', path: '/a' }], want: { a: null } },
  { name: 'remove a member', doc: { a: 1, b: 2 }, patch: [{ op: 'remove', path: '/a' }], want: { b: 2 } },
  { name: 'remove an array element', doc: { l: [1, 2, 3] }, patch: [{ op: 'remove', path: '/l/0' }], want: { l: [2, 3] } },
  { name: 'replace a value', doc: doc(), patch: [{ op: 'replace', path: '/spec/containers/1/name', value: 'c' }], want: { ...doc(), spec: { containers: [{ name: 'a' }, { name: 'c' }] } } },
  { name: 'replace the document', doc: { a: 1 }, patch: [{ op: 'replace', path: '', value: [] }], want: [] },
  { name: 'move a member', doc: { a: { x: 1 }, b: {} }, patch: [{ op: 'move', from: '/a/x', path: '/b/y' }], want: { a: {}, b: { y: 1 } } },
  { name: 'move within an array', doc: { l: [1, 2, 3] }, patch: [{ op: 'move', from: '/l/0', path: '/l/-' }], want: { l: [2, 3, 1] } },
  { name: 'copy a value (deep)', doc: { a: { x: [1] } }, patch: [{ op: 'copy', from: '/a', path: '/b' }, { op: 'add', path: '/b/x/-', value: 2 }], want: { a: { x: [1] }, b: { x: [1, 2] } } },
  { name: 'test passes then applies', doc: { a: { x: [1, { y: 'z' }] } }, patch: [{ op: 'test', path: '/a', value: { x: [1, { y: 'z' }] } }, { op: 'remove', path: '/a' }], want: {} },
  { name: 'test for null passes on an absent member (json-patch v4)', doc: { a: 1 }, patch: [{ op: 'test', path: '/b', value: null }], want: { a: 1 } },
  { name: 'escaped pointer tokens ~0 and ~1', doc: { 'a/b': { 'c~d': 1 } }, patch: [{ op: 'replace', path: '/a~1b/c~0d', value: 2 }], want: { 'a/b': { 'c~d': 2 } } },
  {
    name: 'label keys with slashes (the common kubectl --type=json use)',
    doc: doc(),
    patch: [{ op: 'add', path: '/metadata/labels/example.com~1tier', value: 'x' }],
    want: { ...doc(), metadata: { name: 'web', labels: { app: 'web', 'example.com/tier': 'x' } } },
  },
  { name: 'empty patch', doc: { a: 1 }, patch: [], want: { a: 1 } },
  { name: '__proto__ is an ordinary member', doc: {}, patch: [{ op: 'add', path: '/__proto__', value: { polluted: true } }], want: JSON.parse('{"__proto__":{"polluted":true}}') },
];

describe('JSON patch operations', () => {
  for (const c of cases) {
    it(c.name, () => {
      const before = JSON.stringify(c.doc);
      assert.deepEqual(applyJsonPatch(c.doc, c.patch), c.want);
      assert.equal(JSON.stringify(c.doc), before, 'input not modified');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }
});

interface ErrorCase {
  name: string;
  doc?: unknown;
  patch: unknown;
  code: number;
  detail?: string;
}

const errorCases: ErrorCase[] = [
  { name: 'failed test', patch: [{ op: 'test', path: '/metadata/name', value: 'other' }], code: 422, detail: 'testing value /metadata/name failed' },
  { name: 'test of an absent member with a value', patch: [{ op: 'test', path: '/nope', value: 1 }], code: 422 },
  { name: 'unknown op', patch: [{ op: 'frobnicate', path: '/a' }], code: 422, detail: 'Unexpected kind: frobnicate' },
  { name: 'missing op', patch: [{ path: '/a' }], code: 422 },
  { name: 'missing path', patch: [{ op: 'add', value: 1 }], code: 422, detail: 'missing path field' },
  { name: 'move without from', patch: [{ op: 'move', path: '/a' }], code: 422, detail: 'missing from field' },
  { name: 'path without leading slash', patch: [{ op: 'add', path: 'a', value: 1 }], code: 422 },
  { name: 'bad escape', patch: [{ op: 'add', path: '/a~2', value: 1 }], code: 422, detail: 'escape' },
  { name: 'add under a missing parent', patch: [{ op: 'add', path: '/x/y', value: 1 }], code: 422 },
  { name: 'add under a scalar', patch: [{ op: 'add', path: '/metadata/name/x', value: 1 }], code: 422 },
  { name: 'add past the array end', patch: [{ op: 'add', path: '/spec/containers/5', value: 1 }], code: 422 },
  { name: 'negative index', patch: [{ op: 'add', path: '/spec/containers/-1', value: 1 }], code: 422 },
  { name: 'leading-zero index', patch: [{ op: 'remove', path: '/spec/containers/01' }], code: 422 },
  { name: 'remove a missing member', patch: [{ op: 'remove', path: '/nope' }], code: 422 },
  { name: 'remove "-"', patch: [{ op: 'remove', path: '/spec/containers/-' }], code: 422 },
  { name: 'remove the document', patch: [{ op: 'remove', path: '' }], code: 422 },
  { name: 'replace a missing member', patch: [{ op: 'replace', path: '/nope', value: 1 }], code: 422 },
  { name: 'move into its own child', patch: [{ op: 'move', from: '/metadata', path: '/metadata/x' }], code: 422 },
  { name: 'copy from a missing member', patch: [{ op: 'copy', from: '/nope', path: '/a' }], code: 422 },
  { name: 'patch is an object', patch: { op: 'add' }, code: 400 },
  { name: 'patch is null', patch: null, code: 400 },
  { name: 'operation is not an object', patch: ['add'], code: 400 },
  { name: 'op is not a string', patch: [{ op: 1, path: '/a' }], code: 400 },
  { name: 'path is not a string', patch: [{ op: 'add', path: ['a'] }], code: 400 },
  { name: 'more than 10,000 operations', patch: Array.from({ length: 10_001 }, () => ({ op: 'test', path: '' })), code: 413 },
  { name: 'patch nested 10,000 levels', patch: [{ op: 'add', path: '/a', value: nested(10000) }], code: 400 },
  { name: 'result nested too deeply', doc: nested(900), patch: [{ op: 'add', path: '/a'.repeat(899), value: nested(200) }], code: 422 },
];

describe('JSON patch errors', () => {
  for (const c of errorCases) {
    it(c.name, () => {
      const err = assertStatus(() => applyJsonPatch(c.doc ?? { metadata: { name: 'web' }, spec: { containers: [{ name: 'a' }] } }, c.patch), c.code);
      if (c.code === 422) {
        // The apiserver's shape: reason Invalid, a fixed message, empty details; the cause stays server-side.
        assert.equal(err.reason, 'Invalid');
        assert.equal(err.message, GENERIC_INVALID_MESSAGE);
        assert.deepEqual(err.toStatus().details, {});
        assert.ok(err instanceof PatchApplyError);
        if (c.detail) assert.ok(err.detail.includes(c.detail), err.detail);
      }
      if (c.code === 400) assert.equal(err.reason, 'BadRequest');
    });
  }

  it('copy doubling is capped, quickly', () => {
    const ops = Array.from({ length: 40 }, () => ({ op: 'copy', from: '/l', path: '/l/-' }));
    const start = performance.now();
    const err = assertStatus(() => applyJsonPatch({ l: ['x'.repeat(1024)] }, ops), 422);
    assert.ok((err as PatchApplyError).detail.includes(String(MAX_COPY_BYTES)));
    assert.ok(performance.now() - start < 2000);
  });

  it('10,000 operations on a 100k-element array finish quickly', () => {
    const big = { l: Array.from({ length: 100_000 }, (_, i) => i) };
    const ops = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? { op: 'add', path: '/l/0', value: -1 } : { op: 'remove', path: '/l/0' }));
    const start = performance.now();
    const got = applyJsonPatch(big, ops) as { l: number[] };
    assert.equal(got.l.length, 100_000);
    assert.equal(got.l[0], 0);
    assert.ok(performance.now() - start < 5000);
  });
});
