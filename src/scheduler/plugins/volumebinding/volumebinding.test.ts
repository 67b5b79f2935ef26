import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass, Volume } from '../../../api/types.ts';
import { CycleState } from '../../framework/cycle-state.ts';
import { newPodInfo } from '../../framework/pod-info.ts';
import { makeNode, makePod } from '../../../testing/objects.ts';
import { filterAll, harness } from '../../testing/harness.ts';

function claim(name: string, o: { volumeName?: string; phase?: string; deleting?: boolean; owner?: string; annotations?: Record<string, string>; storageClassName?: string; storage?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(o.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: o.owner, controller: true }] } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: o.storage ?? '1Gi' } },
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
      ...(o.storageClassName !== undefined ? { storageClassName: o.storageClassName } : {}),
    },
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
  const volumes = ['pv-1', 'pv-2', 'pv-5', 'pv-6'].map((n) => volume(n));
  const h = harness(['VolumeBinding'], [makeNode('n1').build(), makeNode('n2').build()], [], { claims, volumes });
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

function volume(name: string, o: { node?: string; storage?: string; storageClassName?: string; claimRef?: string } = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: o.storage ?? '1Gi' },
      accessModes: ['ReadWriteOnce'],
      hostPath: { path: `/data/${name}` },
      ...(o.storageClassName !== undefined ? { storageClassName: o.storageClassName } : {}),
      ...(o.node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } } } : {}),
      ...(o.claimRef ? { claimRef: { namespace: 'default', name: o.claimRef } } : {}),
    },
    status: { phase: o.claimRef ? 'Bound' : 'Available' },
  };
}

function storageClass(name: string, provisioner: string, mode = 'WaitForFirstConsumer', allowedTopologies?: StorageClass['allowedTopologies']): StorageClass {
  return { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: mode, ...(allowedTopologies ? { allowedTopologies } : {}) };
}

test('VolumeBinding Filter: bound volumes keep the pod on the nodes their affinity allows; missing volumes reject every node', () => {
  const claims = [claim('on-n1', { volumeName: 'pv-n1', phase: 'Bound' }), claim('anywhere', { volumeName: 'pv-any', phase: 'Bound' }), claim('dangling', { volumeName: 'pv-gone', phase: 'Bound' })];
  const volumes = [volume('pv-n1', { node: 'n1' }), volume('pv-any')];
  const h = harness(['VolumeBinding'], [makeNode('n1').build(), makeNode('n2').build()], [], { claims, volumes });
  const conflict = 'UnschedulableAndUnresolvable: node(s) had volume node affinity conflict';
  assert.deepEqual(filterAll(h, podWith(pvcVolume('on-n1'), pvcVolume('anywhere'))), { n1: 'ok', n2: conflict });
  assert.deepEqual(filterAll(h, podWith(pvcVolume('anywhere'))), { n1: 'ok', n2: 'ok' });
  const gone = 'UnschedulableAndUnresolvable: node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
  assert.deepEqual(filterAll(h, podWith(pvcVolume('dangling'))), { n1: gone, n2: gone });
});

test('VolumeBinding Filter: WaitForFirstConsumer claims need a static volume on the node or a provisioner that can make one there', () => {
  const root = { 'local-path.tinykube.io/storage-root': '/var/lib/tinykube/agent/storage' };
  const nodes = [
    makeNode('n1').build(),
    makeNode('n2').with((n) => (n.metadata!.annotations = root)).allocatable({ cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '10Gi' }).build(),
    makeNode('n3').with((n) => (n.metadata!.annotations = root)).allocatable({ cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' }).labels({ zone: 'b' }).build(),
  ];
  const classes = [
    storageClass('local-path', 'tinykube.io/local-path'),
    storageClass('manual', 'kubernetes.io/no-provisioner'),
    storageClass('zoned', 'example.com/disk', 'WaitForFirstConsumer', [{ matchLabelExpressions: [{ key: 'zone', values: ['b'] }] }]),
    storageClass('eager', 'example.com/disk', 'Immediate'),
  ];
  const claims = [
    claim('small', { storageClassName: 'local-path', storage: '1Gi' }),
    claim('big', { storageClassName: 'local-path', storage: '20Gi' }),
    claim('static', { storageClassName: 'manual', storage: '5Gi' }),
    claim('zoned', { storageClassName: 'zoned' }),
    claim('eager', { storageClassName: 'eager' }),
  ];
  const volumes = [
    volume('local-n2', { node: 'n2', storage: '8Gi', storageClassName: 'manual' }),
    // 8Gi of n3's 100Gi already given to a local-path volume.
    { ...volume('lp-n3', { node: 'n3', storage: '85Gi', storageClassName: 'local-path', claimRef: 'other' }), metadata: { name: 'lp-n3', annotations: { 'pv.kubernetes.io/provisioned-by': 'tinykube.io/local-path' } } },
  ];
  const h = harness(['VolumeBinding'], nodes, [], { claims, volumes, classes });
  const u = (r: string) => `UnschedulableAndUnresolvable: ${r}`;
  const noPV = u("node(s) didn't find available persistent volumes to bind");
  const cases: Array<{ name: string; pod: Pod; want: Record<string, string> }> = [
    // n1 publishes no storage root; n2 and n3 have room for 1Gi.
    { name: 'local-path, small', pod: podWith(pvcVolume('small')), want: { n1: noPV, n2: 'ok', n3: 'ok' } },
    // 20Gi fits neither n2 (10Gi) nor n3 (100Gi less 85Gi provisioned).
    { name: 'local-path, too big', pod: podWith(pvcVolume('big')), want: { n1: noPV, n2: u('node(s) did not have enough free storage'), n3: u('node(s) did not have enough free storage') } },
    { name: 'static volume only on n2', pod: podWith(pvcVolume('static')), want: { n1: noPV, n2: 'ok', n3: noPV } },
    { name: 'allowedTopologies', pod: podWith(pvcVolume('zoned')), want: { n1: noPV, n2: noPV, n3: 'ok' } },
    { name: 'an Immediate class is not delayed', pod: podWith(pvcVolume('eager')), want: { n1: u('pod has unbound immediate PersistentVolumeClaims'), n2: u('pod has unbound immediate PersistentVolumeClaims'), n3: u('pod has unbound immediate PersistentVolumeClaims') } },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod), c.want, c.name);
});

test('VolumeBinding Reserve holds a static volume for its pod; Unreserve gives it back; PreBind without an API fails rather than pretend', async () => {
  const classes = [storageClass('manual', 'kubernetes.io/no-provisioner')];
  const claims = [claim('a', { storageClassName: 'manual' }), claim('b', { storageClassName: 'manual' })];
  const volumes = [volume('only', { storageClassName: 'manual' })];
  const h = harness(['VolumeBinding'], [makeNode('n1').build()], [], { claims, volumes, classes });
  const run = (pod: Pod) => {
    const state = new CycleState();
    const info = newPodInfo(pod);
    assert.equal(h.fw.runPreFilterPlugins(state, info).code, 'Success');
    const s = h.fw.runFilterPlugins(state, info, h.cache.list()[0]);
    return { state, info, s };
  };
  const first = run(podWith(pvcVolume('a')));
  assert.equal(first.s.code, 'Success');
  assert.equal(h.fw.runReservePlugins(first.state, first.info, 'n1').code, 'Success');
  // The only volume is held for claim a: claim b's pod finds none.
  assert.deepEqual(run(podWith(pvcVolume('b'))).s.reasons, ["node(s) didn't find available persistent volumes to bind"]);
  h.fw.runUnreservePlugins(first.state, first.info, 'n1');
  assert.equal(run(podWith(pvcVolume('b'))).s.code, 'Success');

  // No API to write with: PreBind fails (and the scheduler retries the pod), it never claims success.
  assert.equal(h.fw.runReservePlugins(first.state, first.info, 'n1').code, 'Success');
  const pre = await h.fw.runPreBindPlugins(first.state, first.info, 'n1');
  assert.equal(pre.code, 'Error');
  assert.match(pre.reasons.join(), /no API/);
});

const LOCAL_ROOT = { 'local-path.tinykube.io/storage-root': '/var/lib/tinykube/agent/storage' };
const rootedNode = (name: string) => makeNode(name).with((n) => (n.metadata!.annotations = { ...LOCAL_ROOT })).allocatable({ cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' }).build();

test('VolumeBinding Filter: a claim that names its node (selected-node, or a reserved pod\'s choice) fits that node only', () => {
  const classes = [storageClass('local-path', 'tinykube.io/local-path')];
  const claims = [
    claim('chosen', { storageClassName: 'local-path', annotations: { 'volume.kubernetes.io/selected-node': 'n2' } }),
    claim('shared', { storageClassName: 'local-path' }),
  ];
  // A static volume on n1 would fit `chosen`, but its node is already named.
  const volumes = [volume('static-n1', { node: 'n1', storageClassName: 'local-path' })];
  const h = harness(['VolumeBinding'], [rootedNode('n1'), rootedNode('n2')], [], { claims, volumes, classes });
  const noPV = "UnschedulableAndUnresolvable: node(s) didn't find available persistent volumes to bind";
  assert.deepEqual(filterAll(h, podWith(pvcVolume('chosen'))), { n1: noPV, n2: 'ok' });

  // Pod a is reserved on n2 with `shared` to provision; pod b with the same claim, scheduled before the
  // informers show a's selected-node, goes to n2 too; once a's cycle is undone, anywhere again.
  const state = new CycleState();
  const a = newPodInfo(podWith(pvcVolume('shared')));
  assert.equal(h.fw.runPreFilterPlugins(state, a).code, 'Success');
  const n2 = h.cache.list().find((n) => n.name === 'n2')!;
  assert.equal(h.fw.runFilterPlugins(state, a, n2).code, 'Success');
  assert.equal(h.fw.runReservePlugins(state, a, 'n2').code, 'Success');
  assert.deepEqual(filterAll(h, podWith(pvcVolume('shared'))), { n1: noPV, n2: 'ok' });
  h.fw.runUnreservePlugins(state, a, 'n2');
  assert.deepEqual(filterAll(h, podWith(pvcVolume('shared'))), { n1: 'ok', n2: 'ok' });
});

test('VolumeBinding PreBind waits for the claims to be bound to volumes the node may use, or fails as checkBindings does', async () => {
  const cases: Array<{ name: string; volumeNode?: string; gaveUp?: Record<string, string>; want: string }> = [
    { name: 'volume on the chosen node', volumeNode: 'n1', want: 'Success' },
    { name: 'volume on another node', volumeNode: 'n2', want: 'Error: binding volumes: pv "pvc-data" node affinity doesn\'t match node "n1": no matching NodeSelectorTerms' },
    { name: 'the provisioner gave up', gaveUp: { 'volume.kubernetes.io/storage-provisioner': 'tinykube.io/local-path' }, want: 'Error: binding volumes: provisioning failed for PVC "data"' },
    { name: 'every annotation removed', gaveUp: {}, want: 'Error: binding volumes: selectedNode annotation reset for PVC "data"' },
  ];
  for (const c of cases) {
    const classes = [storageClass('local-path', 'tinykube.io/local-path')];
    const claims = [claim('data', { storageClassName: 'local-path' })];
    const volumes: PersistentVolume[] = [];
    const at = (rv: string, patch: Partial<PersistentVolumeClaim>): PersistentVolumeClaim => ({ ...claims[0], ...patch, metadata: { ...claims[0]!.metadata, ...patch.metadata, resourceVersion: rv } });
    const volumeWriter = {
      bindVolume: () => Promise.resolve(),
      selectNode: (_c: PersistentVolumeClaim, node: string) => {
        claims[0] = at('2', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': node } } });
        return Promise.resolve('2');
      },
      // Meanwhile the provisioner made the volume (on c.volumeNode) and the PV controller bound both,
      // or the provisioner gave up and took the selected node off the claim.
      now: () => 0,
      claimChange: () => {
        if (c.gaveUp) {
          claims[0] = { ...at('3', {}), metadata: { ...claims[0]!.metadata, resourceVersion: '3', annotations: c.gaveUp } };
          return Promise.resolve();
        }
        volumes.push(volume('pvc-data', { node: c.volumeNode ?? '', storageClassName: 'local-path', claimRef: 'data' }));
        claims[0] = at('3', { spec: { ...claims[0]!.spec, volumeName: 'pvc-data' }, status: { phase: 'Bound' } });
        return Promise.resolve();
      },
    };
    const h = harness(['VolumeBinding'], [rootedNode('n1'), rootedNode('n2')], [], { claims, volumes, classes, volumeWriter });
    const state = new CycleState();
    const info = newPodInfo(podWith(pvcVolume('data')));
    assert.equal(h.fw.runPreFilterPlugins(state, info).code, 'Success');
    assert.equal(h.fw.runFilterPlugins(state, info, h.cache.list().find((n) => n.name === 'n1')!).code, 'Success');
    assert.equal(h.fw.runReservePlugins(state, info, 'n1').code, 'Success');
    const s = await h.fw.runPreBindPlugins(state, info, 'n1');
    assert.equal(s.code === 'Success' ? 'Success' : `${s.code}: ${s.reasons.join()}`, c.want, c.name);
  }
});
