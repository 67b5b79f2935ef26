// StorageClass validation as tables: each bad field with kube-apiserver 1.32's message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../field.ts';
import type { StorageClass } from '../types.ts';
import { validateStorageClass, validateStorageClassUpdate } from './storageclasses.ts';

const sc = (more: Partial<StorageClass> = {}): StorageClass => ({
  metadata: { name: 'fast', resourceVersion: '1' },
  provisioner: 'example.com/disk',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
  ...more,
});
const messages = (errs: FieldError[]) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
const QUALIFIED = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

test('classes: each bad field with its message', () => {
  const term = (key: string, values: string[]) => ({ matchLabelExpressions: [{ key, values }] });
  const cases: Array<{ what: string; c: StorageClass; want: string[] }> = [
    { what: 'valid', c: sc(), want: [] },
    { what: 'everything set', c: sc({ parameters: { type: 'ssd' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true, mountOptions: ['noatime'], allowedTopologies: [term('topology.kubernetes.io/zone', ['a', 'b'])] }), want: [] },
    { what: 'no provisioner', c: sc({ provisioner: '' }), want: ['provisioner: Required value'] },
    { what: 'bad provisioner, reported lower-cased', c: sc({ provisioner: 'Example.com/Bad Disk' }), want: [`provisioner: Invalid value: "example.com/bad disk": ${QUALIFIED}`] },
    { what: 'empty parameter key', c: sc({ parameters: { '': 'x' } }), want: ['parameters: Invalid value: "": field can not be empty.'] },
    { what: 'reclaim policy Recycle', c: sc({ reclaimPolicy: 'Recycle' }), want: ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"'] },
    { what: 'binding mode', c: sc({ volumeBindingMode: 'Later' }), want: ['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"'] },
    { what: 'no binding mode (defaults give one)', c: sc({ volumeBindingMode: undefined }), want: ['volumeBindingMode: Required value'] },
    { what: 'topology without values', c: sc({ allowedTopologies: [term('zone', [])] }), want: ['allowedTopologies[0].matchLabelExpressions[0].values: Required value'] },
    { what: 'topology duplicate value', c: sc({ allowedTopologies: [term('zone', ['a', 'a'])] }), want: ['allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: "a"'] },
    { what: 'topology duplicate key', c: sc({ allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a'] }, { key: 'zone', values: ['b'] }] }] }), want: ['allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "zone"'] },
    { what: 'duplicate terms', c: sc({ allowedTopologies: [term('zone', ['a', 'b']), term('zone', ['b', 'a'])] }), want: ['allowedTopologies[1].matchLabelExpressions: Duplicate value: ""'] },
    { what: 'bad topology key', c: sc({ allowedTopologies: [term('bad key', ['a'])] }), want: [`allowedTopologies[0].matchLabelExpressions[0].key: Invalid value: "bad key": ${QUALIFIED}`] },
  ];
  for (const k of cases) assert.deepEqual(messages(validateStorageClass(k.c)), k.want, k.what);
});

test('class updates: provisioner, parameters, reclaim policy and binding mode are fixed', () => {
  const old = sc({ parameters: { type: 'ssd' } });
  const cases: Array<{ what: string; c: StorageClass; want: string[] }> = [
    { what: 'annotations, expansion, options and topologies may change', c: sc({ parameters: { type: 'ssd' }, metadata: { name: 'fast', resourceVersion: '1', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, allowVolumeExpansion: true, mountOptions: ['ro'] }), want: [] },
    { what: 'parameters', c: sc({ parameters: { type: 'hdd' } }), want: ['parameters: Forbidden: updates to parameters are forbidden.'] },
    { what: 'provisioner', c: sc({ parameters: { type: 'ssd' }, provisioner: 'example.com/other' }), want: ['provisioner: Forbidden: updates to provisioner are forbidden.'] },
    { what: 'reclaim policy', c: sc({ parameters: { type: 'ssd' }, reclaimPolicy: 'Retain' }), want: ['reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.'] },
    { what: 'binding mode', c: sc({ parameters: { type: 'ssd' }, volumeBindingMode: 'WaitForFirstConsumer' }), want: ['volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable'] },
  ];
  for (const k of cases) assert.deepEqual(messages(validateStorageClassUpdate(k.c, old)), k.want, k.what);
  assert.deepEqual(messages(validateStorageClassUpdate(sc({ parameters: {} }), sc())), [], 'no parameters and {} are the same');
});
