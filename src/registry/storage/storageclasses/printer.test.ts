import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, StorageClass } from '../../../api/types.ts';
import { storageClassPrinter } from './printer.ts';

const NOW = Date.parse('2025-01-01T02:00:00Z');

test('class rows: " (default)" on the default class by either annotation; unset policy and mode show their defaults', () => {
  const meta = (annotations?: Record<string, string>) => ({ name: 'local-path', creationTimestamp: '2025-01-01T00:00:00Z', annotations });
  const cases: Array<{ what: string; c: StorageClass; want: unknown[] }> = [
    { what: 'plain', c: { metadata: meta(), provisioner: 'rancher.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true }, want: ['local-path', 'rancher.io/local-path', 'Retain', 'WaitForFirstConsumer', true, '120m'] },
    { what: 'default, nothing else set', c: { metadata: meta({ 'storageclass.kubernetes.io/is-default-class': 'true' }), provisioner: 'p' }, want: ['local-path (default)', 'p', 'Delete', 'Immediate', false, '120m'] },
    { what: 'beta default annotation', c: { metadata: meta({ 'storageclass.beta.kubernetes.io/is-default-class': 'true' }), provisioner: 'p' }, want: ['local-path (default)', 'p', 'Delete', 'Immediate', false, '120m'] },
    { what: 'annotation not "true"', c: { metadata: meta({ 'storageclass.kubernetes.io/is-default-class': 'yes' }), provisioner: 'p' }, want: ['local-path', 'p', 'Delete', 'Immediate', false, '120m'] },
  ];
  for (const k of cases) assert.deepEqual(storageClassPrinter.print(k.c as StorageClass & KubeObject, NOW).cells, k.want, k.what);
  assert.deepEqual(storageClassPrinter.columns.map((c) => c.name), ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
});
