// CertificateSigningRequests end to end over HTTPS: the real kubectl creates, lists, approves and
// denies user requests (signer kubernetes.io/kube-apiserver-client), the in-process signer issues the
// approved one with the cluster CA and the certificate authenticates as its CN; a node agent's
// identity is bootstrapped with the join token (auto-approved kubelet client request), reused after
// a restart, rotated (on an injected clock) as the node itself; serving requests are approved only
// for the node's own name and addresses.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr, type CertificateSigningRequest } from '../../src/api/certificates/csr.ts';
import type { Node } from '../../src/api/types.ts';
import { bootstrapNodeClientCertificate, nodeClientRequest, nodeServingCertificate, nodeServingRequest } from '../../src/client/bootstrap.ts';
import { CertificateRotator, requestCertificate, type KeyPair } from '../../src/client/certificates.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ApiError } from '../../src/client/errors.ts';
import { CertificateSigningRequests, Nodes, PersistentVolumes, SelfSubjectReviews, Services } from '../../src/client/resources.ts';
import { startServer } from '../../src/cmd/server.ts';
import { until as eventually } from '../../src/testing/until.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { kubectlBin } from './workloads-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tk-csr-'));
const controllerErrors: unknown[] = [];
const server = await startServer({ dataDir: join(dir, 'server'), listen: '127.0.0.1:0', scheduler: false, controllerOptions: { onError: (e) => controllerErrors.push(e) } });
const cp = server.controlPlane;
const admin = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'csr-test' });
after(async () => {
  admin.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Waits, by watching, until the request satisfies `cond` (a minute at most, so a regression fails rather than hangs). */
async function until(name: string, cond: (c: CertificateSigningRequest) => boolean): Promise<CertificateSigningRequest> {
  const abort = new AbortController();
  const limit = setTimeout(() => abort.abort(), 60_000);
  try {
    const watch = await admin.watch<CertificateSigningRequest>(CertificateSigningRequests, undefined, { fieldSelector: `metadata.name=${name}`, signal: abort.signal });
    for await (const ev of watch) if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && cond(ev.object)) return ev.object;
    throw new Error(`watch of ${name} ended before the condition held`);
  } finally {
    clearTimeout(limit);
    abort.abort();
  }
}

async function whoami(pair: KeyPair): Promise<{ username?: string; groups?: string[] }> {
  const c = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: pair.certPem, keyPem: pair.keyPem });
  try {
    const r = await c.create<{ metadata?: object; status?: { userInfo?: { username?: string; groups?: string[] } } }>(SelfSubjectReviews, undefined, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } as never);
    return r.status?.userInfo ?? {};
  } finally {
    c.close();
  }
}

async function userCsr(name: string, cn: string, extra: Record<string, unknown> = {}): Promise<{ manifest: string; keyPem: string }> {
  const { csrPem, keyPem } = await createCsr({ commonName: cn, organizations: ['dev'] });
  const manifest = JSON.stringify({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    // A client may not choose who it is: the server records the requestor.
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600, username: 'mallory', groups: ['system:masters'], ...extra },
  });
  return { manifest, keyPem };
}

test('kubectl: create, get csr, certificate approve → issued by the signer → the certificate authenticates as its CN', async () => {
  const { manifest, keyPem } = await userCsr('alice', 'alice');
  const created = await kubectl(['create', '-f', '-'], manifest);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), 'certificatesigningrequest.certificates.k8s.io/alice created');
  const stored = await admin.get<CertificateSigningRequest>(CertificateSigningRequests, undefined, 'alice');
  assert.equal(stored.spec.username, 'admin');
  assert.deepEqual(stored.spec.groups, ['system:masters', 'system:authenticated']);

  const pending = await kubectl(['get', 'csr']);
  assert.equal(pending.code, 0, pending.stderr);
  const [header, row] = pending.stdout.trim().split('\n');
  assert.deepEqual(header!.split(/\s+/), ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION']);
  assert.deepEqual(row!.split(/\s+/).filter((_c, i) => i !== 1), ['alice', 'kubernetes.io/kube-apiserver-client', 'admin', '60m', 'Pending']);

  const approved = await kubectl(['certificate', 'approve', 'alice']);
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(approved.stdout.trim(), 'certificatesigningrequest.certificates.k8s.io/alice approved');
  const issued = await until('alice', (c) => !!c.status?.certificate);
  assert.equal(issued.status?.conditions?.[0]?.type, 'Approved');
  assert.equal(issued.status?.conditions?.[0]?.reason, 'KubectlApprove');
  const row2 = (await kubectl(['get', 'csr', 'alice', '--no-headers'])).stdout.trim().split(/\s+/);
  assert.equal(row2.at(-1), 'Approved,Issued');

  const described = await kubectl(['describe', 'csr', 'alice']);
  assert.equal(described.code, 0, described.stderr);
  for (const line of [/^Name:\s+alice$/m, /^Requesting User:\s+admin$/m, /^Signer:\s+kubernetes.io\/kube-apiserver-client$/m, /^Requested Duration:\s+60m$/m, /^Status:\s+Approved,Issued$/m, /^\s+Common Name:\s+alice$/m, /^\s+Organization:\s+dev$/m]) {
    assert.match(described.stdout, line);
  }

  const certPem = Buffer.from(issued.status!.certificate!, 'base64').toString();
  assert.deepEqual(await whoami({ certPem, keyPem }), { username: 'alice', groups: ['dev', 'system:authenticated'] });
});

test('kubectl certificate deny: Denied, never issued; bad requests are 422 with kube\'s messages', async () => {
  const { manifest } = await userCsr('bob', 'bob');
  assert.equal((await kubectl(['create', '-f', '-'], manifest)).code, 0);
  const denied = await kubectl(['certificate', 'deny', 'bob']);
  assert.equal(denied.code, 0, denied.stderr);
  assert.equal(denied.stdout.trim(), 'certificatesigningrequest.certificates.k8s.io/bob denied');
  const bob = await until('bob', (c) => (c.status?.conditions ?? []).some((x) => x.type === 'Denied'));
  assert.equal(bob.status?.certificate, undefined);
  assert.equal((await kubectl(['get', 'csr', 'bob', '--no-headers'])).stdout.trim().split(/\s+/).at(-1), 'Denied');
  // Approving a denied request is refused by validation.
  const again = await kubectl(['certificate', 'approve', 'bob']);
  assert.notEqual(again.code, 0);

  const short = await userCsr('short', 'carol', { expirationSeconds: 300 });
  const refused = await kubectl(['create', '-f', '-'], short.manifest);
  assert.notEqual(refused.code, 0);
  assert.equal(refused.stderr.trim(), 'The CertificateSigningRequest "short" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 600 seconds (10 minutes)');

  const noSigner = await userCsr('nosigner', 'carol', { signerName: '' });
  const r2 = await kubectl(['create', '-f', '-'], noSigner.manifest);
  assert.match(r2.stderr, /spec.signerName: Required value/);

  // The signer fails what its rules refuse: a kube-apiserver-client request for server auth.
  const server = await userCsr('server-usage', 'dave', { usages: ['server auth'] });
  assert.equal((await kubectl(['create', '-f', '-'], server.manifest)).code, 0);
  assert.equal((await kubectl(['certificate', 'approve', 'server-usage'])).code, 0);
  const failed = await until('server-usage', (c) => (c.status?.conditions ?? []).some((x) => x.type === 'Failed'));
  const f = failed.status!.conditions!.find((x) => x.type === 'Failed')!;
  assert.equal(f.reason, 'SignerValidationFailure');
  assert.equal(f.message, 'invalid usage for client certificate: server auth');
  assert.equal((await kubectl(['get', 'csr', 'server-usage', '--no-headers'])).stdout.trim().split(/\s+/).at(-1), 'Approved,Failed');
});

test('agent bootstrap: the join token gets CN=system:node:<name> auto-approved; reused after a restart; rotated as the node itself', async () => {
  const pkiDir = join(dir, 'agent-n1', 'pki');
  const first = await bootstrapNodeClientCertificate({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.nodeToken, nodeName: 'n1', pkiDir, expirationSeconds: 600 });
  assert.equal(first.bootstrapped, true);
  assert.equal(statSync(first.file).mode & 0o777, 0o600);
  assert.deepEqual(await whoami(first.pair), { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] });
  const csrs = (await admin.list<CertificateSigningRequest>(CertificateSigningRequests)).items.filter((c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.equal(csrs.length, 1);
  assert.equal(csrs[0]!.spec.username, 'system:bootstrap:node');
  assert.deepEqual(csrs[0]!.spec.groups, ['system:bootstrappers', 'system:authenticated']);
  assert.deepEqual(csrs[0]!.status?.conditions?.map((c) => [c.type, c.reason, c.message]), [['Approved', 'AutoApproved', 'Auto approving kubelet client certificate after SubjectAccessReview.']]);

  // A restart finds the pair on disk and asks for nothing.
  const again = await bootstrapNodeClientCertificate({ server: cp.url, caPem: cp.pki.caCertPem, token: 'wrong-token', nodeName: 'n1', pkiDir });
  assert.equal(again.bootstrapped, false);
  assert.equal(again.pair.certPem, first.pair.certPem);

  // Rotation: the clock passes 90% of the certificate's life; the new request is made by system:node:n1.
  const clock = new FakeClock(Date.now());
  const client = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: first.pair.certPem, keyPem: first.pair.keyPem });
  let rotated!: (p: KeyPair) => void;
  const done = new Promise<KeyPair>((resolve) => (rotated = resolve));
  const rotator = new CertificateRotator({
    file: first.file,
    request: () => requestCertificate(client, nodeClientRequest('n1', 600)),
    onRotate: (p) => {
      client.setClientCertificate(p.certPem, p.keyPem);
      rotated(p);
    },
    clock,
    random: () => 0.5,
  });
  rotator.start(first.pair);
  clock.advance(15 * 60 * 1000);
  const next = await done;
  await rotator.stop();
  assert.notEqual(next.certPem, first.pair.certPem);
  assert.deepEqual(await whoami(next), { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] });
  const self = (await admin.list<CertificateSigningRequest>(CertificateSigningRequests)).items.find((c) => c.spec.username === 'system:node:n1' && c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.equal(self?.status?.conditions?.[0]?.message, 'Auto approving self kubelet client certificate after SubjectAccessReview.');
  // The client keeps working on its new identity, and a restart reads the rotated pair.
  const n = await client.create<Node>(Nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  assert.equal(n.metadata?.name, 'n1');
  const restarted = await bootstrapNodeClientCertificate({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.nodeToken, nodeName: 'n1', pkiDir });
  assert.equal(restarted.pair.certPem, next.certPem);
  client.close();
});

test('the join token is a bootstrap token: it may ask for certificates and nothing a node may do', async () => {
  const token = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.nodeToken, userAgent: 'csr-test (join token)' });
  try {
    const { csrPem } = await createCsr({ commonName: 'system:node:bt', organizations: ['system:nodes'] });
    const created = await token.create<CertificateSigningRequest>(CertificateSigningRequests, undefined, {
      metadata: { generateName: 'bootstrap-' },
      spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
    });
    assert.equal(created.spec.username, 'system:bootstrap:node');
    await token.get(CertificateSigningRequests, undefined, created.metadata!.name!);
    // kube-apiserver's 403s for a bootstrap token: none of system:nodes' (and tinykube's agent role's) rights.
    const forbidden: Array<[string, () => Promise<unknown>, string]> = [
      ['list nodes', () => token.list(Nodes), 'nodes is forbidden: User "system:bootstrap:node" cannot list resource "nodes" in API group "" at the cluster scope'],
      ['list services', () => token.list(Services), 'services is forbidden: User "system:bootstrap:node" cannot list resource "services" in API group "" at the cluster scope'],
      ['delete a persistent volume', () => token.delete(PersistentVolumes, undefined, 'pv-1'), 'persistentvolumes "pv-1" is forbidden: User "system:bootstrap:node" cannot delete resource "persistentvolumes" in API group "" at the cluster scope'],
      ['get a node', () => token.get(Nodes, undefined, 'n1'), 'nodes "n1" is forbidden: User "system:bootstrap:node" cannot get resource "nodes" in API group "" at the cluster scope'],
    ];
    for (const [what, call, message] of forbidden) {
      await assert.rejects(call(), (err: unknown) => err instanceof ApiError && err.code === 403 && err.reason === 'Forbidden' && err.message === message, what);
    }
  } finally {
    token.close();
  }
});

test('serving certificates: issued for the node\'s own name and addresses; never for another node\'s', async () => {
  for (const [name, ip] of [['s1', '10.77.0.1'], ['s2', '10.77.0.2']] as const) {
    await admin.create<Node>(Nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    // The node controllers write a new Node too (its pod CIDR, its taints): a conflict is read again and retried.
    await eventually(`the addresses of node ${name}`, async () => {
      const latest = await admin.get<Node>(Nodes, undefined, name);
      return admin.updateStatus<Node>(Nodes, undefined, { ...latest, status: { ...latest.status, addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } });
    });
  }
  const s1 = await bootstrapNodeClientCertificate({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.nodeToken, nodeName: 's1', pkiDir: join(dir, 'agent-s1', 'pki') });
  const node = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: s1.pair.certPem, keyPem: s1.pair.keyPem });
  after(() => node.close());

  // Requests the approver must leave pending: another node's name, another node's address, in another node's name.
  const bad: string[] = [];
  for (const [cn, hosts] of [['s1', ['s1', 's2']], ['s1', ['10.77.0.2']], ['s2', ['s2', '10.77.0.2']]] as const) {
    const { csrPem } = await createCsr({ commonName: `system:node:${cn}`, organizations: ['system:nodes'] }, [...hosts]);
    const c = await node.create<CertificateSigningRequest>(CertificateSigningRequests, undefined, {
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { generateName: 'csr-' },
      spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] },
    });
    bad.push(c.metadata!.name!);
  }
  // The approver works through its queue in order: once the good request is issued, the bad ones were judged.
  const pair = await nodeServingCertificate(node, { caPem: cp.pki.caCertPem, nodeName: 's1', hosts: ['s1', '10.77.0.1'], pkiDir: join(dir, 'agent-s1', 'pki') });
  const { X509Certificate } = await import('node:crypto');
  assert.equal(new X509Certificate(pair.certPem).subjectAltName, 'DNS:s1, IP Address:10.77.0.1');
  for (const name of bad) {
    const c = await admin.get<CertificateSigningRequest>(CertificateSigningRequests, undefined, name);
    assert.deepEqual(c.status?.conditions ?? [], [], `${name} stays pending`);
    assert.equal(c.status?.certificate, undefined);
  }
  assert.equal((await kubectl(['get', 'csr', bad[0]!, '--no-headers'])).stdout.trim().split(/\s+/).at(-1), 'Pending');
  assert.ok(nodeServingRequest('s1', []).signerName === 'kubernetes.io/kubelet-serving');
  assert.deepEqual(controllerErrors, []);
});

test('kubelet client requests are approved as RBAC answers the approver\'s SubjectAccessReview for their requestor', async () => {
  const request = async (name: string, cn: string, as: string[]) => {
    const { csrPem } = await createCsr({ commonName: cn, organizations: ['system:nodes'] });
    const manifest = JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
      spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
    });
    const r = await kubectl(['create', '-f', '-', ...as], manifest);
    assert.equal(r.code, 0, r.stderr);
  };
  const approved = (c: CertificateSigningRequest) => !!c.status?.conditions?.some((x) => x.type === 'Approved');
  // robot may ask for certificates (system:node-bootstrapper, as kubeadm binds bootstrap tokens to it)
  // but not have node client certificates approved: its request stays pending. A node's renewal
  // of its own (selfnodeclient, granted to system:nodes) made after it shows it was judged.
  assert.equal((await kubectl(['create', 'clusterrolebinding', 'robot-bootstrapper', '--clusterrole=system:node-bootstrapper', '--user=robot'])).code, 0);
  await request('robot-1', 'system:node:r1', ['--as=robot']);
  await request('marker-1', 'system:node:m1', ['--as=system:node:m1', '--as-group=system:nodes']);
  const marker = await until('marker-1', approved);
  assert.equal(marker.status?.conditions?.[0]?.message, 'Auto approving self kubelet client certificate after SubjectAccessReview.');
  assert.deepEqual((await admin.get<CertificateSigningRequest>(CertificateSigningRequests, undefined, 'robot-1')).status?.conditions ?? [], []);

  // Bound to the nodeclient role, as kubeadm binds bootstrap tokens, its next request is approved.
  const bound = await kubectl(['create', 'clusterrolebinding', 'robot-nodeclient', '--clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient', '--user=robot']);
  assert.equal(bound.code, 0, bound.stderr);
  await request('robot-2', 'system:node:r2', ['--as=robot']);
  const second = await until('robot-2', approved);
  assert.deepEqual(second.status?.conditions?.map((c) => [c.type, c.reason, c.message]), [['Approved', 'AutoApproved', 'Auto approving kubelet client certificate after SubjectAccessReview.']]);

  // Without the default selfnodeclient binding a node's own renewal is no longer approved.
  assert.equal((await kubectl(['delete', 'clusterrolebinding', 'system:tinykube:node-autoapprove-certificate-rotation'])).code, 0);
  await request('self-2', 'system:node:m2', ['--as=system:node:m2', '--as-group=system:nodes']);
  await request('robot-3', 'system:node:r3', ['--as=robot']);
  await until('robot-3', approved);
  assert.deepEqual((await admin.get<CertificateSigningRequest>(CertificateSigningRequests, undefined, 'self-2')).status?.conditions ?? [], []);
  assert.deepEqual(controllerErrors, []);
});
