import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeFieldValue, FieldSelectorError, parseFieldSelector } from './fields.ts';

test('parses =, ==, != and comma AND, with escapes', () => {
  const cases: [string, string, [string, string, string][]][] = [
    ['', '', []],
    ['metadata.name=web', 'metadata.name=web', [['metadata.name', '=', 'web']]],
    ['metadata.name==web', 'metadata.name=web', [['metadata.name', '=', 'web']]],
    ['status.phase!=Running,spec.nodeName=n1', 'spec.nodeName=n1,status.phase!=Running', [
      ['spec.nodeName', '=', 'n1'],
      ['status.phase', '!=', 'Running'],
    ]],
    ['metadata.name=a\\,b', 'metadata.name=a\\,b', [['metadata.name', '=', 'a,b']]],
    ['metadata.name=a\\=b\\\\c', 'metadata.name=a\\=b\\\\c', [['metadata.name', '=', 'a=b\\c']]],
    ['a=', 'a=', [['a', '=', '']]],
    ['a=b,,', 'a=b', [['a', '=', 'b']]],
  ];
  for (const [input, printed, reqs] of cases) {
    const sel = parseFieldSelector(input);
    assert.equal(sel.toString(), printed, input);
    assert.deepEqual(sel.requirements.map((r) => [r.field, r.operator, r.value]), reqs, input);
  }
  assert.equal(escapeFieldValue('a,b=c\\'), 'a\\,b\\=c\\\\');
});

test('rejects bad selectors with apimachinery messages', () => {
  const cases: [string, string][] = [
    ['foo', "invalid selector: 'foo'; can't understand 'foo'"],
    ['b=1,foo', "invalid selector: 'b=1,foo'; can't understand 'foo'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseFieldSelector(input), (e: unknown) => e instanceof FieldSelectorError && e.message === message, input);
  }
});

test('matches against a getter or a field map ("" when absent)', () => {
  const fields = { 'metadata.name': 'web', 'status.phase': 'Running' };
  assert.equal(parseFieldSelector('metadata.name=web').matches(fields), true);
  assert.equal(parseFieldSelector('metadata.name=db').matches(fields), false);
  assert.equal(parseFieldSelector('status.phase!=Pending,metadata.name=web').matches(fields), true);
  assert.equal(parseFieldSelector('spec.nodeName=').matches(fields), true);
  assert.equal(parseFieldSelector('spec.nodeName!=').matches((f) => (f === 'spec.nodeName' ? 'n1' : undefined)), true);
  assert.equal(parseFieldSelector('metadata.name=web').requiresExactMatch('metadata.name'), 'web');
});
