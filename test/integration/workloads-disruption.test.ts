// PodDisruptionBudgets end to end on simulated nodes: the disruption controller's status, the
// pods/eviction subresource's 429 with kube-apiserver's message, `kubectl drain` waiting on a budget,
// `kubectl get pdb` and the 422s of bad budgets.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pod, PodDisruptionBudget, ReplicaSet } from '../../src/api/types.ts';
import type { HasMetadata } from '../../src/client/client.ts';
import { objectPath, Events, PodDisruptionBudgets, Pods, ReplicaSets } from '../../src/client/resources.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

let c: WorkloadCluster;
let pods: Watched<Pod>;
let pdbs: Watched<PodDisruptionBudget>;

before(async () => {
  c = await startWorkloadCluster({ nodes: ['n1', 'n2', 'n3', 'n4'] });
  pods = await c.watch<Pod>(Pods);
  pdbs = await c.watch<PodDisruptionBudget>(PodDisruptionBudgets);
});

after(async () => {
  await c?.close();
});

const isReady = (p: Pod) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;

function pod(name: string, labels: Record<string, string>, node: string, owner?: { kind: string; name: string; uid: string; apiVersion?: string }): Pod & HasMetadata {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels,
      ...(owner ? { ownerReferences: [{ apiVersion: owner.apiVersion ?? 'apps/v1', kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }] } : {}),
    },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }], terminationGracePeriodSeconds: 1 },
  };
}

function budget(name: string, spec: PodDisruptionBudget['spec']): PodDisruptionBudget & HasMetadata {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec };
}

async function readyPods(ns: string, app: string, n: number): Promise<void> {
  await pods.until((all) => all.filter((p) => p.metadata?.namespace === ns && p.metadata?.labels?.app === app && !p.metadata?.deletionTimestamp && isReady(p)).length === n, `${n} ready ${app} pods`);
}

function pdbIn(ns: string, name: string, cond: (p: PodDisruptionBudget) => boolean, what: string): Promise<PodDisruptionBudget> {
  return pdbs
    .until((all) => all.some((p) => p.metadata?.namespace === ns && p.metadata?.name === name && cond(p)), `${ns}/${name}: ${what}`)
    .then((all) => all.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name)!);
}

async function evict(ns: string, name: string, query: Record<string, string> = {}) {
  const r = await c.client.request('POST', objectPath(Pods, ns, name, 'eviction'), {
    query,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } },
  });
  return { code: r.statusCode, status: JSON.parse(r.body.toString('utf8')) as Record<string, unknown>, retryAfter: r.headers['retry-after'] };
}

async function namespace(name: string): Promise<void> {
  await c.client.create(
    { apiVersion: 'v1', resource: 'namespaces' },
    undefined,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  );
}

test('minAvailable 2 over 3 ready pods: the first eviction goes, the second gets 429 with the budget in its cause', async () => {
  const ns = 'evict';
  await namespace(ns);
  for (const [i, node] of ['n1', 'n2', 'n3'].entries()) await c.client.create(Pods, ns, pod(`web-${i}`, { app: 'web' }, node));
  await readyPods(ns, 'web', 3);
  await c.client.create(PodDisruptionBudgets, ns, budget('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } }));
  const ok = await pdbIn(ns, 'web', (p) => p.status?.disruptionsAllowed === 1, 'one disruption allowed');
  assert.deepEqual(
    { ...ok.status, conditions: ok.status?.conditions?.map(({ lastTransitionTime: _t, ...rest }) => rest) },
    { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 1, conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1 }] },
  );

  // A dry run spends nothing and deletes nothing.
  assert.equal((await evict(ns, 'web-0', { dryRun: 'All' })).code, 201);
  assert.equal((await c.client.get<PodDisruptionBudget>(PodDisruptionBudgets, ns, 'web')).status?.disruptionsAllowed, 1);
  assert.equal((await c.client.get<Pod>(Pods, ns, 'web-0')).metadata?.deletionTimestamp, undefined);

  // The API server spends the disruption and records the pod before deleting it; the controller
  // drops the record once it sees the pod terminating.
  const recorded: string[] = [];
  const unhook = pdbs.informer.addEventHandler({
    onUpdate: (_o, p) => {
      if (p.metadata?.namespace === ns && p.status?.disruptedPods?.['web-0']) recorded.push(`${p.status.disruptionsAllowed}`);
    },
  });
  const first = await evict(ns, 'web-0');
  assert.equal(first.code, 201);
  assert.equal(first.status.status, 'Success');
  await pdbIn(ns, 'web', (p) => p.status?.currentHealthy === 2 && p.status.disruptionsAllowed === 0 && !p.status.disruptedPods, 'two healthy, none allowed, the record dropped');
  unhook();
  assert.equal(recorded[0], '0');

  const second = await evict(ns, 'web-1');
  assert.equal(second.code, 429);
  assert.deepEqual(second.status, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
    reason: 'TooManyRequests',
    details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
    code: 429,
  });
  assert.equal(second.retryAfter, undefined);
  assert.equal((await c.client.get<Pod>(Pods, ns, 'web-1')).metadata?.deletionTimestamp, undefined);
  const none = await pdbIn(ns, 'web', (p) => p.status?.conditions?.[0]?.reason === 'InsufficientPods', 'condition InsufficientPods');
  assert.equal(none.status?.conditions?.[0]?.status, 'False');

  // A finished pod disrupts nothing: it is deleted whatever the budget says.
  await c.client.create(Pods, ns, { ...pod('done', { app: 'web' }, 'n1'), metadata: { name: 'done', labels: { app: 'web' }, annotations: { 'simulate.tinykube.io/exit-after': '0s' } }, spec: { ...pod('x', {}, 'n1').spec!, restartPolicy: 'Never' } });
  await pods.until((all) => all.some((p) => p.metadata?.name === 'done' && p.status?.phase === 'Succeeded'), 'the finished pod');
  assert.equal((await evict(ns, 'done')).code, 201);

  // Two budgets over one pod: kube-apiserver's 500.
  await c.client.create(PodDisruptionBudgets, ns, budget('web-too', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } }));
  const two = await evict(ns, 'web-2');
  assert.equal(two.code, 500);
  assert.deepEqual(two.status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 });

  // `kubectl get pdb`: kubectl's columns, N/A for the bound not set.
  const got = await c.kubectl(['get', 'pdb', '-n', ns]);
  assert.equal(got.code, 0, got.stderr);
  const lines = got.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
  assert.deepEqual(lines[0], ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
  assert.deepEqual(lines[1]!.slice(0, 4), ['web', '2', 'N/A', '0']);
  assert.deepEqual(lines[2]!.slice(0, 3), ['web-too', 'N/A', '1']);
});

test('percentages and maxUnavailable count the owners scale; an owner kind not served fails safe with an event', async () => {
  const ns = 'scale';
  await namespace(ns);
  const rs = await c.client.create<ReplicaSet & HasMetadata>(ReplicaSets, ns, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'api' },
    spec: { replicas: 4, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  assert.ok(rs.metadata?.uid);
  // The ReplicaSet controller makes the four pods.
  await readyPods(ns, 'api', 4);
  await c.client.create(PodDisruptionBudgets, ns, budget('api', { maxUnavailable: '50%', selector: { matchLabels: { app: 'api' } } }));
  const st = await pdbIn(ns, 'api', (p) => p.status?.expectedPods === 4 && p.status.currentHealthy === 4, 'four expected and healthy');
  assert.deepEqual([st.status?.desiredHealthy, st.status?.disruptionsAllowed], [2, 2]);

  // Changing the budget is a new generation the controller observes.
  const cur = await c.client.get<PodDisruptionBudget & HasMetadata>(PodDisruptionBudgets, ns, 'api');
  await c.client.update(PodDisruptionBudgets, ns, { ...cur, spec: { ...cur.spec, maxUnavailable: undefined, minAvailable: '75%' } });
  const st2 = await pdbIn(ns, 'api', (p) => p.status?.observedGeneration === 2, 'generation 2 observed');
  assert.deepEqual([st2.metadata?.generation, st2.status?.expectedPods, st2.status?.desiredHealthy, st2.status?.disruptionsAllowed], [2, 4, 3, 1]);

  // Pods of a kind the server does not serve (yet): no disruption allowed, and why.
  await c.client.create(Pods, ns, pod('db-0', { app: 'db' }, 'n1', { apiVersion: 'example.com/v1', kind: 'Database', name: 'db', uid: 'u-db' }));
  await readyPods(ns, 'db', 1);
  await c.client.create(PodDisruptionBudgets, ns, budget('db', { minAvailable: '50%', selector: { matchLabels: { app: 'db' } } }));
  const failed = await pdbIn(ns, 'db', (p) => p.status?.conditions?.some((x) => x.reason === 'SyncFailed') ?? false, 'SyncFailed');
  assert.equal(failed.status?.disruptionsAllowed, 0);
  const cond = failed.status?.conditions?.find((x) => x.type === 'DisruptionAllowed');
  assert.equal(cond?.status, 'False');
  assert.equal(cond?.message, 'no matches for kind "Database" in version "example.com/v1"');
  const events = await c.watch<{ reason?: string; message?: string; involvedObject?: { name?: string } }>(Events, ns);
  await events.until(
    (all) => all.some((e) => e.involvedObject?.name === 'db' && e.reason === 'CalculateExpectedPodCountFailed' && (e.message ?? '').startsWith('Failed to calculate the number of expected pods: ')),
    'the CalculateExpectedPodCountFailed event',
  );
  const ev = await evict(ns, 'db-0');
  assert.equal(ev.code, 429);
});

test('kubectl drain evicts what the budget allows, retries the rest, and completes once a replacement is Ready', async () => {
  const ns = 'drain';
  await namespace(ns);
  // Two of three pods on n4 (a node of their own): the budget lets one go at a time.
  await c.client.create(Pods, ns, pod('kv-0', { app: 'kv' }, 'n4'));
  await c.client.create(Pods, ns, pod('kv-1', { app: 'kv' }, 'n4'));
  await c.client.create(Pods, ns, pod('kv-2', { app: 'kv' }, 'n3'));
  await readyPods(ns, 'kv', 3);
  await c.client.create(PodDisruptionBudgets, ns, budget('kv', { minAvailable: 2, selector: { matchLabels: { app: 'kv' } } }));
  await pdbIn(ns, 'kv', (p) => p.status?.disruptionsAllowed === 1, 'one disruption allowed');

  // Plain pods have no controller to replace them: drain needs --force for them, as in Kubernetes.
  const drain = c.kubectl(['drain', 'n4', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=50s'], { timeoutMs: 55_000 });
  // One goes; the other is refused until the application is healthy again without it.
  await pods.until((all) => all.filter((p) => p.metadata?.namespace === ns && p.spec?.nodeName === 'n4').length === 1, 'one kv pod left on n4');
  await pdbIn(ns, 'kv', (p) => p.status?.currentHealthy === 2 && p.status.disruptionsAllowed === 0, 'budget exhausted');
  // The replacement (a controller's job; here by hand) lands on another node and turns Ready.
  await c.client.create(Pods, ns, pod('kv-3', { app: 'kv' }, 'n1'));
  const res = await drain;
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /node\/n4 cordoned/);
  assert.match(res.stderr + res.stdout, /Cannot evict pod as it would violate the pod's disruption budget\./);
  assert.match(res.stdout, /node\/n4 drained/);
  assert.equal(pods.items().filter((p) => p.metadata?.namespace === ns && p.spec?.nodeName === 'n4').length, 0);
  await readyPods(ns, 'kv', 2);
});

test('bad budgets are 422s naming each field with Kubernetes messages', async () => {
  const cases: { name: string; spec: PodDisruptionBudget['spec']; message: string }[] = [
    {
      name: 'both',
      spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { app: 'x' } } },
      message: 'PodDisruptionBudget.policy "both" is invalid: spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(0xc000100000), MaxUnavailable:(*intstr.IntOrString)(0xc000100000), Selector:(*v1.LabelSelector)(0xc000100000), UnhealthyPodEvictionPolicy:(*policy.UnhealthyPodEvictionPolicyType)(nil)}: minAvailable and maxUnavailable cannot be both set',
    },
    { name: 'pct', spec: { minAvailable: '120%' }, message: 'PodDisruptionBudget.policy "pct" is invalid: spec.minAvailable: Invalid value: "120%": must not be greater than 100%' },
    { name: 'neg', spec: { maxUnavailable: -1 }, message: 'PodDisruptionBudget.policy "neg" is invalid: spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0' },
    {
      name: 'str',
      spec: { minAvailable: 'half' },
      message: `PodDisruptionBudget.policy "str" is invalid: spec.minAvailable: Invalid value: "half": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
    },
    { name: 'policy', spec: { minAvailable: 1, unhealthyPodEvictionPolicy: 'Sometimes' }, message: 'PodDisruptionBudget.policy "policy" is invalid: spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"' },
    {
      name: 'selector',
      spec: { minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'Maybe' }] } },
      message: 'PodDisruptionBudget.policy "selector" is invalid: spec.selector.matchExpressions[0].operator: Invalid value: "Maybe": not a valid selector operator',
    },
  ];
  for (const t of cases) {
    const r = await c.client.request('POST', `/apis/policy/v1/namespaces/default/poddisruptionbudgets`, { body: budget(t.name, t.spec) });
    const st = JSON.parse(r.body.toString('utf8')) as { message?: string; reason?: string };
    assert.equal(r.statusCode, 422, t.name);
    assert.equal(st.reason, 'Invalid', t.name);
    assert.equal(st.message, t.message, t.name);
  }
  // And through kubectl, which prints the same.
  const k = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify(budget('pct', { minAvailable: '120%' })) });
  assert.notEqual(k.code, 0);
  assert.match(k.stderr, /spec\.minAvailable: Invalid value: "120%": must not be greater than 100%/);
  assert.equal(pdbs.items().filter((p) => p.metadata?.namespace === 'default').length, 0);
});
