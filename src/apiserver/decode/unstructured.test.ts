import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conversionError, goFormat, goJSON, goQuote, patchInvalid } from './unstructured.ts';

test('conversionError: the unstructured converter\'s first error for a strategic-merge-patched object', () => {
  const cases: Array<{ name: string; obj: Record<string, unknown>; want: string | undefined }> = [
    { name: 'fits', obj: { metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] } }, want: undefined },
    { name: 'nulls are zero values', obj: { metadata: { labels: null }, spec: { containers: [null] } }, want: undefined },
    { name: 'string for a map', obj: { metadata: { labels: 'x' } }, want: 'cannot restore map from string' },
    { name: 'list for a map', obj: { metadata: { annotations: ['x'] } }, want: 'cannot restore map from slice' },
    { name: 'map for a slice', obj: { spec: { containers: { name: 'c' } } }, want: 'cannot restore slice from map' },
    { name: 'number for a slice', obj: { spec: { containers: 1 } }, want: 'cannot restore slice from int64' },
    { name: 'string for a struct', obj: { spec: 'x' }, want: 'cannot restore struct from: string' },
    { name: 'string for an int32', obj: { spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } }, want: 'unrecognized type: int32' },
    { name: 'fraction for an int64', obj: { spec: { activeDeadlineSeconds: 1.5 } }, want: 'cannot convert float64 to int64' },
    { name: 'integer for a string', obj: { spec: { nodeName: 5 } }, want: 'cannot convert int64 to string' },
    { name: 'bool for a string', obj: { spec: { nodeName: true } }, want: 'unrecognized type: string' },
    { name: 'string for a bool', obj: { spec: { hostNetwork: 'yes' } }, want: 'unrecognized type: bool' },
    { name: 'a map value of the wrong type', obj: { metadata: { labels: { a: 1 } } }, want: 'cannot convert int64 to string' },
    { name: 'bool for an IntOrString', obj: { spec: { containers: [{ name: 'c', livenessProbe: { httpGet: { port: true } } }] } }, want: 'json: cannot unmarshal bool into Go value of type int32' },
    { name: 'bad quantity', obj: { spec: { containers: [{ name: 'c', resources: { limits: { cpu: 'lots' } } }] } }, want: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" },
    { name: 'number for a time', obj: { metadata: { creationTimestamp: 5 } }, want: 'json: cannot unmarshal number into Go value of type string' },
  ];
  for (const c of cases) assert.equal(conversionError('', 'v1', 'Pod', c.obj), c.want, c.name);
  assert.equal(conversionError('example.com', 'v1', 'Widget', { spec: 'x' }), undefined, 'no model: nothing to check against');
});

test('Go formatting of decoded JSON: %+v, encoding/json and %q', () => {
  const formats: Array<[unknown, string]> = [
    [{ metadata: { labels: 'x' } }, 'map[metadata:map[labels:x]]'],
    [{ b: [1, 'two', true, null], a: 1.5 }, 'map[a:1.5 b:[1 two true <nil>]]'],
    [{ big: 1e21, small: 0.00001 }, 'map[big:1e+21 small:1e-05]'],
    [[], '[]'],
  ];
  for (const [v, want] of formats) assert.equal(goFormat(v), want);
  assert.equal(goJSON({ b: '<a&b>', a: { d: 1, c: [2] } }), '{"a":{"c":[2],"d":1},"b":"\\u003ca\\u0026b\\u003e"}');
  const quotes: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['{"a":"b\\n"}', '"{\\"a\\":\\"b\\\\n\\"}"'],
    ['tab\tnl\nbell\u0007del\u007f', '"tab\\tnl\\nbell\\adel\\x7f"'],
    ['é ✓', '"é ✓"'],
  ];
  for (const [s, want] of quotes) assert.equal(goQuote(s), want, s);
});

test('patchInvalid: the 422 kube-apiserver answers, with the cause on "patch"', () => {
  const e = patchInvalid('map[metadata:map[labels:x]]', 'cannot restore map from string');
  assert.deepEqual(e.toStatus(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: ' "" is invalid: patch: Invalid value: "map[metadata:map[labels:x]]": cannot restore map from string',
    reason: 'Invalid',
    details: { causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "map[metadata:map[labels:x]]": cannot restore map from string', field: 'patch' }] },
    code: 422,
  });
});
