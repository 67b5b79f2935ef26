import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldInfo, fieldType, getModel, modelNameForKind, modelNames, parseType, shortName, type FieldType } from './models.ts';

describe('models: field types', () => {
  const cases: [string, string, FieldType | undefined][] = [
    ['V1Container', 'name', { kind: 'scalar', scalar: 'string' }],
    ['V1Container', 'livenessProbe', { kind: 'object', model: 'V1Probe' }],
    ['V1Container', 'ports', { kind: 'array', elem: { kind: 'object', model: 'V1ContainerPort' } }],
    ['V1Container', 'args', { kind: 'array', elem: { kind: 'scalar', scalar: 'string' } }],
    ['V1Probe', 'initialDelaySeconds', { kind: 'scalar', scalar: 'integer', format: 'int32' }],
    ['V1Probe', 'terminationGracePeriodSeconds', { kind: 'scalar', scalar: 'integer', format: 'int64' }],
    ['V1PodSpec', 'hostNetwork', { kind: 'scalar', scalar: 'boolean' }],
    ['V1PodSpec', 'nodeSelector', { kind: 'map', elem: { kind: 'scalar', scalar: 'string' } }],
    ['V1HTTPGetAction', 'port', { kind: 'scalar', scalar: 'int-or-string', format: 'int-or-string' }],
    ['V1ObjectMeta', 'creationTimestamp', { kind: 'scalar', scalar: 'date-time', format: 'date-time' }],
    ['V1LeaseSpec', 'renewTime', { kind: 'scalar', scalar: 'date-time', format: 'date-time-micro' }],
    ['V1ResourceRequirements', 'limits', { kind: 'map', elem: { kind: 'scalar', scalar: 'quantity' } }],
    ['V1EmptyDirVolumeSource', 'sizeLimit', { kind: 'scalar', scalar: 'quantity' }],
    ['V1ManagedFieldsEntry', 'fieldsV1', { kind: 'scalar', scalar: 'any' }],
    ['V1Secret', 'data', { kind: 'map', elem: { kind: 'scalar', scalar: 'string', format: 'byte' } }],
    ['V1Container', 'nope', undefined],
    ['V1NoSuchModel', 'name', undefined],
  ];
  for (const [model, field, want] of cases) {
    it(`${model}.${field}`, () => assert.deepEqual(fieldType(model, field), want));
  }
});

describe('models: catalogue', () => {
  it('carries strategic-merge metadata from patchmeta.ts on list fields', () => {
    assert.deepEqual(fieldInfo('V1PodSpec', 'containers')?.patch, { mergeKey: 'name', strategy: 'merge' });
    assert.deepEqual(fieldInfo('V1PodSpec', 'volumes')?.patch, { mergeKey: 'name', strategy: 'merge,retainKeys' });
    assert.equal(fieldInfo('V1Container', 'args')?.patch, undefined);
  });

  it('keys fields by JSON name, keeping the client-node property name', () => {
    const f = fieldInfo('V1JSONSchemaProps', '$ref');
    assert.equal(f?.property, 'ref');
    assert.equal(fieldInfo('V1JSONSchemaProps', 'default')?.property, '_default');
  });

  it('rejects names that are not identifiers', () => {
    assert.equal(getModel('../index'), undefined);
    assert.equal(getModel(''), undefined);
  });

  it('maps kinds to client-node names, preferring group-prefixed ones', () => {
    assert.equal(modelNameForKind('', 'v1', 'Pod'), 'V1Pod');
    assert.equal(modelNameForKind('', 'v1', 'Event'), 'CoreV1Event');
    assert.equal(modelNameForKind('', 'v1', 'EventList'), 'CoreV1EventList');
    assert.equal(modelNameForKind('coordination.k8s.io', 'v1', 'Lease'), 'V1Lease');
    assert.equal(modelNameForKind('', 'v1', 'Nope'), undefined);
  });

  it('strips version and group prefixes', () => {
    assert.equal(shortName('V1PodSpec'), 'PodSpec');
    assert.equal(shortName('CoreV1Event'), 'Event');
    assert.equal(shortName('V1beta1DeviceRequest'), 'DeviceRequest');
    assert.equal(shortName('V1VolumeMount'), 'VolumeMount');
    assert.equal(shortName('IntOrString'), 'IntOrString');
  });

  it('parses nested type expressions', () => {
    assert.deepEqual(parseType('{ [key: string]: Array<string>; }'), { kind: 'map', elem: { kind: 'array', elem: { kind: 'scalar', scalar: 'string' } } });
  });

  it('loads every model the package ships', () => {
    const names = modelNames();
    assert.ok(names.length > 500);
    for (const n of names) assert.ok(getModel(n), n);
  });
});
