import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, StatefulSet } from '../../api/types.ts';
import { claimsFor, identityMatches, newStatefulPod, parentAndOrdinal } from './identity.ts';
import { completeRollingUpdate, plan, type Action, type Revision } from './plan.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const OLD: Revision = { name: 'web-old', template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } } };
const NEW: Revision = { name: 'web-new', template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v2' }] } } };

function set(spec: Record<string, unknown> = {}): StatefulSet {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'u1', generation: 2 },
    spec: { replicas: 3, serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: NEW.template!, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, ...spec },
  } as StatefulSet;
}

type State = 'ready' | 'pending' | 'terminating' | 'failed' | 'readyRecently';

/** A member `web-<ord>` at a revision, in a state. */
function member(ord: number, state: State = 'ready', rev = 'web-old', opts: { noIdentity?: boolean } = {}): Pod {
  const name = `web-${ord}`;
  const labels: Record<string, string> = { app: 'web', 'controller-revision-hash': rev };
  if (!opts.noIdentity) labels['statefulset.kubernetes.io/pod-name'] = name;
  const readySince = state === 'readyRecently' ? '2026-01-01T00:09:55Z' : '2026-01-01T00:00:00Z';
  const ready = state === 'ready' || state === 'readyRecently' || state === 'terminating';
  return {
    metadata: { name, namespace: 'default', uid: `uid-${ord}`, labels, ...(state === 'terminating' ? { deletionTimestamp: '2026-01-01T00:09:00Z' } : {}) },
    spec: { containers: [{ name: 'c' }] },
    status: {
      phase: state === 'pending' ? 'Pending' : state === 'failed' ? 'Failed' : 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: readySince }],
    },
  };
}

function show(a: Action): string {
  switch (a.type) {
    case 'create':
      return `create web-${a.ordinal}@${a.revision === NEW ? 'new' : 'old'}`;
    case 'delete':
      return `delete ${a.pod.metadata?.name} (${a.reason})`;
    case 'fixIdentity':
      return `fix ${a.pod.metadata?.name}`;
  }
}

const cases: Array<{ name: string; spec?: Record<string, unknown>; pods: Pod[]; current?: Revision; want: string[]; requeue?: number }> = [
  { name: 'OrderedReady creates web-0 first', pods: [], want: ['create web-0@new'] },
  { name: 'OrderedReady waits for web-0 to be Ready', pods: [member(0, 'pending')], want: [] },
  { name: 'OrderedReady creates web-1 once web-0 is Ready', pods: [member(0, 'ready', 'web-new')], current: NEW, want: ['create web-1@new'] },
  { name: 'Parallel creates every missing pod', spec: { podManagementPolicy: 'Parallel' }, pods: [], want: ['create web-0@new', 'create web-1@new', 'create web-2@new'] },
  { name: 'Parallel does not wait for a pending pod', spec: { podManagementPolicy: 'Parallel' }, pods: [member(0, 'pending', 'web-new')], current: NEW, want: ['create web-1@new', 'create web-2@new'] },
  { name: 'spec.ordinals.start names the first pod', spec: { ordinals: { start: 5 }, replicas: 1 }, pods: [], want: ['create web-5@new'] },
  { name: 'a failed pod is deleted to be made again', pods: [member(0, 'ready', 'web-new'), member(1, 'failed', 'web-new')], current: NEW, want: ['delete web-1 (failed)'] },
  { name: 'OrderedReady waits for a terminating member', pods: [member(0, 'terminating', 'web-new')], current: NEW, want: [] },
  {
    name: 'scale down: the highest ordinal goes first, one at a time',
    spec: { replicas: 1 },
    pods: [member(0, 'ready', 'web-new'), member(1, 'ready', 'web-new'), member(2, 'ready', 'web-new')],
    current: NEW,
    want: ['delete web-2 (scaleDown)'],
  },
  { name: 'scale down waits for the terminating pod', spec: { replicas: 1 }, pods: [member(0, 'ready', 'web-new'), member(1, 'ready', 'web-new'), member(2, 'terminating', 'web-new')], current: NEW, want: [] },
  {
    name: 'scale down waits while an unhealthy pod is not the first unhealthy one',
    spec: { replicas: 2 },
    pods: [member(0, 'ready', 'web-new'), member(1, 'ready', 'web-new'), member(2, 'pending', 'web-new'), member(3, 'pending', 'web-new')],
    current: NEW,
    want: [],
  },
  {
    name: 'scale down deletes the first unhealthy condemned pod',
    spec: { replicas: 2 },
    pods: [member(0, 'ready', 'web-new'), member(1, 'ready', 'web-new'), member(2, 'pending', 'web-new')],
    current: NEW,
    want: ['delete web-2 (scaleDown)'],
  },
  {
    name: 'Parallel scale down deletes all condemned at once',
    spec: { replicas: 1, podManagementPolicy: 'Parallel' },
    pods: [member(0, 'ready', 'web-new'), member(1, 'ready', 'web-new'), member(2, 'pending', 'web-new')],
    current: NEW,
    want: ['delete web-2 (scaleDown)', 'delete web-1 (scaleDown)'],
  },
  { name: 'rolling update: the highest ordinal first', pods: [member(0), member(1), member(2)], want: ['delete web-2 (update)'] },
  { name: 'rolling update waits for the updated pod to be Ready', pods: [member(0), member(1), member(2, 'pending', 'web-new')], want: [] },
  { name: 'rolling update goes on once it is Ready', pods: [member(0), member(1), member(2, 'ready', 'web-new')], want: ['delete web-1 (update)'] },
  { name: 'partition 2 updates only web-2', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, pods: [member(0), member(1), member(2)], want: ['delete web-2 (update)'] },
  { name: 'partition 2 done', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, pods: [member(0), member(1), member(2, 'ready', 'web-new')], want: [] },
  { name: 'below the partition a missing pod is made at the current revision', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, pods: [member(0)], want: ['create web-1@old'] },
  {
    name: 'maxUnavailable 2 replaces two at once',
    spec: { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } },
    pods: [member(0), member(1), member(2)],
    want: ['delete web-2 (update)', 'delete web-1 (update)'],
  },
  {
    name: 'maxUnavailable counts pods already unavailable',
    spec: { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } },
    pods: [member(0), member(1), member(2, 'pending', 'web-new')],
    want: ['delete web-1 (update)'],
  },
  { name: 'OnDelete never deletes for an update', spec: { updateStrategy: { type: 'OnDelete' } }, pods: [member(0), member(1), member(2)], want: [] },
  { name: 'a drifted identity label is put back', pods: [member(0, 'ready', 'web-new', { noIdentity: true })], current: NEW, spec: { replicas: 1 }, want: ['fix web-0'] },
  { name: 'minReadySeconds: not yet available, sync again when it is', spec: { minReadySeconds: 10 }, pods: [member(0, 'readyRecently', 'web-new')], current: NEW, want: [], requeue: NOW + 5000 },
  { name: 'a set being deleted only reports', spec: {}, pods: [], want: [] },
];

for (const c of cases) {
  test(`statefulset plan: ${c.name}`, () => {
    const s = set(c.spec);
    if (c.name.startsWith('a set being deleted')) s.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    const p = plan({ set: s, current: c.current ?? OLD, update: NEW, collisionCount: 0, pods: c.pods, now: NOW });
    assert.deepEqual(p.phases.flat().map(show), c.want);
    if (c.requeue !== undefined) assert.equal(p.requeueAt, c.requeue);
  });
}

test('statefulset plan: status counts, and the update becomes current once all are updated and ready', () => {
  const s = set();
  const p = plan({ set: s, current: OLD, update: NEW, collisionCount: 1, pods: [member(0), member(1, 'ready', 'web-new'), member(2, 'pending', 'web-new')], now: NOW });
  assert.deepEqual(p.status, { observedGeneration: 2, currentRevision: 'web-old', updateRevision: 'web-new', collisionCount: 1, replicas: 3, readyReplicas: 2, availableReplicas: 2, currentReplicas: 1, updatedReplicas: 2 });
  const done = plan({ set: s, current: OLD, update: NEW, collisionCount: 1, pods: [member(0, 'ready', 'web-new'), member(1, 'ready', 'web-new'), member(2, 'ready', 'web-new')], now: NOW });
  completeRollingUpdate(s, done.status);
  assert.equal(done.status.currentRevision, 'web-new');
  assert.equal(done.status.currentReplicas, 3);
});

test('statefulset identity: names, labels, hostname, subdomain and claims', () => {
  const s = set({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] }, status: { phase: 'Pending' } }], persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } });
  s.spec!.template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v2' }], volumes: [{ name: 'www', emptyDir: {} }, { name: 'tmp', emptyDir: {} }] } };
  const owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1' };
  const pod = newStatefulPod(s, owner, s.spec!.template, 4, 'web-new');
  assert.equal(pod.metadata?.name, 'web-4');
  assert.deepEqual(pod.metadata?.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-4', 'apps.kubernetes.io/pod-index': '4', 'controller-revision-hash': 'web-new' });
  assert.equal(pod.spec?.hostname, 'web-4');
  assert.equal(pod.spec?.subdomain, 'web');
  assert.deepEqual(pod.spec?.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-4' } }, { name: 'tmp', emptyDir: {} }]);
  assert.equal(pod.metadata?.ownerReferences?.[0]?.uid, 'u1');
  assert.ok(identityMatches(s, pod));
  const [claim] = claimsFor(s, owner, 4);
  assert.deepEqual(claim, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'www-web-4', namespace: 'default', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }] },
    spec: { accessModes: ['ReadWriteOnce'] },
  });
  assert.deepEqual(
    ['web-0', 'my-db-12', 'web', 'web-x', 'web-99999999999'].map((n) => parentAndOrdinal(n)),
    [{ parent: 'web', ordinal: 0 }, { parent: 'my-db', ordinal: 12 }, { parent: '', ordinal: -1 }, { parent: '', ordinal: -1 }, { parent: 'web', ordinal: -1 }],
  );
});
