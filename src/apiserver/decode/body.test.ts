import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { StatusError } from '../../util/status.ts';
import { bodyFormat, decodeBody, decodeBodyDetailed, maxBodyBytes, readBody } from './body.ts';
import { duplicateKeys } from './duplicates.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('expected a StatusError');
}

describe('decode: media types', () => {
  const cases: [string | undefined, string][] = [
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    [undefined, 'json'],
    ['application/strategic-merge-patch+json', 'json'],
    ['application/merge-patch+json', 'json'],
    ['application/json-patch+json', 'json'],
    ['application/yaml', 'yaml'],
    ['application/apply-patch+yaml', 'yaml'],
    ['application/vnd.kubernetes.protobuf', 'protobuf'],
  ];
  for (const [ct, want] of cases) it(`${ct} → ${want}`, () => assert.equal(bodyFormat(ct), want));

  it('refuses other media types with 415', () => {
    assert.equal(statusOf(() => bodyFormat('text/plain')).code, 415);
    assert.equal(statusOf(() => decodeBody('application/x-www-form-urlencoded', enc('a=b'))).reason, 'UnsupportedMediaType');
  });
});

describe('decode: JSON and YAML', () => {
  it('decodes JSON', () => {
    assert.deepEqual(decodeBody('application/json', enc('{"kind":"Pod","spec":{"containers":[]}}\n')), { kind: 'Pod', spec: { containers: [] } });
  });

  it('rejects malformed JSON with 400', () => {
    const e = statusOf(() => decodeBody('application/json', enc('{"kind": ')));
    assert.equal(e.code, 400);
    assert.match(e.message, /^couldn't get version\/kind; json parse error: /);
  });

  it('decodes YAML the way go-yaml does (1.1 booleans, timestamps kept as strings)', () => {
    const got = decodeBody('application/yaml', enc('a: on\nb: 2024-01-01T00:00:00Z\nc: "500m"\nd: 0755\ne: 1:20\nf: [1, x]\n'));
    assert.deepEqual(got, { a: true, b: '2024-01-01T00:00:00Z', c: '500m', d: 493, e: '1:20', f: [1, 'x'] });
  });

  it("rejects the seed's broken-indentation manifest with a line number", () => {
    const manifest = [
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: linkding', 'spec:', '  containers:', '',
      '- image: sissbruecker/linkding:latest', '    name: linkding', '    ports:', '  - containerPort: 9090', '      protocol: TCP', '',
    ].join('\n');
    const e = statusOf(() => decodeBody('application/yaml', enc(manifest)));
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    assert.match(e.message, /^error converting YAML to JSON: yaml: line \d+: \S/);
  });

  it('rejects several YAML documents in one body', () => {
    const e = statusOf(() => decodeBody('application/yaml', enc('a: 1\n---\nb: 2\n')));
    assert.equal(e.code, 400);
  });

  it('rejects bodies over 3 MiB with 413', () => {
    const e = statusOf(() => decodeBody('application/json', new Uint8Array(maxBodyBytes + 1)));
    assert.equal(e.code, 413);
    assert.equal(e.reason, 'RequestEntityTooLarge');
  });

  it('reports duplicate keys in JSON and YAML with their paths', () => {
    const json = '{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"x"},{"name":"y","image":"i","image":"j"}]}}';
    assert.deepEqual(decodeBodyDetailed('application/json', enc(json)).duplicateFields, ['metadata.name', 'spec.containers[1].image']);
    const yaml = 'metadata:\n  name: a\n  name: b\nspec:\n  containers:\n  - name: x\n    name: z\n';
    const d = decodeBodyDetailed('application/yaml', enc(yaml));
    assert.deepEqual(d.duplicateFields, ['metadata.name', 'spec.containers[0].name']);
    assert.deepEqual(d.object, { metadata: { name: 'b' }, spec: { containers: [{ name: 'z' }] } });
  });
});

describe('decode: duplicate scanner', () => {
  const cases: [string, string[]][] = [
    ['{}', []],
    ['{"a":1,"b":{"a":2}}', []],
    ['{"a":1,"a":2}', ['a']],
    ['{"a\\u0062":1,"ab":2}', ['ab']],
    ['{"x":[[{"k":1,"k":1}],{"k":[1,2,{"z":"}","z":"]"}]}]}', ['x[0][0].k', 'x[1].k[2].z']],
    ['[{"a":true,"a":null}]', ['[0].a']],
  ];
  for (const [text, want] of cases) it(text, () => assert.deepEqual(duplicateKeys(text), want));
});

describe('decode: readBody', () => {
  const fake = (chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage => Object.assign(Readable.from(chunks), { headers }) as unknown as IncomingMessage;

  it('concatenates the chunks', async () => {
    assert.equal((await readBody(fake([Buffer.from('ab'), Buffer.from('c')]))).toString(), 'abc');
  });

  it('fails with 413 past the limit, by declared length or by counting', async () => {
    await assert.rejects(readBody(fake([Buffer.from('x')], { 'content-length': '100' }), 10), (e: unknown) => e instanceof StatusError && e.code === 413);
    await assert.rejects(readBody(fake([Buffer.alloc(6), Buffer.alloc(6)]), 10), (e: unknown) => e instanceof StatusError && e.code === 413);
  });
});
