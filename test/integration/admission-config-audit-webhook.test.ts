// kube-apiserver's --admission-control-config-file and audit webhook, through the real kubectl against
// an in-process control plane: a PodSecurity configuration exempting a user and a namespace (the
// exempt user's privileged pod is admitted in a restricted namespace, another user's refused with
// kube's message, anything goes in the exempt namespace); an HTTPS audit webhook receiving those
// requests as one batch (an audit.k8s.io/v1 EventList with the create and the 403); a webhook that
// never answers neither holds nor fails requests; and a bad configuration stopping the start.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/apiserver/audit/event.ts';
import { createCertificateAuthority, issueFromCa } from '../../src/apiserver/auth/pki.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;

function kubectl(cp: ControlPlane, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(cp: ControlPlane, args: string[]): Promise<string> {
  const r = await kubectl(cp, args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function privilegedPod(name: string): string {
  return file(`${name}.json`, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'p', image: 'busybox', securityContext: { privileged: true } }] },
  }));
}

const ADMISSION = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  path: pod-security.yaml
`;

const POD_SECURITY = `apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults:
  enforce: baseline
exemptions:
  usernames: [exempt-user]
  namespaces: [exempt-ns]
`;

// Only pod creates in the restricted namespace, after the response: the batch holds exactly the two.
const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create]
  resources: [{group: "", resources: [pods]}]
  namespaces: [restricted]
`;

function webhookKubeconfig(name: string, server: string, caPem: string): string {
  return file(name, `apiVersion: v1
kind: Config
clusters:
- name: audit
  cluster:
    server: ${server}
    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}
users:
- name: apiserver
  user:
    token: audit-sink-token
contexts:
- name: audit
  context: {cluster: audit, user: apiserver}
current-context: audit
`);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tk-admcfg-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('PodSecurity exemptions and a batched audit webhook', { timeout: 60_000 }, () => {
  let cp: ControlPlane;
  let sink: HttpsServer;
  const batches: Array<{ auth?: string; list: { kind: string; apiVersion: string; items: AuditEvent[] } }> = [];
  let batchArrived!: Promise<void>;

  before(async () => {
    const ca = await createCertificateAuthority('audit-sink-ca');
    const serving = await issueFromCa(ca, { cn: 'audit-sink', hosts: ['127.0.0.1'], usage: 'server' });
    let arrived!: () => void;
    batchArrived = new Promise<void>((r) => (arrived = r));
    sink = createHttpsServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        batches.push({ auth: req.headers.authorization, list: JSON.parse(body) });
        res.end('{}');
        arrived();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const port = (sink.address() as AddressInfo).port;
    file('pod-security.yaml', POD_SECURITY);
    cp = await startControlPlane({
      dataDir: join(dir, 'data'),
      listen: '127.0.0.1:0',
      admissionControlConfigFile: file('admission.yaml', ADMISSION),
      audit: {
        policyFile: file('policy.yaml', POLICY),
        webhookConfigFile: webhookKubeconfig('webhook.kubeconfig', `https://127.0.0.1:${port}/audit`, ca.certPem),
        // Two events make a batch; the wait is long enough that only the size sends it.
        webhookBatch: { maxSize: 2, maxWaitMs: 10 * 60_000 },
      },
    });
    for (const ns of ['restricted', 'exempt-ns']) {
      await ok(cp, ['create', 'namespace', ns]);
      await ok(cp, ['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    }
    for (const ns of ['restricted', 'exempt-ns']) {
      await ok(cp, ['create', 'role', 'pod-creator', '--verb=create', '--resource=pods', '-n', ns]);
      await ok(cp, ['create', 'rolebinding', 'pod-creators', '--role=pod-creator', '--user=exempt-user', '--user=other-user', '-n', ns]);
    }
  });

  after(async () => {
    await cp?.close();
    await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
  });

  it('admits the exempt user\'s privileged pod and refuses another user\'s with kube\'s message', async () => {
    await ok(cp, ['create', '-f', privilegedPod('by-exempt'), '-n', 'restricted', '--as=exempt-user']);
    const r = await kubectl(cp, ['create', '-f', privilegedPod('by-other'), '-n', 'restricted', '--as=other-user']);
    assert.notEqual(r.code, 0);
    assert.equal(
      r.stderr.trim(),
      'Error from server (Forbidden): error when creating "' + join(dir, 'by-other.json') + '": pods "by-other" is forbidden: violates PodSecurity "restricted:latest": ' +
        'privileged (container "p" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "p" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "p" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "p" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "p" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });

  it('admits anyone\'s privileged pod in the exempt namespace', async () => {
    await ok(cp, ['create', '-f', privilegedPod('in-exempt-ns'), '-n', 'exempt-ns', '--as=other-user']);
  });

  it('the webhook receives the create and the 403 as one EventList', async () => {
    await batchArrived;
    assert.equal(batches.length, 1);
    const { auth, list } = batches[0]!;
    assert.equal(auth, 'Bearer audit-sink-token');
    assert.equal(list.kind, 'EventList');
    assert.equal(list.apiVersion, 'audit.k8s.io/v1');
    const seen = list.items.map((e) => ({ stage: e.stage, verb: e.verb, as: e.impersonatedUser?.username, name: e.objectRef?.name, code: e.responseStatus?.code, exempt: e.annotations?.['pod-security.kubernetes.io/exempt'] }));
    assert.deepEqual(seen, [
      { stage: 'ResponseComplete', verb: 'create', as: 'exempt-user', name: 'by-exempt', code: 201, exempt: 'user' },
      { stage: 'ResponseComplete', verb: 'create', as: 'other-user', name: 'by-other', code: 403, exempt: undefined },
    ]);
    assert.match(list.items[1]!.responseStatus?.message ?? '', /violates PodSecurity "restricted:latest"/);
  });
});

describe('an audit webhook that never answers', { timeout: 60_000 }, () => {
  let cp: ControlPlane;
  let hung: TcpServer;
  const sockets = new Set<Socket>();
  let connected!: Promise<void>;
  const logged: string[] = [];
  const consoleError = console.error;

  before(async () => {
    // The backends report to the server's standard error.
    console.error = (...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    };
    let onConnect!: () => void;
    connected = new Promise<void>((r) => (onConnect = r));
    // Accepts the TLS connection's TCP side and never says a word: a POST to it hangs.
    hung = createTcpServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      onConnect();
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const port = (hung.address() as AddressInfo).port;
    const ca = await createCertificateAuthority('nobody');
    cp = await startControlPlane({
      dataDir: join(dir, 'data-dead'),
      listen: '127.0.0.1:0',
      audit: {
        policyFile: file('policy-all.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n'),
        webhookConfigFile: webhookKubeconfig('dead.kubeconfig', `https://127.0.0.1:${port}/`, ca.certPem),
        // One batch leaves (and hangs); the throttle keeps the next ones in a buffer of five, which fills.
        webhookBatch: { bufferSize: 5, maxSize: 1, throttleQPS: 0.001, throttleBurst: 1 },
      },
    });
  });

  after(async () => {
    // The posts under way fail once their connections go; close() then ends the retries.
    for (const s of sockets) s.destroy();
    hung?.close();
    await cp?.close();
    console.error = consoleError;
  });

  it('requests are served while the webhook holds its batch, past a full buffer', async () => {
    await ok(cp, ['create', 'namespace', 'busy']);
    await connected;
    for (let i = 0; i < 8; i++) await ok(cp, ['create', 'configmap', `c${i}`, '-n', 'busy', `--from-literal=k=${i}`]);
    const names = (await ok(cp, ['get', 'configmaps', '-n', 'busy', '-o', 'name'])).trim().split('\n').filter((n) => n.startsWith('configmap/c'));
    assert.equal(names.length, 8);
    assert.equal(logged.filter((l) => l.includes('audit buffer queue blocked')).length, 1, logged.join('\n'));
  });
});

describe('a bad admission configuration', () => {
  it('stops the start naming the file and the field', async () => {
    const cfg = file('bad-admission.yaml', `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    exemptions: {namespaces: [Not_A_Namespace]}
`);
    await assert.rejects(startControlPlane({ dataDir: join(dir, 'data-bad'), listen: '127.0.0.1:0', admissionControlConfigFile: cfg }), (err: Error) => {
      assert.match(err.message, new RegExp(`^--admission-control-config-file ${cfg.replace(/[.]/g, '\\.')}: plugins\\[0\\]: failed to initialize admission plugin "PodSecurity": PodSecurity invalid: exemptions\\.namespaces\\[0\\]: Invalid value: "Not_A_Namespace": a lowercase RFC 1123 label`));
      return true;
    });
  });

  it('stops the start for a configuration kube-apiserver would apply and tinykube cannot', async () => {
    const cfg = file('quota-admission.yaml', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: EventRateLimit\n  path: not-read.yaml\n- name: ResourceQuota\n  configuration: {apiVersion: apiserver.config.k8s.io/v1, kind: ResourceQuotaConfiguration, limitedResources: [{resource: pods, matchContains: [cpu]}]}\n');
    await assert.rejects(startControlPlane({ dataDir: join(dir, 'data-quota'), listen: '127.0.0.1:0', admissionControlConfigFile: cfg }), (err: Error) => {
      assert.equal(err.message, `--admission-control-config-file ${cfg}: plugins[1]: admission plugin "ResourceQuota" is enabled by kube-apiserver, which would apply this configuration, but tinykube does not have it; remove the entry`);
      return true;
    });
  });
});
