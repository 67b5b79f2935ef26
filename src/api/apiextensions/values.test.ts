import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldPath, fieldErrorMessage, type FieldError } from '../field.ts';
import { validateValue } from './values.ts';
import { validateListSetsAndMaps } from './listtype.ts';
import { validateEmbeddedResources } from './objectmeta.ts';
import type { JSONSchemaProps } from './types.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

const cronTab: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string', enum: ['a', 'b'] },
        replicas: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number', exclusiveMaximum: true, maximum: 1, multipleOf: 0.25 },
        name: { type: 'string', maxLength: 5, minLength: 2 },
        when: { type: 'string', format: 'date-time' },
        id: { type: 'string', format: 'uuid' },
        addr: { type: 'string', format: 'ipv4' },
        net: { type: 'string', format: 'cidr' },
        weird: { type: 'string', format: 'no-such-format' },
        port: { 'x-kubernetes-int-or-string': true },
        maybe: { type: 'string', nullable: true },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2, minItems: 1 },
        labels: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 1 },
        small: { type: 'integer', format: 'int32' },
      },
    },
  },
};

const cases: { name: string; spec: Record<string, unknown>; want: string[] }[] = [
  { name: 'valid', spec: { cronSpec: '* * * * */5', image: 'a', replicas: 3, ratio: 0.5, port: 'http', maybe: null }, want: [] },
  {
    name: 'integer given a string',
    spec: { cronSpec: '* * * * *', replicas: 'string' },
    want: ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'],
  },
  { name: 'required', spec: {}, want: ['spec.cronSpec: Required value'] },
  {
    name: 'enum',
    spec: { cronSpec: '* * * * *', image: 'x' },
    want: ['spec.image: Unsupported value: "x": supported values: "a", "b"'],
  },
  {
    name: 'pattern',
    spec: { cronSpec: 'nope' },
    want: [`spec.cronSpec: Invalid value: "nope": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`],
  },
  {
    name: 'minimum and maximum',
    spec: { cronSpec: '* * * * *', replicas: 11 },
    want: ['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10'],
  },
  {
    name: 'below minimum',
    spec: { cronSpec: '* * * * *', replicas: 0 },
    want: ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1'],
  },
  {
    // An integral JSON number is an int64 to kube-openapi: the factor 0.25 is truncated to 0.
    name: 'exclusive maximum and multipleOf',
    spec: { cronSpec: '* * * * *', ratio: 1 },
    want: ['spec.ratio: Invalid value: 0: factor MultipleOf declared for spec.ratio must be positive: 0', 'spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1'],
  },
  {
    name: 'multipleOf float',
    spec: { cronSpec: '* * * * *', ratio: 0.3 },
    want: ['spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.25'],
  },
  { name: 'maxLength', spec: { cronSpec: '* * * * *', name: 'abcdef' }, want: ['spec.name: Too long: may not be more than 5 bytes'] },
  { name: 'minLength', spec: { cronSpec: '* * * * *', name: 'a' }, want: ['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long'] },
  {
    name: 'formats',
    spec: { cronSpec: '* * * * *', when: 'yesterday', id: 'x', addr: '1.2.3', net: '10.0.0.0/33', weird: 'anything' },
    want: [
      'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
      'spec.id: Invalid value: "x": spec.id in body must be of type uuid: "x"',
      'spec.addr: Invalid value: "1.2.3": spec.addr in body must be of type ipv4: "1.2.3"',
      'spec.net: Invalid value: "10.0.0.0/33": spec.net in body must be of type cidr: "10.0.0.0/33"',
    ],
  },
  { name: 'good formats', spec: { cronSpec: '* * * * *', when: '2024-02-29T10:00:00Z', id: '123e4567-e89b-12d3-a456-426614174000', addr: '10.0.0.1', net: '10.0.0.0/8' }, want: [] },
  {
    name: 'int-or-string',
    spec: { cronSpec: '* * * * *', port: true },
    want: ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"'],
  },
  {
    name: 'null where not nullable',
    spec: { cronSpec: '* * * * *', image: null },
    want: ['spec.image: Invalid value: "null": spec.image in body must be of type string: "null"', 'spec.image: Unsupported value: "null": supported values: "a", "b"'],
  },
  {
    name: 'items and counts',
    spec: { cronSpec: '* * * * *', tags: ['a', 1, 'c'] },
    want: ['spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer"', 'spec.tags: Too many: 3: must have at most 2 items'],
  },
  { name: 'minItems', spec: { cronSpec: '* * * * *', tags: [] }, want: ['spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items'] },
  {
    name: 'additionalProperties schema and maxProperties',
    spec: { cronSpec: '* * * * *', labels: { a: 'x', b: 2 } },
    want: ['spec.labels: Too many: 2: must have at most 1 items', 'spec.labels.b: Invalid value: "integer": spec.labels.b in body must be of type string: "integer"'],
  },
  {
    name: 'int32 range',
    spec: { cronSpec: '* * * * *', small: 3000000000 },
    want: ['<nil>: Invalid value: "": Checked value must be of type integer with format int32 in spec.small'],
  },
  {
    name: 'float for integer',
    spec: { cronSpec: '* * * * *', replicas: 1.5 },
    want: [
      'spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"',
      '<nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.replicas',
    ],
  },
];

for (const c of cases) {
  test(`validateValue: ${c.name}`, () => {
    assert.deepEqual(render(validateValue(cronTab, { apiVersion: 'x/v1', kind: 'CronTab', spec: c.spec })), c.want);
  });
}

test('validateValue: type error at the root of a default names no property', () => {
  const errs = validateValue({ type: 'integer' }, 'x', new FieldPath('spec.validation.openAPIV3Schema.properties[n].default'));
  assert.deepEqual(render(errs), ['spec.validation.openAPIV3Schema.properties[n].default: Invalid value: "string":  in body must be of type integer: "string"']);
  assert.equal(errs[0].type, 'FieldValueTypeInvalid');
});

test('validateValue: anyOf / allOf / not composition', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: { v: { type: 'string', anyOf: [{ pattern: '^a' }, { pattern: '^b' }], not: { pattern: '^bad$' } } },
  };
  assert.deepEqual(render(validateValue(s, { v: 'ab' })), []);
  assert.deepEqual(render(validateValue(s, { v: 'c' })), ['<nil>: Invalid value: "": "v" must validate at least one schema (anyOf)', `v: Invalid value: "c": v in body should match '^a'`]);
  assert.deepEqual(render(validateValue(s, { v: 'bad' })), ['<nil>: Invalid value: "": "v" must not validate the schema (not)']);
});

test('validateValue: ratcheting keeps unchanged invalid values', () => {
  const old = { spec: { cronSpec: '* * * * *', replicas: 50, image: 'a' } };
  const cur = { spec: { cronSpec: '* * * * *', replicas: 50, image: 'z' } };
  assert.deepEqual(render(validateValue(cronTab, cur, undefined, { old })), ['spec.image: Unsupported value: "z": supported values: "a", "b"']);
  assert.equal(validateValue(cronTab, cur).length, 2);
});

test('validateListSetsAndMaps: set and map duplicates', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['port', 'protocol'],
            items: { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string' } } },
          },
        },
      },
    },
  };
  const obj = {
    spec: {
      set: ['a', 'b', 'a', 'a', 'b'],
      ports: [
        { port: 80, protocol: 'TCP' },
        { protocol: 'TCP', port: 80, name: 'x' },
        { port: 80, protocol: 'UDP' },
      ],
    },
  };
  assert.deepEqual(render(validateListSetsAndMaps(undefined, s, obj)), [
    'spec.set[2]: Duplicate value: "a"',
    'spec.set[4]: Duplicate value: "b"',
    'spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}',
  ]);
});

test('validateEmbeddedResources: apiVersion, kind and metadata of an embedded object', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: { spec: { type: 'object', properties: { template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } } },
  };
  assert.deepEqual(render(validateEmbeddedResources(undefined, { spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ok' } } } }, s)), []);
  assert.deepEqual(render(validateEmbeddedResources(undefined, { spec: { template: { kind: 'bad_kind', metadata: { name: 'a/b', labels: { 'x y': 'v' } } } } }, s)), [
    'spec.template.apiVersion: Required value',
    `spec.template.kind: Invalid value: "bad_kind": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    `spec.template.metadata.name: Invalid value: "a/b": may not contain '/'`,
    `spec.template.metadata.labels: Invalid value: "x y": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
  ]);
});
