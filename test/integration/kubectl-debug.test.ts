// The real kubectl's `debug` against an in-process API server (no node: what the API does). kubectl
// adds an ephemeral container with a strategic merge patch of pods/{name}/ephemeralcontainers, whose
// ephemeralContainers merge by name; the subresource changes nothing else, and an ephemeral container,
// once added, can be neither removed nor changed (ValidatePodEphemeralContainersUpdate). The agent's
// side (starting it, attach, logs) is in test/e2e/kubectl-debug.test.ts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import type { Pod } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ApiError } from '../../src/client/errors.ts';
import { Pods } from '../../src/client/resources.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;
let client: ApiClient;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const getPod = (name: string) => client.get<Pod>(Pods, 'default', name);

/** The 422's message, or a failure when the write went through. */
async function refused(write: Promise<unknown>): Promise<string> {
  try {
    await write;
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 422, err.message);
    return err.message;
  }
  assert.fail('the write was accepted');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-debug-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'kubectl-debug-test' });
  const r = await kubectl(['run', 'web', '--image=busybox', '--labels=app=web', '--', 'sleep', '3600']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pods/ephemeralcontainers', () => {
  it('is served as kube-apiserver serves it: kind Pod, verbs get, patch, update, in discovery and OpenAPI', async () => {
    const r = await kubectl(['get', '--raw', '/api/v1']);
    assert.equal(r.code, 0, r.stderr);
    const entry = (JSON.parse(r.stdout) as { resources: { name: string; kind: string; verbs: string[]; namespaced: boolean }[] }).resources.find((x) => x.name === 'pods/ephemeralcontainers');
    assert.deepEqual(entry && { kind: entry.kind, verbs: entry.verbs, namespaced: entry.namespaced }, { kind: 'Pod', verbs: ['get', 'patch', 'update'], namespaced: true });
    const o = await kubectl(['get', '--raw', '/openapi/v3/api/v1']);
    const path = (JSON.parse(o.stdout) as { paths: Record<string, Record<string, { operationId?: string }>> }).paths['/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers'];
    assert.deepEqual([path?.get?.operationId, path?.put?.operationId, path?.patch?.operationId], [
      'readCoreV1NamespacedPodEphemeralcontainers', 'replaceCoreV1NamespacedPodEphemeralcontainers', 'patchCoreV1NamespacedPodEphemeralcontainers',
    ]);
    const got = await client.get<Pod>(Pods, 'default', 'web', { subresource: 'ephemeralcontainers' });
    assert.equal(got.kind, 'Pod');
    assert.equal(got.metadata?.name, 'web');
  });

  it('kubectl debug adds an ephemeral container, defaulted, with its target; a second one is added beside it', async () => {
    const r = await kubectl(['debug', 'web', '--image=busybox', '--attach=false', '--target=web', '--container=dbg1', '--', 'sh', '-c', 'echo hi']);
    assert.equal(r.code, 0, r.stderr);
    const r2 = await kubectl(['debug', 'web', '--image=busybox', '--attach=false', '-i', '--container=dbg2']);
    assert.equal(r2.code, 0, r2.stderr);
    const pod = await getPod('web');
    assert.deepEqual(pod.spec?.ephemeralContainers, [
      { name: 'dbg1', image: 'busybox', command: ['sh', '-c', 'echo hi'], resources: {}, targetContainerName: 'web', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' },
      { name: 'dbg2', image: 'busybox', resources: {}, stdin: true, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' },
    ]);
    assert.deepEqual(pod.spec?.containers.map((c) => c.name), ['web']);
  });

  it('refuses a target that is no container of the pod, as kube-apiserver does', async () => {
    const r = await kubectl(['debug', 'web', '--image=busybox', '--attach=false', '--target=nope', '--container=dbg3']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.ephemeralContainers\[2\]\.targetContainerName: Not found: "nope"/);
  });

  it('never removes or changes an ephemeral container', async () => {
    const removed = await refused(client.patch(Pods, 'default', 'web', 'json', [{ op: 'remove', path: '/spec/ephemeralContainers/0' }], { subresource: 'ephemeralcontainers' }));
    assert.match(removed, /spec\.ephemeralContainers: Forbidden: existing ephemeral containers "dbg1" may not be removed/);
    const changed = await refused(client.patch(Pods, 'default', 'web', 'json', [{ op: 'replace', path: '/spec/ephemeralContainers/0/image', value: 'alpine' }], { subresource: 'ephemeralcontainers' }));
    assert.match(changed, /existing ephemeral containers "dbg1" may not be changed/);
  });

  it('changes nothing else of the pod, and the pod itself cannot take ephemeral containers', async () => {
    const before = await getPod('web');
    const put = structuredClone(before);
    put.metadata!.labels = { app: 'other' };
    put.spec!.containers[0].image = 'alpine';
    put.spec!.activeDeadlineSeconds = 30;
    put.spec!.ephemeralContainers = [...before.spec!.ephemeralContainers!, { name: 'dbg4', image: 'busybox', terminationMessagePolicy: 'File' }];
    const after = await client.replaceSubresource<Pod>(Pods, 'default', 'web', 'ephemeralcontainers', put);
    assert.deepEqual(after.spec?.ephemeralContainers?.map((c) => c.name), ['dbg1', 'dbg2', 'dbg4']);
    assert.deepEqual(after.metadata?.labels, { app: 'web' });
    assert.equal(after.spec?.containers[0].image, 'busybox');
    assert.equal(after.spec?.activeDeadlineSeconds, undefined);
    const direct = await refused(client.patch(Pods, 'default', 'web', 'strategic', { spec: { ephemeralContainers: [{ name: 'dbg5', image: 'busybox', terminationMessagePolicy: 'File' }] } }));
    assert.match(direct, /spec: Forbidden: pod updates may not change fields other than/);
  });

  // kubectl 1.32 POSTs the copy (and a node-debugging pod) as application/vnd.kubernetes.protobuf.
  it('kubectl debug --copy-to creates a copy of the pod with the debugging container', async () => {
    const r = await kubectl(['debug', 'web', '--image=busybox', '--copy-to=web-copy', '--container=dbg', '--attach=false', '--', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const copy = await getPod('web-copy');
    assert.deepEqual(copy.spec?.containers.map((c) => c.name), ['web', 'dbg']);
    assert.equal(copy.spec?.ephemeralContainers, undefined);
  });
});
