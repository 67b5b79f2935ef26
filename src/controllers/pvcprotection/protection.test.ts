import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim, Pod, Volume } from '../../api/types.ts';
import { makePod } from '../../testing/objects.ts';
import { claimKeysToCheck, isDeletionCandidate, needsFinalizer, podUsesClaim, withoutFinalizer } from './protection.ts';

const F = 'kubernetes.io/pvc-protection';
const named = (claimName: string): Volume => ({ name: 'data', persistentVolumeClaim: { claimName } });
const eph: Volume = { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } };

function pod(volumes: Volume[]): ReturnType<typeof makePod> {
  return makePod('web', 'ns1').uid('pod-uid').with((p) => (p.spec!.volumes = volumes));
}
function claim(name: string, ownerUid?: string): PersistentVolumeClaim {
  return { metadata: { name, namespace: 'ns1', ownerReferences: ownerUid ? [{ apiVersion: 'v1', kind: 'Pod', name: 'web', uid: ownerUid, controller: true }] : undefined } };
}

test('isDeletionCandidate and needsFinalizer', () => {
  const cases: Array<[string, PersistentVolumeClaim, boolean, boolean]> = [
    ['new, no finalizer', { metadata: { name: 'a' } }, false, true],
    ['with the finalizer', { metadata: { name: 'a', finalizers: [F] } }, false, false],
    ['deleting with it', { metadata: { name: 'a', finalizers: ['x', F], deletionTimestamp: '2026-01-01T00:00:00Z' } }, true, false],
    ['deleting without it', { metadata: { name: 'a', finalizers: ['x'], deletionTimestamp: '2026-01-01T00:00:00Z' } }, false, false],
  ];
  for (const [name, c, candidate, needs] of cases) {
    assert.equal(isDeletionCandidate(c, F), candidate, name);
    assert.equal(needsFinalizer(c, F), needs, name);
  }
});

test('podUsesClaim matches Kubernetes podUsesPVC', () => {
  const cases: Array<{ name: string; pod: Pod; claim: PersistentVolumeClaim; want: boolean }> = [
    { name: 'scheduled, names it', pod: pod([named('c1')]).onNode('n1').phase('Running').build(), claim: claim('c1'), want: true },
    { name: 'not scheduled: the agent will not start it', pod: pod([named('c1')]).build(), claim: claim('c1'), want: false },
    { name: 'another claim', pod: pod([named('c2')]).onNode('n1').build(), claim: claim('c1'), want: false },
    { name: 'finished pods still hold a named claim', pod: pod([named('c1')]).onNode('n1').phase('Succeeded').build(), claim: claim('c1'), want: true },
    { name: 'being deleted still holds it', pod: pod([named('c1')]).onNode('n1').terminating().build(), claim: claim('c1'), want: true },
    { name: 'other namespace', pod: makePod('web', 'ns2').onNode('n1').with((p) => (p.spec!.volumes = [named('c1')])).build(), claim: claim('c1'), want: false },
    { name: 'ephemeral, its own claim', pod: pod([eph]).onNode('n1').build(), claim: claim('web-scratch', 'pod-uid'), want: true },
    { name: 'ephemeral, a claim it does not control', pod: pod([eph]).onNode('n1').build(), claim: claim('web-scratch', 'other'), want: false },
    { name: 'ephemeral, shut down (grace 0)', pod: pod([eph]).onNode('n1').terminating().with((p) => (p.metadata!.deletionGracePeriodSeconds = 0)).build(), claim: claim('web-scratch', 'pod-uid'), want: false },
    { name: 'ephemeral, still terminating (grace 30)', pod: pod([eph]).onNode('n1').terminating().with((p) => (p.metadata!.deletionGracePeriodSeconds = 30)).build(), claim: claim('web-scratch', 'pod-uid'), want: true },
  ];
  for (const c of cases) assert.equal(podUsesClaim(c.pod, c.claim), c.want, c.name);
});

test('claimKeysToCheck: only pods that may free a claim queue it', () => {
  const vols = [named('c1'), eph, { name: 'tmp', emptyDir: {} }];
  const all = ['ns1/c1', 'ns1/web-scratch'];
  const cases: Array<{ name: string; pod: Pod; deleted: boolean; want: string[] }> = [
    { name: 'running', pod: pod(vols).onNode('n1').phase('Running').build(), deleted: false, want: [] },
    { name: 'deleted', pod: pod(vols).onNode('n1').phase('Running').build(), deleted: true, want: all },
    { name: 'succeeded', pod: pod(vols).onNode('n1').phase('Succeeded').build(), deleted: false, want: all },
    { name: 'failed', pod: pod(vols).onNode('n1').phase('Failed').build(), deleted: false, want: all },
    { name: 'unscheduled', pod: pod(vols).build(), deleted: false, want: all },
    { name: 'terminating, containers exited', pod: pod(vols).onNode('n1').terminating().container({}, { terminated: { exitCode: 0 } }).build(), deleted: false, want: all },
    { name: 'terminating, a container running', pod: pod(vols).onNode('n1').terminating().container({}, { running: {} }).build(), deleted: false, want: [] },
  ];
  for (const c of cases) assert.deepEqual(claimKeysToCheck(c.pod, c.deleted), c.want, c.name);
});

test('withoutFinalizer keeps the others in order', () => {
  assert.deepEqual(withoutFinalizer(['a', F, 'b'], F), ['a', 'b']);
  assert.deepEqual(withoutFinalizer(undefined, F), []);
});
