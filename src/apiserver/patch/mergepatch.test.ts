import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMergePatch } from './mergepatch.ts';
import { assertStatus, nested } from './testing.ts';

// RFC 7386 appendix A examples, plus the apiserver's specifics.
const cases: Array<{ name: string; doc: Record<string, unknown>; patch: Record<string, unknown>; want: unknown }> = [
  { name: 'replace a member', doc: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
  { name: 'add a member', doc: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
  { name: 'null removes', doc: { a: 'b' }, patch: { a: null }, want: {} },
  { name: 'null removes one of two', doc: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
  { name: 'arrays are replaced', doc: { a: ['b'] }, patch: { a: 'c' }, want: { a: 'c' } },
  { name: 'scalar replaced by array', doc: { a: 'c' }, patch: { a: ['b'] }, want: { a: ['b'] } },
  { name: 'nested merge with removal', doc: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, want: { a: { b: 'd' } } },
  { name: 'array of objects replaced whole', doc: { a: [{ b: 'c' }] }, patch: { a: [1] }, want: { a: [1] } },
  { name: 'object replaces scalar, nulls pruned', doc: { e: null, a: 1 }, patch: { a: { bb: { ccc: null } } }, want: { e: null, a: { bb: {} } } },
  { name: 'empty patch', doc: { a: 1 }, patch: {}, want: { a: 1 } },
  { name: 'nulls inside objects in arrays pruned (evanphx)', doc: {}, patch: { l: [{ a: null, b: 1 }, null] }, want: { l: [{ b: 1 }, null] } },
  { name: 'labels on a pod', doc: { metadata: { name: 'p', labels: { a: '1', b: '2' } } }, patch: { metadata: { labels: { b: null, c: '3' } } }, want: { metadata: { name: 'p', labels: { a: '1', c: '3' } } } },
];

describe('JSON merge patch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const before = JSON.stringify(c.doc);
      assert.deepEqual(applyMergePatch(c.doc, c.patch), c.want);
      assert.equal(JSON.stringify(c.doc), before, 'input not modified');
    });
  }

  const errors: Array<{ name: string; doc?: unknown; patch: unknown; message: string }> = [
    { name: 'patch is an array', patch: [1], message: 'error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}' },
    { name: 'patch is a string', patch: 's', message: 'cannot unmarshal string' },
    { name: 'patch is null', patch: null, message: 'Invalid JSON Patch' },
    { name: 'document is not an object', doc: 'x', patch: {}, message: 'invalid JSON document' },
    { name: 'patch nested 10,000 levels', patch: nested(10000), message: 'depth' },
  ];
  for (const c of errors) {
    it(`400: ${c.name}`, () => {
      assertStatus(() => applyMergePatch(c.doc ?? {}, c.patch), 400, 'BadRequest', c.message);
    });
  }
});
