// A running pod's service-account tokens rotated inside a real container: the whole node Agent (its
// pod workers, volume manager and token renewal) on a private containerd, against an in-process API
// server, everything on one FakeClock so an hour passes in a moment. The container sees each new
// token through the `..data` symlink swap (a reader in it never sees a torn or empty file); the new
// token authenticates and gets what RBAC grants the account (its namespace's pods, not its
// secrets nor another namespace); an old token with a short lifetime is refused once it expires, and the pod's
// tokens are refused once the pod is deleted.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TokenReview } from 'kubernetes-types/authentication/v1.js';
import type { ConfigMap, Node, Pod, ServiceAccount } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { isForbidden, isNotFound } from '../../src/client/errors.ts';
import { ConfigMaps, Namespaces, Nodes, Pods, RoleBindings, Roles, Secrets, ServiceAccounts, TokenReviews } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { Agent } from '../../src/kubelet/agent.ts';
import { startTestContainerd, type TestContainerd } from '../../src/kubelet/containerd/testing.ts';
import { BUSYBOX_IMAGE } from '../../src/kubelet/images/builtin.ts';
import { until } from '../../src/testing/until.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { TEST_MACHINE } from './test-machine.ts';

const NODE = 'rotation-node';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const VAULT_DIR = '/var/run/secrets/vault';
const clock = new FakeClock(Date.now());
let dir: string;
let tc: TestContainerd;
let cp: ControlPlane;
let client: ApiClient;
let agent: Agent;
const afters: (() => Promise<void> | void)[] = [];

/** Fake time moves 100 ms per poll while a state is awaited (the agent's loops run on it). */
function pumped<T>(what: string, probe: () => Promise<T | undefined | false>, detail?: () => string): Promise<T> {
  return until(what, async () => {
    clock.advance(100);
    return probe();
  }, { timeoutMs: 60_000, intervalMs: 50, detail });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tk-sa-rotation-'));
  tc = await startTestContainerd({ after: (fn) => afters.push(fn) });
  cp = await startControlPlane({ dataDir: join(dir, 'server'), listen: '127.0.0.1:0', clock });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'sa-rotation-test' });
  await client.create(Namespaces, undefined, { metadata: { name: 'apps' } });
  // No controllers run here: the account and the CA ConfigMap are made by hand.
  await client.create<ServiceAccount>(ServiceAccounts, 'apps', { metadata: { name: 'default' } });
  await client.create<ConfigMap>(ConfigMaps, 'apps', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': cp.pki.caCertPem } });
  // The account may read its namespace's pods, and nothing more. (Not the aggregated `view` role: its
  // rules come from the controller manager's aggregation, which does not run here.)
  await client.create(Roles, 'apps', { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] });
  await client.create(RoleBindings, 'apps', {
    metadata: { name: 'default-pod-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'apps' }],
  });
  agent = new Agent({
    client, runtime: tc.runtime, nodeName: NODE, dataDir: join(dir, 'agent'), logRoot: join(dir, 'logs'), nodeIP: '127.0.0.1',
    clock, machine: TEST_MACHINE, podCIDRWaitMs: 0, plegPeriodMs: 100, clusterDNS: [],
    onError: (err, ctx) => console.error(`agent: ${ctx}: ${(err as Error).message}`),
  });
  await agent.start();
  await pumped('node Ready', async () => (await client.get<Node>(Nodes, undefined, NODE)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
});

after(async () => {
  // Stopping waits on the agent's (fake) timers: keep time moving until it is done.
  const pump = setInterval(() => clock.advance(100), 20);
  try {
    await agent?.stop({ removePods: true });
  } finally {
    clearInterval(pump);
  }
  client?.close();
  await cp?.close();
  for (const fn of afters.reverse()) await fn();
  await rm(dir, { recursive: true, force: true });
});

async function review(token: string, audiences?: string[]): Promise<TokenReview['status']> {
  const r = await client.create<TokenReview>(TokenReviews, undefined, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } });
  return r.status;
}

function claims(token: string): { iat: number; exp: number; 'kubernetes.io': { pod?: { name: string } } } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { iat: number; exp: number; 'kubernetes.io': { pod?: { name: string } } };
}

test("a running container's tokens are replaced before they expire, the new ones work, the old ones end", async () => {
  await client.create<Pod>(Pods, 'apps', {
    metadata: { name: 'app' },
    spec: {
      nodeName: NODE,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'vault', mountPath: VAULT_DIR, readOnly: true }] }],
      // A token for another audience, with the shortest lifetime TokenRequest allows: not extended.
      volumes: [{ name: 'vault', projected: { sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'token' } }] } }],
    },
  });
  let last: Pod | undefined;
  const running = await pumped('pod app running', async () => {
    const p = await client.get<Pod>(Pods, 'apps', 'app');
    last = p;
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.containerID ? p : undefined;
  }, () => JSON.stringify(last?.status));
  const id = running.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
  const inPod = async (...cmd: string[]): Promise<string> => {
    const r = await tc.runtime.execSync(id, cmd, 30);
    assert.equal(r.exitCode, 0, `${cmd.join(' ')}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  };

  // What the container sees: token and ..data are symlinks, the token is the pod's.
  const api0 = await inPod('cat', `${SA_DIR}/token`);
  const vault0 = await inPod('cat', `${VAULT_DIR}/token`);
  assert.equal(await inPod('readlink', `${SA_DIR}/token`), '..data/token\n');
  const data0 = await inPod('readlink', `${SA_DIR}/..data`);
  assert.equal((await review(api0))?.user?.username, 'system:serviceaccount:apps:default');
  assert.equal(claims(api0)['kubernetes.io'].pod?.name, 'app');
  assert.deepEqual((await review(vault0, ['vault']))?.audiences, ['vault']);
  assert.equal((await review(vault0))?.authenticated ?? false, false, 'a vault token is not one for the API server');
  const v0 = claims(vault0);
  assert.equal(v0.exp - v0.iat, 600);

  // Past 80% of its 600 s the vault token is renewed on the pod's next resync; the API token is not due.
  clock.advance(v0.iat * 1000 + 481_000 - clock.now());
  const vault1 = await pumped('vault token renewed in the container', async () => {
    const t = await inPod('cat', `${VAULT_DIR}/token`);
    return t !== vault0 ? t : undefined;
  });
  assert.equal(await inPod('cat', `${SA_DIR}/token`), api0);
  assert.equal((await review(vault1, ['vault']))?.authenticated, true);
  assert.equal((await review(vault0, ['vault']))?.authenticated, true, 'the old one is still within its 600 s');
  clock.advance(v0.exp * 1000 + 61_000 - clock.now());
  assert.equal((await review(vault0, ['vault']))?.authenticated ?? false, false, "the old one is refused past its expiry and kube's minute of leeway");
  assert.equal((await review(vault1, ['vault']))?.authenticated, true);

  // The API token (3607 s) is renewed past 80%: a reader inside the container, looping over the file
  // while the agent swaps it, sees the old token and then the new one, never anything between.
  const a0 = claims(api0);
  const reader = tc.runtime.execSync(id, ['sh', '-c', `
    read -r old < ${SA_DIR}/token; n=0; touch /tmp/reading
    while [ $n -lt 20000000 ]; do
      read -r t < ${SA_DIR}/token
      if [ "$t" != "$old" ]; then echo "$n"; echo "$t"; exit 0; fi
      n=$((n+1))
    done
    exit 1`], 60);
  await until('the reader started', async () => (await tc.runtime.execSync(id, ['test', '-e', '/tmp/reading'], 10)).exitCode === 0);
  clock.advance(a0.iat * 1000 + 2887_000 - clock.now());
  const seen = await reader;
  assert.equal(seen.exitCode, 0, `the reader saw no change: ${seen.stderr.toString()}`);
  const [reads, first] = seen.stdout.toString().trim().split('\n');
  console.log(`reads before the swap: ${reads}`);
  const api1 = await inPod('cat', `${SA_DIR}/token`);
  assert.notEqual(api1, api0);
  assert.equal(first, api1, 'the first different token the container read is the whole new one');
  assert.ok(Number(reads) > 0, 'the reader read the old token before the swap');
  assert.notEqual(await inPod('readlink', `${SA_DIR}/..data`), data0);
  assert.equal(await inPod('readlink', `${SA_DIR}/token`), '..data/token\n');
  assert.equal((await review(api1))?.user?.username, 'system:serviceaccount:apps:default');
  // The renewed token gets what RBAC grants its account: its namespace's pods, not its secrets nor
  // another namespace.
  const asPod = new ApiClient({ server: cp.url, token: api1, caPem: cp.pki.caCertPem, userAgent: 'in-pod' });
  try {
    assert.ok((await asPod.list<Pod>(Pods, 'apps')).items.some((p) => p.metadata?.name === 'app'));
    await assert.rejects(asPod.list(Secrets, 'apps'), isForbidden);
    await assert.rejects(asPod.list(Pods, 'default'), isForbidden);
  } finally {
    asPod.close();
  }
  // The kubelet's 3607 s tokens are warn-only past their hour (kube's extended expiration).
  assert.equal((await review(api0))?.authenticated, true);

  // Once the pod is gone (deleted gracefully, the agent confirms), none of its tokens work.
  await client.delete(Pods, 'apps', 'app');
  await pumped('pod app gone', async () => {
    try {
      await client.get<Pod>(Pods, 'apps', 'app');
      return false;
    } catch (err) {
      return isNotFound(err);
    }
  });
  for (const [token, audiences] of [[api0], [api1], [vault1, ['vault']]] as [string, string[]?][]) {
    assert.equal((await review(token, audiences))?.authenticated ?? false, false);
  }
});
