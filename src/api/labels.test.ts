import { test } from 'node:test';
import assert from 'node:assert/strict';
import { everything, fromLabelSelector, LabelSelectorError, nothing, parseLabelSelector, selectorFromSet } from './labels.ts';

const labelValueMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test('parses the grammar kubectl -l sends and prints it back normalised', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['app=web', 'app=web'],
    ['app==web', 'app==web'],
    ['app!=web', 'app!=web'],
    ['app', 'app'],
    ['!app', '!app'],
    ['  app = web ,  tier ', 'app=web,tier'],
    ['tier in (frontend, backend)', 'tier in (backend,frontend)'],
    ['tier notin (a,a,b)', 'tier notin (a,b)'],
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['zeta=1,alpha=2', 'alpha=2,zeta=1'],
    ['app=', 'app='],
    ['in in (in)', 'in in (in)'],
    ['example.com/role=db', 'example.com/role=db'],
    ['n>3,m<10', 'm<10,n>3'],
  ];
  for (const [input, printed] of cases) assert.equal(parseLabelSelector(input).toString(), printed, input);
});

test('matches labels as Kubernetes does', () => {
  const pod = { app: 'web', tier: 'frontend', n: '5' };
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', pod, true],
    ['', undefined, true],
    ['app=web', pod, true],
    ['app=db', pod, false],
    ['app!=db', pod, true],
    ['missing!=x', pod, true],
    ['tier in (frontend,backend)', pod, true],
    ['tier notin (frontend)', pod, false],
    ['missing notin (x)', pod, true],
    ['missing in (x)', pod, false],
    ['app', pod, true],
    ['!app', pod, false],
    ['!missing', pod, true],
    ['app=web,tier=backend', pod, false],
    ['n>3', pod, true],
    ['n<3', pod, false],
    ['app>3', pod, false],
    ['app=web', undefined, false],
  ];
  for (const [sel, labels, want] of cases) assert.equal(parseLabelSelector(sel).matches(labels), want, sel);
});

test('rejects bad selectors with the apiserver messages', () => {
  const cases: [string, string][] = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b c)', "unable to parse requirement: found 'c', expected: ',' or ')'"],
    ['a=b=c', "unable to parse requirement: found '=', expected: ',' or 'end of string'".replace('unable to parse requirement: ', '')],
    ['a=-b', `unable to parse requirement: values[0][a]: Invalid value: "-b": ${labelValueMsg}`],
    ['a<x', `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`],
    [
      '_bad',
      "unable to parse requirement: <nil>: Invalid value: \"_bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
    [
      'a/b/c=d',
      "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseLabelSelector(input),
      (err: unknown) => err instanceof LabelSelectorError && err.message === message,
      `${input}: expected ${message}`,
    );
  }
});

test('metav1.LabelSelector: nil selects nothing, empty everything', () => {
  assert.equal(fromLabelSelector(undefined), nothing);
  assert.equal(fromLabelSelector(undefined).matches({ a: 'b' }), false);
  assert.equal(fromLabelSelector({}), everything);
  assert.equal(fromLabelSelector({}).matches({}), true);
  const sel = fromLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['frontend', 'edge'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'zone', operator: 'Exists' },
      { key: 'env', operator: 'NotIn', values: ['dev'] },
    ],
  });
  assert.equal(sel.toString(), 'app=web,!canary,env notin (dev),tier in (edge,frontend),zone');
  assert.equal(sel.matches({ app: 'web', tier: 'edge', zone: 'a' }), true);
  assert.equal(sel.matches({ app: 'web', tier: 'edge', zone: 'a', canary: 'y' }), false);
  assert.equal(sel.matches({ app: 'web', tier: 'edge' }), false);
  assert.equal(sel.matches({ app: 'web', tier: 'edge', zone: 'a', env: 'dev' }), false);
});

test('metav1.LabelSelector errors', () => {
  assert.throws(
    () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }),
    (e: unknown) => e instanceof LabelSelectorError && e.message === '"Gt" is not a valid label selector operator',
  );
  assert.throws(
    () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
    (e: unknown) => e instanceof LabelSelectorError && e.message === "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
  );
  assert.throws(
    () => fromLabelSelector({ matchLabels: { a: 'b c' } }),
    (e: unknown) => e instanceof LabelSelectorError && e.message === `values[0][a]: Invalid value: "b c": ${labelValueMsg}`,
  );
});

test('selectorFromSet is an exact match on every pair', () => {
  const sel = selectorFromSet({ app: 'web', tier: 'fe' });
  assert.equal(sel.toString(), 'app=web,tier=fe');
  assert.equal(sel.matches({ app: 'web', tier: 'fe', x: 'y' }), true);
  assert.equal(sel.matches({ app: 'web' }), false);
  assert.equal(selectorFromSet(undefined).empty(), true);
});
