// PersistentVolumeClaim validation as tables: each bad field with kube-apiserver 1.32's message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../field.ts';
import type { PersistentVolumeClaim } from '../types.ts';
import { validatePersistentVolumeClaim, validatePersistentVolumeClaimUpdate } from './persistentvolumeclaims.ts';

const pvc = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = { phase: 'Pending' }): PersistentVolumeClaim => ({
  metadata: { name: 'data', namespace: 'ns', resourceVersion: '1' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', ...spec },
  status,
});
const messages = (errs: ReturnType<typeof validatePersistentVolumeClaim>) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

test('claims: each bad field with its message', () => {
  const cases: Array<{ what: string; c: PersistentVolumeClaim; want: string[] }> = [
    { what: 'valid', c: pvc(), want: [] },
    { what: 'every access mode', c: pvc({ accessModes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'], storageClassName: 'local-path', volumeMode: 'Block' }), want: [] },
    { what: 'no access modes', c: pvc({ accessModes: [] }), want: ['spec.accessModes: Required value: at least 1 access mode is required'] },
    { what: 'unknown access mode', c: pvc({ accessModes: ['ReadWriteSometimes'] }), want: ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'] },
    { what: 'ReadWriteOncePod with another mode', c: pvc({ accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'] }), want: ['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes'] },
    { what: 'no storage request', c: pvc({ resources: { requests: { cpu: '1' } } }), want: ['spec.resources[storage]: Required value'] },
    { what: 'no resources at all', c: pvc({ resources: undefined }), want: ['spec.resources[storage]: Required value'] },
    { what: 'zero storage', c: pvc({ resources: { requests: { storage: '0' } } }), want: ['spec.resources[storage]: Invalid value: "0": must be greater than zero'] },
    { what: 'negative storage', c: pvc({ resources: { requests: { storage: '-1Gi' } } }), want: ['spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero'] },
    { what: 'bad volume mode', c: pvc({ volumeMode: 'Raw' }), want: ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'] },
    { what: 'bad class name', c: pvc({ storageClassName: 'Fast_Disk' }), want: [`spec.storageClassName: Invalid value: "Fast_Disk": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`] },
    { what: 'data source of the core group that is not a claim', c: pvc({ dataSource: { kind: 'Pod', name: 'p' } }), want: [`spec.dataSource: Invalid value: "Pod": must be 'PersistentVolumeClaim' when referencing the default apiGroup`] },
  ];
  for (const k of cases) assert.deepEqual(messages(validatePersistentVolumeClaim(k.c)), k.want, k.what);
});

test('claim updates: the spec is fixed except volumeName once, and storage growth and attributes class for bound claims', () => {
  const immutable = 'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';
  const bound = { phase: 'Bound' };
  const cases: Array<{ what: string; old: PersistentVolumeClaim; c: PersistentVolumeClaim; want: string[] }> = [
    { what: 'unchanged', old: pvc(), c: pvc(), want: [] },
    { what: 'volumeName set once', old: pvc(), c: pvc({ volumeName: 'pv-1' }), want: [] },
    { what: 'volumeName changed', old: pvc({ volumeName: 'pv-1' }), c: pvc({ volumeName: 'pv-2' }), want: [immutable] },
    { what: 'access modes changed', old: pvc(), c: pvc({ accessModes: ['ReadWriteMany'] }), want: [immutable] },
    { what: 'class set on a claim without one', old: pvc(), c: pvc({ storageClassName: 'local-path' }), want: [] },
    { what: 'class changed', old: pvc({ storageClassName: 'a' }), c: pvc({ storageClassName: 'b' }), want: [immutable] },
    { what: 'a bound claim grows', old: pvc({ volumeName: 'pv-1' }, bound), c: pvc({ volumeName: 'pv-1', resources: { requests: { storage: '2Gi' } } }, bound), want: [] },
    { what: 'an unbound claim grows', old: pvc(), c: pvc({ resources: { requests: { storage: '2Gi' } } }), want: [immutable] },
    {
      what: 'a bound claim shrinks',
      old: pvc({ volumeName: 'pv-1', resources: { requests: { storage: '2Gi' } } }, bound),
      c: pvc({ volumeName: 'pv-1' }, bound),
      want: ['spec.resources.requests.storage: Forbidden: field can not be less than previous value'],
    },
    { what: 'volume mode changed', old: pvc(), c: pvc({ volumeMode: 'Block' }), want: [immutable, 'volumeMode: Invalid value: "Block": field is immutable'] },
    { what: 'attributes class unset', old: pvc({ volumeAttributesClassName: 'gold' }), c: pvc(), want: ['spec.volumeAttributesClassName: Forbidden: update from non-nil value to nil is forbidden'] },
  ];
  for (const k of cases) {
    // The Forbidden message carries the changed fields after a newline (Go's cmp.Diff there); the first line is Kubernetes'.
    const got = messages(validatePersistentVolumeClaimUpdate(k.c, k.old)).map((m) => m.split('\n')[0]);
    assert.deepEqual(got, k.want, k.what);
  }
});
