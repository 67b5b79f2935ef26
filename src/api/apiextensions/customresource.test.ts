import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../field.ts';
import { pruneAndDefault, validateCustomResource } from './customresource.ts';
import type { JSONSchemaProps } from './types.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['image'],
      properties: { image: { type: 'string' }, replicas: { type: 'integer', default: 1 }, tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } },
      'x-kubernetes-validations': [{ rule: 'self.replicas < 5', message: 'at most 4 replicas' }],
    },
  },
};

test('validateCustomResource: schema, list-type and CEL errors together', () => {
  assert.deepEqual(render(validateCustomResource(schema, { metadata: { name: 'a' }, spec: { image: 'x', replicas: 7, tags: ['a', 'a'] } })), [
    'spec.tags[1]: Duplicate value: "a"',
    'spec: Invalid value: "object": at most 4 replicas',
  ]);
});

test('validateCustomResource: blocking schema errors skip CEL rules', () => {
  assert.deepEqual(render(validateCustomResource(schema, { metadata: { name: 'a' }, spec: { replicas: 7 } })), [
    'spec.image: Required value',
    '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
  ]);
});

test('pruneAndDefault prunes, reports unknown fields and defaults', () => {
  const obj = { apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x' }, spec: { image: 'i', foo: 1 } };
  assert.deepEqual(pruneAndDefault(schema, obj, true), ['spec.foo']);
  assert.deepEqual(obj, { apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x' }, spec: { image: 'i', replicas: 1 } });
});
