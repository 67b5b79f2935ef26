// The deployment controller (with the ReplicaSet controller, the scheduler and simulated nodes) driven
// by the real kubectl: create, spread, scale, rolling update within maxSurge/maxUnavailable proven by
// a watch, rollout status/history/undo/pause/resume/restart, Recreate, a progress deadline exceeded,
// the table columns, and the API's 422s for bad specs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, Event, Pod, ReplicaSet } from '../../src/api/types.ts';
import { Deployments, Events, Pods, ReplicaSets } from '../../src/client/resources.ts';
import { isPodReady } from '../../src/controllers/podcontrol/pods.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let pods: Watched<Pod>;
let sets: Watched<ReplicaSet>;
let deploys: Watched<Deployment>;
const NS = 'default';

const live = (p: Pod) => !p.metadata?.deletionTimestamp;
const labelled = (app: string) => (p: Pod) => p.metadata?.labels?.app === app;
const rssOf = (name: string) => (all: ReplicaSet[]) => all.filter((r) => r.metadata?.ownerReferences?.some((o) => o.controller && o.kind === 'Deployment' && o.name === name));
const hashOf = (obj: { metadata?: { labels?: Record<string, string> } }) => obj.metadata?.labels?.['pod-template-hash'];
const cond = (d: Deployment | undefined, type: string) => d?.status?.conditions?.find((k) => k.type === type);

/** The Deployment has rolled out: every desired replica updated and available, its generation seen. */
const rolledOut = (name: string, replicas: number) => (all: Deployment[]) => {
  const d = all.find((x) => x.metadata?.name === name);
  const s = d?.status;
  return !!d && (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && (s?.replicas ?? 0) === replicas && (s?.updatedReplicas ?? 0) === replicas && (s?.availableReplicas ?? 0) === replicas;
};

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  c = await startWorkloadCluster({ nodes: 3 });
  pods = await c.watch<Pod>(Pods, NS);
  sets = await c.watch<ReplicaSet>(ReplicaSets, NS);
  deploys = await c.watch<Deployment>(Deployments, NS);
});

after(async () => {
  await c?.close();
});

describe('Deployment controller', () => {
  let firstHash = '';

  it('kubectl create deployment: 3 ready pods spread over 3 nodes, through a ReplicaSet named by the template hash', async () => {
    assert.equal((await kubectlOk(['create', 'deployment', 'web', '--image=busybox', '--replicas=3'])).trim(), 'deployment.apps/web created');
    await deploys.until(rolledOut('web', 3), 'web rolled out');
    const [rs] = rssOf('web')(sets.items());
    firstHash = hashOf(rs) ?? '';
    assert.match(firstHash, /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    assert.equal(rs.metadata?.name, `web-${firstHash}`);
    assert.deepEqual(rs.spec?.selector, { matchLabels: { app: 'web', 'pod-template-hash': firstHash } });
    assert.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
    const mine = (await pods.until((ps) => ps.filter(labelled('web')).filter(live).filter(isPodReady).length === 3, '3 ready pods')).filter(labelled('web')).filter(live);
    assert.equal(new Set(mine.map((p) => p.spec?.nodeName)).size, 3, 'one pod per node');
    for (const p of mine) {
      assert.equal(hashOf(p), firstHash);
      assert.match(p.metadata!.name!, new RegExp(`^web-${firstHash}-[a-z0-9]{5}$`));
    }
    const described = await kubectlOk(['describe', 'pod', mine[0].metadata!.name!]);
    assert.match(described, new RegExp(`Controlled By:\\s+ReplicaSet/web-${firstHash}`));
    assert.match(described, new RegExp(`pod-template-hash=${firstHash}`));
    const d = deploys.items().find((x) => x.metadata?.name === 'web');
    assert.equal(d?.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual([cond(d, 'Available')?.status, cond(d, 'Available')?.reason], ['True', 'MinimumReplicasAvailable']);
    assert.deepEqual([cond(d, 'Progressing')?.status, cond(d, 'Progressing')?.reason, cond(d, 'Progressing')?.message], ['True', 'NewReplicaSetAvailable', `ReplicaSet "web-${firstHash}" has successfully progressed.`]);
    const describedDeploy = await kubectlOk(['describe', 'deployment', 'web']);
    assert.match(describedDeploy, /StrategyType:\s+RollingUpdate\n/);
    assert.match(describedDeploy, /RollingUpdateStrategy:\s+25% max unavailable, 25% max surge\n/);
    assert.match(describedDeploy, new RegExp(`NewReplicaSet:\\s+web-${firstHash} \\(3/3 replicas created\\)`));
    assert.match(describedDeploy, new RegExp(`ScalingReplicaSet\\s+\\S+\\s+deployment-controller\\s+Scaled up replica set web-${firstHash} from 0 to 3`));
    const status = await kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.match(status, /deployment "web" successfully rolled out/);
    const events = await c.client.list<Event>(Events, NS, { fieldSelector: 'involvedObject.name=web,involvedObject.kind=Deployment' });
    assert.ok(events.items.some((e) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set web-${firstHash} from 0 to 3`), JSON.stringify(events.items.map((e) => e.message)));
  });

  it('kubectl explain describes every workload kind', async () => {
    const cases: Array<[string, RegExp]> = [
      ['deployment.spec.strategy', /FIELD: strategy <DeploymentStrategy>/],
      ['rs.spec.replicas', /FIELD: replicas <integer>/],
      ['ds.spec.updateStrategy', /FIELD: updateStrategy <DaemonSetUpdateStrategy>/],
      ['sts.spec.volumeClaimTemplates', /FIELD: volumeClaimTemplates <\[\]PersistentVolumeClaim>/],
      ['job.spec.podFailurePolicy', /FIELD: podFailurePolicy <PodFailurePolicy>/],
      ['cronjob.spec.concurrencyPolicy', /FIELD: concurrencyPolicy <string>/],
      ['pdb.spec.minAvailable', /FIELD: minAvailable <IntOrString>/],
      ['rc.spec.selector', /FIELD: selector <map\[string\]string>/],
      ['controllerrevision.revision', /FIELD: revision <integer>/],
    ];
    for (const [path, want] of cases) assert.match(await kubectlOk(['explain', path]), want, path);
  });

  it('kubectl get deploy prints READY UP-TO-DATE AVAILABLE, and with -o wide CONTAINERS IMAGES SELECTOR', async () => {
    const table = await kubectlOk(['get', 'deploy', 'web']);
    assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    assert.match(table, /\nweb\s+3\/3\s+3\s+3\s+\S+\n/);
    const wide = await kubectlOk(['get', 'deployments.apps', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    assert.match(wide, /\nweb\s+3\/3\s+3\s+3\s+\S+\s+busybox\s+busybox\s+app=web\n/);
  });

  it('a deleted pod is replaced', async () => {
    const victim = pods.items().filter(labelled('web')).filter(live)[0].metadata!.name!;
    await kubectlOk(['delete', 'pod', victim, '--wait=false']);
    await pods.until((ps) => {
      const mine = ps.filter(labelled('web')).filter(live);
      return mine.length === 3 && !mine.some((p) => p.metadata?.name === victim) && mine.every(isPodReady);
    }, 'a replacement pod');
  });

  it('kubectl scale 3 → 10 → 0 → 3', async () => {
    for (const n of [10, 0, 3]) {
      assert.equal((await kubectlOk(['scale', 'deployment', 'web', `--replicas=${n}`])).trim(), 'deployment.apps/web scaled');
      await deploys.until(rolledOut('web', n), `web at ${n}`);
      await pods.until((ps) => ps.filter(labelled('web')).filter(live).length === n, `${n} pods`);
    }
    // Scaling makes no new revision: still the one ReplicaSet.
    assert.deepEqual(rssOf('web')(sets.items()).map((r) => r.metadata?.name), [`web-${firstHash}`]);
  });

  it('kubectl set image on 10 replicas, maxSurge 1 / maxUnavailable 1: never fewer than 9 available nor more than 11 pods', async () => {
    await kubectlOk(['patch', 'deployment', 'web', '-p', '{"spec":{"replicas":10,"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":1}}}}']);
    await deploys.until(rolledOut('web', 10), 'web at 10');
    await pods.until((ps) => ps.filter(labelled('web')).filter(live).filter(isPodReady).length === 10, '10 ready pods');
    let most = 0;
    let fewest = Number.POSITIVE_INFINITY;
    const measure = () => {
      const mine = pods.items().filter(labelled('web')).filter(live);
      most = Math.max(most, mine.length);
      fewest = Math.min(fewest, mine.filter(isPodReady).length);
    };
    measure();
    const stop = pods.informer.addEventHandler({ onAdd: measure, onUpdate: measure, onDelete: measure });
    try {
      await kubectlOk(['set', 'image', 'deployment/web', 'busybox=busybox:1.36']);
      const status = await kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      assert.match(status, /deployment "web" successfully rolled out/);
      await pods.until((ps) => {
        const mine = ps.filter(labelled('web'));
        return mine.length === 10 && mine.every((p) => live(p) && isPodReady(p) && p.spec?.containers?.[0]?.image === 'busybox:1.36');
      }, '10 new pods, the old ones gone');
    } finally {
      stop();
    }
    assert.ok(most <= 11, `at most 11 pods, saw ${most}`);
    assert.ok(fewest >= 9, `at least 9 available, saw ${fewest}`);
    const rss = rssOf('web')(sets.items());
    assert.equal(rss.length, 2);
    const newRS = rss.find((r) => hashOf(r) !== firstHash)!;
    assert.equal(newRS.spec?.replicas, 10);
    assert.equal(newRS.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(rss.find((r) => hashOf(r) === firstHash)?.spec?.replicas, 0);
  });

  it('kubectl rollout history lists the revisions; --revision shows a template', async () => {
    const history = await kubectlOk(['rollout', 'history', 'deployment/web']);
    assert.match(history, /^deployment\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    const one = await kubectlOk(['rollout', 'history', 'deployment/web', '--revision=1']);
    assert.match(one, /with revision #1/);
    assert.match(one, /Image:\s+busybox\n/);
  });

  it('kubectl rollout undo returns to the old template and hash, as revision 3', async () => {
    assert.match(await kubectlOk(['rollout', 'undo', 'deployment/web']), /deployment\.apps\/web rolled back/);
    await kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    await pods.until((ps) => {
      const mine = ps.filter(labelled('web'));
      return mine.length === 10 && mine.every((p) => live(p) && isPodReady(p) && hashOf(p) === firstHash && p.spec?.containers?.[0]?.image === 'busybox');
    }, '10 pods of the first template');
    const old = rssOf('web')(sets.items()).find((r) => hashOf(r) === firstHash)!;
    assert.equal(old.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(old.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    const d = await c.client.get<Deployment>(Deployments, NS, 'web');
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(d.spec?.template?.metadata?.labels?.['pod-template-hash'], undefined);
  });

  it('kubectl rollout pause stops rollouts but not scaling; resume rolls out; restart makes a new ReplicaSet', async () => {
    await kubectlOk(['rollout', 'pause', 'deployment/web']);
    await deploys.until((all) => cond(all.find((x) => x.metadata?.name === 'web'), 'Progressing')?.reason === 'DeploymentPaused', 'paused condition');
    await kubectlOk(['set', 'image', 'deployment/web', 'busybox=busybox:1.37']);
    await kubectlOk(['scale', 'deployment', 'web', '--replicas=4']);
    // Scaled (the generation seen, the active ReplicaSet resized), yet no new ReplicaSet.
    await deploys.until((all) => {
      const d = all.find((x) => x.metadata?.name === 'web');
      return !!d && d.status?.observedGeneration === d.metadata?.generation && d.status?.replicas === 4 && d.status?.updatedReplicas === 0;
    }, 'paused deployment scaled to 4');
    assert.equal(rssOf('web')(sets.items()).length, 2);
    const p = cond(deploys.items().find((x) => x.metadata?.name === 'web'), 'Progressing');
    assert.deepEqual([p?.status, p?.message], ['Unknown', 'Deployment is paused']);

    await kubectlOk(['rollout', 'resume', 'deployment/web']);
    await kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    await pods.until((ps) => ps.filter(labelled('web')).filter(live).length === 4 && ps.filter(labelled('web')).filter(live).every((x) => x.spec?.containers?.[0]?.image === 'busybox:1.37'), 'resumed rollout');
    const hashes = new Set(rssOf('web')(sets.items()).map(hashOf));
    assert.equal(hashes.size, 3);

    await kubectlOk(['rollout', 'restart', 'deployment/web']);
    await kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const after = rssOf('web')(sets.items());
    assert.equal(after.length, 4);
    const newest = after.find((r) => !hashes.has(hashOf(r)))!;
    assert.ok(newest.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']);
    assert.equal(newest.metadata?.annotations?.['deployment.kubernetes.io/revision'], '5');
  });

  it('Recreate: the old pods are gone before any new one is made', async () => {
    await kubectlOk(['create', 'deployment', 'batch', '--image=busybox', '--replicas=3']);
    await kubectlOk(['patch', 'deployment', 'batch', '-p', '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}']);
    await deploys.until(rolledOut('batch', 3), 'batch rolled out');
    let overlap = false;
    const check = () => {
      const mine = pods.items().filter(labelled('batch'));
      const images = new Set(mine.map((p) => p.spec?.containers?.[0]?.image));
      if (images.size > 1) overlap = true;
    };
    const stop = pods.informer.addEventHandler({ onAdd: check, onUpdate: check });
    try {
      await kubectlOk(['set', 'image', 'deployment/batch', 'busybox=busybox:1.36']);
      await kubectlOk(['rollout', 'status', 'deployment/batch', '--timeout=60s']);
      await pods.until((ps) => ps.filter(labelled('batch')).filter(live).filter((p) => p.spec?.containers?.[0]?.image === 'busybox:1.36').length === 3, '3 new batch pods');
    } finally {
      stop();
    }
    assert.equal(overlap, false, 'old and new pods never coexisted');
  });

  it('resized in mid-rollout, old and new ReplicaSets grow in proportion', async () => {
    await kubectlOk(['create', 'deployment', 'prop', '--image=busybox', '--replicas=10']);
    await kubectlOk(['patch', 'deployment', 'prop', '-p', '{"spec":{"strategy":{"rollingUpdate":{"maxSurge":3,"maxUnavailable":2}}}}']);
    await deploys.until(rolledOut('prop', 10), 'prop rolled out');
    // A new template whose pods never start: the rollout stops at 8 old + 5 new (13 = 10 + maxSurge, 8 = 10 - maxUnavailable available).
    await kubectlOk(['patch', 'deployment', 'prop', '-p', '{"spec":{"template":{"metadata":{"annotations":{"simulate.tinykube.io/start-delay":"1h"}}}}}']);
    const sizes = (all: ReplicaSet[]) => rssOf('prop')(all).map((r) => r.spec?.replicas).sort((a, b) => (a ?? 0) - (b ?? 0)).join(',');
    await sets.until((all) => sizes(all) === '5,8', 'old 8 + new 5');
    await kubectlOk(['scale', 'deployment', 'prop', '--replicas=20']);
    // 13 → 23 (20 + maxSurge) in proportion 8:5 (round(8 × 23/13) = 14, the rest 9 to the new one).
    const all = await sets.until((x) => sizes(x) === '9,14', 'old 14 + new 9');
    for (const r of rssOf('prop')(all)) {
      assert.equal(r.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '20');
      assert.equal(r.metadata?.annotations?.['deployment.kubernetes.io/max-replicas'], '23');
    }
    await kubectlOk(['delete', 'deployment', 'prop']);
  });

  it('a template whose pods never become Ready ends ProgressDeadlineExceeded, and rollout status fails', async () => {
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'stuck', namespace: NS },
      spec: {
        replicas: 2,
        progressDeadlineSeconds: 2,
        selector: { matchLabels: { app: 'stuck' } },
        template: { metadata: { labels: { app: 'stuck' }, annotations: { 'simulate.tinykube.io/start-delay': '1h' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
      },
    };
    await kubectlOk(['apply', '-f', '-'], JSON.stringify(manifest));
    const [d] = (await deploys.until((all) => cond(all.find((x) => x.metadata?.name === 'stuck'), 'Progressing')?.reason === 'ProgressDeadlineExceeded', 'deadline exceeded', 20_000)).filter((x) => x.metadata?.name === 'stuck');
    const p = cond(d, 'Progressing');
    assert.equal(p?.status, 'False');
    assert.match(p?.message ?? '', /^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    assert.deepEqual([cond(d, 'Available')?.status, cond(d, 'Available')?.reason], ['False', 'MinimumReplicasUnavailable']);
    const r = await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=20s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deployment "stuck" exceeded its progress deadline/);
  });

  it('refuses bad specs with a 422 naming the field, and stores nothing', async () => {
    const base = (name: string, spec: Record<string, unknown>) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name },
        spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } }, ...spec },
      });
    const cases: Array<{ name: string; spec: Record<string, unknown>; want: string }> = [
      { name: 'zero', spec: { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }, want: 'The Deployment "zero" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0' },
      { name: 'negative', spec: { replicas: -1 }, want: 'The Deployment "negative" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0' },
      {
        name: 'mismatch',
        spec: { selector: { matchLabels: { app: 'other' } } },
        want: 'The Deployment "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"mismatch"}: `selector` does not match template `labels`',
      },
    ];
    for (const k of cases) {
      const r = await c.kubectl(['create', '-f', '-'], { input: base(k.name, k.spec) });
      assert.equal(r.code, 1, k.name);
      assert.equal(r.stderr.trim(), k.want, k.name);
      const got = await c.kubectl(['get', 'deploy', k.name]);
      assert.match(got.stderr, /NotFound/, k.name);
    }
    const r = await c.kubectl(['patch', 'deployment', 'web', '-p', '{"spec":{"selector":{"matchLabels":{"tier":"x"}},"template":{"metadata":{"labels":{"tier":"x"}}}}}']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /The Deployment "web" is invalid: spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\{"app":"web", "tier":"x"\}, MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: field is immutable/);
  });

  it('deleting a Deployment removes its ReplicaSets and pods', async () => {
    await kubectlOk(['delete', 'deployment', 'batch']);
    await sets.until((all) => rssOf('batch')(all).length === 0, 'batch ReplicaSets gone');
    await pods.until((ps) => ps.filter(labelled('batch')).length === 0, 'batch pods gone');
    assert.deepEqual(c.controllerErrors.map((e) => (e as Error).message), []);
  });

  it('minReadySeconds holds availability back; kubectl set resources rolls out a new template', async () => {
    await kubectlOk(['create', 'deployment', 'slow', '--image=busybox', '--replicas=2']);
    await kubectlOk(['patch', 'deployment', 'slow', '-p', '{"spec":{"minReadySeconds":2}}']);
    await deploys.until(rolledOut('slow', 2), 'slow rolled out');
    const before = hashOf(rssOf('slow')(sets.items())[0]!);
    await kubectlOk(['set', 'resources', 'deployment/slow', '--requests=cpu=50m,memory=16Mi']);
    // Pods Ready at once (simulated) are still not available for 2 s: the Deployment says so meanwhile.
    await deploys.until((all) => all.some((d) => d.metadata?.name === 'slow' && (d.status?.updatedReplicas ?? 0) >= 1 && (d.status?.availableReplicas ?? 0) < 2 + 1 && (d.status?.unavailableReplicas ?? 0) > 0), 'unavailable replicas during the rollout');
    await deploys.until(rolledOut('slow', 2), 'slow rolled out again');
    const now = rssOf('slow')(sets.items()).find((r) => (r.spec?.replicas ?? 0) === 2)!;
    assert.notEqual(hashOf(now), before);
    assert.deepEqual(now.spec?.minReadySeconds, 2, 'minReadySeconds reaches the ReplicaSet');
    assert.deepEqual(now.spec?.template?.spec?.containers[0]?.resources?.requests, { cpu: '50m', memory: '16Mi' });
  });

  it('--cascade=orphan leaves the ReplicaSets and their pods, released', async () => {
    const mine = pods.items().filter(labelled('slow')).filter(live).map((p) => p.metadata!.name!);
    await kubectlOk(['delete', 'deployment', 'slow', '--cascade=orphan']);
    await sets.until((all) => all.filter((r) => r.metadata?.labels?.app === 'slow').every((r) => !r.metadata?.ownerReferences?.length), 'ReplicaSets released');
    assert.ok(sets.items().some((r) => r.metadata?.labels?.app === 'slow' && r.spec?.replicas === 2), 'the ReplicaSet is kept');
    assert.deepEqual(pods.items().filter(labelled('slow')).filter(live).map((p) => p.metadata!.name!).sort(), mine.sort(), 'its pods are kept');
    await kubectlOk(['delete', 'rs', '-l', 'app=slow']);
  });
});
