import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../../api/field.ts';
import type { StatefulSet } from '../../../api/types.ts';
import { validateStatefulSet, validateStatefulSetStatusUpdate, validateStatefulSetUpdate } from '../../../api/validation/statefulsets.ts';
import { defaultStatefulSet } from './kind.ts';
import { printStatefulSet } from './printer.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

function sts(spec: Record<string, unknown> = {}, name = 'web'): StatefulSet {
  const s = {
    metadata: { name, namespace: 'default' },
    spec: { serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  } as StatefulSet;
  defaultStatefulSet(s);
  return s;
}

test('statefulset defaults are apps/v1 SetDefaults_StatefulSet', () => {
  const s = sts({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1024Mi' } } } }] });
  assert.equal(s.spec?.replicas, 1);
  assert.equal(s.spec?.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(s.spec?.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(s.spec?.revisionHistoryLimit, 10);
  assert.equal(s.spec?.template.spec?.restartPolicy, 'Always');
  assert.equal(s.spec?.template.spec?.dnsPolicy, 'ClusterFirst');
  assert.deepEqual(s.spec?.volumeClaimTemplates?.[0], {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'www' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
    status: { phase: 'Pending' },
  });
  // OnDelete gets no rollingUpdate; a given partition is kept.
  assert.deepEqual(sts({ updateStrategy: { type: 'OnDelete' } }).spec?.updateStrategy, { type: 'OnDelete' });
  assert.deepEqual(sts({ updateStrategy: { rollingUpdate: { partition: 2 } } }).spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
});

const cases: Array<{ name: string; spec: Record<string, unknown>; setName?: string; want: string[] }> = [
  { name: 'valid', spec: {}, want: [] },
  { name: 'bad container name is not validated (as Kubernetes)', spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'Bad_Name', image: 'x' }] } } }, want: [] },
  { name: 'replicas -1', spec: { replicas: -1 }, want: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'] },
  { name: 'minReadySeconds -1', spec: { minReadySeconds: -1 }, want: ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0'] },
  { name: 'ordinals.start -1', spec: { ordinals: { start: -1 } }, want: ['spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0'] },
  { name: 'selector does not match', spec: { selector: { matchLabels: { app: 'db' } } }, want: ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'] },
  {
    name: 'no selector',
    spec: { selector: undefined },
    want: ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'],
  },
  {
    name: 'empty selector',
    spec: { selector: {} },
    want: ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset'],
  },
  { name: 'podManagementPolicy', spec: { podManagementPolicy: 'Fast' }, want: ['spec.podManagementPolicy: Invalid value: "Fast": must be \'OrderedReady\' or \'Parallel\''] },
  {
    name: 'updateStrategy type',
    spec: { updateStrategy: { type: 'Recreate' } },
    want: ['spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:"Recreate", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be \'RollingUpdate\' or \'OnDelete\''],
  },
  {
    name: 'rollingUpdate with OnDelete',
    spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } },
    want: ["spec.updateStrategy.rollingUpdate: Invalid value: &apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'"],
  },
  { name: 'partition -1', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }, want: ['spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0'] },
  { name: 'maxUnavailable 0', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } } }, want: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0'] },
  { name: 'maxUnavailable 0%', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '0%' } } }, want: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0%: cannot be 0'] },
  { name: 'maxUnavailable 150%', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } } }, want: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%'] },
  {
    name: 'maxUnavailable negative',
    spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: -1 } } },
    want: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0'],
  },
  {
    name: 'restartPolicy Never',
    spec: { template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
    want: ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  },
  {
    name: 'activeDeadlineSeconds',
    spec: { template: { metadata: { labels: { app: 'web' } }, spec: { activeDeadlineSeconds: 5, containers: [{ name: 'c', image: 'x' }] } } },
    want: ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported'],
  },
  {
    name: 'retention policy',
    spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Delete' } },
    want: ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"'],
  },
  { name: 'name must be a DNS label', spec: {}, setName: 'web.v1', want: ["metadata.name: Invalid value: \"web.v1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"] },
];

for (const c of cases) {
  test(`statefulset validation: ${c.name}`, () => {
    assert.deepEqual(render(validateStatefulSet(sts(c.spec, c.setName))), c.want);
  });
}

const updates: Array<{ name: string; change: Record<string, unknown>; want: string[] }> = [
  { name: 'replicas, template, strategy, minReadySeconds, ordinals, retention may change', change: { replicas: 5, minReadySeconds: 3, ordinals: { start: 1 }, updateStrategy: { type: 'OnDelete' }, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }, want: [] },
  {
    name: 'serviceName may not',
    change: { serviceName: 'other' },
    want: ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"],
  },
  {
    name: 'selector may not',
    change: { selector: { matchLabels: { app: 'web', x: 'y' } }, template: { metadata: { labels: { app: 'web', x: 'y' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    want: ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"],
  },
  {
    name: 'volumeClaimTemplates may not',
    change: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] },
    want: ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"],
  },
  { name: 'replicas -1 is still invalid', change: { replicas: -1 }, want: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'] },
];

for (const u of updates) {
  test(`statefulset update: ${u.name}`, () => {
    const old = sts();
    old.metadata = { ...old.metadata, resourceVersion: '1' };
    const next = sts(u.change);
    next.metadata = { ...old.metadata };
    assert.deepEqual(render(validateStatefulSetUpdate(next, old)), u.want);
  });
}

test('statefulset status: counts bounded, collisionCount never decremented', () => {
  const old = { ...sts(), metadata: { name: 'web', namespace: 'default', resourceVersion: '1' }, status: { replicas: 1, collisionCount: 2 } };
  const next = { ...old, status: { replicas: 1, readyReplicas: 2, availableReplicas: 1, currentReplicas: 1, collisionCount: 1 } };
  assert.deepEqual(render(validateStatefulSetStatusUpdate(next, old)), [
    'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
    'status.collisionCount: Invalid value: 1: cannot be decremented',
  ]);
});

test('statefulset rows: NAME READY AGE (+ CONTAINERS IMAGES)', () => {
  const s = sts({ replicas: 3 });
  s.status = { replicas: 2, readyReplicas: 2, availableReplicas: 2 };
  s.metadata!.creationTimestamp = '2024-01-01T00:00:00Z';
  assert.deepEqual(printStatefulSet(s, Date.parse('2024-01-01T00:05:00Z')).cells, ['web', '2/3', '5m', 'c', 'busybox']);
});
