import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim, Pod, Volume } from '../../api/types.ts';
import { makePod } from '../../testing/objects.ts';
import { claimForVolume, hasEphemeralVolume, planPod } from './claim.ts';

const scratch: Volume = {
  name: 'scratch',
  ephemeral: {
    volumeClaimTemplate: {
      metadata: { labels: { app: 'web' }, annotations: { note: 'x' } },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '1Gi' } } },
    },
  },
};
const cache: Volume = { name: 'cache', emptyDir: {} };
const data: Volume = { name: 'data', persistentVolumeClaim: { claimName: 'shared' } };

function podWith(...volumes: Volume[]): Pod {
  return makePod('web', 'ns1').uid('pod-uid').with((p) => (p.spec!.volumes = volumes)).build();
}

function claim(name: string, ownerUid?: string, controller = true): PersistentVolumeClaim {
  return {
    metadata: { name, namespace: 'ns1', ownerReferences: ownerUid ? [{ apiVersion: 'v1', kind: 'Pod', name: 'web', uid: ownerUid, controller }] : undefined },
  };
}

test('claimForVolume: the template under <pod>-<volume>, controlled by the pod', () => {
  const c = claimForVolume(podWith(scratch), scratch);
  assert.deepEqual(c, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: 'web-scratch',
      namespace: 'ns1',
      labels: { app: 'web' },
      annotations: { note: 'x' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'pod-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '1Gi' } } },
  });
  // The template is copied, not shared with the cached pod.
  c.spec!.accessModes!.push('ReadOnlyMany');
  assert.deepEqual(scratch.ephemeral?.volumeClaimTemplate?.spec.accessModes, ['ReadWriteOnce']);
});

test('planPod: one step per ephemeral volume', () => {
  const cases: Array<{ name: string; pod: Pod; claims: PersistentVolumeClaim[]; want: string[] }> = [
    { name: 'no claim yet: create', pod: podWith(cache, scratch, data), claims: [], want: ['scratch:create'] },
    { name: 'its own claim: nothing', pod: podWith(scratch), claims: [claim('web-scratch', 'pod-uid')], want: ['scratch:none'] },
    { name: 'another owner: conflict', pod: podWith(scratch), claims: [claim('web-scratch', 'other')], want: ['scratch:conflict'] },
    { name: 'no owner: conflict', pod: podWith(scratch), claims: [claim('web-scratch')], want: ['scratch:conflict'] },
    { name: 'owned but not controlled: conflict', pod: podWith(scratch), claims: [claim('web-scratch', 'pod-uid', false)], want: ['scratch:conflict'] },
    { name: 'pod being deleted: nothing', pod: makePod('web', 'ns1').terminating().with((p) => (p.spec!.volumes = [scratch])).build(), claims: [], want: [] },
    { name: 'no ephemeral volume', pod: podWith(cache, data), claims: [], want: [] },
  ];
  for (const c of cases) {
    const steps = planPod(c.pod, (n) => c.claims.find((x) => x.metadata?.name === n));
    assert.deepEqual(steps.map((s) => `${s.volume}:${s.action}`), c.want, c.name);
  }
});

test('planPod: the conflict carries Kubernetes message', () => {
  const [step] = planPod(podWith(scratch), () => claim('web-scratch', 'other'));
  assert.equal(step?.action === 'conflict' ? step.message : '', 'PVC ns1/web-scratch was not created for pod ns1/web (pod is not owner)');
});

test('hasEphemeralVolume', () => {
  assert.equal(hasEphemeralVolume(podWith(cache, scratch)), true);
  assert.equal(hasEphemeralVolume(podWith(cache, data)), false);
  assert.equal(hasEphemeralVolume(makePod('bare').build()), false);
});
