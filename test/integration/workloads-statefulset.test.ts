// StatefulSets end to end on simulated nodes: ordered start (a watch proves web-1 is created only once
// web-0 is Ready), reverse scale-down, partitioned rolling update, rollout status/history/undo,
// Parallel creation, claim templates, kubectl's columns and the API's 422s.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, Event as KubeEvent, PersistentVolumeClaim, Pod, StatefulSet } from '../../src/api/types.ts';
import { ControllerRevisions, Events, PersistentVolumeClaims, Pods, StatefulSets } from '../../src/client/resources.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let pods: Watched<Pod>;
let sets: Watched<StatefulSet>;
let events: Watched<KubeEvent>;

before(async () => {
  c = await startWorkloadCluster({ nodes: 2 });
  pods = await c.watch<Pod>(Pods, 'default');
  sets = await c.watch<StatefulSet>(StatefulSets, 'default');
  events = await c.watch<KubeEvent>(Events, 'default');
});

after(async () => {
  await c.close();
});

const isReady = (p: Pod | undefined) => !!p && p.status?.phase === 'Running' && !!p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
const members = (prefix: string) => pods.items().filter((p) => new RegExp(`^${prefix}-[0-9]+$`).test(p.metadata?.name ?? ''));
const revisionOf = (p: Pod | undefined) => p?.metadata?.labels?.['controller-revision-hash'];
const podNamed = (name: string) => pods.items().find((p) => p.metadata?.name === name);

function manifest(name: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [{ name: 'c', image: 'busybox:v1' }] } },
      ...spec,
    },
  });
}

async function setReady(name: string, replicas: number): Promise<void> {
  await sets.until((all) => {
    const s = all.find((x) => x.metadata?.name === name);
    return !!s && s.status?.observedGeneration === s.metadata?.generation && s.status?.readyReplicas === replicas && s.status?.replicas === replicas && members(name).length === replicas;
  }, `${name}: ${replicas} ready`);
}

test('OrderedReady: web-0, web-1, web-2 created in order, each once its predecessor is Ready', async () => {
  const outOfOrder: string[] = [];
  const created: string[] = [];
  const off = pods.informer.addEventHandler({
    onAdd: (p) => {
      const name = p.metadata?.name ?? '';
      const m = /^web-([0-9]+)$/.exec(name);
      if (!m) return;
      created.push(name);
      const ord = Number(m[1]);
      if (ord > 0 && !isReady(podNamed(`web-${ord - 1}`))) outOfOrder.push(`${name} created while web-${ord - 1} was not Ready`);
    },
  });
  const r = await c.kubectl(['apply', '-f', '-'], { input: manifest('web') });
  assert.equal(r.code, 0, r.stderr);
  await setReady('web', 3);
  off();
  assert.deepEqual(created, ['web-0', 'web-1', 'web-2']);
  assert.deepEqual(outOfOrder, []);

  const web1 = podNamed('web-1')!;
  assert.equal(web1.spec?.hostname, 'web-1');
  assert.equal(web1.spec?.subdomain, 'web');
  assert.equal(web1.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');
  assert.equal(web1.metadata?.labels?.['apps.kubernetes.io/pod-index'], '1');
  assert.equal(web1.metadata?.ownerReferences?.[0]?.kind, 'StatefulSet');
  const set = sets.items().find((s) => s.metadata?.name === 'web')!;
  assert.equal(revisionOf(web1), set.status?.updateRevision);
  assert.equal(set.status?.currentRevision, set.status?.updateRevision);
  assert.match(set.status?.updateRevision ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(set.status?.currentReplicas, 3);
  assert.equal(set.status?.updatedReplicas, 3);
  assert.equal(set.status?.availableReplicas, 3);
  assert.equal(set.status?.collisionCount, 0);
  await events.until((all) => all.some((e) => e.reason === 'SuccessfulCreate' && e.message === 'create Pod web-0 in StatefulSet web successful' && e.involvedObject.kind === 'StatefulSet'), 'the SuccessfulCreate event');

  const get = await c.kubectl(['get', 'sts', 'web']);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /^NAME\s+READY\s+AGE\n/);
  assert.match(get.stdout, /\nweb\s+3\/3\s+\S+\n/);
  const wide = await c.kubectl(['get', 'statefulset', 'web', '-o', 'wide']);
  assert.match(wide.stdout, /^NAME\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\n/);
  assert.match(wide.stdout, /\nweb\s+3\/3\s+\S+\s+c\s+busybox:v1\n/);
  const described = await c.kubectl(['describe', 'sts', 'web']);
  assert.match(described.stdout, /Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed/);
  assert.match(described.stdout, /SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Pod web-2 in StatefulSet web successful/);
  const status = await c.kubectl(['rollout', 'status', 'sts/web', '--timeout=20s']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /partitioned roll out complete: 3 new pods have been updated/);
});

test('a deleted member is made again under the same name', async () => {
  const old = podNamed('web-1')!;
  const r = await c.kubectl(['delete', 'pod', 'web-1', '--wait=false']);
  assert.equal(r.code, 0, r.stderr);
  await pods.until(() => {
    const p = podNamed('web-1');
    return !!p && p.metadata?.uid !== old.metadata?.uid && isReady(p);
  }, 'a new web-1');
  await setReady('web', 3);
});

test('scale down goes in reverse order, one pod at a time', async () => {
  const terminating: string[] = [];
  const early: string[] = [];
  const seen = (p: Pod) => {
    const name = p.metadata?.name ?? '';
    if (!/^web-[0-9]+$/.test(name) || terminating.includes(name)) return;
    terminating.push(name);
    // web-1 may start terminating only once web-2 is gone.
    if (name === 'web-1' && podNamed('web-2')) early.push('web-1 terminating while web-2 existed');
  };
  const off = pods.informer.addEventHandler({ onUpdate: (_o, p) => (p.metadata?.deletionTimestamp ? seen(p) : undefined), onDelete: seen });
  const r = await c.kubectl(['scale', 'sts', 'web', '--replicas=1']);
  assert.equal(r.code, 0, r.stderr);
  await setReady('web', 1);
  off();
  assert.deepEqual(terminating, ['web-2', 'web-1']);
  assert.deepEqual(early, []);
  assert.deepEqual(members('web').map((p) => p.metadata?.name), ['web-0']);
  const back = await c.kubectl(['scale', 'sts', 'web', '--replicas=3']);
  assert.equal(back.code, 0, back.stderr);
  await setReady('web', 3);
});

test('partitioned rolling update: partition 2 updates only web-2, then partition 0 updates all, highest first', async () => {
  const before = sets.items().find((s) => s.metadata?.name === 'web')!.status?.updateRevision;
  const replaced: string[] = [];
  const off = pods.informer.addEventHandler({
    onUpdate: (o, p) => {
      if (p.metadata?.deletionTimestamp && !o.metadata?.deletionTimestamp && /^web-/.test(p.metadata.name ?? '')) replaced.push(p.metadata.name!);
    },
  });
  const patch = { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, template: { spec: { containers: [{ name: 'c', image: 'busybox:v2' }] } } } };
  const r = await c.kubectl(['patch', 'sts', 'web', '-p', JSON.stringify(patch)]);
  assert.equal(r.code, 0, r.stderr);
  const updated = await sets.until((all) => {
    const s = all.find((x) => x.metadata?.name === 'web');
    return !!s && s.status?.observedGeneration === s.metadata?.generation && s.status?.updateRevision !== before && s.status?.updatedReplicas === 1 && s.status?.readyReplicas === 3;
  }, 'web-2 updated');
  const next = updated.find((s) => s.metadata?.name === 'web')!.status!;
  assert.equal(next.currentRevision, before);
  assert.equal(next.currentReplicas, 2);
  await pods.until(() => isReady(podNamed('web-2')) && revisionOf(podNamed('web-2')) === next.updateRevision, 'web-2 ready at the new revision');
  assert.equal(revisionOf(podNamed('web-0')), before);
  assert.equal(revisionOf(podNamed('web-1')), before);
  assert.deepEqual(replaced, ['web-2']);
  const partial = await c.kubectl(['rollout', 'status', 'sts/web', '--timeout=20s']);
  assert.match(partial.stdout, /partitioned roll out complete: 1 new pods have been updated/);

  const all = await c.kubectl(['patch', 'sts', 'web', '-p', JSON.stringify({ spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } })]);
  assert.equal(all.code, 0, all.stderr);
  await sets.until((items) => {
    const s = items.find((x) => x.metadata?.name === 'web');
    return !!s && s.status?.currentRevision === next.updateRevision && s.status?.updatedReplicas === 3 && s.status?.readyReplicas === 3;
  }, 'all updated');
  off();
  assert.deepEqual(replaced, ['web-2', 'web-1', 'web-0']);
  for (const n of ['web-0', 'web-1', 'web-2']) assert.equal(revisionOf(podNamed(n)), next.updateRevision);
  const done = await c.kubectl(['rollout', 'status', 'sts/web', '--timeout=20s']);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /partitioned roll out complete: 3 new pods have been updated/);

  // History: two revisions, kubectl lists them and undo goes back to the first template.
  const revs = await c.client.list<ControllerRevision>(ControllerRevisions, 'default');
  const own = revs.items.filter((x) => x.metadata?.ownerReferences?.[0]?.name === 'web').map((x) => [x.metadata?.name, x.revision]);
  assert.deepEqual(own.sort(), [[before, 1], [next.updateRevision, 2]].sort());
  const hist = await c.kubectl(['rollout', 'history', 'sts/web']);
  assert.equal(hist.code, 0, hist.stderr);
  assert.match(hist.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  const undo = await c.kubectl(['rollout', 'undo', 'sts/web']);
  assert.equal(undo.code, 0, undo.stderr);
  await sets.until((items) => {
    const s = items.find((x) => x.metadata?.name === 'web');
    return !!s && s.status?.updateRevision === before && s.status?.currentRevision === before && s.status?.updatedReplicas === 3 && s.status?.readyReplicas === 3;
  }, 'rolled back');
  const set = await c.client.get<StatefulSet>(StatefulSets, 'default', 'web');
  assert.equal(set.spec?.template.spec?.containers[0]?.image, 'busybox:v1');
  const rolled = await c.client.get<ControllerRevision>(ControllerRevisions, 'default', before!);
  assert.equal(rolled.revision, 3);
});

test('Parallel creates every pod at once, without waiting for readiness', async () => {
  // The pods never start (start delay of an hour): OrderedReady would stop at par-0.
  const r = await c.kubectl(['apply', '-f', '-'], { input: manifest('par', { podManagementPolicy: 'Parallel' }, { 'simulate.tinykube.io/start-delay': '1h' }) });
  assert.equal(r.code, 0, r.stderr);
  await pods.until(() => members('par').length === 3, 'par-0, par-1, par-2');
  assert.equal(members('par').filter(isReady).length, 0);
  // Its pods and revision go with it (garbage collection through the controller references).
  const del = await c.kubectl(['delete', 'sts', 'par', '--wait=false']);
  assert.equal(del.code, 0, del.stderr);
  await pods.until(() => members('par').length === 0, 'par pods collected');
});

test('volumeClaimTemplates: the claim is made before the pod, owned per the retention policy; the pod waits for it to be bound', async () => {
  const claims = await c.watch<PersistentVolumeClaim>(PersistentVolumeClaims, 'default');
  // storageClassName "" asks for a pre-made volume of no class (none exists), so the default class
  // does not provision one and the claim stays unbound.
  const template = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '1Gi' } } } };
  const r = await c.kubectl(['apply', '-f', '-'], {
    input: manifest('db', { replicas: 1, volumeClaimTemplates: [template], persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }),
  });
  assert.equal(r.code, 0, r.stderr);
  await claims.until((all) => all.some((x) => x.metadata?.name === 'data-db-0'), 'claim data-db-0');
  const claim = claims.items().find((x) => x.metadata?.name === 'data-db-0');
  const set = sets.items().find((x) => x.metadata?.name === 'db');
  assert.deepEqual(claim?.metadata?.labels, { app: 'db' });
  // whenDeleted: Delete makes the set the claim's controller, so the garbage collector takes the claim with the set.
  assert.deepEqual(claim?.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: set?.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal(claim?.status?.phase, 'Pending');
  assert.equal(claim?.spec?.volumeMode, 'Filesystem');

  // No volume binds it yet: the scheduler's VolumeBinding keeps db-0 Pending, as Kubernetes does.
  const unbound = 'pod has unbound immediate PersistentVolumeClaims';
  await pods.until(() => !!podNamed('db-0')?.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.status === 'False'), 'db-0 unschedulable');
  const pod = podNamed('db-0');
  assert.deepEqual(pod?.spec?.volumes?.find((v) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } });
  assert.equal(pod?.status?.phase, 'Pending');
  assert.equal(pod?.spec?.nodeName, undefined);
  const cond = pod?.status?.conditions?.find((x) => x.type === 'PodScheduled');
  assert.equal(cond?.reason, 'Unschedulable');
  assert.equal(cond?.message, `0/2 nodes are available: ${unbound}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.`);
  await events.until((all) => all.some((e) => e.reason === 'FailedScheduling' && e.involvedObject?.name === 'db-0' && !!e.message?.includes(unbound)), 'FailedScheduling of db-0');
  const get = await c.kubectl(['get', 'pvc', 'data-db-0', '--no-headers']);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout.trim(), /^data-db-0\s+Pending\s+<unset>\s+\S+$/);
});

test('persistentVolumeClaimRetentionPolicy whenScaled Delete: a scaled-down member\'s claim goes with it, the others stay', async () => {
  const claims = await c.watch<PersistentVolumeClaim>(PersistentVolumeClaims, 'default');
  const r = await c.kubectl(['apply', '-f', '-'], {
    input: manifest('kept', {
      replicas: 2,
      podManagementPolicy: 'Parallel',
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    }),
  });
  assert.equal(r.code, 0, r.stderr);
  await claims.until((all) => ['data-kept-0', 'data-kept-1'].every((n) => all.some((x) => x.metadata?.name === n)), 'both claims');
  await pods.until(() => !!podNamed('kept-0') && !!podNamed('kept-1'), 'both members');
  assert.equal((await c.kubectl(['scale', 'sts', 'kept', '--replicas=1'])).code, 0);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'data-kept-1'), 'the scaled-down member\'s claim deleted with its pod');
  assert.ok(claims.items().some((x) => x.metadata?.name === 'data-kept-0' && !x.metadata?.deletionTimestamp), 'the remaining member keeps its claim');
  assert.equal((await c.kubectl(['delete', 'sts', 'kept'])).code, 0);
  // whenDeleted Retain: the claim outlives the set.
  await pods.until(() => !podNamed('kept-0'), 'the set\'s pods gone');
  assert.ok(claims.items().some((x) => x.metadata?.name === 'data-kept-0'));
  await c.client.delete(PersistentVolumeClaims, 'default', 'data-kept-0');
});

test('a retention policy changed after the claims were made applies to them (whenDeleted: Delete, then the set deleted)', async () => {
  const claims = await c.watch<PersistentVolumeClaim>(PersistentVolumeClaims, 'default');
  const r = await c.kubectl(['apply', '-f', '-'], {
    input: manifest('late', {
      replicas: 1,
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '1Gi' } } } }],
    }),
  });
  assert.equal(r.code, 0, r.stderr);
  await claims.until((all) => all.some((x) => x.metadata?.name === 'data-late-0'), 'claim data-late-0');
  // Retain (the default): the set does not own the claim.
  assert.equal(claims.items().find((x) => x.metadata?.name === 'data-late-0')?.metadata?.ownerReferences, undefined);
  const p = await c.kubectl(['patch', 'sts', 'late', '--type=merge', '-p', '{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"}}}']);
  assert.equal(p.code, 0, p.stderr);
  const set = sets.items().find((x) => x.metadata?.name === 'late');
  await claims.until((all) => !!all.find((x) => x.metadata?.name === 'data-late-0')?.metadata?.ownerReferences?.some((o) => o.kind === 'StatefulSet' && o.uid === set?.metadata?.uid), 'the set owns the claim');
  assert.equal((await c.kubectl(['delete', 'sts', 'late'])).code, 0);
  await claims.until((all) => !all.some((x) => x.metadata?.name === 'data-late-0'), 'the claim deleted with the set');
});

test('volumeClaimTemplates: a claim the API refuses is a FailedCreate event, and no pod is made without it', async () => {
  const r = await c.kubectl(['apply', '-f', '-'], {
    input: manifest('nomode', { replicas: 1, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } }] }),
  });
  assert.equal(r.code, 0, r.stderr);
  const want = 'create Claim data-nomode-0 for Pod nomode-0 in StatefulSet nomode failed error: PersistentVolumeClaim "data-nomode-0" is invalid: spec.accessModes: Required value: at least 1 access mode is required';
  // Seen twice: the sync was retried, and each attempt stopped before the pod.
  await events.until((all) => all.filter((e) => e.reason === 'FailedCreate' && e.message === want).length >= 2, 'repeated FailedCreate of the claim');
  assert.equal(podNamed('nomode-0'), undefined);
  const del = await c.kubectl(['delete', 'sts', 'nomode']);
  assert.equal(del.code, 0, del.stderr);
  // The refused creations were this test's failed syncs (reported like any sync error); no others.
  const refused = c.controllerErrors.filter((e) => String(e).includes('PersistentVolumeClaim "data-nomode-0" is invalid'));
  assert.ok(refused.length >= 2);
});

test('bad input: 422s with Kubernetes messages, nothing stored', async () => {
  const cases: Array<{ spec: Record<string, unknown>; want: string }> = [
    { spec: { replicas: -1 }, want: 'spec.replicas: Invalid value: -1: must be greater than or equal to 0' },
    { spec: { selector: { matchLabels: { app: 'other' } } }, want: 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`' },
    { spec: { podManagementPolicy: 'Fast' }, want: `spec.podManagementPolicy: Invalid value: "Fast": must be 'OrderedReady' or 'Parallel'` },
    { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }, want: 'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0' },
  ];
  for (const k of cases) {
    const r = await c.kubectl(['create', '-f', '-'], { input: manifest('bad', k.spec) });
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes('The StatefulSet "bad" is invalid') && r.stderr.includes(k.want), r.stderr);
  }
  const none = await c.kubectl(['get', 'sts', 'bad']);
  assert.match(none.stderr, /NotFound|not found/);
  const forbidden = await c.kubectl(['patch', 'sts', 'web', '-p', JSON.stringify({ spec: { serviceName: 'other' } })]);
  assert.notEqual(forbidden.code, 0);
  assert.ok(forbidden.stderr.includes("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"), forbidden.stderr);
  // The refused claim's failed syncs (see above; one may still land after its set was deleted) are the only errors.
  assert.deepEqual(c.controllerErrors.map(String).filter((e) => !e.includes('PersistentVolumeClaim "data-nomode-0" is invalid')), []);
});
