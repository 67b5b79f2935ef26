// The kube-api-access volume end to end on one clock: a pod created through the API server gets the
// projected volume from the ServiceAccount admission; the agent's VolumeManager (files only, no
// mounts) fills it through TokenRequest and kube-root-ca.crt; the token authenticates as the pod's
// account; at 80% of the stated lifetime the agent rotates it and the new token works too; once the
// pod is deleted neither does. automountServiceAccountToken: false on the pod or its account leaves
// the volume out.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ConfigMap, Pod, ServiceAccount } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ConfigMaps, Namespaces, Pods, ServiceAccounts } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { VolumeManager } from '../../src/kubelet/volumes/manager.ts';
import { ApiConfigSource } from '../../src/kubelet/volumes/sources.ts';
import { FakeClock } from '../../src/util/clock.ts';

const clock = new FakeClock(Date.parse('2026-12-01T10:00:00Z'));
let dir: string;
let cp: ControlPlane;
let client: ApiClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-sa-volume-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0', clock });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'sa-volume-test' });
  await client.create(Namespaces, undefined, { metadata: { name: 'apps' } });
  // No controllers run here: the account and the CA ConfigMap are made by hand.
  await client.create<ServiceAccount>(ServiceAccounts, 'apps', { metadata: { name: 'default' } });
  await client.create<ServiceAccount>(ServiceAccounts, 'apps', { metadata: { name: 'quiet' }, automountServiceAccountToken: false });
  await client.create<ConfigMap>(ConfigMaps, 'apps', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': cp.pki.caCertPem } });
});

after(async () => {
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

function whoami(token: string): Promise<string | number> {
  const u = new URL(cp.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: '/apis/authentication.k8s.io/v1/selfsubjectreviews', method: 'POST', ca: cp.pki.caCertPem, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 201 ? resolve((JSON.parse(Buffer.concat(chunks).toString()) as { status: { userInfo: { username: string } } }).status.userInfo.username) : resolve(res.statusCode ?? 0)));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
  });
}

const podOf = (name: string, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  metadata: { name },
  spec: { containers: [{ name: 'app', image: 'busybox' }], initContainers: [{ name: 'init', image: 'busybox' }], ...extra },
});

test('admission adds kube-api-access to every container, as kube-apiserver does', async () => {
  const pod = await client.create<Pod>(Pods, 'apps', podOf('web'));
  const vol = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.deepEqual(vol.projected, {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  for (const c of [...pod.spec!.containers, ...pod.spec!.initContainers!]) {
    assert.deepEqual(c.volumeMounts, [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
  }
  const off = await client.create<Pod>(Pods, 'apps', podOf('off', { automountServiceAccountToken: false }));
  assert.equal(off.spec!.volumes, undefined);
  const quiet = await client.create<Pod>(Pods, 'apps', podOf('quiet', { serviceAccountName: 'quiet' }));
  assert.equal(quiet.spec!.volumes, undefined);
  // The pod's own true wins over its account's false.
  const loud = await client.create<Pod>(Pods, 'apps', podOf('loud', { serviceAccountName: 'quiet', automountServiceAccountToken: true }));
  assert.equal(loud.spec!.volumes?.length, 1);
});

test('the agent fills the volume, rotates the token at 80% of its lifetime, and the pod takes it along when it goes', async () => {
  const vm = new VolumeManager({ root: join(dir, 'agent'), source: new ApiConfigSource(client, clock), mounts: false, node: { cpuMilli: 2000, memoryBytes: 2 ** 30 }, clock });
  const pod = await client.create<Pod>(Pods, 'apps', podOf('worker'));
  const name = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!.name;
  const mounted = (await vm.setUp(pod)).get(name)!;
  const read = (f: string) => readFileSync(join(mounted.hostPath, f), 'utf8');
  assert.equal(read('ca.crt'), cp.pki.caCertPem);
  assert.equal(read('namespace'), 'apps');
  const first = read('token');
  assert.equal(await whoami(first), 'system:serviceaccount:apps:default');

  // Before 80% of the stated 3607 s nothing changes; after it, a new token replaces the old one.
  clock.advance(40 * 60_000);
  await vm.setUp(pod);
  assert.equal(read('token'), first);
  clock.advance(9 * 60_000);
  await vm.setUp(pod);
  const second = read('token');
  assert.notEqual(second, first);
  assert.equal(await whoami(second), 'system:serviceaccount:apps:default');
  // The kubelet's 3607-second tokens are extended (warn-only): the first still works past its hour.
  clock.advance(20 * 60_000);
  assert.equal(await whoami(first), 'system:serviceaccount:apps:default');

  await client.delete(Pods, 'apps', 'worker', { gracePeriodSeconds: 0 });
  assert.equal(await whoami(second), 401);
  assert.equal(await whoami(first), 401);
});
