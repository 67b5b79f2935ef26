// persistentVolumeClaim and generic ephemeral volumes through the VolumeManager, with MapConfigSource.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod, Volume } from '../../api/types.ts';
import { ApiError } from '../../client/errors.ts';
import { VolumeError, VolumeManager } from './manager.ts';
import { MapConfigSource } from './sources.ts';

const POD_UID = 'pod-uid';

function podWith(volumes: Volume[]): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: POD_UID }, spec: { containers: [], volumes } };
}

function claim(name: string, o: { phase?: string; volumeName?: string; uid?: string; deleting?: boolean; ownerUid?: string } = {}): PersistentVolumeClaim {
  return {
    metadata: {
      name, namespace: 'ns', uid: o.uid ?? `${name}-uid`,
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
      ...(o.ownerUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: o.ownerUid, controller: true }] } : {}),
    },
    spec: { volumeName: o.volumeName ?? 'pv-1' },
    status: { phase: o.phase ?? 'Bound' },
  };
}

function volume(name: string, claimUid: string | undefined, source: Partial<NonNullable<PersistentVolume['spec']>>): PersistentVolume {
  return {
    metadata: { name },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], ...(claimUid ? { claimRef: { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: claimUid } } : {}), ...source },
  };
}

let dir = '';
let src: MapConfigSource;
let vm: VolumeManager;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tk-pvc-'));
  src = new MapConfigSource();
  vm = new VolumeManager({ root: join(dir, 'agent'), source: src, mounts: false });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('persistentVolumeClaim volumes', () => {
  it('mounts a hostPath PV, creating a DirectoryOrCreate path (the local-path provisioner\'s volumes)', async () => {
    const path = join(dir, 'storage', 'pvc-1_ns_data');
    src.claims.set('ns/data', claim('data'));
    src.volumes.set('pv-1', volume('pv-1', 'data-uid', { hostPath: { path, type: 'DirectoryOrCreate' } }));
    const v = (await vm.setUp(podWith([{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }]))).get('d')!;
    assert.deepEqual(v, { hostPath: path, readOnly: false });
    assert.ok(statSync(path).isDirectory());
  });

  it('makes a local-path volume\'s directory writable for every user, as rancher\'s provisioner does', async () => {
    const path = join(dir, 'storage', 'pvc-2_ns_data');
    src.claims.set('ns/data', claim('data'));
    const pv = volume('pv-1', 'data-uid', { hostPath: { path, type: 'DirectoryOrCreate' } });
    pv.metadata!.annotations = { 'pv.kubernetes.io/provisioned-by': 'tinykube.io/local-path' };
    src.volumes.set('pv-1', pv);
    await vm.setUp(podWith([{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }]));
    assert.equal(statSync(path).mode & 0o777, 0o777);
  });

  it('mounts an nfs PV under a directory named after the PV (a FailedMount where the node cannot mount NFS)', async () => {
    src.claims.set('ns/data', claim('data'));
    src.volumes.set('pv-1', volume('pv-1', 'data-uid', { nfs: { server: '192.0.2.1', path: '/exports' }, mountOptions: ['nfsvers=4.1'] }));
    const want = join(dir, 'agent', 'pods', POD_UID, 'volumes', 'kubernetes.io~nfs', 'pv-1');
    // Unit tests make no mounts: with an NFS client the directory is the volume, without one the FailedMount says so.
    const outcome = await vm.setUp(podWith([{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }])).then(
      (v) => v.get('d')!.hostPath,
      (e: unknown) => (e instanceof VolumeError ? e.message : String(e)),
    );
    assert.ok(outcome === want || outcome === 'MountVolume.SetUp failed for volume "d" : this node has no NFS client: /sbin/mount.nfs not found (install nfs-common)', outcome);
    assert.ok(statSync(want).isDirectory());
  });

  it('makes the volume read-only when the pod\'s claim reference says so', async () => {
    mkdirSync(join(dir, 'local'));
    src.claims.set('ns/data', claim('data'));
    src.volumes.set('pv-1', volume('pv-1', 'data-uid', { local: { path: join(dir, 'local') } }));
    const v = (await vm.setUp(podWith([{ name: 'd', persistentVolumeClaim: { claimName: 'data', readOnly: true } }]))).get('d')!;
    assert.deepEqual(v, { hostPath: join(dir, 'local'), readOnly: true });
  });

  it('mounts a generic ephemeral volume\'s claim <pod>-<volume> when the pod owns it', async () => {
    mkdirSync(join(dir, 'local'));
    src.claims.set('ns/p-scratch', claim('p-scratch', { ownerUid: POD_UID }));
    src.volumes.set('pv-1', volume('pv-1', 'p-scratch-uid', { local: { path: join(dir, 'local') } }));
    const v = (await vm.setUp(podWith([{ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } }]))).get('scratch')!;
    assert.equal(v.hostPath, join(dir, 'local'));
  });

  const ephemeral: Volume = { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } };
  const pvcVolume: Volume = { name: 'd', persistentVolumeClaim: { claimName: 'data' } };
  const process = (v: string, msg: string) =>
    `Unable to attach or mount volumes: unmounted volumes=[${v}], unattached volumes=[], failed to process volumes=[${v}]: ${msg}`;
  // `dir` is per test: messages naming it are computed when the test runs.
  const cases: { name: string; setup(): void; volume?: Volume; message: string | (() => string) }[] = [
    { name: 'claim not found', setup: () => {}, message: process('d', 'error processing PVC ns/data: failed to fetch PVC from API server: persistentvolumeclaims "data" not found') },
    { name: 'claim not bound', setup: () => src.claims.set('ns/data', claim('data', { phase: 'Pending', volumeName: '' })), message: process('d', 'error processing PVC ns/data: PVC is not bound') },
    { name: 'claim being deleted', setup: () => src.claims.set('ns/data', claim('data', { deleting: true })), message: process('d', 'error processing PVC ns/data: PVC is being deleted') },
    { name: 'bound claim without a volume name', setup: () => src.claims.set('ns/data', claim('data', { volumeName: '' })), message: process('d', 'error processing PVC ns/data: PVC has empty pvc.Spec.VolumeName') },
    {
      name: 'PV missing',
      setup: () => src.claims.set('ns/data', claim('data')),
      message: process('d', 'error processing PVC ns/data: failed to fetch PV pv-1 from API server: persistentvolumes "pv-1" not found'),
    },
    {
      name: 'PV not bound back',
      setup: () => {
        src.claims.set('ns/data', claim('data'));
        src.volumes.set('pv-1', volume('pv-1', undefined, { hostPath: { path: dir } }));
      },
      message: process('d', 'error processing PVC ns/data: found PV object pv-1 but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim'),
    },
    {
      name: 'PV bound to another claim',
      setup: () => {
        src.claims.set('ns/data', claim('data'));
        src.volumes.set('pv-1', volume('pv-1', 'other-uid', { hostPath: { path: dir } }));
      },
      message: process('d', 'error processing PVC ns/data: found PV object pv-1 but its pv.Spec.ClaimRef.UID other-uid does not point to claim.UID data-uid'),
    },
    {
      name: 'ephemeral claim the pod does not own',
      volume: ephemeral,
      setup: () => src.claims.set('ns/p-scratch', claim('p-scratch', { ownerUid: 'someone-else' })),
      message: process('scratch', 'PVC ns/p-scratch was not created for pod ns/p (pod is not owner)'),
    },
    {
      name: 'local PV whose path is gone',
      setup: () => {
        src.claims.set('ns/data', claim('data'));
        src.volumes.set('pv-1', volume('pv-1', 'data-uid', { local: { path: join(dir, 'nowhere') } }));
      },
      message: () => `MountVolume.SetUp failed for volume "d" : path "${join(dir, 'nowhere')}" does not exist`,
    },
    {
      name: 'hostPath PV failing its type check',
      setup: () => {
        src.claims.set('ns/data', claim('data'));
        src.volumes.set('pv-1', volume('pv-1', 'data-uid', { hostPath: { path: join(dir, 'nowhere'), type: 'Directory' } }));
      },
      message: () => `MountVolume.SetUp failed for volume "d" : hostPath type check failed: ${join(dir, 'nowhere')} is not a directory`,
    },
    {
      name: 'a PV source the agent cannot mount',
      setup: () => {
        src.claims.set('ns/data', claim('data'));
        src.volumes.set('pv-1', volume('pv-1', 'data-uid', { iscsi: { targetPortal: '10.0.0.1', iqn: 'iqn.x', lun: 0 } }));
      },
      message: 'MountVolume.SetUp failed for volume "d" : persistent volume source of ["iscsi"] is not supported by this node agent',
    },
  ];
  it('reports an API refusal as the FailedMount, not an agent error', async () => {
    src.getPersistentVolumeClaim = async () => {
      throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 403, reason: 'Forbidden', message: 'persistentvolumeclaims "data" is forbidden: no relationship found' });
    };
    await assert.rejects(vm.setUp(podWith([pvcVolume])), {
      name: 'VolumeError',
      message: process('d', 'error processing PVC ns/data: failed to fetch PVC from API server: persistentvolumeclaims "data" is forbidden: no relationship found'),
    });
  });

  for (const c of cases) {
    it(`fails for ${c.name}`, async () => {
      c.setup();
      await assert.rejects(vm.setUp(podWith([c.volume ?? pvcVolume])), { name: 'VolumeError', message: typeof c.message === 'string' ? c.message : c.message() });
    });
  }
});
