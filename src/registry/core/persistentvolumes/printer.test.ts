import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, PersistentVolume } from '../../../api/types.ts';
import { persistentVolumePrinter } from './printer.ts';

const NOW = Date.parse('2025-01-01T00:10:00Z');

test('volume rows: claim as namespace/name, class from the beta annotation first, Terminating once deleted; wide volume mode', () => {
  const base: PersistentVolume = {
    metadata: { name: 'pv-1', creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { capacity: { storage: '1024Mi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'manual', volumeMode: 'Filesystem', hostPath: { path: '/d' } },
    status: { phase: 'Available' },
  };
  const cases: Array<{ what: string; v: PersistentVolume; want: unknown[] }> = [
    { what: 'available', v: base, want: ['pv-1', '1Gi', 'RWO', 'Retain', 'Available', '', 'manual', '<unset>', '', '10m', 'Filesystem'] },
    {
      what: 'bound, several modes, attributes class',
      v: { ...base, spec: { ...base.spec, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], claimRef: { namespace: 'default', name: 'data' }, volumeAttributesClassName: 'gold' } as PersistentVolume['spec'], status: { phase: 'Bound' } },
      want: ['pv-1', '1Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'manual', 'gold', '', '10m', 'Filesystem'],
    },
    {
      what: 'failed with a reason, class by annotation, terminating, no mode, no capacity',
      v: { metadata: { ...base.metadata, deletionTimestamp: '2025-01-01T00:09:00Z', annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } }, spec: { ...base.spec, capacity: undefined, volumeMode: undefined, persistentVolumeReclaimPolicy: 'Delete' }, status: { phase: 'Failed', reason: 'VolumeFailedDelete' } },
      want: ['pv-1', '0', 'RWO', 'Delete', 'Terminating', '', 'old', '<unset>', 'VolumeFailedDelete', '10m', '<unset>'],
    },
  ];
  for (const k of cases) assert.deepEqual(persistentVolumePrinter.print(k.v as PersistentVolume & KubeObject, NOW).cells, k.want, k.what);
  assert.deepEqual(persistentVolumePrinter.columns.map((c) => `${c.name}${c.priority ? '*' : ''}`), ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode*']);
});
