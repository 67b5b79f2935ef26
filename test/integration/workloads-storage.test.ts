// The storage control plane on simulated nodes, end to end through the real kubectl: the default
// `local-path` class (DefaultStorageClass admission, WaitForFirstConsumer, the scheduler's
// VolumeBinding, the local-path provisioner's API half, the PV binder), static volumes bound by the PV
// controller, reclaim policies, the failures users see, StatefulSet volumeClaimTemplates and generic
// ephemeral volumes. Simulated nodes mount nothing and have no local-path deleter (the node agent's):
// a released local-path volume stays Released here.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as KubeEvent, PersistentVolume, PersistentVolumeClaim, Pod } from '../../src/api/types.ts';
import { Events, PersistentVolumeClaims, PersistentVolumes, Pods } from '../../src/client/resources.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let pods: Watched<Pod>;
let claims: Watched<PersistentVolumeClaim>;
let volumes: Watched<PersistentVolume>;
let events: Watched<KubeEvent>;

before(async () => {
  c = await startWorkloadCluster({ nodes: 2 });
  pods = await c.watch<Pod>(Pods, 'default');
  claims = await c.watch<PersistentVolumeClaim>(PersistentVolumeClaims, 'default');
  volumes = await c.watch<PersistentVolume>(PersistentVolumes);
  events = await c.watch<KubeEvent>(Events, 'default');
});

after(async () => {
  await c.close();
});

async function kubectl(args: string[], input?: unknown): Promise<string> {
  const r = await c.kubectl(args, { input: input === undefined ? undefined : JSON.stringify(input) });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** kubectl's table as records keyed by header, cut at the header's column starts (cells may be empty). */
function table(out: string): Record<string, string>[] {
  const [header, ...lines] = out.split('\n').filter((l) => l.trim() !== '');
  const starts: { name: string; at: number }[] = [];
  for (const m of (header ?? '').matchAll(/\S+(?: \S+)*/g)) starts.push({ name: m[0], at: m.index });
  return lines.map((line) => {
    const row: Record<string, string> = {};
    starts.forEach((s, i) => {
      row[s.name] = line.slice(s.at, starts[i + 1]?.at ?? line.length).trim();
    });
    return row;
  });
}

/** A row without its AGE (the one cell a test cannot know). */
function rowOf(out: string): Record<string, string> {
  const rows = table(out);
  assert.equal(rows.length, 1, out);
  const { AGE, ...rest } = rows[0]!;
  assert.match(AGE ?? '', /^\d+s$/);
  return rest;
}

const named = <T extends { metadata?: { name?: string } }>(all: T[], name: string): T | undefined => all.find((x) => x.metadata?.name === name);
const claimNamed = (name: string) => named(claims.items(), name);
const volumeNamed = (name: string) => named(volumes.items(), name);

async function claimWhere(name: string, cond: (x: PersistentVolumeClaim) => boolean, what: string): Promise<PersistentVolumeClaim> {
  const all = await claims.until((xs) => xs.some((x) => x.metadata?.name === name && cond(x)), `${name}: ${what}`);
  return named(all, name)!;
}

async function volumeWhere(name: string, cond: (x: PersistentVolume) => boolean, what: string): Promise<PersistentVolume> {
  const all = await volumes.until((xs) => xs.some((x) => x.metadata?.name === name && cond(x)), `${name}: ${what}`);
  return named(all, name)!;
}

async function podWhere(name: string, cond: (x: Pod) => boolean, what: string): Promise<Pod> {
  const all = await pods.until((xs) => xs.some((x) => x.metadata?.name === name && cond(x)), `${name}: ${what}`);
  return named(all, name)!;
}

/** The event of `reason` about the object `name` (of `kind`), once it exists. */
async function eventFor(kind: string, name: string, reason: string): Promise<KubeEvent> {
  const match = (e: KubeEvent) => e.involvedObject?.kind === kind && e.involvedObject.name === name && e.reason === reason;
  const all = await events.until((xs) => xs.some(match), `${reason} event on ${kind} ${name}`);
  return all.find(match)!;
}

const running = (p: Pod) => p.status?.phase === 'Running' && !!p.spec?.nodeName;

function claim(name: string, spec: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } };
}

function pod(name: string, claimName: string, extra: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }], ...extra },
  };
}

function staticVolume(name: string, storage: string, extra: Record<string, unknown> = {}, labels?: Record<string, string>): unknown {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels },
    spec: { storageClassName: '', capacity: { storage }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/srv/${name}` }, ...extra },
  };
}

/** The single hostname a volume's required node affinity names. */
function affinityNode(pv: PersistentVolume | undefined): string | undefined {
  const terms = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  assert.equal(terms.length, 1);
  const [expr] = terms[0]?.matchExpressions ?? [];
  assert.equal(expr?.key, 'kubernetes.io/hostname');
  assert.equal(expr?.operator, 'In');
  return expr?.values?.length === 1 ? expr.values[0] : undefined;
}

const PVC_HEADER = 'NAME   STATUS   VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE';

test('a claim on the default class waits for its first pod, is provisioned on that pod\'s node, and keeps its pods there', async () => {
  const created = JSON.parse(await kubectl(['create', '-f', '-', '-o', 'json'], claim('data'))) as PersistentVolumeClaim;
  assert.equal(created.spec?.storageClassName, 'local-path', 'DefaultStorageClass admission');

  const wait = await eventFor('PersistentVolumeClaim', 'data', 'WaitForFirstConsumer');
  assert.equal(wait.type, 'Normal');
  assert.equal(wait.source?.component, 'persistentvolume-controller');
  assert.equal(wait.message, 'waiting for first consumer to be created before binding');
  await claimWhere('data', (x) => x.status?.phase === 'Pending', 'Pending');
  const described = await kubectl(['describe', 'pvc', 'data']);
  assert.match(described, /^StorageClass:\s+local-path$/m);
  assert.match(described, /^Status:\s+Pending$/m);
  assert.match(described, /Normal\s+WaitForFirstConsumer\s+\S+\s+persistentvolume-controller\s+waiting for first consumer to be created before binding/);
  const pending = await kubectl(['get', 'pvc', 'data']);
  assert.equal(pending.split('\n')[0]?.replace(/\s+/g, ' '), PVC_HEADER.replace(/\s+/g, ' '));
  assert.deepEqual(rowOf(pending), { NAME: 'data', STATUS: 'Pending', VOLUME: '', CAPACITY: '', 'ACCESS MODES': '', STORAGECLASS: 'local-path', VOLUMEATTRIBUTESCLASS: '<unset>' });

  await kubectl(['create', '-f', '-'], pod('writer', 'data'));
  const first = await podWhere('writer', running, 'Running');
  const node = first.spec?.nodeName ?? '';
  const bound = await claimWhere('data', (x) => x.status?.phase === 'Bound', 'Bound');
  const uid = bound.metadata?.uid ?? '';
  const pvName = `pvc-${uid}`;
  assert.equal(bound.metadata?.annotations?.['volume.kubernetes.io/selected-node'], node);
  assert.equal(bound.metadata?.annotations?.['volume.kubernetes.io/storage-provisioner'], 'tinykube.io/local-path');
  assert.equal(bound.metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(bound.spec?.volumeName, pvName);
  assert.deepEqual(bound.status?.accessModes, ['ReadWriteOnce']);
  assert.equal(String(bound.status?.capacity?.storage), '1Gi');

  const pv = await volumeWhere(pvName, (v) => v.status?.phase === 'Bound', 'Bound');
  assert.deepEqual(pv.spec?.hostPath, { path: `/var/lib/tinykube/simulated/${node}/storage/${pvName}_default_data`, type: 'DirectoryOrCreate' });
  assert.equal(affinityNode(pv), node);
  assert.equal(pv.spec?.persistentVolumeReclaimPolicy, 'Delete');
  assert.equal(pv.spec?.storageClassName, 'local-path');
  assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'tinykube.io/local-path');
  assert.deepEqual(
    { kind: pv.spec?.claimRef?.kind, namespace: pv.spec?.claimRef?.namespace, name: pv.spec?.claimRef?.name, uid: pv.spec?.claimRef?.uid },
    { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid },
  );

  assert.deepEqual(rowOf(await kubectl(['get', 'pvc', 'data'])), {
    NAME: 'data', STATUS: 'Bound', VOLUME: pvName, CAPACITY: '1Gi', 'ACCESS MODES': 'RWO', STORAGECLASS: 'local-path', VOLUMEATTRIBUTESCLASS: '<unset>',
  });
  const pvTable = await kubectl(['get', 'pv', pvName]);
  assert.equal(pvTable.split('\n')[0]?.replace(/\s+/g, ' '), 'NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE');
  assert.deepEqual(rowOf(pvTable), {
    NAME: pvName, CAPACITY: '1Gi', 'ACCESS MODES': 'RWO', 'RECLAIM POLICY': 'Delete', STATUS: 'Bound', CLAIM: 'default/data', STORAGECLASS: 'local-path', VOLUMEATTRIBUTESCLASS: '<unset>', REASON: '',
  });

  const provisioning = await eventFor('PersistentVolumeClaim', 'data', 'Provisioning');
  assert.equal(provisioning.message, 'External provisioner is provisioning volume for claim "default/data"');
  const succeeded = await eventFor('PersistentVolumeClaim', 'data', 'ProvisioningSucceeded');
  assert.equal(succeeded.message, `Successfully provisioned volume ${pvName}`);
  const after = await kubectl(['describe', 'pvc', 'data']);
  assert.match(after, /^Status:\s+Bound$/m);
  assert.match(after, new RegExp(`^Volume:\\s+${pvName}$`, 'm'));
  assert.match(after, /^Used By:\s+writer$/m);
  assert.match(after, /Normal\s+ProvisioningSucceeded\s+.*Successfully provisioned volume pvc-/);

  // The next pod prefers the other node; the volume's node affinity still holds it to this one.
  await kubectl(['delete', 'pod', 'writer']);
  await pods.until((all) => !all.some((p) => p.metadata?.name === 'writer'), 'writer gone');
  const other = c.sim.nodeNames.find((n) => n !== node);
  const prefer = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [other] }] } }] } };
  await kubectl(['create', '-f', '-'], pod('reader', 'data', { affinity: prefer }));
  const second = await podWhere('reader', running, 'Running');
  assert.equal(second.spec?.nodeName, node);
});

test('pods sharing one unbound claim, created at once, all go to the node its volume is provisioned on', async () => {
  const names = ['share-a', 'share-b', 'share-c'];
  await kubectl(['create', '-f', '-'], { apiVersion: 'v1', kind: 'List', items: [claim('shared'), ...names.map((n) => pod(n, 'shared'))] });
  for (const n of names) await podWhere(n, running, 'Running');
  const pv = await volumeWhere(claimNamed('shared')?.spec?.volumeName ?? '', (v) => v.status?.phase === 'Bound', 'Bound');
  const node = affinityNode(pv);
  assert.deepEqual(names.map((n) => named(pods.items(), n)?.spec?.nodeName), [node, node, node]);
  // No pod's binding cycle failed on the way (each one after the first follows the first's choice).
  assert.deepEqual(events.items().filter((e) => names.includes(e.involvedObject?.name ?? '') && e.reason === 'FailedScheduling').map((e) => e.message), []);
  await kubectl(['delete', 'pod', ...names]);
  await kubectl(['delete', 'pvc', 'shared']);
});

test('static volumes bind Immediately: the smallest that fits, by selector, by volumeName; misfits are reported', async () => {
  for (const v of [
    staticVolume('pv-tiny', '100Mi'),
    staticVolume('pv-1g', '1Gi'),
    staticVolume('pv-named', '2Gi'),
    staticVolume('pv-5g', '5Gi'),
    staticVolume('pv-fast', '10Gi', {}, { tier: 'fast' }),
  ]) await kubectl(['create', '-f', '-'], v);
  await volumes.until((all) => all.filter((v) => v.metadata?.name?.startsWith('pv-') && v.status?.phase === 'Available').length === 5, 'five static volumes Available');

  await kubectl(['create', '-f', '-'], claim('small', { storageClassName: '', resources: { requests: { storage: '500Mi' } } }));
  assert.equal((await claimWhere('small', (x) => x.status?.phase === 'Bound', 'Bound')).spec?.volumeName, 'pv-1g');
  const pv1 = await volumeWhere('pv-1g', (v) => v.status?.phase === 'Bound', 'Bound');
  assert.equal(pv1.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
  assert.deepEqual(rowOf(await kubectl(['get', 'pvc', 'small'])), {
    NAME: 'small', STATUS: 'Bound', VOLUME: 'pv-1g', CAPACITY: '1Gi', 'ACCESS MODES': 'RWO', STORAGECLASS: '', VOLUMEATTRIBUTESCLASS: '<unset>',
  });
  assert.deepEqual(rowOf(await kubectl(['get', 'pv', 'pv-1g'])), {
    NAME: 'pv-1g', CAPACITY: '1Gi', 'ACCESS MODES': 'RWO', 'RECLAIM POLICY': 'Retain', STATUS: 'Bound', CLAIM: 'default/small', STORAGECLASS: '', VOLUMEATTRIBUTESCLASS: '<unset>', REASON: '',
  });

  await kubectl(['create', '-f', '-'], claim('picky', { storageClassName: '', selector: { matchLabels: { tier: 'fast' } } }));
  assert.equal((await claimWhere('picky', (x) => x.status?.phase === 'Bound', 'Bound')).spec?.volumeName, 'pv-fast');

  await kubectl(['create', '-f', '-'], claim('chosen', { storageClassName: '', volumeName: 'pv-named' }));
  const chosen = await claimWhere('chosen', (x) => x.status?.phase === 'Bound', 'Bound');
  assert.equal(String(chosen.status?.capacity?.storage), '2Gi');
  assert.equal(chosen.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined, 'the user named the volume');

  await kubectl(['create', '-f', '-'], claim('huge', { storageClassName: '', resources: { requests: { storage: '50Gi' } } }));
  const none = await eventFor('PersistentVolumeClaim', 'huge', 'FailedBinding');
  assert.equal(none.type, 'Normal');
  assert.equal(none.message, 'no persistent volumes available for this claim and no storage class is set');
  assert.equal(claimNamed('huge')?.status?.phase, 'Pending');
  await kubectl(['create', '-f', '-'], pod('needs-huge', 'huge'));
  const unbound = await eventFor('Pod', 'needs-huge', 'FailedScheduling');
  assert.equal(unbound.message?.split('\n')[0], '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
  await kubectl(['delete', 'pod', 'needs-huge']);

  await kubectl(['create', '-f', '-'], claim('squeezed', { storageClassName: '', volumeName: 'pv-tiny' }));
  const mismatch = await eventFor('PersistentVolumeClaim', 'squeezed', 'VolumeMismatch');
  assert.equal(mismatch.type, 'Warning');
  assert.equal(mismatch.message, 'Cannot bind to requested volume "pv-tiny": requested PV is too small');
  assert.equal(claimNamed('squeezed')?.status?.phase, 'Pending');
  assert.match(await kubectl(['describe', 'pvc', 'squeezed']), /Warning\s+VolumeMismatch\s+\S+\s+persistentvolume-controller\s+Cannot bind to requested volume "pv-tiny": requested PV is too small/);

  await kubectl(['create', '-f', '-'], claim('thief', { storageClassName: '', volumeName: 'pv-named' }));
  const taken = await eventFor('PersistentVolumeClaim', 'thief', 'FailedBinding');
  assert.equal(taken.type, 'Warning');
  assert.equal(taken.message, 'volume "pv-named" already bound to a different claim.');
  assert.equal(claimNamed('thief')?.status?.phase, 'Pending');

  // What is left over stays Available.
  assert.equal(volumeNamed('pv-5g')?.status?.phase, 'Available');
  assert.equal(volumeNamed('pv-tiny')?.status?.phase, 'Available');
});

test('local volumes of a WaitForFirstConsumer class without a provisioner are bound by the scheduler on the pod\'s node', async () => {
  await kubectl(['create', '-f', '-'], { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-storage' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
  for (const n of c.sim.nodeNames) {
    await kubectl(['create', '-f', '-'], staticVolume(`local-${n}`, '5Gi', {
      storageClassName: 'local-storage',
      hostPath: undefined,
      local: { path: '/mnt/disks/ssd1' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [n] }] }] } },
    }));
  }
  const target = c.sim.nodeNames[1]!;
  await kubectl(['create', '-f', '-'], claim('fast-disk', { storageClassName: 'local-storage' }));
  assert.equal((await eventFor('PersistentVolumeClaim', 'fast-disk', 'WaitForFirstConsumer')).message, 'waiting for first consumer to be created before binding');
  const pin = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [target] }] }] } } };
  await kubectl(['create', '-f', '-'], pod('disk-user', 'fast-disk', { affinity: pin }));
  assert.equal((await podWhere('disk-user', running, 'Running')).spec?.nodeName, target);
  const bound = await claimWhere('fast-disk', (x) => x.status?.phase === 'Bound', 'Bound');
  assert.equal(bound.spec?.volumeName, `local-${target}`);
  assert.equal(bound.metadata?.annotations?.['volume.kubernetes.io/selected-node'], undefined, 'a static volume needs no provisioner');
  assert.equal(volumeNamed(`local-${target}`)?.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');

  // No local volume is big enough anywhere, and nothing can provision one.
  await kubectl(['create', '-f', '-'], claim('big-disk', { storageClassName: 'local-storage', resources: { requests: { storage: '20Gi' } } }));
  await kubectl(['create', '-f', '-'], pod('big-disk-user', 'big-disk'));
  const failed = await eventFor('Pod', 'big-disk-user', 'FailedScheduling');
  assert.equal(failed.message?.split('\n')[0], "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
  await kubectl(['delete', 'pod', 'disk-user', 'big-disk-user']);
});

test('reclaim: Retain keeps a Released volume, Delete without a deleter fails, a local-path volume waits for its node', async () => {
  await kubectl(['delete', 'pvc', 'small']);
  const released = await volumeWhere('pv-1g', (v) => v.status?.phase === 'Released', 'Released');
  assert.equal(released.spec?.claimRef?.name, 'small', 'a Released volume keeps its claimRef');
  assert.deepEqual(rowOf(await kubectl(['get', 'pv', 'pv-1g'])), {
    NAME: 'pv-1g', CAPACITY: '1Gi', 'ACCESS MODES': 'RWO', 'RECLAIM POLICY': 'Retain', STATUS: 'Released', CLAIM: 'default/small', STORAGECLASS: '', VOLUMEATTRIBUTESCLASS: '<unset>', REASON: '',
  });
  // A Released volume is not offered to a new claim.
  await kubectl(['create', '-f', '-'], claim('small-again', { storageClassName: '', resources: { requests: { storage: '500Mi' } } }));
  assert.equal((await claimWhere('small-again', (x) => x.status?.phase === 'Bound', 'Bound')).spec?.volumeName, 'pv-5g');
  // An administrator who has dealt with the data frees the volume by removing its claimRef.
  await kubectl(['patch', 'pv', 'pv-1g', '--type=merge', '-p', '{"spec":{"claimRef":null}}']);
  await volumeWhere('pv-1g', (v) => v.status?.phase === 'Available', 'Available again');
  await kubectl(['create', '-f', '-'], claim('reuse', { storageClassName: '', resources: { requests: { storage: '500Mi' } } }));
  assert.equal((await claimWhere('reuse', (x) => x.status?.phase === 'Bound', 'Bound')).spec?.volumeName, 'pv-1g');

  await kubectl(['create', '-f', '-'], staticVolume('pv-nfs', '1Gi', { persistentVolumeReclaimPolicy: 'Delete', hostPath: undefined, nfs: { server: '192.0.2.1', path: '/exports/a' } }));
  await kubectl(['create', '-f', '-'], claim('on-nfs', { storageClassName: '', volumeName: 'pv-nfs' }));
  await claimWhere('on-nfs', (x) => x.status?.phase === 'Bound', 'Bound');
  await kubectl(['delete', 'pvc', 'on-nfs']);
  const failed = await volumeWhere('pv-nfs', (v) => v.status?.phase === 'Failed', 'Failed');
  const message = 'error getting deleter volume plugin for volume "pv-nfs": no deletable volume plugin matched';
  assert.equal(failed.status?.message, message);
  const ev = await eventFor('PersistentVolume', 'pv-nfs', 'VolumeFailedDelete');
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.message, message);
  assert.match(await kubectl(['describe', 'pv', 'pv-nfs']), /^Message:\s+error getting deleter volume plugin for volume "pv-nfs": no deletable volume plugin matched$/m);

  // A bound volume removed from under its claim (its protection taken off by hand): the claim is Lost.
  await kubectl(['delete', 'pv', 'pv-fast', '--wait=false']);
  await kubectl(['patch', 'pv', 'pv-fast', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await claimWhere('picky', (x) => x.status?.phase === 'Lost', 'Lost');
  const lost = await eventFor('PersistentVolumeClaim', 'picky', 'ClaimLost');
  assert.equal(lost.type, 'Warning');
  assert.equal(lost.message, 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
  assert.equal(rowOf(await kubectl(['get', 'pvc', 'picky'])).STATUS, 'Lost');

  // The local-path volume of the first test: Released; on a real node its agent removes directory and volume.
  const pvName = claimNamed('data')?.spec?.volumeName ?? '';
  await kubectl(['delete', 'pod', 'reader']);
  await kubectl(['delete', 'pvc', 'data']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'data'), 'data gone');
  const local = await volumeWhere(pvName, (v) => v.status?.phase === 'Released', 'Released');
  assert.equal(local.spec?.persistentVolumeReclaimPolicy, 'Delete');
});

test('an unknown class and a claim no node has room for are reported', async () => {
  await kubectl(['create', '-f', '-'], claim('lost', { storageClassName: 'nope' }));
  const unknown = await eventFor('PersistentVolumeClaim', 'lost', 'ProvisioningFailed');
  assert.equal(unknown.type, 'Warning');
  assert.equal(unknown.message, 'storageclass.storage.k8s.io "nope" not found');
  assert.equal(claimNamed('lost')?.status?.phase, 'Pending');
  // The local volumes' class binds Immediately here: no in-tree plugin provisions for it.
  await kubectl(['create', '-f', '-'], { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'static-only' }, provisioner: 'kubernetes.io/no-provisioner' });
  await kubectl(['create', '-f', '-'], claim('no-plugin', { storageClassName: 'static-only' }));
  const noPlugin = await eventFor('PersistentVolumeClaim', 'no-plugin', 'ProvisioningFailed');
  assert.equal(noPlugin.type, 'Warning');
  assert.equal(noPlugin.message, 'no volume plugin matched name: kubernetes.io/no-provisioner');
  assert.equal(claimNamed('no-plugin')?.metadata?.annotations?.['volume.kubernetes.io/storage-provisioner'], undefined);

  await kubectl(['create', '-f', '-'], claim('vast', { resources: { requests: { storage: '500Gi' } } }));
  await kubectl(['create', '-f', '-'], pod('hoarder', 'vast'));
  const failed = await eventFor('Pod', 'hoarder', 'FailedScheduling');
  assert.equal(failed.type, 'Warning');
  assert.match(failed.message ?? '', /^0\/2 nodes are available: 2 node\(s\) did not have enough free storage\./);
  assert.equal(claimNamed('vast')?.metadata?.annotations?.['volume.kubernetes.io/selected-node'], undefined);
  assert.equal(claimNamed('vast')?.status?.phase, 'Pending');
  await kubectl(['delete', 'pod', 'hoarder']);
});

test('a class with Immediate binding is provisioned before any pod, on a node with room, and its pods follow the volume', async () => {
  await kubectl(['create', '-f', '-'], { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'eager' }, provisioner: 'tinykube.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'Immediate' });
  await kubectl(['create', '-f', '-'], claim('early', { storageClassName: 'eager' }));
  const bound = await claimWhere('early', (x) => x.status?.phase === 'Bound', 'Bound');
  assert.equal(bound.metadata?.annotations?.['volume.kubernetes.io/selected-node'], undefined);
  const pv = await volumeWhere(bound.spec?.volumeName ?? '', (v) => v.status?.phase === 'Bound', 'Bound');
  assert.equal(pv.spec?.persistentVolumeReclaimPolicy, 'Retain');
  const node = affinityNode(pv);
  assert.ok(c.sim.nodeNames.includes(node ?? ''), `pinned to a node: ${node}`);
  await kubectl(['create', '-f', '-'], pod('early-user', 'early'));
  assert.equal((await podWhere('early-user', running, 'Running')).spec?.nodeName, node);

  // Too big for any node: refused, not over-committed.
  await kubectl(['create', '-f', '-'], claim('early-vast', { storageClassName: 'eager', resources: { requests: { storage: '500Gi' } } }));
  const refused = await eventFor('PersistentVolumeClaim', 'early-vast', 'ProvisioningFailed');
  assert.equal(refused.type, 'Warning');
  assert.match(refused.message ?? '', /^failed to provision volume with StorageClass "eager": node "sim-\d" has not enough free storage: requested 500Gi, free \d+(\.\d+)?[GM]i$/);
  assert.equal(claimNamed('early-vast')?.status?.phase, 'Pending');
  await kubectl(['delete', 'pod', 'early-user']);
});

test('a StatefulSet\'s claims are provisioned per replica and a replaced pod returns to its volume', async () => {
  await kubectl(['create', '-f', '-'], {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web' },
    spec: {
      serviceName: 'web',
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  const placed = new Map<string, string>();
  for (const name of ['web-0', 'web-1']) {
    const p = await podWhere(name, running, 'Running');
    const cl = await claimWhere(`data-${name}`, (x) => x.status?.phase === 'Bound', 'Bound');
    assert.equal(cl.spec?.storageClassName, 'local-path');
    const pv = await volumeWhere(cl.spec?.volumeName ?? '', (v) => v.status?.phase === 'Bound', 'Bound');
    assert.equal(affinityNode(pv), p.spec?.nodeName, `${name} runs on its volume's node`);
    assert.equal(cl.metadata?.annotations?.['volume.kubernetes.io/selected-node'], p.spec?.nodeName);
    placed.set(name, p.spec?.nodeName ?? '');
  }
  const rows = table(await kubectl(['get', 'pvc', 'data-web-0', 'data-web-1']));
  assert.deepEqual(rows.map((r) => [r.NAME, r.STATUS, r.CAPACITY, r['ACCESS MODES'], r.STORAGECLASS]), [
    ['data-web-0', 'Bound', '1Gi', 'RWO', 'local-path'],
    ['data-web-1', 'Bound', '1Gi', 'RWO', 'local-path'],
  ]);

  const old = named(pods.items(), 'web-0')?.metadata?.uid;
  const oldVolume = claimNamed('data-web-0')?.spec?.volumeName;
  await kubectl(['delete', 'pod', 'web-0']);
  const back = await podWhere('web-0', (p) => p.metadata?.uid !== old && running(p), 'replaced and Running');
  assert.equal(back.spec?.nodeName, placed.get('web-0'));
  assert.deepEqual(back.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'data-web-0' });
  assert.equal(claimNamed('data-web-0')?.spec?.volumeName, oldVolume);

  await kubectl(['delete', 'statefulset', 'web']);
  await pods.until((all) => !all.some((p) => p.metadata?.name?.startsWith('web-')), 'web pods gone');
  // The default retention policy (Retain): the claims outlive the set.
  assert.deepEqual(['data-web-0', 'data-web-1'].map((n) => claimNamed(n)?.status?.phase), ['Bound', 'Bound']);
});

test('a StatefulSet whose claims are deleted when it scales down and when it is deleted (persistentVolumeClaimRetentionPolicy)', async () => {
  await kubectl(['create', '-f', '-'], {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db' },
    spec: {
      serviceName: 'db',
      replicas: 2,
      persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Delete' },
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  const db1 = await claimWhere('data-db-1', (x) => x.status?.phase === 'Bound', 'Bound');
  await claimWhere('data-db-0', (x) => x.status?.phase === 'Bound', 'Bound');
  await kubectl(['scale', 'statefulset', 'db', '--replicas=1']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'data-db-1'), 'data-db-1 deleted on scale-down');
  await volumeWhere(db1.spec?.volumeName ?? '', (v) => v.status?.phase === 'Released', 'Released');
  await kubectl(['delete', 'statefulset', 'db']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'data-db-0'), 'data-db-0 deleted with the set');
});

test('a generic ephemeral volume on the default class is provisioned for its pod and deleted with it', async () => {
  await kubectl(['create', '-f', '-'], {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'eph' },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
      volumes: [{ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } }],
    },
  });
  const p = await podWhere('eph', running, 'Running');
  const cl = await claimWhere('eph-scratch', (x) => x.status?.phase === 'Bound', 'Bound');
  assert.equal(cl.spec?.storageClassName, 'local-path');
  assert.equal(cl.metadata?.ownerReferences?.[0]?.uid, p.metadata?.uid);
  const pv = await volumeWhere(cl.spec?.volumeName ?? '', (v) => v.status?.phase === 'Bound', 'Bound');
  assert.equal(affinityNode(pv), p.spec?.nodeName);

  await kubectl(['delete', 'pod', 'eph']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'eph-scratch'), 'eph-scratch deleted with its pod');
  await volumeWhere(pv.metadata?.name ?? '', (v) => v.status?.phase === 'Released', 'Released');
});

test('a ReadWriteOncePod claim serves one pod at a time; ReadWriteMany is refused by local-path', async () => {
  await kubectl(['create', '-f', '-'], claim('solo', { accessModes: ['ReadWriteOncePod'] }));
  await kubectl(['create', '-f', '-'], pod('solo-1', 'solo'));
  await podWhere('solo-1', running, 'Running');
  const soloRow = rowOf(await kubectl(['get', 'pvc', 'solo']));
  assert.deepEqual([soloRow.STATUS, soloRow['ACCESS MODES']], ['Bound', 'RWOP']);
  await kubectl(['create', '-f', '-'], pod('solo-2', 'solo'));
  const conflict = await eventFor('Pod', 'solo-2', 'FailedScheduling');
  assert.match(conflict.message ?? '', /^0\/2 nodes are available: (2 )?node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode\./);
  await kubectl(['delete', 'pod', 'solo-1']);
  await podWhere('solo-2', running, 'Running once solo-1 is gone');
  await kubectl(['delete', 'pod', 'solo-2']);

  await kubectl(['create', '-f', '-'], claim('many', { accessModes: ['ReadWriteMany'] }));
  await kubectl(['create', '-f', '-'], pod('many-user', 'many'));
  const refused = await eventFor('Pod', 'many-user', 'FailedScheduling');
  assert.equal(refused.message?.split('\n')[0], "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
  await kubectl(['delete', 'pod', 'many-user']);
});

test('a claim made while no class is default gets the default class once there is one', async () => {
  await kubectl(['annotate', 'storageclass', 'local-path', 'storageclass.kubernetes.io/is-default-class=false', '--overwrite']);
  const created = JSON.parse(await kubectl(['create', '-f', '-', '-o', 'json'], claim('early-bird'))) as PersistentVolumeClaim;
  assert.equal(created.spec?.storageClassName, undefined);
  assert.equal((await eventFor('PersistentVolumeClaim', 'early-bird', 'FailedBinding')).message, 'no persistent volumes available for this claim and no storage class is set');
  await kubectl(['annotate', 'storageclass', 'local-path', 'storageclass.kubernetes.io/is-default-class=true', '--overwrite']);
  await claimWhere('early-bird', (x) => x.spec?.storageClassName === 'local-path', 'given the default class');
  await eventFor('PersistentVolumeClaim', 'early-bird', 'WaitForFirstConsumer');
  await kubectl(['delete', 'pvc', 'early-bird']);
});

test('local-path storage is never over-committed: of three 60Gi claims on two nodes, the third pod waits', async () => {
  const names = ['big-a', 'big-b', 'big-c'];
  await kubectl(['create', '-f', '-'], { apiVersion: 'v1', kind: 'List', items: names.flatMap((n) => [claim(`${n}-data`, { resources: { requests: { storage: '60Gi' } } }), pod(n, `${n}-data`)]) });
  const tooBig = (e: KubeEvent) => names.includes(e.involvedObject?.name ?? '') && e.reason === 'FailedScheduling' && (e.message ?? '').startsWith('0/2 nodes are available: 2 node(s) did not have enough free storage.');
  // Each time the provisioner refuses a node the scheduler picked (it had not yet seen the other
  // volume), the pod backs off (up to 10 s) before it is found to fit nowhere: under load that took
  // longer than 15 s once. The scheduling events seen are named if it never comes.
  const all = await events.until((es) => es.some(tooBig), 'a pod that fits nowhere', 60_000).catch((err: Error) => {
    const seen = events.items().filter((e) => names.includes(e.involvedObject?.name ?? '') && e.reason === 'FailedScheduling');
    throw new Error(`${err.message}; scheduling events: ${JSON.stringify(seen.map((e) => [e.involvedObject?.name, e.count, e.message]))}`);
  });
  const waiting = all.find(tooBig)?.involvedObject?.name ?? '';
  const placed = names.filter((n) => n !== waiting);
  for (const n of placed) await podWhere(n, running, 'Running');
  const nodes = placed.map((n) => named(pods.items(), n)?.spec?.nodeName);
  assert.equal(new Set(nodes).size, 2, `one 60Gi volume per node: ${nodes.join()}`);
  assert.equal(named(pods.items(), waiting)?.spec?.nodeName, undefined);
  assert.equal(volumes.items().filter((v) => v.spec?.claimRef?.name === `${waiting}-data`).length, 0, 'no volume for the claim that fits nowhere');
  // When the provisioner refused a node the scheduler had picked, it said so and the pod was scheduled again.
  for (const e of events.items().filter((x) => x.involvedObject?.name === waiting && x.reason === 'FailedScheduling' && !tooBig(x))) {
    assert.equal(e.message, `running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "${waiting}-data"`);
  }
  await kubectl(['delete', 'pod', ...names]);
});

test('the controllers reported no failures', () => {
  assert.deepEqual(c.controllerErrors.map((e) => (e as Error).message), []);
});
