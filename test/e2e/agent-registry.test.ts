// An image pulled from a private registry with credentials, end to end: Debian's docker-registry on
// 127.0.0.1 with htpasswd auth, `tinykube up` (real agent and containerd), the real kubectl. Without
// the pull secret the pod fails on authentication; with it, it runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './harness.ts';
import { startTestRegistry, type TestRegistry } from '../../src/kubelet/images/testing-registry.ts';
import { pushOciArchive } from '../../src/kubelet/images/distribution.ts';
import { buildBusyboxImageArchive } from '../../src/kubelet/images/builtin.ts';
import { until } from '../../src/testing/until.ts';

let c: Cluster;
let registry: TestRegistry;
const cleanups: (() => Promise<void> | void)[] = [];
const auth = { username: 'tinykube', password: 'pull-me' };

before(async () => {
  registry = await startTestRegistry({ after: (fn) => cleanups.push(fn) }, { auth });
  const image = buildBusyboxImageArchive(['docker.io/library/busybox:latest']);
  await pushOciArchive(image.archive, `${registry.host}/private/app:v1`, { ...auth, plainHttp: true });
  c = await startCluster({ command: 'up', args: ['--name', `reg-${process.pid}`] });
});
after(async () => {
  await c?.stop();
  for (const fn of cleanups.reverse()) await fn();
});

const pod = (name: string, secret?: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${registry.host}/private/app:v1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
${secret ? `  imagePullSecrets:\n  - name: ${secret}\n` : ''}`;

/** Pulls from a real registry: seconds, not milliseconds. */
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };

test('without credentials the pull fails on authentication', async () => {
  await c.k('apply', '-f', await c.writeFile('anon.yaml', pod('anon')));
  await until('ErrImagePull or ImagePullBackOff', async () => /^anon\s+0\/1\s+(ErrImagePull|ImagePullBackOff)\s/m.test(await c.k('get', 'pod', 'anon')), WAIT);
  const d = await c.k('describe', 'pod', 'anon');
  assert.match(d, /Warning\s+Failed\s+.*Failed to pull image ".*\/private\/app:v1".*(401|[Uu]nauthorized|authorization)/);
  await c.k('delete', 'pod', 'anon', '--wait=false');
});

test('with an imagePullSecret the image is pulled and the pod runs', async () => {
  assert.equal(
    await c.k('create', 'secret', 'docker-registry', 'regcred', `--docker-server=${registry.host}`, `--docker-username=${auth.username}`, `--docker-password=${auth.password}`),
    'secret/regcred created\n',
  );
  await c.k('apply', '-f', await c.writeFile('private.yaml', pod('private', 'regcred')));
  assert.equal(await c.k('wait', '--for=condition=Ready', 'pod/private', '--timeout=60s'), 'pod/private condition met\n');
  const d = await c.k('describe', 'pod', 'private');
  assert.match(d, /Normal\s+Pulled\s+.*Successfully pulled image ".*\/private\/app:v1"/);
  assert.match(await c.k('exec', 'private', '--', 'echo', 'pulled'), /^pulled$/m);
});
