// The real kubectl sending protobuf bodies to an in-process API server: `kubectl debug --copy-to`
// POSTs the copied Pod as application/vnd.kubernetes.protobuf (it used to get a 415), and the typed
// `kubectl create <kind>` commands send theirs the same way. They prefer a protobuf answer too, which
// kube-apiserver gives: kubectl decodes our encoding of the object (or Status) it prints. Both
// Content-Types are read from kubectl's own -v=8 log, so the test fails if either side falls back
// to JSON rather than passing by accident. `kubectl events` reads a protobuf list and watch stream.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import type { Pod } from '../../src/api/types.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), '-v=8', ...args], { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The Content-Types of kubectl's POST to a path ending in `suffix` and of its answer, from its -v=8 log. */
function postContentTypes(stderr: string, suffix: string): { request?: string; response?: string } {
  const lines = stderr.split('\n');
  const i = lines.findIndex((l) => / POST https?:\/\/\S+/.test(l) && new URL(/ POST (\S+)/.exec(l)![1]!).pathname.endsWith(suffix));
  if (i < 0) return {};
  const out: { request?: string; response?: string } = {};
  let answered = false;
  for (const l of lines.slice(i + 1, i + 30)) {
    if (l.includes('Response Status')) answered = true;
    const m = /Content-Type: (\S+)/.exec(l);
    if (!m) continue;
    if (!answered) out.request ??= m[1];
    else {
      out.response = m[1];
      break;
    }
  }
  return out;
}

const protobufType = 'application/vnd.kubernetes.protobuf';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-proto-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  await cp.registry.store('pods').create('default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '64Mi' } }],
      containers: [
        {
          name: 'app',
          image: 'nginx:1.27',
          ports: [{ name: 'http', containerPort: 80 }],
          env: [{ name: 'MODE', value: 'prod' }],
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '64Mi' } },
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 2 },
          readinessProbe: { tcpSocket: { port: 80 } },
          securityContext: { runAsUser: 0, allowPrivilegeEscalation: false },
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        },
      ],
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
    },
  } as Pod);
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl with protobuf bodies', () => {
  it('debug --copy-to creates the copy of a Pod (POSTed as protobuf)', async () => {
    const r = await kubectl(['debug', 'web', '--copy-to=web-copy', '--image=busybox:1.36', '--container=dbg', '--', 'sleep', '1d']);
    assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !l.includes('round_trippers')).join('\n'));
    // kubectl reads the created Pod back from a protobuf answer (it prefers protobuf, as it asks).
    assert.deepEqual(postContentTypes(r.stderr, '/namespaces/default/pods'), { request: protobufType, response: protobufType });
    const copy = (await cp.registry.store('pods').get('default', 'web-copy')) as Pod;
    const [app, dbg] = copy.spec!.containers;
    assert.deepEqual(
      { name: app!.name, image: app!.image, ports: app!.ports, env: app!.env, resources: app!.resources, securityContext: app!.securityContext, volumeMounts: app!.volumeMounts },
      {
        name: 'app',
        image: 'nginx:1.27',
        ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'MODE', value: 'prod' }],
        resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '64Mi' } },
        securityContext: { runAsUser: 0, allowPrivilegeEscalation: false },
        volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      },
    );
    // Probes carry their handler inline and an int-or-string port; both survive the protobuf trip.
    assert.deepEqual(app!.livenessProbe?.httpGet, { path: '/healthz', port: 'http', scheme: 'HTTP' });
    assert.equal(app!.livenessProbe?.initialDelaySeconds, 2);
    assert.deepEqual(app!.readinessProbe?.tcpSocket, { port: 80 });
    assert.deepEqual(copy.spec!.volumes, [{ name: 'scratch', emptyDir: { sizeLimit: '64Mi' } }]);
    assert.equal(copy.spec!.terminationGracePeriodSeconds, 0);
    assert.equal(copy.spec!.automountServiceAccountToken, false);
    assert.equal(dbg!.name, 'dbg');
    assert.equal(dbg!.image, 'busybox:1.36');
    assert.deepEqual(dbg!.command, ['sleep', '1d']);
  });

  const creates: { name: string; args: string[]; path: string; printed: string; check: () => Promise<void> }[] = [
    {
      name: 'create namespace',
      args: ['create', 'namespace', 'team-a'],
      printed: 'namespace/team-a created',
      path: '/api/v1/namespaces',
      check: async () => {
        const ns = (await cp.registry.store('namespaces').get(undefined, 'team-a')) as { status?: { phase?: string } };
        assert.equal(ns.status?.phase, 'Active');
      },
    },
    {
      name: 'create configmap',
      args: ['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=empty='],
      printed: 'configmap/cfg created',
      path: '/namespaces/default/configmaps',
      check: async () => {
        const cm = (await cp.registry.store('configmaps').get('default', 'cfg')) as { data?: Record<string, string> };
        assert.deepEqual(cm.data, { a: '1', empty: '' });
      },
    },
    {
      name: 'create secret generic',
      args: ['create', 'secret', 'generic', 's', '--from-literal=user=admin', '--from-literal=pass=p@ss\u00e9'],
      printed: 'secret/s created',
      path: '/namespaces/default/secrets',
      check: async () => {
        const s = (await cp.registry.store('secrets').get('default', 's')) as { data?: Record<string, string>; type?: string };
        assert.equal(s.type, 'Opaque');
        assert.deepEqual(s.data, { user: Buffer.from('admin').toString('base64'), pass: Buffer.from('p@ss\u00e9').toString('base64') });
      },
    },
    {
      name: 'create serviceaccount',
      args: ['create', 'serviceaccount', 'robot'],
      printed: 'serviceaccount/robot created',
      path: '/namespaces/default/serviceaccounts',
      check: async () => {
        await cp.registry.store('serviceaccounts').get('default', 'robot');
      },
    },
    {
      name: 'create priorityclass',
      args: ['create', 'priorityclass', 'low', '--value=-10', '--description=batch', '--preemption-policy=Never'],
      printed: 'priorityclass.scheduling.k8s.io/low created',
      path: '/priorityclasses',
      check: async () => {
        const pc = (await cp.registry.store('priorityclasses', 'scheduling.k8s.io').get(undefined, 'low')) as { value?: number; description?: string; preemptionPolicy?: string; globalDefault?: boolean };
        assert.deepEqual([pc.value, pc.description, pc.preemptionPolicy, pc.globalDefault ?? false], [-10, 'batch', 'Never', false]);
      },
    },
  ];
  for (const c of creates) {
    it(`${c.name} (POSTed as protobuf)`, async () => {
      const r = await kubectl(c.args);
      assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !l.includes('round_trippers')).join('\n'));
      assert.deepEqual(postContentTypes(r.stderr, c.path), { request: protobufType, response: protobufType });
      // The name printed is read from the protobuf answer.
      assert.equal(r.stdout.trim(), c.printed);
      await c.check();
    });
  }

  it('auth whoami reads the user from a protobuf SelfSubjectReview', async () => {
    const r = await kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !l.includes('round_trippers')).join('\n'));
    assert.deepEqual(postContentTypes(r.stderr, '/selfsubjectreviews'), { request: protobufType, response: protobufType });
    const review = JSON.parse(r.stdout) as { kind: string; status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(review.kind, 'SelfSubjectReview');
    assert.ok(review.status.userInfo.username, r.stdout);
    assert.ok(review.status.userInfo.groups.includes('system:authenticated'), r.stdout);
  });

  it('events lists from a protobuf EventList and watches a protobuf stream', async () => {
    const event = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
      reason: 'Tested',
      message: `hello ${name}`,
      type: 'Normal',
      count: 1,
      source: { component: 'test' },
      firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    await cp.registry.store('events').create('default', event('ev1') as never);
    const list = await kubectl(['events', '-n', 'default']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Normal\s+Tested\s+Pod\/web\s+hello ev1/);
    assert.match(list.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf\n/);

    const watcher = spawn(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), '-v=8', 'events', '-n', 'default', '--watch']);
    let out = '';
    let err = '';
    watcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    watcher.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const until = async (what: RegExp) => {
      for (const deadline = Date.now() + 20_000; !what.test(out); ) {
        assert.ok(Date.now() < deadline, `no ${what} in ${out}\n${err.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(/hello ev1/);
      await cp.registry.store('events').create('default', event('ev2') as never);
      await until(/hello ev2/);
      assert.match(err, /Content-Type: application\/vnd\.kubernetes\.protobuf;stream=watch/);
    } finally {
      watcher.kill();
    }
  });

  it('an error comes back as a protobuf Status kubectl reads', async () => {
    const r = await kubectl(['create', 'namespace', 'team-a']);
    assert.notEqual(r.code, 0);
    assert.deepEqual(postContentTypes(r.stderr, '/api/v1/namespaces'), { request: protobufType, response: protobufType });
    assert.match(r.stderr, /Error from server \(AlreadyExists\): namespaces "team-a" already exists/);
  });
});
