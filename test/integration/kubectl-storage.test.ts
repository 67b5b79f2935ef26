// PersistentVolumes and StorageClasses through the real kubectl against an in-process API server (no
// controllers: volumes stay Pending): `kubectl apply` of volumes and classes, `get pv,sc` and
// `get pv -o wide` cell by cell, `describe pv` and `describe sc`, a claim without a class given the
// default class by admission (and "" kept), kube-apiserver's 422 messages for bad volumes and classes
// and for changing what is fixed, and the protection finalizers on new volumes and claims.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The rows of a table (or of each table when kubectl prints several) as cells, without the AGE column
 * (its header and any age-shaped cell: empty cells collapse into the gaps, so positions shift).
 */
function rows(table: string): string[][] {
  return table
    .trimEnd()
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.trim().split(/\s{2,}/).filter((c) => c !== 'AGE' && !/^(\d+[smhdy])+$/.test(c)));
}

function manifest(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-storage-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CLASSES = `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-fast
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: manual
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
parameters:
  tier: gold
`;

const VOLUMES = `
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-host
spec:
  storageClassName: manual
  capacity:
    storage: 2Gi
  accessModes: [ReadWriteOnce, ReadWriteMany]
  hostPath:
    path: /tmp/tinykube-pv-host
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-local
spec:
  storageClassName: manual
  capacity:
    storage: 500Mi
  accessModes: [ReadWriteOncePod]
  persistentVolumeReclaimPolicy: Delete
  volumeMode: Block
  local:
    path: /mnt/disks/ssd1
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values: [node-1]
`;

describe('kubectl and storage', () => {
  it('apply volumes and classes; get pv,sc and -o wide; the defaults Kubernetes gives', async () => {
    assert.match(await ok(['apply', '-f', manifest('classes.yaml', CLASSES)]), /storageclass.storage.k8s.io\/local-fast created\nstorageclass.storage.k8s.io\/manual created/);
    assert.match(await ok(['apply', '-f', manifest('volumes.yaml', VOLUMES)]), /persistentvolume\/pv-host created\npersistentvolume\/pv-local created/);

    const table = rows(await ok(['get', 'pv,sc']));
    const pvRows = table.filter((r) => r[0].startsWith('persistentvolume/'));
    assert.deepEqual(pvRows, [
      ['persistentvolume/pv-host', '2Gi', 'RWO,RWX', 'Retain', 'Pending', 'manual', '<unset>'],
      ['persistentvolume/pv-local', '500Mi', 'RWOP', 'Delete', 'Pending', 'manual', '<unset>'],
    ]);
    const scRows = table.filter((r) => r[0].startsWith('storageclass.storage.k8s.io/'));
    assert.deepEqual(scRows.filter((r) => /local-fast|manual/.test(r[0])), [
      ['storageclass.storage.k8s.io/local-fast (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', 'true'],
      ['storageclass.storage.k8s.io/manual', 'kubernetes.io/no-provisioner', 'Retain', 'Immediate', 'false'],
    ]);
    assert.deepEqual(table.filter((r) => r[0] === 'NAME'), [
      ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON'],
      ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION'],
    ]);

    const wide = rows(await ok(['get', 'pv', '-o', 'wide']));
    assert.deepEqual(wide[0], ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'VOLUMEMODE']);
    assert.deepEqual(wide.slice(1).map((r) => [r[0], r.at(-1)]), [['pv-host', 'Filesystem'], ['pv-local', 'Block']]);

    // SetDefaults_PersistentVolume and SetDefaults_StorageClass, the Pending phase with its time, the finalizer.
    const pv = JSON.parse(await ok(['get', 'pv', 'pv-host', '-o', 'json'])) as { metadata: { finalizers: string[]; creationTimestamp: string }; spec: Record<string, unknown>; status: Record<string, unknown> };
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(pv.spec.volumeMode, 'Filesystem');
    assert.deepEqual(pv.spec.hostPath, { path: '/tmp/tinykube-pv-host', type: '' });
    assert.deepEqual(pv.status, { phase: 'Pending', lastPhaseTransitionTime: pv.metadata.creationTimestamp });
    assert.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);
    const sc = JSON.parse(await ok(['get', 'sc', 'local-fast', '-o', 'json'])) as Record<string, unknown>;
    assert.equal(sc.reclaimPolicy, 'Delete');
    assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
    assert.deepEqual(await ok(['api-resources', '--api-group=storage.k8s.io', '--no-headers']).then((o) => o.trim().split(/\s+/)), ['storageclasses', 'sc', 'storage.k8s.io/v1', 'false', 'StorageClass']);
  });

  it('describe pv and describe sc', async () => {
    const pv = await ok(['describe', 'pv', 'pv-local']);
    for (const line of [
      /^Name:\s+pv-local$/m,
      /^Finalizers:\s+\[kubernetes.io\/pv-protection\]$/m,
      /^StorageClass:\s+manual$/m,
      /^Status:\s+Pending$/m,
      /^Reclaim Policy:\s+Delete$/m,
      /^Access Modes:\s+RWOP$/m,
      /^VolumeMode:\s+Block$/m,
      /^Capacity:\s+500Mi$/m,
      /^Node Affinity:\s*\n\s+Required Terms:\s*\n\s+Term 0:\s+kubernetes.io\/hostname in \[node-1\]$/m,
      /^\s+Type:\s+LocalVolume \(a persistent volume backed by local storage on a node\)$/m,
      /^\s+Path:\s+\/mnt\/disks\/ssd1$/m,
    ]) assert.match(pv, line);
    const sc = await ok(['describe', 'sc', 'local-fast']);
    for (const line of [
      /^Name:\s+local-fast$/m,
      /^IsDefaultClass:\s+Yes$/m,
      /^Provisioner:\s+rancher.io\/local-path$/m,
      /^AllowVolumeExpansion:\s+True$/m,
      /^ReclaimPolicy:\s+Delete$/m,
      /^VolumeBindingMode:\s+WaitForFirstConsumer$/m,
    ]) assert.match(sc, line);
    assert.match(await ok(['describe', 'sc', 'manual']), /^Parameters:\s+tier=gold$/m);
  });

  it('a claim without a class gets the default class; "" and a named class are kept; claims carry pvc-protection', async () => {
    const claim = (name: string, cls: string | undefined) => `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
${cls === undefined ? '' : `  storageClassName: "${cls}"\n`}  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`;
    await ok(['apply', '-f', '-'], [claim('data', undefined), claim('no-class', ''), claim('named', 'manual')].join('---\n'));
    const classOf = (name: string) => ok(['get', 'pvc', name, '-o', 'jsonpath={.spec.storageClassName}|{.metadata.finalizers}']);
    assert.equal(await classOf('data'), 'local-fast|["kubernetes.io/pvc-protection"]');
    assert.equal(await classOf('no-class'), '|["kubernetes.io/pvc-protection"]');
    assert.equal(await classOf('named'), 'manual|["kubernetes.io/pvc-protection"]');
  });

  it('bad volumes and classes: 422 with kube-apiserver\'s messages', async () => {
    const cases: Array<{ what: string; yaml: string; message: string }> = [
      {
        what: 'no capacity',
        yaml: 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: no-cap}\nspec: {accessModes: [ReadWriteOnce], hostPath: {path: /tmp/x}}\n',
        message: 'The PersistentVolume "no-cap" is invalid: \n* spec.capacity: Required value\n* spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
      },
      {
        what: 'local without node affinity',
        yaml: 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: bad-local}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], local: {path: /mnt/x}}\n',
        message: 'The PersistentVolume "bad-local" is invalid: spec.nodeAffinity: Required value: Local volume requires node affinity',
      },
      {
        what: 'no volume source',
        yaml: 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: no-source}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}\n',
        message: 'The PersistentVolume "no-source" is invalid: spec: Required value: must specify a volume type',
      },
      {
        what: 'class with Recycle',
        yaml: 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: recycle}\nprovisioner: example.com/p\nreclaimPolicy: Recycle\n',
        message: 'The StorageClass "recycle" is invalid: reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      },
    ];
    for (const k of cases) {
      const r = await kubectl(['create', '-f', '-'], k.yaml);
      assert.notEqual(r.code, 0, k.what);
      assert.equal(r.stderr.trim(), k.message, k.what);
    }
  });

  it('what is fixed stays fixed: a volume\'s source, a class\'s parameters', async () => {
    const pv = await kubectl(['patch', 'pv', 'pv-host', '--type=merge', '-p', '{"spec":{"hostPath":{"path":"/tmp/elsewhere"}}}']);
    assert.notEqual(pv.code, 0);
    assert.match(pv.stderr, /The PersistentVolume "pv-host" is invalid: spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation/);
    const sc = await kubectl(['patch', 'sc', 'manual', '--type=merge', '-p', '{"parameters":{"tier":"silver"},"reclaimPolicy":"Delete"}']);
    assert.notEqual(sc.code, 0);
    assert.equal(sc.stderr.trim(), 'The StorageClass "manual" is invalid: \n* parameters: Forbidden: updates to parameters are forbidden.\n* reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.');
    // What may change does: a class's default annotation and expansion, a volume's capacity and policy.
    await ok(['patch', 'sc', 'manual', '--type=merge', '-p', '{"allowVolumeExpansion":true,"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"false"}}}']);
    await ok(['patch', 'pv', 'pv-host', '--type=merge', '-p', '{"spec":{"capacity":{"storage":"3Gi"},"persistentVolumeReclaimPolicy":"Delete"}}']);
    assert.deepEqual(rows(await ok(['get', 'pv', 'pv-host']))[1], ['pv-host', '3Gi', 'RWO,RWX', 'Delete', 'Pending', 'manual', '<unset>']);
  });
});
