// A node's credential through HTTPS: node a (client certificate CN system:node:a, O system:nodes)
// may read and update what is its own and gets kube-apiserver's 403s, word for word, for node b's
// pods and Node, for secrets its pods do not use, for labels that would steer workloads to it and for
// tokens not bound to its pods. The real kubectl prints the same refusal.
//
// RBAC is not in this branch: the control plane's configured authorizer here stands in for RBAC
// with only its default bindings that concern this test (cluster-admin for system:masters, and
// system:discovery for every authenticated user, which kubectl needs), and no binding for nodes.
// Everything node a may do therefore comes from the Node authorizer itself, which carries the
// system:node role's rules as kube's does.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Lease, Node, Pod, Secret, ServiceAccount } from '../../src/api/types.ts';
import type { Authorizer } from '../../src/apiserver/auth/authorizer.ts';
import { kubeconfigYaml } from '../../src/apiserver/auth/kubeconfig.ts';
import { issueClientCert } from '../../src/apiserver/auth/pki.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ApiError } from '../../src/client/errors.ts';
import { Leases, Nodes, Pods, Secrets, ServiceAccounts } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const run = promisify(execFile);

/** Stands in for RBAC: cluster-admin for system:masters, system:discovery's paths for everyone authenticated. */
const DISCOVERY = /^\/(?:api|apis|openapi|version)(?:\/.*)?$/;
const mastersOnly: Authorizer = {
  authorize: (a) =>
    a.user.groups.includes('system:masters') || (!a.isResourceRequest && a.verb === 'get' && DISCOVERY.test(a.path))
      ? { decision: 'allow', reason: '' }
      : { decision: 'noOpinion', reason: '' },
};

let dir: string;
let cp: ControlPlane;
let admin: ApiClient;
let nodeA: ApiClient;
let kubeconfigA: string;
let podA: Pod;
let podB: Pod;

const secretVolume = (secret: string) => [{ name: 'creds', secret: { secretName: secret } }];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-nodeauthz-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', authorizer: mastersOnly, advertiseAddress: false, localStorage: false });
  admin = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'node-authz-test' });
  const cert = await issueClientCert(cp.pki, 'system:node:a', ['system:nodes']);
  nodeA = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: cert.certPem, keyPem: cert.keyPem, userAgent: 'node-a' });
  kubeconfigA = join(dir, 'node-a.kubeconfig');
  writeFileSync(kubeconfigA, kubeconfigYaml({ name: 'c', server: cp.url, caPem: cp.pki.caCertPem }, { name: 'node-a', ...cert }, { name: 'c', cluster: 'c', user: 'node-a', namespace: 'default' }), { mode: 0o600 });

  for (const name of ['a', 'b']) await admin.create<Node>(Nodes, undefined, { metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
  for (const name of ['s-a', 's-b']) await admin.create<Secret>(Secrets, 'default', { metadata: { name }, stringData: { k: name } });
  for (const name of ['runner-a', 'runner-b']) await admin.create<ServiceAccount>(ServiceAccounts, 'default', { metadata: { name }, automountServiceAccountToken: false });
  const pod = (name: string, node: string, secret: string, sa: string): Pod => ({
    metadata: { name },
    spec: { nodeName: node, serviceAccountName: sa, containers: [{ name: 'c', image: 'busybox' }], volumes: secretVolume(secret) },
  });
  podA = await admin.create<Pod>(Pods, 'default', pod('pa', 'a', 's-a', 'runner-a'));
  podB = await admin.create<Pod>(Pods, 'default', pod('pb', 'b', 's-b', 'runner-b'));
  // The graph follows the stores through a watch: wait until it holds both pods.
  await eventually(() => nodeA.get(Pods, 'default', 'pa'));
});

after(async () => {
  admin?.close();
  nodeA?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Retries until `fn` resolves (the graph is updated by a watch event, not inside the write). */
async function eventually<T>(fn: () => Promise<T>, tries = 250): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function refusal(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, message: err.message };
    throw err;
  }
  assert.fail('the request was allowed');
}

const forbiddenFor = (message: string) => ({ code: 403, message });

test("node a updates its own pods' status; node b's pods are refused", async () => {
  const patched = await nodeA.patch<Pod>(Pods, 'default', 'pa', 'merge', { status: { message: 'seen by a' } }, { subresource: 'status' });
  assert.equal(patched.status?.message, 'seen by a');
  assert.deepEqual(
    await refusal(nodeA.patch(Pods, 'default', 'pb', 'merge', { status: { message: 'seen by a' } }, { subresource: 'status' })),
    forbiddenFor('pods "pb" is forbidden: node "a" can only update pod status for pods with spec.nodeName set to itself'),
  );
  assert.deepEqual(
    await refusal(nodeA.get(Pods, 'default', 'pb')),
    forbiddenFor(`pods "pb" is forbidden: User "system:node:a" cannot get resource "pods" in API group "" in the namespace "default": no relationship found between node 'a' and this object`),
  );
  assert.deepEqual(
    await refusal(nodeA.list(Pods, undefined)),
    forbiddenFor('pods is forbidden: User "system:node:a" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector'),
  );
  const own = await nodeA.list<Pod>(Pods, undefined, { fieldSelector: 'spec.nodeName=a' });
  assert.deepEqual(own.items.map((p) => p.metadata?.name), ['pa']);
  assert.deepEqual(await refusal(nodeA.delete(Pods, 'default', 'pb')), forbiddenFor('pods "pb" is forbidden: node "a" can only delete pods with spec.nodeName set to itself'));
});

test("node a reads and labels its own Node only; node b's Node is refused", async () => {
  assert.equal((await nodeA.get<Node>(Nodes, undefined, 'a')).metadata?.name, 'a');
  assert.deepEqual(
    await refusal(nodeA.get(Nodes, undefined, 'b')),
    forbiddenFor(`nodes "b" is forbidden: User "system:node:a" cannot get resource "nodes" in API group "" at the cluster scope: node 'a' cannot read 'b', only its own Node object`),
  );
  assert.deepEqual(
    await refusal(nodeA.patch(Nodes, undefined, 'b', 'merge', { metadata: { labels: { x: 'y' } } })),
    forbiddenFor('nodes "b" is forbidden: node "a" is not allowed to modify node "b"'),
  );
  assert.deepEqual(
    await refusal(nodeA.patch(Nodes, undefined, 'a', 'merge', { metadata: { labels: { 'node-restriction.kubernetes.io/x': 'y' } } })),
    forbiddenFor('nodes "a" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/x'),
  );
  assert.deepEqual(
    await refusal(nodeA.patch(Nodes, undefined, 'a', 'merge', { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } })),
    forbiddenFor('nodes "a" is forbidden: node "a" is not allowed to modify taints'),
  );
  const labelled = await nodeA.patch<Node>(Nodes, undefined, 'a', 'merge', { metadata: { labels: { 'example.com/rack': 'r1', 'node.kubernetes.io/instance-type': 'small' } } });
  assert.equal(labelled.metadata?.labels?.['example.com/rack'], 'r1');
  assert.deepEqual(await refusal(nodeA.delete(Nodes, undefined, 'a')), forbiddenFor('nodes "a" is forbidden: User "system:node:a" cannot delete resource "nodes" in API group "" at the cluster scope'));
});

test('node a reads the secret its pod uses and no other; kubectl prints the same refusal', async () => {
  const s = await nodeA.get<Secret>(Secrets, 'default', 's-a');
  assert.equal(Buffer.from(s.data?.k ?? '', 'base64').toString(), 's-a');
  // The kubelet's way of watching one secret: a list/watch with a metadata.name field selector.
  const one = await nodeA.list<Secret>(Secrets, 'default', { fieldSelector: 'metadata.name=s-a' });
  assert.deepEqual(one.items.map((i) => i.metadata?.name), ['s-a']);
  const denied = `secrets "s-b" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'a' and this object`;
  assert.deepEqual(await refusal(nodeA.get(Secrets, 'default', 's-b')), forbiddenFor(denied));
  assert.deepEqual(
    await refusal(nodeA.list(Secrets, 'default')),
    forbiddenFor('secrets is forbidden: User "system:node:a" cannot list resource "secrets" in API group "" in the namespace "default": No Object name found'),
  );
  const out = await run('/usr/bin/kubectl', ['--kubeconfig', kubeconfigA, 'get', 'secret', 's-b'], { timeout: 30_000 }).then(
    () => assert.fail('kubectl was allowed'),
    (err: { code?: number; stderr?: string }) => err,
  );
  assert.equal(out.code, 1);
  assert.equal(out.stderr?.trim(), `Error from server (Forbidden): ${denied}`);
});

test('node a gets tokens only for its pods and their service accounts', async () => {
  const tokenFor = (sa: string, pod: Pod) =>
    nodeA.createSubresource<unknown, { status?: { token?: string } }>(ServiceAccounts, 'default', sa, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, uid: pod.metadata!.uid } },
    });
  const made = await tokenFor('runner-a', podA);
  assert.ok(made.status?.token, 'a token for its own pod');
  assert.deepEqual(
    await refusal(tokenFor('runner-b', podB)),
    forbiddenFor(`serviceaccounts "runner-b" is forbidden: User "system:node:a" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default": no relationship found between node 'a' and this object`),
  );
  assert.deepEqual(await refusal(tokenFor('runner-a', podB)), forbiddenFor('serviceaccounts "runner-a" is forbidden: node requested token bound to a pod scheduled on a different node'));
  assert.deepEqual(
    await refusal(nodeA.createSubresource(ServiceAccounts, 'default', 'runner-a', 'token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [] } })),
    forbiddenFor('serviceaccounts "runner-a" is forbidden: node requested token not bound to a pod'),
  );
});

test('node a keeps its own lease in kube-node-lease only', async () => {
  const lease = (name: string): Lease => ({ metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40 } });
  await nodeA.create<Lease>(Leases, 'kube-node-lease', lease('a'));
  assert.deepEqual(
    await refusal(nodeA.create(Leases, 'kube-node-lease', lease('b'))),
    forbiddenFor('leases.coordination.k8s.io "b" is forbidden: can only access node lease with the same name as the requesting node'),
  );
  assert.deepEqual(
    await refusal(nodeA.get(Leases, 'kube-node-lease', 'b')),
    forbiddenFor('leases.coordination.k8s.io "b" is forbidden: User "system:node:a" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node'),
  );
});

test("once its pod is gone, node a may no longer read the pod's secret", async () => {
  await admin.delete(Pods, 'default', 'pa', { gracePeriodSeconds: 0 });
  const denied = `secrets "s-a" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'a' and this object`;
  const seen = await eventually(async () => {
    const r = await refusal(nodeA.get(Secrets, 'default', 's-a'));
    return r;
  });
  assert.deepEqual(seen, forbiddenFor(denied));
});
