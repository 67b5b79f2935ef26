// The real kubectl against `tinykube server`: the control-plane commands of kubectl-wire.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

test('version and discovery', async () => {
  const out = await c.k('version');
  assert.match(out, /Server Version: v1\.32\./);
  const res = await c.k('api-resources');
  for (const r of ['pods', 'namespaces', 'nodes', 'events', 'configmaps', 'secrets', 'serviceaccounts', 'leases']) assert.match(res, new RegExp(`^${r}\\b`, 'm'));
});

test('bootstrap namespaces exist', async () => {
  const out = await c.k('get', 'namespaces', '-o', 'name');
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out, new RegExp(`^namespace/${ns}$`, 'm'));
});

test('kubectl run creates a defaulted pod', async () => {
  assert.equal(await c.k('run', 'linkding', '--image=sissbruecker/linkding:1.31.0', '--port=9090'), 'pod/linkding created\n');
  const pod = JSON.parse(await c.k('get', 'pod', 'linkding', '-o', 'json'));
  assert.equal(pod.metadata.labels.run, 'linkding');
  assert.equal(pod.spec.restartPolicy, 'Always');
  assert.equal(pod.spec.schedulerName, 'default-scheduler');
  assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
  assert.equal(pod.status.phase, 'Pending');
  const again = await c.kubectl(['run', 'linkding', '--image=busybox']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /Error from server \(AlreadyExists\): pods "linkding" already exists/);
});

test('get pods prints a table', async () => {
  const out = await c.k('get', 'pods');
  assert.match(out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
  assert.match(out, /^linkding\s+0\/1\s+Pending\s+0\s+\d+s$/m);
});

test('delete a pod that was never scheduled goes at once', async () => {
  const out = await c.k('delete', 'pod', 'linkding');
  assert.equal(out, 'pod "linkding" deleted\n');
  const r = await c.kubectl(['get', 'pod', 'linkding']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error from server \(NotFound\): pods "linkding" not found/);
});
