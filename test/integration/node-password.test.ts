// A second machine with an existing node's name is refused, as k3s refuses it with its node
// passwords: over a real control plane with its controllers (approver, signer, garbage collector),
// two agents bootstrap as the same node name from two data dirs. The first join records its password
// (kube-system/<node>.node-password.tinykube, owned by the Node once the Node is registered); the
// second is Denied with NodePasswordRejected and its bootstrap fails with an error that says what to
// do; the first machine joining again with its own data dir is accepted; after `kubectl delete node`
// the garbage collector removes the Secret and the second machine joins.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateSigningRequest } from '../../src/api/certificates/csr.ts';
import type { Event, Node, Secret } from '../../src/api/types.ts';
import { bootstrapNodeClientCertificate, NodePasswordRejectedError, NODE_CLIENT_FILE } from '../../src/client/bootstrap.ts';
import { requestCertificate } from '../../src/client/certificates.ts';
import { ApiClient } from '../../src/client/client.ts';
import type { ResourceRef } from '../../src/client/resources.ts';
import { CertificateSigningRequests, Events, Nodes, Secrets } from '../../src/client/resources.ts';
import { startServer } from '../../src/cmd/server.ts';
import { kubectlBin } from './workloads-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tk-nodepw-'));
const controllerErrors: unknown[] = [];
const server = await startServer({ dataDir: join(dir, 'server'), listen: '127.0.0.1:0', scheduler: false, controllerOptions: { onError: (e) => controllerErrors.push(e) } });
const cp = server.controlPlane;
const admin = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'node-password-test' });
after(async () => {
  admin.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const NODE = 'dup1';
const SECRET = `${NODE}.node-password.tinykube`;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Waits, by watching, until the object of `name` satisfies `cond` (undefined: absent); a minute at most. */
async function until<T extends { metadata?: { name?: string } }>(ref: ResourceRef, namespace: string | undefined, name: string, cond: (o: T | undefined) => boolean): Promise<T | undefined> {
  const abort = new AbortController();
  const limit = setTimeout(() => abort.abort(), 60_000);
  try {
    const list = await admin.list<T>(ref, namespace, { fieldSelector: `metadata.name=${name}` });
    let current: T | undefined = list.items[0];
    if (cond(current)) return current;
    const watch = await admin.watch<T>(ref, namespace, { fieldSelector: `metadata.name=${name}`, resourceVersion: list.metadata?.resourceVersion, signal: abort.signal });
    for await (const ev of watch) {
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') current = ev.object;
      else if (ev.type === 'DELETED') current = undefined;
      else continue;
      if (cond(current)) return current;
    }
    throw new Error(`watch of ${name} ended before the condition held`);
  } finally {
    clearTimeout(limit);
    abort.abort();
  }
}

/** Waits, by watching, until an object matching `fieldSelector` satisfies `cond`; a minute at most. */
async function untilListed<T>(ref: ResourceRef, namespace: string | undefined, fieldSelector: string, cond: (o: T) => boolean): Promise<T> {
  const abort = new AbortController();
  const limit = setTimeout(() => abort.abort(), 60_000);
  try {
    const list = await admin.list<T>(ref, namespace, { fieldSelector });
    const found = list.items.find(cond);
    if (found) return found;
    const watch = await admin.watch<T>(ref, namespace, { fieldSelector, resourceVersion: list.metadata?.resourceVersion, signal: abort.signal });
    for await (const ev of watch) if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && cond(ev.object)) return ev.object;
    throw new Error(`watch of ${fieldSelector} ended before the condition held`);
  } finally {
    clearTimeout(limit);
    abort.abort();
  }
}

function machine(which: string) {
  const dataDir = join(dir, which);
  return {
    dataDir,
    join: () => bootstrapNodeClientCertificate({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.nodeToken, nodeName: NODE, pkiDir: join(dataDir, 'pki'), timeoutMs: 60_000 }),
    /** Forgets the certificate (as after a long time off), keeping the data dir's password. */
    forgetCertificate: () => unlinkSync(join(dataDir, 'pki', NODE_CLIENT_FILE)),
  };
}

async function kubeletClientCsrs(): Promise<CertificateSigningRequest[]> {
  const all = (await admin.list<CertificateSigningRequest>(CertificateSigningRequests)).items;
  return all.filter((c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet' && c.spec.username === 'system:bootstrap:node');
}

test('one machine per node name: a second is refused with NodePasswordRejected; the first rejoins; after kubectl delete node the second joins', async () => {
  const a = machine('machine-a');
  const b = machine('machine-b');

  // First join: the password is made (0600) and recorded; no Node yet, so the Secret is unowned.
  const first = await a.join();
  assert.equal(first.bootstrapped, true);
  assert.equal(statSync(join(a.dataDir, 'node-password')).mode & 0o777, 0o600);
  const recorded = await admin.get<Secret>(Secrets, 'kube-system', SECRET);
  assert.equal(recorded.type, 'tinykube.io/node-password');
  assert.match(Buffer.from(recorded.data!.hash!, 'base64').toString(), /^\$scrypt\$/);
  assert.ok(!JSON.stringify(recorded).includes(readFileSync(join(a.dataDir, 'node-password'), 'utf8').trim()), 'the Secret holds a hash, not the password');

  // The machine registers its Node: the approver makes the Secret the Node's dependent.
  const nodeA = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: first.pair.certPem, keyPem: first.pair.keyPem });
  after(() => nodeA.close());
  const registered = await nodeA.create<Node>(Nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
  await until<Secret>(Secrets, 'kube-system', SECRET, (s) => (s?.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Node' && r.name === NODE && r.uid === registered.metadata?.uid));

  // A second machine with the same name: Denied, and its agent is told what to do.
  await assert.rejects(b.join(), (err: unknown) => {
    assert.ok(err instanceof NodePasswordRejectedError, String(err));
    assert.match(err.message, /^node "dup1": the server refused this machine's join \(Node password rejected, duplicate hostname/);
    assert.match(err.message, /kubectl delete node dup1/);
    assert.match(err.message, /another --name/);
    return true;
  });
  const denied = (await kubeletClientCsrs()).filter((c) => c.status?.conditions?.some((x) => x.type === 'Denied'));
  assert.equal(denied.length, 1);
  assert.deepEqual(denied[0]!.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [
    ['Denied', 'True', 'NodePasswordRejected', "Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry"],
  ]);
  assert.equal(denied[0]!.status?.certificate, undefined);
  const getCsr = await kubectl(['get', 'csr', denied[0]!.metadata!.name!, '--no-headers']);
  assert.equal(getCsr.stdout.trim().split(/\s+/).at(-1), 'Denied', getCsr.stderr);
  // The refusal shows on the Node it claimed (kubectl describe node's events).
  const event = await untilListed<Event>(Events, 'default', `involvedObject.kind=Node,involvedObject.name=${NODE}`, (e) => e.reason === 'NodePasswordRejected');
  assert.equal(event.type, 'Warning');
  assert.match(event.message ?? '', /^a join as this node was refused \(certificate signing request csr-/);

  // The first machine joining again from its own data dir (its certificate lost): accepted.
  a.forgetCertificate();
  const again = await a.join();
  assert.equal(again.bootstrapped, true);
  assert.notEqual(again.pair.certPem, first.pair.certPem);

  // A request from the bootstrap identity without a password never joins.
  const bootstrap = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.nodeToken });
  after(() => bootstrap.close());
  await assert.rejects(
    requestCertificate(bootstrap, { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: 'system:node:nopw', organizations: ['system:nodes'], usages: ['digital signature', 'client auth'] }, { timeoutMs: 60_000 }),
    /is denied: NodePasswordRejected: the request for node "nopw" carries no node password/,
  );

  // The old machine is gone: `kubectl delete node` lets the new one join, once the garbage collector
  // has deleted the Secret with its Node.
  const del = await kubectl(['delete', 'node', NODE]);
  assert.equal(del.code, 0, del.stderr);
  await until<Secret>(Secrets, 'kube-system', SECRET, (s) => s === undefined || s.metadata?.deletionTimestamp !== undefined);
  const second = await b.join();
  assert.equal(second.bootstrapped, true);
  // Now the name is the new machine's: the old one's password is refused.
  a.forgetCertificate();
  await assert.rejects(a.join(), NodePasswordRejectedError);

  // Renewals by the node itself carry no password and are approved.
  const nodeB = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: second.pair.certPem, keyPem: second.pair.keyPem });
  after(() => nodeB.close());
  const renewed = await requestCertificate(nodeB, { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: `system:node:${NODE}`, organizations: ['system:nodes'], usages: ['digital signature', 'client auth'] }, { timeoutMs: 60_000 });
  assert.match(renewed.certPem, /BEGIN CERTIFICATE/);
  assert.deepEqual(controllerErrors, []);
});
