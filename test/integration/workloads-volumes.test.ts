// Claims and pods end to end on simulated nodes: the ephemeral-volume controller makes a pod's
// generic ephemeral claim (owned by the pod, deleted with it by the garbage collector), the PVC
// protection controller keeps a claim in use Terminating until its pod is gone, and a claim of the
// ephemeral name that the pod does not own is reported on the pod. Pods are placed with spec.nodeName:
// their claims stay unbound (no provisioner here), which the scheduler would wait for.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as KubeEvent, PersistentVolume, PersistentVolumeClaim, Pod } from '../../src/api/types.ts';
import { Events, PersistentVolumeClaims, PersistentVolumes, Pods } from '../../src/client/resources.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

const PROTECTION = 'kubernetes.io/pvc-protection';
const PV_PROTECTION = 'kubernetes.io/pv-protection';

let c: WorkloadCluster;
let pods: Watched<Pod>;
let claims: Watched<PersistentVolumeClaim>;
let events: Watched<KubeEvent>;
let node: string;

before(async () => {
  c = await startWorkloadCluster({ nodes: 1 });
  node = c.sim.nodeNames[0]!;
  pods = await c.watch<Pod>(Pods, 'default');
  claims = await c.watch<PersistentVolumeClaim>(PersistentVolumeClaims, 'default');
  events = await c.watch<KubeEvent>(Events, 'default');
});

after(async () => {
  await c.close();
});

const claimSpec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };
const claimNamed = (name: string) => claims.items().find((x) => x.metadata?.name === name);
const isRunning = (name: string) => (all: Pod[]) => all.some((p) => p.metadata?.name === name && p.status?.phase === 'Running');

function pod(name: string, volumes: unknown[]): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox' }], volumes },
  });
}

function ephemeral(name: string): unknown {
  return { name, ephemeral: { volumeClaimTemplate: { metadata: { labels: { made: 'by-template' }, annotations: { note: 'scratch' } }, spec: claimSpec } } };
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('an ephemeral volume gets its claim <pod>-<volume>, owned by the pod and deleted with it', async () => {
  await kubectl(['create', '-f', '-'], pod('eph', [ephemeral('scratch')]));
  await pods.until(isRunning('eph'), 'eph running');
  const uid = pods.items().find((p) => p.metadata?.name === 'eph')?.metadata?.uid;
  const [made] = (await claims.until((all) => all.some((x) => x.metadata?.name === 'eph-scratch' && x.metadata.finalizers?.includes(PROTECTION)), 'eph-scratch made and protected')).filter((x) => x.metadata?.name === 'eph-scratch');
  assert.deepEqual(made?.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: 'eph', uid, controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(made?.metadata?.labels, { made: 'by-template' });
  assert.equal(made?.metadata?.annotations?.note, 'scratch');
  assert.deepEqual(made?.spec?.accessModes, ['ReadWriteOnce']);
  assert.equal(String(made?.spec?.resources?.requests?.storage), '1Gi');

  await kubectl(['delete', 'pod', 'eph']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'eph-scratch'), 'eph-scratch deleted by the garbage collector');
});

test('an ephemeral claim deleted while its pod waits to be scheduled is made again', async () => {
  // Without nodeName: the scheduler holds the pod (its claim is unbound), so nothing uses the claim.
  const spec = JSON.parse(pod('waiter', [ephemeral('scratch')])) as { spec: Record<string, unknown> };
  delete spec.spec.nodeName;
  await kubectl(['create', '-f', '-'], JSON.stringify(spec));
  const [first] = (await claims.until((all) => all.some((x) => x.metadata?.name === 'waiter-scratch' && x.metadata.finalizers?.includes(PROTECTION)), 'waiter-scratch made')).filter((x) => x.metadata?.name === 'waiter-scratch');
  await kubectl(['delete', 'pvc', 'waiter-scratch', '--wait=false']);
  const [again] = (await claims.until((all) => all.some((x) => x.metadata?.name === 'waiter-scratch' && x.metadata.uid !== first?.metadata?.uid), 'waiter-scratch made again')).filter((x) => x.metadata?.name === 'waiter-scratch');
  assert.equal(again?.metadata?.ownerReferences?.[0]?.name, 'waiter');
  await kubectl(['delete', 'pod', 'waiter']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'waiter-scratch'), 'waiter-scratch collected');
});

test('a claim in use stays Terminating until its pod is deleted', async () => {
  const claim = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, finalizers: [PROTECTION, 'example.com/keep'] }, spec: claimSpec });
  await kubectl(['create', '-f', '-'], claim('data'));
  await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'spare', finalizers: [PROTECTION] }, spec: claimSpec }));
  await kubectl(['create', '-f', '-'], pod('user', [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]));
  await pods.until(isRunning('user'), 'user running');

  // One worker takes claims in the order they were queued: once the unused `spare`, deleted after
  // `data`, is gone, `data` has been looked at and kept.
  await kubectl(['delete', 'pvc', 'data', 'spare', '--wait=false']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'spare'), 'spare gone');
  const kept = claimNamed('data');
  assert.ok(kept?.metadata?.deletionTimestamp, 'data is being deleted');
  assert.deepEqual(kept?.metadata?.finalizers, [PROTECTION, 'example.com/keep']);
  const table = await kubectl(['get', 'pvc', 'data', '--no-headers']);
  assert.match(table, /^data\s+Terminating\s/);

  await kubectl(['delete', 'pod', 'user']);
  // The protection goes; the claim's other finalizer is kept (and is ours to remove).
  await claims.until((all) => all.some((x) => x.metadata?.name === 'data' && x.metadata.finalizers?.join() === 'example.com/keep'), 'pvc-protection removed from data');
  await kubectl(['patch', 'pvc', 'data', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'data'), 'data gone');
});

test('a claim of the ephemeral name that the pod does not own is reported on the pod', async () => {
  await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'clash-scratch' }, spec: claimSpec }));
  await kubectl(['create', '-f', '-'], pod('clash', [ephemeral('scratch')]));
  const [ev] = (await events.until((all) => all.some((e) => e.involvedObject?.name === 'clash' && e.reason === 'FailedBinding'), 'FailedBinding on clash')).filter((e) => e.involvedObject?.name === 'clash' && e.reason === 'FailedBinding');
  assert.equal(ev?.type, 'Warning');
  assert.equal(ev?.source?.component, 'ephemeral_volume');
  assert.equal(ev?.message, 'ephemeral volume scratch: PVC default/clash-scratch was not created for pod default/clash (pod is not owner)');
  assert.equal(claimNamed('clash-scratch')?.metadata?.ownerReferences, undefined);
  const described = await kubectl(['describe', 'pod', 'clash']);
  assert.match(described, /Warning\s+FailedBinding\s+.*ephemeral_volume\s+ephemeral volume scratch: PVC default\/clash-scratch was not created for pod default\/clash \(pod is not owner\)/);
});

test('a volume being deleted stays Terminating while Bound', async () => {
  // The volume and its claim name each other (a user's pre-binding); the PV controller completes the
  // binding and keeps the phases.
  const volumes = await c.watch<PersistentVolume>(PersistentVolumes);
  const pv = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, ...extra } });
  await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'vol-claim' }, spec: { ...claimSpec, volumeName: 'pv-bound' } }));
  const [vc] = (await claims.until((all) => all.some((x) => x.metadata?.name === 'vol-claim'), 'vol-claim')).filter((x) => x.metadata?.name === 'vol-claim');
  await kubectl(['create', '-f', '-'], pv('pv-bound', { claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'vol-claim', uid: vc?.metadata?.uid } }));
  await volumes.until((all) => all.some((v) => v.metadata?.name === 'pv-bound' && v.metadata.finalizers?.includes(PV_PROTECTION)), 'pv-bound protected');
  await volumes.until((all) => all.some((v) => v.metadata?.name === 'pv-bound' && v.status?.phase === 'Bound'), 'pv-bound Bound');

  // An unbound volume deleted after it: once that one is gone, the bound one has been looked at and kept.
  await kubectl(['create', '-f', '-'], pv('pv-free'));
  await volumes.until((all) => all.some((v) => v.metadata?.name === 'pv-free' && v.metadata.finalizers?.includes(PV_PROTECTION)), 'pv-free protected');
  await kubectl(['delete', 'pv', 'pv-bound', 'pv-free', '--wait=false']);
  await volumes.until((all) => !all.some((v) => v.metadata?.name === 'pv-free'), 'pv-free gone');
  assert.match(await kubectl(['get', 'pv', 'pv-bound', '--no-headers']), /^pv-bound\s+1Gi\s+RWO\s+Retain\s+Terminating\s+default\/vol-claim\s/);

  // The claim goes, so the volume is Released (Retain) and may go too.
  await kubectl(['delete', 'pvc', 'vol-claim']);
  await volumes.until((all) => !all.some((v) => v.metadata?.name === 'pv-bound'), 'pv-bound gone once Released');
});

test('the controllers reported no failures', () => {
  assert.deepEqual(c.controllerErrors.map((e) => (e as Error).message), []);
});
