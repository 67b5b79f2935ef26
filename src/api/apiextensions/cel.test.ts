import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../field.ts';
import { compileRules, validateCEL } from './cel.ts';
import type { JSONSchemaProps } from './types.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'self.minReplicas <= self.replicas', message: 'replicas should be greater than or equal to minReplicas' },
        { rule: 'self.name.startsWith("a") && self.name.matches("^[a-z]+$")' },
        { rule: 'has(self.tags) ? self.tags.all(t, size(t) < 5) && self.tags.isSorted() : true', messageExpression: '"bad tags: " + self.tags.join(",")', fieldPath: '.tags' },
        { rule: 'self.replicas >= oldSelf.replicas', message: 'cannot scale down', reason: 'FieldValueForbidden' },
      ],
      properties: {
        replicas: { type: 'integer' },
        minReplicas: { type: 'integer' },
        name: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.lowerAscii() == self' }] },
        tags: { type: 'array', items: { type: 'string' } },
        ratio: { type: 'number', 'x-kubernetes-validations': [{ rule: 'self < 1.0' }] },
      },
    },
  },
  'x-kubernetes-validations': [{ rule: "self.metadata.name != 'forbidden'", message: 'name is forbidden' }],
};

test('validateCEL: a valid object passes every rule', () => {
  assert.deepEqual(validateCEL(schema, { metadata: { name: 'x' }, spec: { replicas: 3, minReplicas: 1, name: 'abc', tags: ['a', 'b'], ratio: 0.5 } }), []);
});

test('validateCEL: failures carry message, default message, messageExpression and fieldPath', () => {
  const errs = validateCEL(schema, { metadata: { name: 'forbidden' }, spec: { replicas: 1, minReplicas: 2, name: 'Bcd', tags: ['b', 'a'], ratio: 1 } });
  assert.deepEqual(render(errs), [
    '<nil>: Invalid value: "object": name is forbidden',
    'spec: Invalid value: "object": replicas should be greater than or equal to minReplicas',
    'spec: Invalid value: "object": failed rule: self.name.startsWith("a") && self.name.matches("^[a-z]+$")',
    'spec.tags: Invalid value: "object": bad tags: b,a',
    'spec.name: Invalid value: "string": failed rule: self.lowerAscii() == self',
    'spec.ratio: Invalid value: "number": failed rule: self < 1.0',
  ]);
});

test('validateCEL: transition rules need oldSelf and use the rule reason', () => {
  const cur = { metadata: { name: 'x' }, spec: { replicas: 1, minReplicas: 1, name: 'a' } };
  assert.deepEqual(validateCEL(schema, cur), []);
  assert.deepEqual(render(validateCEL(schema, cur, undefined, { old: { metadata: { name: 'x' }, spec: { replicas: 5, minReplicas: 1, name: 'a' } } })), ['spec: Forbidden: cannot scale down']);
});

test('validateCEL: runtime errors name the rule', () => {
  const s: JSONSchemaProps = { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.a > 0' }] } } };
  const errs = render(validateCEL(s, { spec: {} }));
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^spec: Invalid value: "object": .* evaluating rule: self\.a > 0$/);
});

const compileCases: { name: string; rule: string; want: RegExp | undefined }[] = [
  { name: 'valid', rule: 'self.replicas > 0', want: undefined },
  { name: 'syntax error', rule: 'self.replicas >', want: /^compilation failed: ERROR: <input>:1:\d+: Syntax error: .*\n \| self\.replicas >\n \| \.+\^$/ },
  { name: 'unknown field', rule: 'self.nope > 0', want: /^compilation failed: ERROR: <input>:1:5: undefined field 'nope'/ },
  { name: 'unknown variable', rule: 'foo > 0', want: /undeclared reference to 'foo'/ },
  { name: 'unknown function', rule: 'self.replicas.frobnicate()', want: /undeclared reference to 'frobnicate'/ },
  { name: 'not a bool', rule: '"x"', want: /^cel expression must evaluate to a bool$/ },
  { name: 'macros and libraries', rule: "self.list.exists(x, x == 'a') && self.list.indexOf('a') >= 0 && 'abc'.find('b') == 'b'", want: undefined },
];

for (const c of compileCases) {
  test(`compileRules: ${c.name}`, () => {
    const s: JSONSchemaProps = {
      type: 'object',
      properties: { replicas: { type: 'integer' }, list: { type: 'array', items: { type: 'string' } } },
      'x-kubernetes-validations': [{ rule: c.rule }],
    };
    const [r] = compileRules(s, false);
    if (c.want) assert.match(r.error ?? '', c.want);
    else assert.equal(r.error, undefined);
  });
}

test('compileRules caches per schema node and detects oldSelf', () => {
  const s: JSONSchemaProps = { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'immutable' }] };
  const a = compileRules(s, false);
  assert.equal(compileRules(s, false), a);
  assert.equal(a[0].usesOldSelf, true);
});
