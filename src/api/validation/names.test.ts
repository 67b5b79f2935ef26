import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  maskTrailingDash,
  nameIsDNSSubdomain,
} from './names.ts';

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QNAME =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

test('DNS names with apimachinery wording', () => {
  const cases: [(v: string) => string[], string, string[]][] = [
    [isDNS1123Subdomain, 'example.com', []],
    [isDNS1123Subdomain, 'linkding', []],
    [isDNS1123Subdomain, 'Bad_Name', [SUBDOMAIN]],
    [isDNS1123Subdomain, '-a', [SUBDOMAIN]],
    [isDNS1123Subdomain, 'a'.repeat(254), ['must be no more than 253 characters']],
    [isDNS1123Label, 'my-name', []],
    [isDNS1123Label, 'a.b', [LABEL]],
    [isDNS1123Label, 'a'.repeat(64), ['must be no more than 63 characters']],
    [isDNS1035Label, 'abc-123', []],
    [isDNS1035Label, '1abc', [DNS1035]],
  ];
  for (const [fn, v, want] of cases) assert.deepEqual(fn(v), want, `${fn.name}(${v.slice(0, 20)})`);
});

test('qualified names (label keys) and label values', () => {
  assert.deepEqual(isQualifiedName('app'), []);
  assert.deepEqual(isQualifiedName('example.com/My_Name.x'), []);
  assert.deepEqual(isQualifiedName('-app'), [`name part ${QNAME}`]);
  assert.deepEqual(isQualifiedName('/app'), ['prefix part must be non-empty']);
  assert.deepEqual(isQualifiedName('example.com/'), ['name part must be non-empty', `name part ${QNAME}`]);
  assert.deepEqual(isQualifiedName('Example.com/app'), [`prefix part ${SUBDOMAIN}`]);
  assert.deepEqual(isQualifiedName('a'.repeat(64)), ['name part must be no more than 63 characters']);
  assert.match(isQualifiedName('a/b/c')[0], /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e.g. 'example.com\/MyName'\)$/);
  assert.deepEqual(isValidLabelValue(''), []);
  assert.deepEqual(isValidLabelValue('v1.2_x'), []);
  assert.equal(isValidLabelValue('a b').length, 1);
  assert.deepEqual(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
});

test('ports, config keys, env names, IPs', () => {
  assert.deepEqual(isValidPortName('http'), []);
  assert.deepEqual(isValidPortName('8080'), ['must contain at least one letter (a-z)']);
  assert.deepEqual(isValidPortName('-a--b'), ['must not contain consecutive hyphens', 'must not begin or end with a hyphen']);
  assert.deepEqual(isValidPortName('HTTP'), ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', 'must contain at least one letter (a-z)']);
  assert.deepEqual(isValidPortName('a-very-long-port-name'), ['must be no more than 15 characters']);
  assert.deepEqual(isValidPortNum(0), ['must be between 1 and 65535, inclusive']);
  assert.deepEqual(isValidPortNum(65535), []);
  assert.deepEqual(isConfigMapKey('app.conf'), []);
  assert.deepEqual(isConfigMapKey('..data'), ["must not start with '..'"]);
  assert.equal(isConfigMapKey('a/b').length, 1);
  assert.deepEqual(isRelaxedEnvVarName('MY VAR.x-1'), []);
  assert.deepEqual(isRelaxedEnvVarName('A=B'), ["a valid environment variable name must consist only of printable ASCII characters other than '='"]);
  assert.deepEqual(isValidIP('10.0.0.1'), []);
  assert.deepEqual(isValidIP('::1'), []);
  assert.deepEqual(isValidIP('10.0.0'), ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
  assert.deepEqual(isValidCIDR('10.244.0.0/24'), []);
  assert.equal(isValidCIDR('10.244.0.0/33').length, 1);
});

test('generateName masks a trailing dash like apimachinery', () => {
  assert.equal(maskTrailingDash('linkding-5c77d5f4cf-'), 'linkding-5c77d5f4ca');
  assert.deepEqual(nameIsDNSSubdomain('linkding-5c77d5f4cf-', true), []);
  assert.deepEqual(nameIsDNSSubdomain('linkding-', false), [SUBDOMAIN]);
});
