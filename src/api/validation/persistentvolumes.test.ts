// PersistentVolume validation as tables: each bad field with kube-apiserver 1.32's message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../field.ts';
import type { PersistentVolume } from '../types.ts';
import { validatePersistentVolume, validatePersistentVolumeStatusUpdate, validatePersistentVolumeUpdate } from './persistentvolumes.ts';

const hostname = (node: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } });
const pv = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): PersistentVolume => ({
  metadata: { name: 'pv-1', resourceVersion: '1', ...meta },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data/pv-1', type: '' }, persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem', ...spec },
});
const messages = (errs: FieldError[]) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
const SUBDOMAIN = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;

test('volumes: each bad field with its message', () => {
  const cases: Array<{ what: string; v: PersistentVolume; want: string[] }> = [
    { what: 'valid hostPath', v: pv(), want: [] },
    { what: 'valid local with node affinity', v: pv({ hostPath: undefined, local: { path: '/mnt/disk' }, nodeAffinity: hostname('n1') }), want: [] },
    { what: 'valid nfs', v: pv({ hostPath: undefined, nfs: { server: 'nfs.example.com', path: '/exports/a' }, accessModes: ['ReadWriteMany'] }), want: [] },
    { what: 'valid csi', v: pv({ hostPath: undefined, csi: { driver: 'hostpath.csi.k8s.io', volumeHandle: 'v1' } }), want: [] },
    { what: 'no capacity', v: pv({ capacity: undefined }), want: ['spec.capacity: Required value', 'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"'] },
    { what: 'capacity without storage', v: pv({ capacity: { cpu: '1' } }), want: ['spec.capacity: Unsupported value: core.ResourceList{"cpu":"1"}: supported values: "storage"'] },
    { what: 'zero capacity', v: pv({ capacity: { storage: '0' } }), want: ['spec.capacity[storage]: Invalid value: "0": must be greater than zero'] },
    { what: 'negative capacity', v: pv({ capacity: { storage: '-1Gi' } }), want: ['spec.capacity[storage]: Invalid value: -1073741824: must be a valid resource quantity', 'spec.capacity[storage]: Invalid value: "-1Gi": must be greater than zero'] },
    { what: 'no access modes', v: pv({ accessModes: [] }), want: ['spec.accessModes: Required value'] },
    { what: 'unknown access mode', v: pv({ accessModes: ['ReadWriteSometimes'] }), want: ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'] },
    { what: 'ReadWriteOncePod with another mode', v: pv({ accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'] }), want: ['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes'] },
    { what: 'no volume source', v: pv({ hostPath: undefined }), want: ['spec: Required value: must specify a volume type'] },
    { what: 'two volume sources', v: pv({ nfs: { server: 's', path: '/x' } }), want: ['spec.nfs: Forbidden: may not specify more than 1 volume type'] },
    { what: 'cephfs second: its error path is cephFS', v: pv({ cephfs: { monitors: ['m'] } }), want: ['spec.cephFS: Forbidden: may not specify more than 1 volume type'] },
    { what: 'hostPath without a path', v: pv({ hostPath: { path: '' } }), want: ['spec.hostPath.path: Required value'] },
    { what: 'hostPath with ..', v: pv({ hostPath: { path: '/data/../etc' } }), want: [`spec.hostPath.path: Invalid value: "/data/../etc": must not contain '..'`] },
    { what: 'hostPath with a bad type', v: pv({ hostPath: { path: '/d', type: 'Folder' } }), want: ['spec.hostPath.type: Unsupported value: "Folder": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"'] },
    { what: 'local without node affinity', v: pv({ hostPath: undefined, local: { path: '/mnt/disk' } }), want: ['spec.nodeAffinity: Required value: Local volume requires node affinity'] },
    { what: 'local without a path', v: pv({ hostPath: undefined, local: { path: '' }, nodeAffinity: hostname('n1') }), want: ['spec.local.path: Required value'] },
    { what: 'node affinity without required', v: pv({ nodeAffinity: {} }), want: ['spec.nodeAffinity.required: Required value: must specify required node constraints'] },
    { what: 'node affinity without terms', v: pv({ nodeAffinity: { required: { nodeSelectorTerms: [] } } }), want: ['spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one node selector term'] },
    { what: 'nfs without server, relative path', v: pv({ hostPath: undefined, nfs: { server: '', path: 'exports' } }), want: ['spec.nfs.server: Required value', 'spec.nfs.path: Invalid value: "exports": must be an absolute path'] },
    { what: 'nfs without path', v: pv({ hostPath: undefined, nfs: { server: 's' } }), want: ['spec.nfs.path: Required value', 'spec.nfs.path: Invalid value: "": must be an absolute path'] },
    { what: 'csi without driver and handle', v: pv({ hostPath: undefined, csi: { driver: '' } }), want: ['spec.csi.driver: Required value', 'spec.csi.volumeHandle: Required value'] },
    { what: 'bad reclaim policy', v: pv({ persistentVolumeReclaimPolicy: 'Keep' }), want: ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"'] },
    { what: 'recycle of /', v: pv({ hostPath: { path: '/' }, persistentVolumeReclaimPolicy: 'Recycle' }), want: ["spec.persistentVolumeReclaimPolicy: Forbidden: may not be 'recycle' for a hostPath mount of '/'"] },
    { what: 'bad volume mode', v: pv({ volumeMode: 'Raw' }), want: ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'] },
    { what: 'bad class name', v: pv({ storageClassName: 'Fast_Disk' }), want: [`spec.storageClassName: Invalid value: "Fast_Disk": ${SUBDOMAIN}`] },
    { what: 'bad name', v: pv({}, { name: 'PV_1' }), want: [`metadata.name: Invalid value: "PV_1": ${SUBDOMAIN}`] },
    { what: 'a namespace', v: pv({}, { namespace: 'default' }), want: ['metadata.namespace: Forbidden: not allowed on this type'] },
    { what: 'mount-options annotation on hostPath', v: pv({}, { annotations: { 'volume.beta.kubernetes.io/mount-options': 'ro' } }), want: ['metadata.annotations.volume.beta.kubernetes.io/mount-options: Forbidden: may not specify mount options for this volume type'] },
    { what: 'mount-options annotation on nfs', v: pv({ hostPath: undefined, nfs: { server: 's', path: '/x' } }, { annotations: { 'volume.beta.kubernetes.io/mount-options': 'ro' } }), want: [] },
  ];
  for (const k of cases) assert.deepEqual(messages(validatePersistentVolume(k.v)), k.want, k.what);
});

test('volume updates: source and mode fixed; node affinity only set once or moved to GA labels; the rest may change', () => {
  const local = (more: Record<string, unknown> = {}) => pv({ hostPath: undefined, local: { path: '/mnt/disk' }, nodeAffinity: hostname('n1'), ...more });
  const beta = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'failure-domain.beta.kubernetes.io/zone', operator: 'In', values: ['z1'] }] }] } };
  const ga = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['z1'] }] }] } };
  const cases: Array<{ what: string; old: PersistentVolume; v: PersistentVolume; want: string[] }> = [
    { what: 'unchanged', old: pv(), v: pv(), want: [] },
    { what: 'capacity, modes, policy, class and claimRef may change', old: pv(), v: pv({ capacity: { storage: '2Gi' }, accessModes: ['ReadWriteMany'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'manual', claimRef: { namespace: 'default', name: 'data' } }), want: [] },
    { what: 'another path', old: pv(), v: pv({ hostPath: { path: '/data/other', type: '' } }), want: ['spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n  hostPath: {"path":"/data/pv-1","type":""} -> {"path":"/data/other","type":""}'] },
    { what: 'volume mode', old: pv(), v: pv({ volumeMode: 'Block' }), want: ['volumeMode: Invalid value: "Block": field is immutable'] },
    { what: 'node affinity set where there was none', old: pv(), v: pv({ nodeAffinity: hostname('n1') }), want: [] },
    { what: 'node affinity changed', old: local(), v: local({ nodeAffinity: hostname('n2') }), want: ['nodeAffinity: Invalid value: {"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["n2"]}]}]}}: field is immutable, except for updating from beta label to GA'] },
    { what: 'beta zone label to GA', old: pv({ nodeAffinity: beta }), v: pv({ nodeAffinity: ga }), want: [] },
    { what: 'csi controllerExpandSecretRef may be added', old: pv({ hostPath: undefined, csi: { driver: 'd.example.com', volumeHandle: 'h' } }), v: pv({ hostPath: undefined, csi: { driver: 'd.example.com', volumeHandle: 'h', controllerExpandSecretRef: { name: 's', namespace: 'n' } } }), want: [] },
  ];
  for (const k of cases) assert.deepEqual(messages(validatePersistentVolumeUpdate(k.v, k.old)), k.want, k.what);
  assert.deepEqual(messages(validatePersistentVolumeStatusUpdate(pv(), pv())), []);
});
