// Service-account identities end to end on `tinykube up`: a program in a pod (the host's static
// kubectl, in an image built offline over busybox) reaches the API through the kubernetes Service
// with its in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA), gets
// exactly what RBAC grants its account (view in its namespace: pods yes; secrets and other
// namespaces 403 with kube-apiserver's message), and its token stops working once the pod is gone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildBusyboxImageArchive } from '../../src/kubelet/images/builtin.ts';
import { kubectlBin, startCluster, type Cluster } from './harness.ts';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '..', '..');
const node = `sa-${process.pid}`;
const IMAGE = 'tinykube.local/kubectl:test';
let c: Cluster;

/** `kubectl exec` of a command in the client pod: its exit code and output, never a throw. */
async function inPod(...cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return c.kubectl(['-n', 'team', 'exec', 'client', '--', ...cmd], { timeoutMs: 60_000 });
}

describe('Service-account identities on tinykube up', () => {
  before(async () => {
    c = await startCluster({ command: 'up', args: ['--name', node] });
    const archive = path.join(c.dir, 'kubectl-image.tar');
    const kubectl = readFileSync(kubectlBin);
    writeFileSync(archive, buildBusyboxImageArchive([IMAGE], [{ path: 'usr/local/bin/kubectl', data: kubectl }]).archive);
    await run(path.join(repo, 'bin', 'tinykube'), ['image', 'import', archive, '--data-dir', c.dataDir]);
  });
  after(async () => {
    await c?.stop();
  });

  it('a pod whose account may view its namespace lists pods through kubernetes.default.svc, and nothing more', async () => {
    await c.k('create', 'namespace', 'team');
    await c.k('-n', 'team', 'create', 'serviceaccount', 'reader');
    await c.k('-n', 'team', 'create', 'rolebinding', 'reader-view', '--clusterrole=view', '--serviceaccount=team:reader');
    await c.k('apply', '-f', await c.writeFile('client.yaml', `apiVersion: v1
kind: Pod
metadata: {name: client, namespace: team}
spec:
  serviceAccountName: reader
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${IMAGE}
    imagePullPolicy: Never
    command: ["sleep", "3600"]
`));
    await c.k('-n', 'team', 'wait', '--for=condition=Ready', 'pod/client', '--timeout=90s');

    const ns = await inPod('cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace');
    assert.equal(ns.stdout, 'team');
    const ca = await inPod('cat', '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
    assert.equal(ca.stdout, readFileSync(path.join(c.dataDir, 'server', 'pki', 'ca.crt'), 'utf8'));

    const pods = await inPod('kubectl', 'get', 'pods', '-o', 'name');
    assert.equal(pods.code, 0, pods.stderr);
    assert.equal(pods.stdout.trim(), 'pod/client');
    const who = await inPod('kubectl', 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
    assert.equal(who.stdout, 'system:serviceaccount:team:reader', who.stderr);

    const secrets = await inPod('kubectl', 'get', 'secrets');
    assert.notEqual(secrets.code, 0);
    assert.match(secrets.stderr, /Error from server \(Forbidden\): secrets is forbidden: User "system:serviceaccount:team:reader" cannot list resource "secrets" in API group "" in the namespace "team"/);
    const elsewhere = await inPod('kubectl', 'get', 'pods', '-n', 'default');
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "default"/);

    // The pod's token, used from outside, works until the pod is deleted.
    const token = (await inPod('cat', '/var/run/secrets/kubernetes.io/serviceaccount/token')).stdout;
    const kubeconfig = await c.writeFile('reader.kubeconfig', `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: ${JSON.stringify(c.url)}, certificate-authority: ${JSON.stringify(path.join(c.dataDir, 'server', 'pki', 'ca.crt'))}}}]
users: [{name: reader, user: {token: ${JSON.stringify(token)}}}]
contexts: [{name: c, context: {cluster: c, user: reader, namespace: team}}]
current-context: c
`);
    const asReader = (...args: string[]) => run(kubectlBin, ['--kubeconfig', kubeconfig, ...args]).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
    assert.equal((await asReader('get', 'pods', '-o', 'name')).stdout.trim(), 'pod/client');
    await c.k('-n', 'team', 'delete', 'pod', 'client', '--wait=true', '--timeout=60s');
    const after = await asReader('get', 'pods');
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
  });
});
