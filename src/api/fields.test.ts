import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convertFieldSelector,
  defaultFieldLabels,
  escapeFieldValue,
  eventFieldLabels,
  eventFields,
  FieldSelectorError,
  namespaceFieldLabels,
  parseFieldSelector,
  podFieldLabels,
  podFields,
} from './fields.ts';
import type { Pod } from './types.ts';

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

test('supported field labels per resource, with the apiserver errors', () => {
  const pod = convertFieldSelector(parseFieldSelector('spec.host=n1,status.phase=Running'), podFieldLabels);
  assert.equal(pod.toString(), 'spec.nodeName=n1,status.phase=Running');
  const cases: [string, typeof podFieldLabels, string][] = [
    ['spec.foo=bar', podFieldLabels, 'field label not supported: spec.foo'],
    ['metadata.namespace=x', namespaceFieldLabels, 'field label not supported: metadata.namespace'],
    ['spec.foo=bar', defaultFieldLabels, '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'],
  ];
  for (const [input, labels, message] of cases) {
    assert.throws(
      () => convertFieldSelector(parseFieldSelector(input), labels),
      (e: unknown) => e instanceof FieldSelectorError && e.code === 'ERR_FIELD_LABEL_NOT_SUPPORTED' && e.message === message,
      input,
    );
  }
  convertFieldSelector(parseFieldSelector('involvedObject.uid=u1,involvedObject.name=web,involvedObject.namespace=default'), eventFieldLabels);
});

test('pod and event field values', () => {
  const pod: Pod = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [], nodeName: 'n1', restartPolicy: 'Always', hostNetwork: true },
    status: { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }] },
  };
  const f = podFields(pod);
  assert.equal(f['metadata.name'], 'web');
  assert.equal(f['metadata.namespace'], 'default');
  assert.equal(f['spec.hostNetwork'], 'true');
  assert.equal(f['status.podIP'], '10.0.0.5');
  assert.equal(parseFieldSelector('spec.nodeName=n1,status.phase=Running').matches(f), true);
  const ev = eventFields({
    metadata: { name: 'web.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' },
    source: { component: 'kubelet' },
    reason: 'Pulled',
  });
  assert.equal(parseFieldSelector('involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1').matches(ev), true);
  assert.equal(ev.source, 'kubelet');
});
