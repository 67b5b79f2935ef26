// Certificates that never silently expire: a control plane whose leaf certificates come close to
// expiry renews them while it runs, and every client keeps working: the real kubectl with the
// kubeconfig the server rewrites (and with a copy made before the renewal), an agent-style ApiClient
// that pinned the CA from the node token (its open watch and new connections alike), and
// `tinykube certs check` shows the new expiry. `tinykube certs rotate` renews them on demand and the
// running server installs them without a restart.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ApiClient } from '../../src/client/client.ts';
import { caHashFromToken, fetchPinnedCa } from '../../src/client/bootstrap.ts';
import { Nodes } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { ensurePki, issueClientCert, issueServingCert, LEAF_NAMES, type IssuedCert, type LeafName } from '../../src/apiserver/auth/pki.ts';
import { FakeClock } from '../../src/util/clock.ts';
import type { Node, Pod } from '../../src/api/types.ts';
import { Pods } from '../../src/client/resources.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
const tinykubeBin = join(import.meta.dirname, '../../bin/tinykube');
const DAY = 24 * 60 * 60 * 1000;

let dir: string;
let dataDir: string;
let cp: ControlPlane;
let clock: FakeClock;
let agent: ApiClient;
let nodeCert: IssuedCert;
let pinnedCa: string;
let fakeAgent: HttpsServer;
/** Serial numbers of the client certificates the API server presented to the fake agent, in order. */
const agentSawClients: string[] = [];

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function kubectl(kubeconfig: string, args: string[]) {
  return run(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args]);
}

/** The serving certificate a new TLS handshake gets, verified against the pinned CA only. */
function servingSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: cp.port, ca: pinnedCa, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber;
}

function kubeconfigClientCert(file: string): string {
  const doc = parse(readFileSync(file, 'utf8')) as { users: Array<{ user: { 'client-certificate-data': string } }> };
  return Buffer.from(doc.users[0].user['client-certificate-data'], 'base64').toString('utf8');
}

function nextRenewal(): Promise<LeafName[]> {
  return new Promise((resolve) => {
    const off = cp.certificates.onRenewed((r) => {
      off();
      resolve(r);
    });
  });
}

/** `tinykube certs check` rows by certificate name: days left and status. */
async function certsCheck(): Promise<Map<string, { daysLeft: number; status: string; line: string }>> {
  const r = await run(tinykubeBin, ['certs', 'check', '--data-dir', dataDir]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^CERTIFICATE\s+SUBJECT\s+NOT BEFORE\s+NOT AFTER\s+DAYS LEFT\s+STATUS\s+SANS$/);
  const out = new Map<string, { daysLeft: number; status: string; line: string }>();
  for (const line of lines.slice(1)) {
    const m = /^(\S+(?: \(client\))?)\s+(\S+(?:\s\S+=\S+)*)\s+(\S+Z)\s+(\S+Z)\s+(-?\d+)\s+(OK|RENEW NOW|EXPIRED|CA EXPIRES SOON)\b/.exec(line);
    assert.ok(m, `unparsed row: ${line}`);
    out.set(m[1], { daysLeft: Number(m[5]), status: m[6], line });
  }
  return out;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-certrot-'));
  dataDir = join(dir, 'data');
  const realNow = Date.now();
  // Leaves issued 276 days ago: 89 days left in real time.
  await ensurePki(dataDir, { hosts: ['127.0.0.1'], now: () => realNow - 276 * DAY });
  // The server's certificate clock starts 10 days back, where 99 days are left: nothing is renewed at
  // start. Advancing it to the real now crosses the 90-day threshold, and what is issued then is valid
  // for kubectl's real clock.
  clock = new FakeClock(realNow - 10 * DAY);
  cp = await startControlPlane({ dataDir, listen: '127.0.0.1:0', certificateClock: clock });
  // As an agent does: only the server URL and the node token, the CA fetched and pinned by its hash;
  // then it is its node, with the client certificate its bootstrap request got (the join token
  // itself may only ask for one).
  pinnedCa = await fetchPinnedCa(cp.url, caHashFromToken(cp.pki.nodeToken)!);
  nodeCert = await issueClientCert(cp.pki, 'system:node:n1', ['system:nodes']);
  agent = new ApiClient({ server: cp.url, certPem: nodeCert.certPem, keyPem: nodeCert.keyPem, caPem: pinnedCa, userAgent: 'cert-rotation-test' });

  // A node agent's log endpoint that requires a client certificate from the cluster CA and records
  // which one the API server presented, behind a Node and a running Pod bound to it.
  const serving = await issueServingCert(cp.pki, 'system:node:n1', ['127.0.0.1']);
  fakeAgent = createHttpsServer({ key: serving.keyPem, cert: serving.certPem, ca: cp.pki.caCertPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    agentSawClients.push((req.socket as TLSSocket).getPeerCertificate().serialNumber);
    res.end('hello from n1\n');
  });
  await new Promise<void>((resolve) => fakeAgent.listen(0, '127.0.0.1', resolve));
  const admin = ApiClient.fromKubeconfig(cp.kubeconfigPath);
  try {
    await admin.create<Node>(Nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await admin.updateStatus<Node>(Nodes, undefined, {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: (fakeAgent.address() as AddressInfo).port } } },
    });
    const pod = await admin.create<Pod>(Pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { nodeName: 'n1', automountServiceAccountToken: false, containers: [{ name: 'web', image: 'busybox' }] } });
    pod.status = { ...pod.status, phase: 'Running', containerStatuses: [{ name: 'web', image: 'busybox', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }] };
    await admin.updateStatus<Pod>(Pods, 'default', pod);
  } finally {
    admin.close();
  }
});

/** `kubectl logs web`: the API server dials the agent with its client certificate; returns the serial it presented. */
async function logsThroughAgent(): Promise<string> {
  const before = agentSawClients.length;
  const r = await kubectl(cp.kubeconfigPath, ['logs', 'web']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello from n1\n');
  assert.equal(agentSawClients.length, before + 1);
  return agentSawClients[before];
}

after(async () => {
  agent?.close();
  fakeAgent?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('certificate rotation while the server runs', { timeout: 240_000 }, () => {
  let oldSerials: Record<LeafName, string>;
  let oldKubeconfig: string;

  it('starts with the certificates on disk (99 days left on its clock) and every client works', async () => {
    oldSerials = { serving: serialOf(cp.pki.serverCertPem), admin: serialOf(cp.pki.adminCertPem), 'agent-client': serialOf(cp.pki.agentClientCertPem) };
    assert.equal(serialOf(readFileSync(join(dataDir, 'pki', 'server.crt'), 'utf8')), oldSerials.serving, 'not renewed at start');
    assert.equal(await servingSerial(), oldSerials.serving);
    oldKubeconfig = join(dir, 'kubeconfig-before');
    copyFileSync(cp.kubeconfigPath, oldKubeconfig);
    const r = await kubectl(cp.kubeconfigPath, ['get', 'namespace', 'default', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'namespace/default');
    assert.ok((await agent.list(Nodes)).items);
    assert.equal(await logsThroughAgent(), oldSerials['agent-client'], 'the API server presents its agent-client certificate to agents');

    const rows = await certsCheck();
    for (const name of ['ca', ...LEAF_NAMES]) assert.ok(rows.has(name), `certs check lists ${name}`);
    for (const name of LEAF_NAMES) {
      assert.ok(rows.get(name)!.daysLeft >= 88 && rows.get(name)!.daysLeft <= 89, rows.get(name)!.line);
      assert.equal(rows.get(name)!.status, 'RENEW NOW');
    }
    assert.match(rows.get('serving')!.line, /127\.0\.0\.1/, 'SANs of the serving certificate');
    assert.equal(rows.get('ca')!.status, 'OK');
  });

  it('renews serving, admin and agent-client certificates on its timer once 90 days are left; kubectl and the CA-pinning client keep working', async () => {
    // An open watch made over the old serving certificate.
    const ac = new AbortController();
    const watch = await agent.watch<Node>(Nodes, undefined, { resourceVersion: (await agent.list(Nodes)).metadata.resourceVersion, signal: ac.signal });
    const sawNode = (async () => {
      for await (const ev of watch) {
        if (ev.type === 'ADDED' && ev.object.metadata?.name === 'after-rotation') return;
      }
    })();

    const renewal = nextRenewal();
    clock.advance(10 * DAY);
    assert.deepEqual((await renewal).sort(), [...LEAF_NAMES].sort());

    const fresh = { serving: serialOf(cp.pki.serverCertPem), admin: serialOf(cp.pki.adminCertPem), 'agent-client': serialOf(cp.pki.agentClientCertPem) };
    for (const name of LEAF_NAMES) assert.notEqual(fresh[name], oldSerials[name], `${name} renewed`);
    assert.equal(await servingSerial(), fresh.serving, 'new handshakes get the new serving certificate, trusted through the pinned CA');
    assert.equal(serialOf(kubeconfigClientCert(cp.kubeconfigPath)), fresh.admin, 'the admin kubeconfig embeds the new certificate');
    assert.equal(serialOf(readFileSync(join(dataDir, 'pki', 'apiserver-kubelet-client.crt'), 'utf8')), fresh['agent-client']);
    assert.equal(await logsThroughAgent(), fresh['agent-client'], 'agents now see the renewed client certificate');

    for (const kubeconfig of [cp.kubeconfigPath, oldKubeconfig]) {
      const r = await kubectl(kubeconfig, ['get', 'namespace', 'default', '-o', 'name']);
      assert.equal(r.code, 0, `${kubeconfig}: ${r.stderr}`);
    }
    // The open watch still delivers; a second agent-style client (new connection) works too.
    const admin = new ApiClient({ server: cp.url, token: cp.pki.adminToken, caPem: pinnedCa });
    try {
      await admin.create(Nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'after-rotation' } });
    } finally {
      admin.close();
    }
    await sawNode;
    ac.abort();
    const second = new ApiClient({ server: cp.url, certPem: nodeCert.certPem, keyPem: nodeCert.keyPem, caPem: pinnedCa });
    try {
      const nodes = await second.list<Node>(Nodes);
      assert.ok(nodes.items.some((n) => n.metadata?.name === 'after-rotation'));
    } finally {
      second.close();
    }
    assert.ok((await agent.list(Nodes)).items.length >= 1, 'the first client keeps working');

    const rows = await certsCheck();
    for (const name of LEAF_NAMES) {
      assert.ok(rows.get(name)!.daysLeft >= 363, rows.get(name)!.line);
      assert.equal(rows.get(name)!.status, 'OK');
    }
  });

  it('`tinykube certs rotate --service serving` renews it on disk; the running server installs it without a restart', async () => {
    const before = serialOf(cp.pki.serverCertPem);
    const adminBefore = serialOf(cp.pki.adminCertPem);
    const renewal = nextRenewal();
    const r = await run(tinykubeBin, ['certs', 'rotate', '--data-dir', dataDir, '--service', 'serving']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^renewed serving: .*server\.crt, valid until \S+Z$/m);
    assert.deepEqual(await renewal, ['serving']);
    const after = serialOf(cp.pki.serverCertPem);
    assert.notEqual(after, before);
    assert.equal(serialOf(cp.pki.adminCertPem), adminBefore, 'only the named certificate');
    assert.equal(await servingSerial(), after);
    const k = await kubectl(cp.kubeconfigPath, ['get', 'namespace', 'kube-system', '-o', 'name']);
    assert.equal(k.code, 0, k.stderr);
    assert.ok((await agent.list(Nodes)).items.length >= 1);

    const bad = await run(tinykubeBin, ['certs', 'rotate', '--data-dir', dataDir, '--service', 'ca']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown service "ca" \(one of: serving, admin, agent-client; the CA is not rotated by this command\)/);
  });
});

describe('a server started with expired leaves and a CA in its last year', { timeout: 120_000 }, () => {
  it('renews the leaves at start, warns loudly about the CA (re-join needed), and kubectl works', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'tk-certold-'));
    const data2 = join(dir2, 'data');
    const realNow = Date.now();
    // Everything issued 9.5 years ago: the leaves long expired, the CA half a year from its end.
    const old = await ensurePki(data2, { hosts: ['127.0.0.1'], now: () => realNow - 3470 * DAY });
    const logged: string[] = [];
    const origError = console.error;
    console.error = (...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    };
    let cp2: ControlPlane | undefined;
    try {
      cp2 = await startControlPlane({ dataDir: data2, listen: '127.0.0.1:0' });
    } finally {
      console.error = origError;
    }
    try {
      assert.equal(cp2.pki.caCertPem, old.caCertPem, 'the CA is never replaced automatically');
      for (const pem of [cp2.pki.serverCertPem, cp2.pki.adminCertPem, cp2.pki.agentClientCertPem]) {
        assert.ok(new X509Certificate(pem).validToDate.getTime() > realNow + 360 * DAY, 'renewed at start');
      }
      assert.ok(logged.some((l) => /WARNING: the cluster CA expires on .* \(in 1\d\d days\).*every node re-joined/.test(l)), logged.join('\n'));
      const r = await run(kubectlBin, ['--kubeconfig', cp2.kubeconfigPath, '--cache-dir', join(dir2, 'kube-cache'), 'get', 'namespace', 'default', '-o', 'name']);
      assert.equal(r.code, 0, r.stderr);
      const check = await run(tinykubeBin, ['certs', 'check', '--data-dir', data2]);
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, /^ca\s.*\sCA EXPIRES SOON\b/m);
      assert.match(check.stderr, /WARNING: the cluster CA expires on .*re-joined/);
    } finally {
      await cp2?.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
