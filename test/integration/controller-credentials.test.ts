// Per-controller credentials (kube-controller-manager's --use-service-account-credentials) through
// the API server's own record of who asked, the audit log: a Deployment's ReplicaSet is created by
// system:serviceaccount:kube-system:deployment-controller and its pods by replicaset-controller; a
// controller whose ClusterRoleBinding is removed is refused, says so, and backs off instead of
// looping; its tokens are renewed on a FakeClock before they expire.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/apiserver/audit/event.ts';
import type { Event, Pod, ReplicaSet } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Events, Pods, ReplicaSets } from '../../src/client/resources.ts';
import { startControlPlane } from '../../src/cmd/controlplane.ts';
import { ServiceAccountClients } from '../../src/controllers/credentials.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { until } from '../../src/testing/until.ts';
import { startWorkloadCluster, type WorkloadCluster } from './workloads-harness.ts';

const NS = 'creds';
const SA = (name: string) => `system:serviceaccount:kube-system:${name}`;

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Metadata
  namespaces: [${NS}]
  verbs: [create]
  resources: [{group: "", resources: [pods, events]}, {group: apps, resources: [replicasets]}]
  omitStages: [RequestReceived]
- level: Metadata
  namespaces: [${NS}]
  verbs: [update]
  resources: [{group: apps, resources: [replicasets/status]}]
  omitStages: [RequestReceived]
- level: Metadata
  namespaces: [kube-system]
  verbs: [create, update]
  resources: [{group: "", resources: [serviceaccounts, serviceaccounts/token]}]
  omitStages: [RequestReceived]
- level: None
`;

describe('controllers as their own service accounts', () => {
  let dir: string;
  let c: WorkloadCluster;
  let logPath: string;
  const audit = (): AuditEvent[] =>
    readFileSync(logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
  const ok = async (args: string[], input?: string) => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tk-creds-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    logPath = join(dir, 'audit.log');
    c = await startWorkloadCluster({ nodes: 1, server: { audit: { policyFile: join(dir, 'policy.yaml'), logPath } } });
    await ok(['create', 'namespace', NS]);
  });
  after(async () => {
    await c?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a Deployment's ReplicaSet is created by deployment-controller, its pods by replicaset-controller, each with its events", async () => {
    const pods = await c.watch<Pod>(Pods, NS);
    await ok(['-n', NS, 'create', 'deployment', 'web', '--image=busybox', '--replicas=2']);
    await pods.until((all) => all.filter((p) => p.status?.phase === 'Running').length === 2, '2 running pods');
    const created = (resource: string) => audit().filter((e) => e.verb === 'create' && e.objectRef?.resource === resource && e.responseStatus?.code === 201);
    await until('the ScalingReplicaSet and SuccessfulCreate events recorded', () => {
      const by = new Set(created('events').map((e) => e.user.username));
      return by.has(SA('deployment-controller')) && by.has(SA('replicaset-controller'));
    });
    const sets = created('replicasets');
    assert.equal(sets.length, 1);
    assert.equal(sets[0]!.user.username, SA('deployment-controller'));
    assert.deepEqual(sets[0]!.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']);
    const podCreates = created('pods');
    assert.equal(podCreates.length, 2);
    assert.deepEqual(podCreates.map((e) => e.user.username), [SA('replicaset-controller'), SA('replicaset-controller')]);
  });

  test('the controller manager itself is user system:kube-controller-manager: it makes the accounts and asks their tokens', async () => {
    const byManager = (verb: string, resource: string, subresource?: string) =>
      audit().filter((e) => e.verb === verb && e.objectRef?.resource === resource && e.objectRef.subresource === subresource && e.user.username === 'system:kube-controller-manager');
    // The accounts' tokens are fetched one after another from the start, in the background: the test
    // before may well be done first.
    await until('a TokenRequest by the controller manager for each of its 25+ controllers', () => byManager('create', 'serviceaccounts', 'token').length >= 25);
    const tokens = byManager('create', 'serviceaccounts', 'token');
    assert.ok(tokens.every((e) => e.responseStatus?.code === 201 && e.objectRef?.namespace === 'kube-system'));
    assert.deepEqual(tokens[0]!.user.groups, ['system:authenticated']);
    assert.ok(tokens.some((e) => e.objectRef?.name === 'replicaset-controller'));
    assert.ok(byManager('create', 'serviceaccounts').some((e) => e.responseStatus?.code === 201 && e.objectRef?.name === 'deployment-controller'));
    // Nothing it did was refused, and the admin identity was not used for it.
    assert.deepEqual(audit().filter((e) => e.user.username === 'system:kube-controller-manager' && (e.responseStatus?.code ?? 0) >= 400).map((e) => `${e.verb} ${e.requestURI} ${e.responseStatus?.code}`), []);
    assert.deepEqual(audit().filter((e) => e.objectRef?.subresource === 'token' && e.user.username !== 'system:kube-controller-manager').map((e) => e.user.username), []);
  });

  test('every account the controllers run as is bound to its system:controller role', async () => {
    type Binding = { metadata: { name: string }; roleRef: { name: string }; subjects?: Array<{ kind: string; name: string; namespace?: string }> };
    const bindings = (JSON.parse(await ok(['get', 'clusterrolebindings', '-o', 'json'])) as { items: Binding[] }).items;
    const accounts = (JSON.parse(await ok(['-n', 'kube-system', 'get', 'serviceaccounts', '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> }).items
      .map((a) => a.metadata.name)
      .filter((n) => n !== 'default');
    // Every controller of the manager runs by default in the harness (the tokens controller on the root client).
    assert.ok(accounts.length >= 25, accounts.join(' '));
    for (const name of accounts) {
      const roles = bindings.filter((x) => x.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === name && s.namespace === 'kube-system')).map((x) => x.roleRef.name);
      assert.ok(roles.includes(`system:controller:${name}`), `kube-system/${name} is bound to ${roles.join(', ') || 'nothing'}`);
    }
  });

  test('without its ClusterRoleBinding the ReplicaSet controller is refused, reports it and backs off; the binding back, it recovers', async () => {
    const forbidden = new RegExp(`User "${SA('replicaset-controller')}" cannot create resource "pods" in API group "" in the namespace "${NS}"`);
    await ok(['delete', 'clusterrolebinding', 'system:controller:replicaset-controller']);
    const errorsBefore = c.controllerErrors.length;
    await ok(['apply', '-f', '-'], `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: denied, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: denied}}
  template:
    metadata: {labels: {app: denied}}
    spec: {containers: [{name: c, image: busybox}]}
`);
    // Nothing granted at all: even its event and status writes are refused, so its error path (the
    // controller manager's log) is what says so, with kube's 403 text.
    const refused = await until('the refusal reported', () =>
      c.controllerErrors.slice(errorsBefore).map((e) => (e as Error).message).find((m) => m.includes(`User "${SA('replicaset-controller')}" cannot update resource "replicasets/status" in API group "apps" in the namespace "${NS}"`)),
    );
    assert.match(refused, /^replicasets\.apps "denied" is forbidden: /);

    // Given back only events and its status in this namespace, it says why pods are missing the way it
    // always does: a FailedCreate event and the ReplicaFailure condition.
    await ok(['-n', NS, 'create', 'role', 'rs-report', '--verb=create,patch,update', '--resource=events']);
    await ok(['-n', NS, 'patch', 'role', 'rs-report', '--type=json', '-p', '[{"op":"add","path":"/rules/-","value":{"apiGroups":["apps"],"resources":["replicasets/status"],"verbs":["update"]}}]']);
    await ok(['-n', NS, 'create', 'rolebinding', 'rs-report', '--role=rs-report', '--serviceaccount=kube-system:replicaset-controller']);
    const events = await c.watch<Event>(Events, NS);
    const isFailed = (e: Event) => e.involvedObject?.name === 'denied' && e.reason === 'FailedCreate';
    const failed = (await events.until((all) => all.some(isFailed), 'a FailedCreate event', 20_000)).find(isFailed);
    assert.match(failed!.message ?? '', /^Error creating: pods .*is forbidden: /);
    assert.match(failed!.message ?? '', forbidden);
    assert.equal(failed!.source?.component, 'replicaset-controller');
    const sets = await c.watch<ReplicaSet>(ReplicaSets, NS);
    const isReported = (r: ReplicaSet) => r.metadata?.name === 'denied' && !!r.status?.conditions?.some((x) => x.type === 'ReplicaFailure' && x.reason === 'FailedCreate');
    const denied = (await sets.until((all) => all.some(isReported), 'the ReplicaFailure condition', 20_000)).find(isReported);
    assert.match(denied!.status!.conditions!.find((x) => x.type === 'ReplicaFailure')!.message ?? '', forbidden);

    // Each refused attempt is a 403 in the audit log; their spacing is the work queue's backoff
    // (5 ms doubling), not a hot loop: eight attempts take at least 5+10+...+320 ms, less one
    // immediate retry that the status change itself queues.
    const attempts = () => audit().filter((e) => e.verb === 'create' && e.objectRef?.resource === 'pods' && e.responseStatus?.code === 403 && e.user.username === SA('replicaset-controller'));
    const eight = await until('eight refused pod creates', () => (attempts().length >= 8 ? attempts().slice(0, 8) : undefined), { timeoutMs: 20_000 });
    const span = Date.parse(eight[7]!.stageTimestamp) - Date.parse(eight[0]!.stageTimestamp);
    assert.ok(span >= 250, `8 attempts in ${span} ms`);

    // kube-apiserver would restore its bootstrap binding at the next start; here it is made by hand.
    await ok(['create', 'clusterrolebinding', 'system:controller:replicaset-controller', '--clusterrole=system:controller:replicaset-controller', '--serviceaccount=kube-system:replicaset-controller']);
    await sets.until((all) => all.some((r) => r.metadata?.name === 'denied' && r.status?.readyReplicas === 1 && !r.status.conditions?.some((x) => x.type === 'ReplicaFailure')), 'the ReplicaSet recovered', 30_000);
  });
});

test('controller tokens are renewed at 80% of their hour on the clock; the old one expires, the controller keeps working', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-creds-clock-'));
  const clock = new FakeClock(Date.now());
  const cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0', clock, advertiseAddress: false });
  // The root credential the controller manager gets in `tinykube server` (a token: its connections are lent).
  const root = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.componentToken('system:kube-controller-manager') });
  const errors: unknown[] = [];
  const clients = new ServiceAccountClients({ root, clock, onError: (e) => errors.push(e) });
  const whoami = async (client: ApiClient) =>
    (await client.requestJson<{ status?: { userInfo?: { username?: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } })).status?.userInfo?.username;
  try {
    const client = clients.clientFor('deployment-controller');
    const source = clients.source('deployment-controller')!;
    assert.equal(await whoami(client), SA('deployment-controller'));
    // The account was made by the root client.
    await root.get({ apiVersion: 'v1', resource: 'serviceaccounts' }, 'kube-system', 'deployment-controller');
    const first = await source.token();
    clock.advance(48 * 60_000 - 1000);
    assert.equal(source.issuedCount, 1);
    clock.advance(1000);
    await until('the token renewed', () => source.issuedCount === 2);
    const second = await source.token();
    assert.notEqual(second, first);
    // Past the first token's hour and kube's minute of leeway: it is refused, the controller's
    // client goes on with the new one.
    clock.advance(14 * 60_000);
    const stale = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: first });
    await assert.rejects(whoami(stale), (err: Error & { code?: number }) => err.code === 401);
    stale.close();
    assert.equal(await whoami(client), SA('deployment-controller'));
    assert.equal(source.issuedCount, 2);
    assert.deepEqual(errors, []);
  } finally {
    clients.stop();
    root.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
