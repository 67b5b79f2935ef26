// The official JavaScript client (@kubernetes/client-node) against the workload kinds: AppsV1Api
// (Deployments, their scale subresource, ReplicaSets, DaemonSets, StatefulSets) and BatchV1Api (Jobs,
// CronJobs), with an informer on Deployments, on simulated nodes so the controllers have pods to run.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, BatchV1Api, KubeConfig, PatchStrategy, makeInformer, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { until } from '../../src/testing/until.ts';
import { startWorkloadCluster, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let kc: KubeConfig;
const NS = 'default';

before(async () => {
  c = await startWorkloadCluster({ nodes: 2 });
  kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
});

after(async () => {
  await c?.close();
});

const template = (app: string, extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ...extra },
});

test('AppsV1Api: a Deployment rolls out, scales through its scale subresource, and owns its ReplicaSet', async () => {
  const apps = kc.makeApiClient(AppsV1Api);
  const informer = makeInformer<V1Deployment>(kc, `/apis/apps/v1/namespaces/${NS}/deployments`, () => apps.listNamespacedDeployment({ namespace: NS }));
  const hooks = new Set<() => void>();
  for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, () => hooks.forEach((h) => h()));
  const on = (check: () => void) => (hooks.add(check), () => hooks.delete(check));
  await informer.start();
  try {
    const created = await apps.createNamespacedDeployment({ namespace: NS, body: { metadata: { name: 'js' }, spec: { replicas: 2, selector: { matchLabels: { app: 'js' } }, template: template('js') } } });
    assert.equal(created.spec?.strategy?.type, 'RollingUpdate', 'defaulted');
    assert.equal(created.spec?.revisionHistoryLimit, 10);
    await until('2 available', () => informer.list(NS).some((d) => d.metadata?.name === 'js' && d.status?.availableReplicas === 2), { on, timeoutMs: 15_000 });

    const scale = await apps.readNamespacedDeploymentScale({ name: 'js', namespace: NS });
    assert.equal(scale.spec?.replicas, 2);
    assert.match(scale.status?.selector ?? '', /app=js/);
    await apps.patchNamespacedDeploymentScale({ name: 'js', namespace: NS, body: { spec: { replicas: 3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await until('3 available', () => informer.list(NS).some((d) => d.metadata?.name === 'js' && d.status?.availableReplicas === 3 && d.status?.replicas === 3), { on, timeoutMs: 15_000 });

    const status = await apps.readNamespacedDeploymentStatus({ name: 'js', namespace: NS });
    assert.ok(status.status?.conditions?.some((k) => k.type === 'Available' && k.status === 'True'));
    const sets = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=js' });
    assert.equal(sets.items.length, 1);
    const rs = sets.items[0]!;
    assert.equal(rs.metadata?.ownerReferences?.[0]?.uid, created.metadata?.uid);
    assert.equal(rs.metadata?.name, `js-${rs.metadata?.labels?.['pod-template-hash']}`);

    await apps.deleteNamespacedDeployment({ name: 'js', namespace: NS, propagationPolicy: 'Foreground' });
    await until('the deployment gone', () => !informer.list(NS).some((d) => d.metadata?.name === 'js'), { on, timeoutMs: 15_000 });
    assert.equal((await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=js' })).items.length, 0, 'foreground deletion removed the ReplicaSet first');
  } finally {
    await informer.stop();
  }
});

test('AppsV1Api: DaemonSets and StatefulSets', async () => {
  const apps = kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDaemonSet({ namespace: NS, body: { metadata: { name: 'js-ds' }, spec: { selector: { matchLabels: { app: 'js-ds' } }, template: template('js-ds') } } });
  await until('a daemon pod per node', async () => (await apps.readNamespacedDaemonSetStatus({ name: 'js-ds', namespace: NS })).status?.numberReady === 2, { timeoutMs: 15_000, intervalMs: 100 });
  await apps.createNamespacedStatefulSet({ namespace: NS, body: { metadata: { name: 'js-sts' }, spec: { replicas: 2, serviceName: 'js-sts', selector: { matchLabels: { app: 'js-sts' } }, template: template('js-sts') } } });
  await until('2 ready members', async () => (await apps.readNamespacedStatefulSet({ name: 'js-sts', namespace: NS })).status?.readyReplicas === 2, { timeoutMs: 15_000, intervalMs: 100 });
  const revs = await apps.listNamespacedControllerRevision({ namespace: NS });
  assert.ok(revs.items.some((r) => r.metadata?.ownerReferences?.[0]?.name === 'js-ds'));
  assert.ok(revs.items.some((r) => r.metadata?.ownerReferences?.[0]?.name === 'js-sts'));
});

test('BatchV1Api: a Job completes; a CronJob is stored with its defaults', async () => {
  const batch = kc.makeApiClient(BatchV1Api);
  const job = await batch.createNamespacedJob({
    namespace: NS,
    body: { metadata: { name: 'js-job' }, spec: { completions: 3, parallelism: 2, template: { metadata: { annotations: { 'simulate.tinykube.io/exit-after': '100ms' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'busybox' }] } } } },
  });
  assert.equal(job.spec?.backoffLimit, 6, 'defaulted');
  assert.ok(job.spec?.selector?.matchLabels?.['batch.kubernetes.io/controller-uid'], 'a generated selector');
  const done = await until('Complete', async () => {
    const s = await batch.readNamespacedJobStatus({ name: 'js-job', namespace: NS });
    return s.status?.conditions?.some((k) => k.type === 'Complete' && k.status === 'True') ? s : undefined;
  }, { timeoutMs: 20_000, intervalMs: 100 });
  assert.equal(done.status?.succeeded, 3);
  const cj = await batch.createNamespacedCronJob({ namespace: NS, body: { metadata: { name: 'js-cron' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'app', image: 'busybox' }] } } } } } } });
  assert.deepEqual([cj.spec?.concurrencyPolicy, cj.spec?.successfulJobsHistoryLimit, cj.spec?.failedJobsHistoryLimit, cj.spec?.suspend], ['Allow', 3, 1, false]);
  await assert.rejects(
    batch.createNamespacedCronJob({ namespace: NS, body: { metadata: { name: 'bad' }, spec: { schedule: 'not a schedule', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'busybox' }] } } } } } } }),
    (err: { code?: number; body?: string }) => err.code === 422 && /spec\.schedule/.test(String(err.body)),
  );
});
