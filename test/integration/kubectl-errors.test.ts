// The real kubectl against an in-process API server, where kube-apiserver answers with Go's words:
// a body of the wrong kind, patches whose values do not fit their fields, and a node agent that
// cannot be reached (no Node.js error text may reach the client).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import type { KubeObject } from '../../src/api/types.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;
/** A port nothing listens on: the "agent" of node n1. */
let deadPort: number;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-errors-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  deadPort = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  await cp.registry.store('nodes').create(undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: deadPort } } },
  } as KubeObject);
  const pods = cp.registry.store('pods');
  await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
  await pods.guaranteedUpdate('default', 'web', (cur) => ({
    ...cur,
    status: { ...(cur as { status?: object }).status, phase: 'Running', containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: true, restartCount: 0, containerID: 'containerd://1', state: { running: { startedAt: new Date().toISOString() } } }] },
  }) as KubeObject, { subresource: 'status' });
  const nodes = cp.registry.store('nodes');
  await nodes.guaranteedUpdate(undefined, 'n1', (cur) => ({ ...cur, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: deadPort } } } }) as KubeObject, { subresource: 'status' });
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl sees kube-apiserver\'s error messages', () => {
  it('create --raw of a Pod to the namespaces collection', async () => {
    const file = join(dir, 'pod.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } }));
    const r = await kubectl(['create', '--raw', '/api/v1/namespaces', '-f', file]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), 'Error from server (BadRequest): Pod in version "v1" cannot be handled as a Namespace: converting (v1.Pod) to (core.Namespace): unknown conversion');
  });

  it('create --raw of a kind no group serves', async () => {
    const file = join(dir, 'widget.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'x' } }));
    const r = await kubectl(['create', '--raw', '/api/v1/namespaces', '-f', file]);
    assert.equal(r.stderr.trim(), 'Error from server (BadRequest): Widget in version "v1" cannot be handled as a Namespace: no kind "Widget" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"');
  });

  const patches: Array<{ name: string; args: string[]; want: string }> = [
    {
      name: 'strategic: a string for the labels map',
      args: ['-p', '{"metadata":{"labels":"x"}}'],
      want: 'The request is invalid: patch: Invalid value: "map[metadata:map[labels:x]]": cannot restore map from string',
    },
    {
      name: 'strategic: a map for the containers list',
      args: ['-p', '{"spec":{"containers":{"name":"c"}}}'],
      want: 'The request is invalid: patch: Invalid value: "map[spec:map[containers:map[name:c]]]": cannot restore slice from map',
    },
    {
      name: 'merge: a string for the labels map',
      args: ['--type', 'merge', '-p', '{"metadata":{"labels":"x"}}'],
      want: 'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string',
    },
  ];
  for (const p of patches) {
    it(`patch, ${p.name}`, async () => {
      const r = await kubectl(['patch', 'pod', 'web', ...p.args]);
      assert.notEqual(r.code, 0);
      assert.ok(r.stderr.includes(p.want), r.stderr);
      assert.match(r.stderr, /patch: Invalid value: "/);
    });
  }

  it('exec and logs with the node agent unreachable', async () => {
    const exec = await kubectl(['exec', 'web', '--', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, new RegExp(`error dialing backend: dial tcp 127\\.0\\.0\\.1:${deadPort}: connect: connection refused`));
    assert.doesNotMatch(exec.stderr, /ECONNREFUSED/);
    const logs = await kubectl(['logs', 'web']);
    assert.notEqual(logs.code, 0);
    assert.ok(logs.stderr.includes(`Get "https://127.0.0.1:${deadPort}/containerLogs/default/web/c": dial tcp 127.0.0.1:${deadPort}: connect: connection refused`), logs.stderr);
  });
});
