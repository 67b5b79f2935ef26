import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../util/status.ts';
import { applyFieldValidation, checkFields, fieldProblems, parseFieldValidation, typeErrors, unknownFields, validateFields } from './fields.ts';

const pod = { group: '', version: 'v1', kind: 'Pod' };

/**
 * Pod request bodies as clients send them, fields of the wrong type included (`containerPort: '80'`),
 * which is what these tests feed the decoder: untyped JSON, so not the typed makePod of src/testing.
 */
function podBody(name = 'web') {
  const containers: Record<string, unknown>[] = [];
  const extra: Record<string, unknown> = {};
  const b = {
    container(c: Record<string, unknown>) {
      containers.push({ name: `c${containers.length}`, image: 'busybox', ...c });
      return b;
    },
    spec(s: Record<string, unknown>) {
      Object.assign(extra, s);
      return b;
    },
    build(): Record<string, unknown> {
      return { apiVersion: 'v1', kind: 'Pod', metadata: { name, creationTimestamp: null, labels: { app: 'x' } }, spec: { containers, ...extra }, status: {} };
    },
  };
  return b;
}

describe('fields: unknown fields', () => {
  it('accepts a well-formed pod, including what kubectl run sends', () => {
    const body = podBody()
      .container({ ports: [{ containerPort: 9090 }], resources: { limits: { cpu: 1, memory: '256Mi' } }, livenessProbe: { httpGet: { path: '/h', port: 9090 }, initialDelaySeconds: 5 } })
      .spec({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', nodeSelector: { a: 'b' }, volumes: [{ name: 'd', emptyDir: { sizeLimit: '1Gi' } }] })
      .build();
    assert.deepEqual(checkFields('', 'v1', 'Pod', body), { unknown: [], typeErrors: [] });
  });

  it("names the seed's misspelt probe field with list indexes, as the apiserver does", () => {
    const body = podBody().container({ livenessProbe: { httpGet: { path: '/healthy', port: 9090 }, initialDeleySeconds: 5, timeoutSeconds: 1 } }).build();
    assert.deepEqual(unknownFields('', 'v1', 'Pod', body), ['spec.containers[0].livenessProbe.initialDeleySeconds']);
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['top level', { kind: 'Pod', bogus: 1 }, ['bogus']],
    ['spec', { spec: { bogusField: true, containers: [] } }, ['spec.bogusField']],
    ['second container', { spec: { containers: [{ name: 'a' }, { name: 'b', imagee: 'x' }] } }, ['spec.containers[1].imagee']],
    ['case-sensitive', { spec: { Containers: [] } }, ['spec.Containers']],
    ['inside metadata', { metadata: { name: 'x', labels: { any: 'thing' }, nmae: 'y' } }, ['metadata.nmae']],
    ['several, in order', { spec: { a: 1, containers: [{ name: 'x', b: 2 }] }, c: 3 }, ['spec.a', 'spec.containers[0].b', 'c']],
    ['free-form fieldsV1 accepts anything', { metadata: { managedFields: [{ manager: 'k', fieldsV1: { 'f:spec': { 'f:x': {} } } }] } }, []],
  ];
  for (const [name, body, want] of cases) it(name, () => assert.deepEqual(unknownFields('', 'v1', 'Pod', body), want));

  it('knows other kinds: Event, ConfigMap, Lease', () => {
    assert.deepEqual(unknownFields('', 'v1', 'Event', { involvedObject: { uid: 'u' }, reason: 'x', count: 1, bogus: 1 }), ['bogus']);
    assert.deepEqual(unknownFields('', 'v1', 'ConfigMap', { data: { a: 'b' }, binaryData: { b: 'aGk=' }, immutable: true }), []);
    assert.deepEqual(unknownFields('coordination.k8s.io', 'v1', 'Lease', { spec: { holderIdentity: 'n', renewTime: '2024-01-01T00:00:00.000000Z', holder: 'x' } }), ['spec.holder']);
  });

  it('has nothing to say about kinds it does not know', () => {
    assert.deepEqual(checkFields('example.com', 'v1', 'Widget', { anything: 1 }), { unknown: [], typeErrors: [] });
  });
});

describe('fields: type errors', () => {
  const cases: [string, Record<string, unknown>, string | undefined][] = [
    ['string into int32', podBody().container({ ports: [{ containerPort: '80' }] }).build(),
      'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    ['float into int32', podBody().container({ ports: [{ containerPort: 80.5 }] }).build(),
      'json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    ['out of int32 range', podBody().container({ livenessProbe: { periodSeconds: 2 ** 31 } }).build(),
      'json: cannot unmarshal number 2147483648 into Go struct field Probe.spec.containers.livenessProbe.periodSeconds of type int32'],
    ['number into string', podBody().container({ image: 5 }).build(),
      'json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string'],
    ['object into list', podBody().spec({ containers: { name: 'x' } }).build(),
      'json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container'],
    ['string into struct', { spec: 'nope' }, 'json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec'],
    ['bool into map', { metadata: { labels: true } }, 'json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
    ['number as label value', { metadata: { labels: { a: 1 } } }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels.a of type string'],
    ['string into bool', podBody().spec({ hostNetwork: 'yes' }).build(), 'json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool'],
    ['bool into int-or-string', podBody().container({ livenessProbe: { httpGet: { port: true } } }).build(),
      'json: cannot unmarshal bool into Go struct field HTTPGetAction.spec.containers.livenessProbe.httpGet.port of type int32'],
    ['named int-or-string', podBody().container({ livenessProbe: { httpGet: { port: 'http' } } }).build(), undefined],
    ['bad quantity', podBody().container({ resources: { requests: { cpu: 'lots' } } }).build(),
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['numeric quantity', podBody().container({ resources: { requests: { cpu: 0.5, memory: '128Mi' } } }).build(), undefined],
    ['bad timestamp', { metadata: { creationTimestamp: 'yesterday' } },
      'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    ['null anywhere', { metadata: { creationTimestamp: null, labels: null }, spec: { containers: null } }, undefined],
  ];
  for (const [name, body, want] of cases) {
    it(name, () => assert.equal(typeErrors('', 'v1', 'Pod', body)[0], want));
  }

  it('checks base64 in Secret data', () => {
    assert.deepEqual(typeErrors('', 'v1', 'Secret', { data: { ok: 'aGk=' } }), []);
    assert.match(typeErrors('', 'v1', 'Secret', { data: { bad: 'not base64!' } })[0], /^illegal base64 data at input byte \d+$/);
  });

  it('reports a body that is not an object', () => {
    assert.deepEqual(typeErrors('', 'v1', 'Pod', []), ['json: cannot unmarshal array into Go value of type v1.Pod']);
  });
});

describe('fields: fieldValidation', () => {
  const problems = fieldProblems(['spec.bogusField', 'spec.other'], ['metadata.name']);

  it('words the problems as the apiserver does', () => {
    assert.deepEqual(problems, ['duplicate field "metadata.name"', 'unknown field "spec.bogusField"', 'unknown field "spec.other"']);
  });

  it('Strict fails with 400 and every problem joined', () => {
    assert.throws(() => applyFieldValidation('Strict', fieldProblems(['spec.bogusField']), pod), (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 400);
      assert.equal(e.reason, 'BadRequest');
      assert.equal(e.message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.bogusField"');
      return true;
    });
    assert.throws(() => applyFieldValidation('Strict', problems, pod), /strict decoding error: duplicate field "metadata.name", unknown field "spec.bogusField", unknown field "spec.other"$/);
  });

  it('Warn returns warnings, Ignore nothing, and no problems pass everywhere', () => {
    assert.deepEqual(applyFieldValidation('Warn', problems, pod).warnings, problems);
    assert.deepEqual(applyFieldValidation('Ignore', problems, pod).warnings, []);
    assert.deepEqual(applyFieldValidation('Strict', [], pod).warnings, []);
  });

  it('validateFields: type errors fail even under Ignore', () => {
    const body = podBody().container({ ports: [{ containerPort: 'x' }] }).build();
    assert.throws(() => validateFields(pod, body, 'Ignore'), /^StatusError: Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string/);
    const lease = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };
    assert.throws(() => validateFields(lease, { spec: { x: 1 } }, 'Strict'), /^StatusError: Lease in version "v1" cannot be handled as a Lease: strict decoding error: unknown field "spec.x"$/);
    assert.deepEqual(validateFields(lease, { spec: { x: 1 } }, 'Warn', ['spec.holderIdentity']).warnings, ['duplicate field "spec.holderIdentity"', 'unknown field "spec.x"']);
  });

  it('parses the query parameter', () => {
    assert.equal(parseFieldValidation(null), 'Warn');
    assert.equal(parseFieldValidation('Strict'), 'Strict');
    assert.throws(() => parseFieldValidation('strict'), (e: unknown) => e instanceof StatusError && e.code === 400);
  });
});
