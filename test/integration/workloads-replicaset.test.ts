// The ReplicaSet controller against a real control plane, scheduler and simulated nodes, driven by the
// real kubectl: replicas kept, spread and replaced, scaled, orphans adopted and released, a refused
// template reported as ReplicaFailure without flooding the API, ReplicationControllers on the same code,
// and the API's 422s for bad specs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Pod, ReplicaSet, ReplicationController } from '../../src/api/types.ts';
import { Events, Pods, ReplicaSets, ReplicationControllers } from '../../src/client/resources.ts';
import { isPodReady } from '../../src/controllers/podcontrol/pods.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let pods: Watched<Pod>;
const NS = 'default';

const rsManifest = (name: string, replicas: number, extra: { priorityClassName?: string } = {}): ReplicaSet => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name, namespace: NS },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '100m' } } }], ...extra } },
  },
});

const ownedBy = (name: string) => (p: Pod) => p.metadata?.ownerReferences?.some((r) => r.controller && r.name === name) ?? false;
const live = (p: Pod) => !p.metadata?.deletionTimestamp;

before(async () => {
  c = await startWorkloadCluster({ nodes: 3 });
  pods = await c.watch<Pod>(Pods, NS);
});

after(async () => {
  await c?.close();
});

describe('ReplicaSet controller', () => {
  it('keeps 3 ready replicas spread over 3 nodes, each controlled by the ReplicaSet', async () => {
    await c.client.create(ReplicaSets, NS, rsManifest('web', 3));
    const all = await pods.until((ps) => ps.filter(ownedBy('web')).filter(isPodReady).length === 3, '3 ready pods of web');
    const mine = all.filter(ownedBy('web'));
    assert.equal(new Set(mine.map((p) => p.spec?.nodeName)).size, 3, 'one pod per node');
    for (const p of mine) {
      assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata?.ownerReferences?.[0], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: p.metadata?.ownerReferences?.[0]?.uid, controller: true, blockOwnerDeletion: true });
    }
    const rs = await c.client.get<ReplicaSet>(ReplicaSets, NS, 'web');
    const described = await c.kubectl(['describe', 'pod', mine[0].metadata!.name!]);
    assert.match(described.stdout, /Controlled By:\s+ReplicaSet\/web/);
    const got = await c.kubectl(['get', 'rs', 'web']);
    assert.equal(got.code, 0, got.stderr);
    // Status may lag a moment behind the pods: wait for it by watching the ReplicaSet.
    const sets = await c.watch<ReplicaSet>(ReplicaSets, NS);
    await sets.until((all) => all.some((r) => r.metadata?.name === 'web' && r.status?.readyReplicas === 3 && r.status?.availableReplicas === 3), 'status ready 3');
    assert.equal(rs.metadata?.uid, mine[0].metadata?.ownerReferences?.[0]?.uid);
    const table = await c.kubectl(['get', 'rs', 'web', '-o', 'wide']);
    assert.match(table.stdout, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    assert.match(table.stdout, /\nweb\s+3\s+3\s+3\s+\S+\s+app\s+busybox\s+app=web\n/);
  });

  it('replaces a deleted pod with a new one', async () => {
    const before = pods.items().filter(ownedBy('web')).filter(live);
    const victim = before[0].metadata!.name!;
    const r = await c.kubectl(['delete', 'pod', victim, '--wait=false']);
    assert.equal(r.code, 0, r.stderr);
    await pods.until((ps) => {
      const mine = ps.filter(ownedBy('web')).filter(live);
      return mine.length === 3 && !mine.some((p) => p.metadata?.name === victim) && mine.every(isPodReady);
    }, 'a replacement for the deleted pod');
  });

  it('scales 3 → 10 → 0 → 3 with kubectl scale', async () => {
    for (const n of [10, 0, 3]) {
      const r = await c.kubectl(['scale', 'rs', 'web', `--replicas=${n}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'replicaset.apps/web scaled');
      await pods.until((ps) => ps.filter(ownedBy('web')).filter(live).length === n && ps.filter(ownedBy('web')).filter(live).every(isPodReady), `${n} ready pods`);
    }
  });

  it('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    await c.client.create(Pods, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: NS, labels: { app: 'adopter' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });
    await pods.until((ps) => ps.some((p) => p.metadata?.name === 'stray' && isPodReady(p)), 'stray running');
    // A ReplicaSet of 1 whose selector matches the orphan adopts it instead of creating a pod.
    await c.client.create(ReplicaSets, NS, rsManifest('adopter', 1));
    await pods.until((ps) => ps.some((p) => p.metadata?.name === 'stray' && ownedBy('adopter')(p)), 'stray adopted');
    assert.deepEqual(pods.items().filter(ownedBy('adopter')).map((p) => p.metadata?.name), ['stray']);
    await c.client.patch(Pods, NS, 'stray', 'merge', { metadata: { labels: { app: 'elsewhere' } } });
    await pods.until((ps) => {
      const stray = ps.find((p) => p.metadata?.name === 'stray');
      return !!stray && !ownedBy('adopter')(stray) && ps.filter(ownedBy('adopter')).filter(live).length === 1;
    }, 'stray released and replaced');
    await c.client.delete(Pods, NS, 'stray', { gracePeriodSeconds: 0 });
    await c.client.delete(ReplicaSets, NS, 'adopter');
  });

  it('reports a template the API refuses as ReplicaFailure and an event, without flooding', async () => {
    await c.client.create(ReplicaSets, NS, rsManifest('refused', 5, { priorityClassName: 'no-such-class' }));
    const sets = await c.watch<ReplicaSet>(ReplicaSets, NS);
    const [rs] = (await sets.until((all) => all.some((r) => r.metadata?.name === 'refused' && r.status?.conditions?.some((k) => k.type === 'ReplicaFailure')), 'ReplicaFailure')).filter((r) => r.metadata?.name === 'refused');
    const cond = rs.status!.conditions!.find((k) => k.type === 'ReplicaFailure')!;
    assert.equal(cond.status, 'True');
    assert.equal(cond.reason, 'FailedCreate');
    assert.match(cond.message ?? '', /no PriorityClass with name no-such-class was found/);
    const events = await c.client.list<Event>(Events, NS, { fieldSelector: 'involvedObject.name=refused' });
    const failed = events.items.filter((e) => e.reason === 'FailedCreate');
    assert.ok(failed.length >= 1);
    assert.match(failed[0].message ?? '', /^Error creating: /);
    // Slow start: each failing sync tries one pod, and failing syncs back off, so a handful of tries, not 5 per sync in a loop.
    assert.ok(failed.reduce((n, e) => n + (e.count ?? 1), 0) <= 6, `tries: ${failed.length}`);
    assert.equal(pods.items().filter(ownedBy('refused')).length, 0);
    await c.client.delete(ReplicaSets, NS, 'refused');
  });

  it('keeps a ReplicationController with the same code, scaled by kubectl scale rc', async () => {
    const rc: ReplicationController = {
      apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy', namespace: NS },
      spec: { replicas: 2, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
    };
    const created = await c.client.create<ReplicationController>(ReplicationControllers, NS, rc);
    assert.deepEqual(created.spec?.selector, { app: 'legacy' }, 'the selector defaults to the template labels');
    await pods.until((ps) => ps.filter(ownedBy('legacy')).filter(live).filter(isPodReady).length === 2, '2 pods of the rc');
    const r = await c.kubectl(['scale', 'rc', 'legacy', '--replicas=4']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'replicationcontroller/legacy scaled');
    await pods.until((ps) => ps.filter(ownedBy('legacy')).filter(live).length === 4, '4 pods of the rc');
    const all = await c.kubectl(['get', 'all']);
    assert.match(all.stdout, /replicationcontroller\/legacy\s+4\s+4\s+\d/);
    assert.match(all.stdout, /replicaset\.apps\/web\s+3\s+3\s+\d/);
  });

  it('refuses bad specs with 422s naming each field', async () => {
    const cases: Array<{ body: ReplicaSet; want: RegExp }> = [
      { body: { ...rsManifest('neg', 1), spec: { ...rsManifest('neg', 1).spec!, replicas: -1 } }, want: /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/ },
      { body: { ...rsManifest('mismatch', 1), spec: { ...rsManifest('mismatch', 1).spec!, selector: { matchLabels: { app: 'other' } } } }, want: /spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{"app":"mismatch"\}: `selector` does not match template `labels`/ },
      { body: { ...rsManifest('empty', 1), spec: { ...rsManifest('empty', 1).spec!, selector: {} } }, want: /spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\(nil\), MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: empty selector is invalid for deployment/ },
      { body: { ...rsManifest('never', 1), spec: { ...rsManifest('never', 1).spec!, template: { ...rsManifest('never', 1).spec!.template, spec: { containers: [{ name: 'app', image: 'busybox' }], restartPolicy: 'Never' } } } }, want: /spec\.template\.spec\.restartPolicy: Unsupported value: "Never": supported values: "Always"/ },
    ];
    for (const k of cases) {
      const r = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify(k.body) });
      assert.equal(r.code, 1, k.body.metadata!.name);
      assert.match(r.stderr, k.want);
    }
    const sel = await c.kubectl(['patch', 'rs', 'web', '--type=merge', '-p', '{"spec":{"selector":{"matchLabels":{"app":"web","x":"y"}},"template":{"metadata":{"labels":{"app":"web","x":"y"}}}}}']);
    assert.equal(sel.code, 1);
    assert.match(sel.stderr, /spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\{"app":"web", "x":"y"\}, MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: field is immutable/);
  });

  it('cascades deletion to its pods: background, foreground, and orphan', async () => {
    for (const [name, cascade] of [['bg', 'background'], ['fg', 'foreground'], ['orph', 'orphan']] as const) {
      await c.client.create(ReplicaSets, NS, rsManifest(name, 2));
      await pods.until((ps) => ps.filter(ownedBy(name)).filter(isPodReady).length === 2, `2 pods of ${name}`);
      const names = pods.items().filter(ownedBy(name)).map((p) => p.metadata!.name!);
      const r = await c.kubectl(['delete', 'rs', name, `--cascade=${cascade}`]);
      assert.equal(r.code, 0, r.stderr);
      if (cascade === 'orphan') {
        // The pods stay, released: no owner reference left.
        await pods.until((ps) => names.every((n) => ps.some((p) => p.metadata?.name === n && !p.metadata?.ownerReferences?.length && !p.metadata?.deletionTimestamp)), 'orphaned pods');
        for (const n of names) await c.client.delete(Pods, NS, n, { gracePeriodSeconds: 0 });
      } else {
        // kubectl waits for the ReplicaSet to be gone; foreground means its pods went first.
        await pods.until((ps) => names.every((n) => !ps.some((p) => p.metadata?.name === n)), `pods of ${name} deleted`);
      }
      await assert.rejects(c.client.get(ReplicaSets, NS, name), /not found/);
    }
  });

  it('reported no unexpected controller errors', () => {
    assert.deepEqual(c.controllerErrors.map(String), []);
  });
});
