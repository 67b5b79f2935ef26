import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, FieldPath, type FieldError } from '../field.ts';
import type { ObjectMeta } from '../types.ts';
import { prepareObjectMetaForUpdate, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { nameIsDNSLabel, nameIsDNSSubdomain } from './names.ts';

/** Errors as kubectl prints them: "<field>: <message>". */
const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

const pod = { namespaced: true, nameFn: nameIsDNSSubdomain };
const namespace = { namespaced: false, nameFn: nameIsDNSLabel };

test('create: names, namespace, labels, annotations, owners, finalizers', () => {
  const cases: [string, ObjectMeta, typeof pod, string[]][] = [
    ['valid', { name: 'web', namespace: 'default', labels: { app: 'web' } }, pod, []],
    ['no name', { namespace: 'default' }, pod, ['metadata.name: Required value: name or generateName is required']],
    [
      'bad name',
      { name: 'Bad_Name', namespace: 'default' },
      pod,
      [
        "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    ['namespace required', { name: 'web' }, pod, ['metadata.namespace: Required value']],
    ['namespace forbidden on cluster-scoped', { name: 'dev', namespace: 'x' }, namespace, ['metadata.namespace: Forbidden: not allowed on this type']],
    ['negative generation', { name: 'web', namespace: 'default', generation: -1 }, pod, ['metadata.generation: Invalid value: -1: must be greater than or equal to 0']],
    ['bad label value', { name: 'web', namespace: 'default', labels: { app: 'a b' } }, pod, [
      "metadata.labels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]],
    ['annotation keys are case-insensitive', { name: 'web', namespace: 'default', annotations: { 'Example.COM/Key': 'x' } }, pod, []],
    ['annotations too large', { name: 'web', namespace: 'default', annotations: { big: 'x'.repeat(256 * 1024) } }, pod, [
      'metadata.annotations: Too long: may not be more than 262144 bytes',
    ]],
    ['owner reference fields', { name: 'web', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/', kind: '', name: '', uid: '' }] }, pod, [
      'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ]],
    ['finalizer not standard', { name: 'web', namespace: 'default', finalizers: ['custom'] }, pod, [
      'metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]],
    ['finalizers fine', { name: 'web', namespace: 'default', finalizers: ['kubernetes', 'example.com/cleanup'] }, pod, []],
    ['generateName validated with the trailing dash masked', { name: 'web-x1', generateName: 'web-', namespace: 'default' }, pod, []],
  ];
  for (const [name, meta, rules, want] of cases) assert.deepEqual(render(validateObjectMeta(meta, rules)), want, name);
});

test('only one controller owner', () => {
  const errs = render(
    validateObjectMeta(
      {
        name: 'web',
        namespace: 'default',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true },
        ],
      },
      pod,
    ),
  );
  assert.equal(errs.length, 1);
  assert.match(errs[0], /Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/a and ReplicaSet\/b$/);
});

test('update: identity is immutable and resourceVersion required', () => {
  const old: ObjectMeta = { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5', creationTimestamp: '2024-01-01T00:00:00Z' };
  assert.deepEqual(render(validateObjectMetaUpdate({ ...old }, old)), []);
  assert.deepEqual(render(validateObjectMetaUpdate({ ...old, resourceVersion: undefined }, old)), [
    'metadata.resourceVersion: Invalid value: "": must be specified for an update',
  ]);
  assert.deepEqual(render(validateObjectMetaUpdate({ ...old, name: 'db', uid: 'u2' }, old)), [
    'metadata.name: Invalid value: "db": field is immutable',
    'metadata.uid: Invalid value: "u2": field is immutable',
  ]);
  const deleting = { ...old, deletionTimestamp: '2024-01-02T00:00:00Z', finalizers: ['a.io/x'] };
  assert.deepEqual(render(validateObjectMetaUpdate({ ...deleting, finalizers: ['a.io/x', 'b.io/y'] }, deleting)), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}',
  ]);
});

test('prepareObjectMetaForUpdate keeps what clients may not change', () => {
  const old: ObjectMeta = { name: 'web', uid: 'u1', generation: 3, creationTimestamp: 't0', deletionTimestamp: 't1', deletionGracePeriodSeconds: 30 };
  const meta: ObjectMeta = { name: 'web', generation: 9, creationTimestamp: 'other' };
  prepareObjectMetaForUpdate(meta, old);
  assert.deepEqual(meta, { name: 'web', uid: 'u1', generation: 3, creationTimestamp: 't0', deletionTimestamp: 't1', deletionGracePeriodSeconds: 30 });
});

test('label selectors in affinity and topology spread', () => {
  const p = new FieldPath('spec').child('labelSelector');
  assert.deepEqual(render(validateLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, {}, p)), []);
  assert.deepEqual(
    render(
      validateLabelSelector(
        {
          matchExpressions: [
            { key: 'tier', operator: 'In', values: [] },
            { key: 'zone', operator: 'Exists', values: ['x'] },
            { key: 'env', operator: 'Equals', values: ['x'] },
          ],
        },
        {},
        p,
      ),
    ),
    [
      "spec.labelSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.labelSelector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      'spec.labelSelector.matchExpressions[2].operator: Invalid value: "Equals": not a valid selector operator',
    ],
  );
});
