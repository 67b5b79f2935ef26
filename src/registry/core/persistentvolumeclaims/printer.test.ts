import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, PersistentVolumeClaim } from '../../../api/types.ts';
import { accessModesAsString, persistentVolumeClaimPrinter } from './printer.ts';

const NOW = Date.parse('2025-01-01T00:10:00Z');

test('claim rows: volume, capacity and modes only once bound; class from the beta annotation first; wide volume mode', () => {
  const base: PersistentVolumeClaim = {
    metadata: { name: 'data', creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', storageClassName: 'local-path' },
    status: { phase: 'Pending' },
  };
  const cases: Array<{ what: string; c: PersistentVolumeClaim; want: unknown[] }> = [
    { what: 'pending', c: base, want: ['data', 'Pending', '', '', '', 'local-path', '<unset>', '10m', 'Filesystem'] },
    {
      what: 'bound',
      c: { ...base, spec: { ...base.spec, volumeName: 'pv-1', volumeAttributesClassName: 'gold' }, status: { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce', 'ReadOnlyMany'] } },
      want: ['data', 'Bound', 'pv-1', '2Gi', 'RWO,ROX,RWOP', 'local-path', 'gold', '10m', 'Filesystem'],
    },
    {
      what: 'terminating, class by annotation, no mode',
      c: { ...base, metadata: { ...base.metadata, deletionTimestamp: '2025-01-01T00:09:00Z', annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } }, spec: { ...base.spec, volumeMode: undefined } },
      want: ['data', 'Terminating', '', '', '', 'old', '<unset>', '10m', '<unset>'],
    },
  ];
  for (const k of cases) assert.deepEqual(persistentVolumeClaimPrinter.print(k.c as PersistentVolumeClaim & KubeObject, NOW).cells, k.want, k.what);
  assert.deepEqual(persistentVolumeClaimPrinter.columns.map((c) => `${c.name}${c.priority ? '*' : ''}`), ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode*']);
  assert.equal(accessModesAsString(['ReadWriteMany', 'ReadWriteMany']), 'RWX');
});
