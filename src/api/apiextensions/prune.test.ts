import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prune } from './prune.ts';
import { applyDefaults, pruneNonNullableNullsWithoutDefaults } from './defaults.ts';
import type { JSONSchemaProps } from './types.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        a: { type: 'string' },
        list: { type: 'array', items: { type: 'object', properties: { x: { type: 'integer' } } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { k: { type: 'string' } } } } },
        map: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } } },
        embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

test('prune removes unknown fields and reports their paths', () => {
  const obj = {
    apiVersion: 'x/v1',
    kind: 'K',
    metadata: { name: 'n', anything: 1 },
    foo: 1,
    spec: {
      a: 'x',
      b: 'y',
      list: [{ x: 1, y: 2 }],
      free: { anything: { deep: true }, known: { k: 'v', drop: 1 } },
      map: { one: { v: 'a', w: 'b' } },
      embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {}, extra: 1 },
    },
    status: { ready: true, phase: 'x' },
  };
  const paths = prune(schema, obj, { strict: true });
  assert.deepEqual(paths, ['foo', 'spec.b', 'spec.embedded.extra', 'spec.free.known.drop', 'spec.list[0].y', 'spec.map.one.w', 'status.phase']);
  assert.deepEqual(obj, {
    apiVersion: 'x/v1',
    kind: 'K',
    metadata: { name: 'n', anything: 1 },
    spec: {
      a: 'x',
      list: [{ x: 1 }],
      free: { anything: { deep: true }, known: { k: 'v' } },
      map: { one: { v: 'a' } },
      embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} },
    },
    status: { ready: true },
  });
});

test('prune without strict reports nothing; a nested apiVersion is unknown', () => {
  const obj = { spec: { apiVersion: 'x', a: 'y' } };
  assert.deepEqual(prune(schema, obj), []);
  assert.deepEqual(obj, { spec: { a: 'y' } });
  const again = { spec: { apiVersion: 'x' } };
  assert.deepEqual(prune(schema, again, { strict: true }), ['spec.apiVersion']);
});

const defaulted: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      default: {},
      properties: {
        replicas: { type: 'integer', default: 1 },
        mode: { type: 'string', default: 'auto' },
        opt: { type: 'string', nullable: true, default: 'd' },
        nested: { type: 'object', default: { inner: 'x' }, properties: { inner: { type: 'string' }, other: { type: 'integer', default: 7 } } },
        items: { type: 'array', items: { type: 'object', properties: { p: { type: 'integer', default: 80 } } } },
        plain: { type: 'string' },
      },
    },
  },
};

const defaultCases: { name: string; in: unknown; want: unknown }[] = [
  { name: 'missing object is defaulted, then its fields', in: {}, want: { spec: { replicas: 1, mode: 'auto', opt: 'd', nested: { inner: 'x', other: 7 } } } },
  {
    name: 'given values stay; non-nullable null is defaulted; nullable null stays',
    in: { spec: { replicas: 3, mode: null, opt: null, items: [{}, { p: 1 }] } },
    want: { spec: { replicas: 3, mode: 'auto', opt: null, nested: { inner: 'x', other: 7 }, items: [{ p: 80 }, { p: 1 }] } },
  },
];

for (const c of defaultCases) {
  test(`applyDefaults: ${c.name}`, () => {
    const v = structuredClone(c.in);
    applyDefaults(defaulted, v);
    assert.deepEqual(v, c.want);
  });
}

test('applyDefaults copies defaults (no shared references)', () => {
  const a: Record<string, unknown> = {};
  const b: Record<string, unknown> = {};
  applyDefaults(defaulted, a);
  applyDefaults(defaulted, b);
  assert.notEqual((a.spec as Record<string, unknown>).nested, (b.spec as Record<string, unknown>).nested);
});

test('pruneNonNullableNullsWithoutDefaults drops only undefaulted non-nullable nulls', () => {
  const v = { spec: { plain: null, opt: null, replicas: 2 } };
  pruneNonNullableNullsWithoutDefaults(defaulted, v);
  assert.deepEqual(v, { spec: { opt: null, replicas: 2 } });
});
