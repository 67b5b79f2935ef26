import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim, Pod, Volume } from '../../../api/types.ts';
import { makeNode, makePod } from '../../../testing/objects.ts';
import { filterAll, harness } from '../../testing/harness.ts';

function claim(name: string, o: { volumeName?: string; phase?: string; deleting?: boolean; owner?: string; annotations?: Record<string, string> } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: 'default',
      ...(o.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: o.owner, controller: true }] } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(o.volumeName ? { volumeName: o.volumeName } : {}) },
    status: { phase: o.phase ?? 'Pending' },
  };
}

function podWith(...volumes: Volume[]): Pod {
  const pod = makePod('p').uid('pod-uid').build();
  pod.spec!.volumes = volumes;
  return pod;
}
const pvcVolume = (claimName: string): Volume => ({ name: `v-${claimName}`, persistentVolumeClaim: { claimName } });
const ephemeralVolume = (name: string): Volume => ({ name, ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } });

test('VolumeBinding PreFilter: claims that are missing, being deleted, lost or unbound keep the pod off every node', () => {
  const claims = [
    claim('bound', { volumeName: 'pv-1', phase: 'Bound' }),
    claim('bound-by-annotation', { volumeName: 'pv-2', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }),
    claim('pending'),
    claim('named-but-pending', { volumeName: 'pv-3' }),
    claim('deleting', { volumeName: 'pv-4', phase: 'Bound', deleting: true }),
    claim('lost', { volumeName: 'pv-gone', phase: 'Lost' }),
    claim('p-scratch', { volumeName: 'pv-5', phase: 'Bound', owner: 'pod-uid' }),
    claim('p-foreign', { volumeName: 'pv-6', phase: 'Bound', owner: 'someone-else' }),
  ];
  const h = harness(['VolumeBinding'], [makeNode('n1').build(), makeNode('n2').build()], [], { claims });
  const all = (s: string): Record<string, string> => ({ n1: s, n2: s });
  const unresolvable = (r: string): Record<string, string> => all(`UnschedulableAndUnresolvable: ${r}`);
  const cases: Array<{ name: string; pod: Pod; want: Record<string, string> }> = [
    { name: 'no claims', pod: podWith({ name: 'tmp', emptyDir: {} }), want: all('ok') },
    { name: 'bound claims', pod: podWith(pvcVolume('bound'), pvcVolume('bound-by-annotation')), want: all('ok') },
    { name: 'missing claim', pod: podWith(pvcVolume('bound'), pvcVolume('nope')), want: unresolvable('persistentvolumeclaim "nope" not found') },
    { name: 'pending claim', pod: podWith(pvcVolume('pending')), want: unresolvable('pod has unbound immediate PersistentVolumeClaims') },
    { name: 'volume named, not bound yet', pod: podWith(pvcVolume('named-but-pending')), want: unresolvable('pod has unbound immediate PersistentVolumeClaims') },
    { name: 'claim being deleted', pod: podWith(pvcVolume('deleting')), want: unresolvable('persistentvolumeclaim "deleting" is being deleted') },
    { name: 'lost claim', pod: podWith(pvcVolume('lost')), want: unresolvable('persistentvolumeclaim "lost" bound to non-existent persistentvolume "pv-gone"') },
    // A missing claim is reported before an unbound one, whatever the volume order (podHasPVCs runs first).
    { name: 'unbound then missing', pod: podWith(pvcVolume('pending'), pvcVolume('nope')), want: unresolvable('persistentvolumeclaim "nope" not found') },
    { name: 'ephemeral claim owned by the pod', pod: podWith(ephemeralVolume('scratch')), want: all('ok') },
    { name: 'ephemeral claim not created yet', pod: podWith(ephemeralVolume('cache')), want: unresolvable('waiting for ephemeral volume controller to create the persistentvolumeclaim "p-cache"') },
    { name: 'ephemeral claim of another pod', pod: podWith(ephemeralVolume('foreign')), want: unresolvable('PVC default/p-foreign was not created for pod default/p (pod is not owner)') },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod), c.want, c.name);
});
