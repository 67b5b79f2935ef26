import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePatchBody, patchTypeOf, type PatchType } from './types.ts';
import { assertStatus } from './testing.ts';

describe('patchTypeOf', () => {
  const ok: Array<[string, PatchType]> = [
    ['application/json-patch+json', 'json'],
    ['application/merge-patch+json', 'merge'],
    ['application/strategic-merge-patch+json', 'strategic'],
    ['application/apply-patch+yaml', 'apply'],
    ['application/strategic-merge-patch+json; charset=utf-8', 'strategic'],
    ['Application/Merge-Patch+JSON', 'merge'],
  ];
  for (const [ct, want] of ok) it(`${ct} → ${want}`, () => assert.equal(patchTypeOf(ct), want));

  for (const ct of ['application/json', 'application/yaml', 'text/plain', '', undefined, 'constructor', '__proto__', 'application/apply-patch+cbor']) {
    it(`415 for ${JSON.stringify(ct)}`, () => {
      const err = assertStatus(() => patchTypeOf(ct), 415, 'UnsupportedMediaType');
      assert.equal(
        err.message,
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
      );
    });
  }
});

describe('decodePatchBody', () => {
  it('decodes JSON for json, merge and strategic patches', () => {
    for (const t of ['json', 'merge', 'strategic'] as const) assert.deepEqual(decodePatchBody(t, '{"a":[1]}'), { a: [1] });
    assert.deepEqual(decodePatchBody('merge', new TextEncoder().encode('{"a":1}')), { a: 1 });
  });

  it('decodes YAML and JSON for apply', () => {
    assert.deepEqual(decodePatchBody('apply', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } });
    assert.deepEqual(decodePatchBody('apply', '{"apiVersion":"v1","kind":"Pod"}'), { apiVersion: 'v1', kind: 'Pod' });
  });

  // Go's words: encoding/json's syntax errors, sigs.k8s.io/yaml's "error converting YAML to JSON: yaml: line N: ...".
  const bad: Array<[PatchType, string, string]> = [
    ['json', '[{', 'error decoding patch: unexpected end of JSON input'],
    ['strategic', '', 'error decoding patch: unexpected end of JSON input'],
    ['merge', '{"a":1', 'error decoding patch: unexpected end of JSON input'],
    ['merge', '{"a":}', "error decoding patch: invalid character '}' looking for beginning of value"],
    ['apply', 'a: [', 'error decoding YAML: error converting YAML to JSON: yaml: line 1: flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['apply', 'a: 1\na: 2', 'error decoding YAML: error converting YAML to JSON: yaml: line 2: map keys must be unique'],
    ['apply', 'a: 1\n---\nb: 2', 'error decoding YAML: error converting YAML to JSON: yaml: line 2: expected a single document in the body'],
    ['apply', 'a:\n  b: 1\n c: 2', 'error decoding YAML: error converting YAML to JSON: yaml: line 3: all mapping items must start at the same column'],
    ['json', '['.repeat(100_000) + ']'.repeat(100_000), 'error decoding patch: the body nests deeper than the maximum depth of 1000'],
    ['apply', '['.repeat(10_000) + ']'.repeat(10_000), 'error decoding YAML: error converting YAML to JSON: yaml: exceeded max depth of 10000'],
  ];
  for (const [t, body, message] of bad) {
    it(`400 for a malformed ${t} body ${JSON.stringify(body.slice(0, 12))}`, () => {
      const err = assertStatus(() => decodePatchBody(t, body), 400, 'BadRequest', message);
      assert.equal(err.message, message);
    });
  }

  it('caps YAML aliases (billion laughs)', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    assertStatus(() => decodePatchBody('apply', lines.join('\n')), 400, 'BadRequest');
  });
});
