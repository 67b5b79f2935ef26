// The README's five-minute walkthrough, step by step, with the real kubectl against `tinykube up`
// (real containerd, offline images). Every `$ kubectl ...` line of the README must be exercised here,
// so the README cannot drift from what works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { portForward, startCluster, type Cluster, type KubectlResult } from './harness.ts';
import { until } from '../../src/testing/until.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
let c: Cluster;
const ran = new Set<string>();

before(async () => {
  c = await startCluster({ command: 'up', args: ['--name', `walk-${process.pid}`] });
});
after(async () => {
  await c?.stop();
});

/** Splits a README command line the way a shell would for these simple cases (quotes, no expansions). */
function argv(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Runs one README command (`kubectl ...`), with repository paths made absolute. */
async function run(line: string): Promise<KubectlResult> {
  ran.add(line);
  const args = argv(line).slice(1).map((a) => (a.startsWith('examples/') || a.startsWith('test/') ? path.join(repo, a) : a));
  return c.kubectl(args, { timeoutMs: 90_000 });
}

async function ok(line: string): Promise<string> {
  const r = await run(line);
  assert.equal(r.code, 0, `${line}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Real pods on a real node: seconds, not milliseconds. */
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };

test('the node is Ready', async () => {
  assert.match(await ok('kubectl get nodes'), new RegExp(`^walk-${process.pid}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.`, 'm'));
});

test('create pods imperatively and from a manifest', async () => {
  assert.equal(await ok('kubectl run demo --image=busybox -- sleep 3600'), 'pod/demo created\n');
  assert.equal(await ok('kubectl apply -f examples/linkding.yaml'), 'pod/linkding created\n');
  assert.equal(await ok('kubectl wait --for=condition=Ready pod/linkding'), 'pod/linkding condition met\n');
  await c.k('wait', '--for=condition=Ready', 'pod/demo');
  const wide = await ok('kubectl get pods -o wide');
  assert.match(wide, new RegExp(`^demo\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+10\\.244\\.\\d+\\.\\d+\\s+walk-${process.pid}\\s+<none>\\s+<none>$`, 'm'));
  assert.match(wide, /^linkding\s+1\/1\s+Running\s+0\s+/m);
});

test('look at them', async () => {
  const d = await ok('kubectl describe pod linkding');
  assert.match(d, /^Status:\s+Running$/m);
  assert.match(d, /^QoS Class:\s+Burstable$/m);
  assert.match(d, /Liveness:\s+http-get http:\/\/:9090\/healthy delay=5s timeout=1s period=10s #success=1 #failure=3/);
  assert.match(d, /Container ID:\s+containerd:\/\/[0-9a-f]{64}/);
  assert.match(d, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/linkding to walk-/);
  assert.match(d, /Normal\s+Started\s+\S+\s+kubelet\s+Started container linkding/);
  assert.match(await ok('kubectl get pod linkding -o yaml'), /^  qosClass: Burstable$/m);
  assert.match(await ok('kubectl explain pod.spec.containers.livenessProbe'), /FIELD: livenessProbe <Probe>/);
  assert.match(await ok('kubectl get events'), /Normal\s+Scheduled\s+pod\/linkding\s+Successfully assigned/);
  const typo = await run('kubectl apply -f test/fixtures/seed/linkding-probe-typo.yaml');
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /strict decoding error: unknown field "spec\.containers\[0\]\.livenessProbe\.initialDeleySeconds"/);
});

test('logs, exec, port-forward, cp', async () => {
  await ok('kubectl exec linkding -- wget -qO- http://localhost:9090/healthy');
  assert.match(await ok('kubectl logs linkding'), /response:200/);
  assert.match(await ok('kubectl exec linkding -- date'), /\d{2}:\d{2}:\d{2}/);
  assert.equal(await ok('kubectl exec linkding -- hostname'), 'linkding\n');
  // The README forwards 9090:9090; the test lets kubectl pick a free local port instead (no fixed ports in tests).
  ran.add('kubectl port-forward linkding 9090:9090 &');
  const pf = await portForward(c, 'linkding', 9090);
  try {
    const res = await fetch(`http://127.0.0.1:${pf.port}/`);
    assert.equal(await res.text(), '<h1>linkding</h1>\n');
  } finally {
    pf.close();
  }
  await ok('kubectl cp linkding:/www/index.html ./index.html');
  assert.equal(await readFile(path.join(c.dir, 'index.html'), 'utf8'), '<h1>linkding</h1>\n');
  await ok('kubectl cp ./index.html linkding:/tmp/index.html');
  assert.equal(await c.k('exec', 'linkding', '--', 'cat', '/tmp/index.html'), '<h1>linkding</h1>\n');
});

test('health checks, limits, volumes', async () => {
  await ok('kubectl apply -f examples/liveness-fail.yaml');
  await until('a liveness restart', async () => {
    const out = await ok('kubectl get pod unhealthy');
    return /^unhealthy\s+\d\/1\s+\S+\s+[1-9]\d* \(\S+ ago\)/m.test(out) ? out : undefined;
  }, WAIT);
  assert.match(await c.k('describe', 'pod', 'unhealthy'), /Warning\s+Unhealthy\s+.*Liveness probe failed/);
  await ok('kubectl apply -f examples/memory-hog.yaml');
  await until('OOMKilled', async () => {
    const out = await ok('kubectl get pod memory-hog');
    return /^memory-hog\s+0\/1\s+OOMKilled\s+0\s+/m.test(out) ? out : undefined;
  }, WAIT);
  assert.match(await c.k('describe', 'pod', 'memory-hog'), /Exit Code:\s+137/);
  await ok('kubectl apply -f examples/sidecar.yaml');
  await c.k('wait', '--for=condition=Ready', 'pod/web-sidecar');
  const page = await until('the sidecar page', async () => {
    const r = await run('kubectl exec web-sidecar -c writer -- wget -qO- http://localhost:8080/');
    return r.code === 0 && /\d{2}:\d{2}:\d{2}/.test(r.stdout) ? r.stdout : undefined;
  }, WAIT);
  assert.match(page, /UTC \d{4}/);
  assert.equal(await c.k('exec', 'web-sidecar', '-c', 'web', '--', 'hostname'), 'web-sidecar\n');
  assert.notEqual((await c.kubectl(['exec', 'web-sidecar', '-c', 'web', '--', 'ls', '/data'])).code, 0, 'the writer mounts the volume at /data; the web container does not see that path');
});

test('replicas, rollouts and jobs', async () => {
  assert.equal(await ok('kubectl apply -f examples/linkding-deployment.yaml'), 'deployment.apps/linkding created\n');
  assert.match(await ok('kubectl rollout status deployment/linkding'), /deployment "linkding" successfully rolled out\n$/);
  assert.match(await ok('kubectl get deployment linkding'), /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nlinkding\s+3\/3\s+3\s+3\s+\d+s\n$/);
  const described = await ok('kubectl describe pods -l app=linkding,pod-template-hash');
  const hash = /pod-template-hash=([a-z0-9]+)/.exec(described)?.[1];
  assert.ok(hash, described);
  assert.equal([...described.matchAll(new RegExp(`Controlled By:\\s+ReplicaSet/linkding-${hash}\\n`, 'g'))].length, 3);
  // The walkthrough's bare linkding pod has app=linkding too; the Deployment's pods also carry pod-template-hash.
  const before = (await c.k('get', 'pods', '-l', 'app=linkding,pod-template-hash', '-o', 'name')).trim().split('\n');
  await c.k('delete', before[0]!, '--wait=false');
  await until('a new pod in place of the deleted one', async () => {
    const now = (await c.k('get', 'pods', '-l', 'app=linkding,pod-template-hash', '--field-selector=status.phase=Running', '-o', 'name')).trim().split('\n');
    return now.length === 3 && !now.includes(before[0]!) ? now : undefined;
  }, WAIT);
  assert.equal(await ok('kubectl scale deployment linkding --replicas=5'), 'deployment.apps/linkding scaled\n');
  await c.k('rollout', 'status', 'deployment/linkding', '--timeout=90s');
  assert.equal(await ok('kubectl set env deployment/linkding GREETING=hello'), 'deployment.apps/linkding env updated\n');
  assert.match(await ok('kubectl rollout status deployment/linkding'), /deployment "linkding" successfully rolled out\n$/);
  // A pod of the new ReplicaSet (the one with all 5 replicas now) serves the new template. (`kubectl exec
  // deployment/linkding` could pick the walkthrough's bare linkding pod: it matches the selector too.)
  const newHash = (await c.k('get', 'rs', '-l', 'app=linkding', '-o', 'jsonpath={.items[?(@.spec.replicas==5)].metadata.labels.pod-template-hash}')).trim();
  assert.notEqual(newHash, hash);
  const newPod = (await c.k('get', 'pods', '-l', `pod-template-hash=${newHash}`, '-o', 'jsonpath={.items[0].metadata.name}')).trim();
  assert.match(await c.k('exec', newPod, '--', 'wget', '-qO-', 'http://localhost:9090/'), /linkding hello/);
  assert.match(await ok('kubectl rollout history deployment/linkding'), /^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/m);
  assert.equal(await ok('kubectl rollout undo deployment/linkding'), 'deployment.apps/linkding rolled back\n');
  await c.k('rollout', 'status', 'deployment/linkding', '--timeout=90s');
  assert.match(await c.k('get', 'rs', '-l', 'app=linkding'), new RegExp(`^linkding-${hash}\\s+5\\s+5\\s+5\\s`, 'm'));
  assert.equal(await ok('kubectl create job hello --image=busybox -- echo hello from a job'), 'job.batch/hello created\n');
  assert.equal(await ok('kubectl wait --for=condition=complete job/hello'), 'job.batch/hello condition met\n');
  assert.equal(await ok('kubectl logs job/hello'), 'hello from a job\n');
  assert.match(await ok('kubectl delete deployment linkding'), /deployment\.apps "linkding" deleted/);
  assert.match(await ok('kubectl delete job hello'), /job\.batch "hello" deleted/);
  await until('the Deployment\'s pods gone', async () => ((await c.k('get', 'pods', '-l', 'app=linkding,pod-template-hash', '-o', 'name')).trim() === '' ? true : undefined), WAIT);
});

test('services and DNS', async () => {
  assert.equal(await ok(`kubectl create deployment web --image=busybox --replicas=2 --port=8080 -- sh -c 'hostname > /tmp/index.html; trap "exit 0" TERM; httpd -f -p 8080 -h /tmp & wait'`), 'deployment.apps/web created\n');
  assert.equal(await ok('kubectl expose deployment web --port=80 --target-port=8080'), 'service/web exposed\n');
  assert.match(await ok('kubectl get service web'), /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nweb\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s\n$/);
  assert.match(await ok('kubectl rollout status deployment/web'), /successfully rolled out/);
  const podIPs = (await c.k('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}')).trim().split(/\s+/);
  assert.equal(podIPs.length, 2);
  const slices = await until('both pods in the EndpointSlice', async () => {
    const out = await ok('kubectl get endpointslices -l kubernetes.io/service-name=web');
    return podIPs.every((ip) => out.includes(ip)) ? out : undefined;
  }, WAIT);
  assert.match(slices, /^web-\w+\s+IPv4\s+8080\s+/m);
  assert.equal(await ok('kubectl run client --image=busybox -- sleep 3600'), 'pod/client created\n');
  assert.equal(await ok('kubectl wait --for=condition=Ready pod/client'), 'pod/client condition met\n');
  const names = (await c.k('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/);
  assert.ok(names.includes((await ok('kubectl exec client -- wget -qO- http://web')).trim()));
  assert.match(await ok('kubectl exec client -- nslookup web.default.svc.cluster.local'), /Name:\s+web\.default\.svc\.cluster\.local\nAddress:\s+10\.43\./);
  const resolv = await ok('kubectl exec client -- cat /etc/resolv.conf');
  assert.match(resolv, /^nameserver 10\.43\.0\.10$/m);
  assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m);
  assert.equal(await ok('kubectl expose deployment web --name=web-public --type=NodePort --port=80 --target-port=8080'), 'service/web-public exposed\n');
  assert.ok(names.includes((await ok('kubectl get --raw /api/v1/namespaces/default/services/web:80/proxy/')).trim()));
  assert.equal(await ok('kubectl delete service web web-public'), 'service "web" deleted\nservice "web-public" deleted\n');
  assert.match(await ok('kubectl delete deployment web'), /deployment\.apps "web" deleted/);
  assert.match(await ok('kubectl delete pod client --now'), /pod "client" deleted/);
});

test('data that outlives a pod', async () => {
  assert.match(await ok('kubectl get storageclass'), /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nlocal-path \(default\)\s+tinykube\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+true\s+\S+\n$/);
  assert.equal(await ok('kubectl apply -f examples/notes.yaml'), 'persistentvolumeclaim/notes created\npod/notes created\n');
  assert.equal(await ok('kubectl wait --for=condition=Ready pod/notes'), 'pod/notes condition met\n');
  assert.match(await ok('kubectl get pvc notes'), /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\nnotes\s+Bound\s+pvc-[0-9a-f-]{36}\s+100Mi\s+RWO\s+local-path\s+<unset>\s+\d+s\n$/);
  assert.equal(await ok(`kubectl exec notes -- sh -c 'echo remember me >> /data/notes'`), '');
  assert.equal(await ok('kubectl delete pod notes'), 'pod "notes" deleted\n');
  assert.equal(await ok('kubectl apply -f examples/notes.yaml'), 'persistentvolumeclaim/notes unchanged\npod/notes created\n');
  assert.equal(await ok('kubectl wait --for=condition=Ready pod/notes'), 'pod/notes condition met\n');
  assert.equal(await ok('kubectl exec notes -- cat /data/notes'), 'remember me\n');
  assert.equal(await ok('kubectl delete -f examples/notes.yaml'), 'persistentvolumeclaim "notes" deleted\npod "notes" deleted\n');
  await until('the notes volume deleted with its claim', async () => ((await c.k('get', 'pv', '-o', 'name')).trim() === '' ? true : undefined), WAIT);
});

test('delete, in all its forms', async () => {
  assert.match(await ok('kubectl delete pod demo'), /^pod "demo" deleted$/m);
  assert.match(await ok('kubectl delete -f examples/linkding.yaml'), /^pod "linkding" deleted$/m);
  assert.equal(await ok('kubectl delete pods unhealthy memory-hog'), 'pod "unhealthy" deleted\npod "memory-hog" deleted\n');
  await ok('kubectl apply -f examples/linkding.yaml');
  assert.equal(await ok('kubectl delete pod -l creation_method=manual'), 'pod "linkding" deleted\n');
  await c.k('run', 'x1', '--image=busybox', '--', 'sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait");
  assert.match(await ok('kubectl delete pods --all'), /pod "x1" deleted/);
  await c.k('run', 'x2', '--image=busybox', '--', 'sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait");
  assert.match(await ok('kubectl delete all --all'), /pod "x2" deleted/);
  assert.equal(await ok('kubectl create namespace custom-namespace'), 'namespace/custom-namespace created\n');
  assert.equal(await ok('kubectl delete ns custom-namespace'), 'namespace "custom-namespace" deleted\n');
  assert.match((await c.kubectl(['get', 'pods'])).stderr, /No resources found in default namespace\./);
});

test('who may do what', async () => {
  assert.equal(await ok('kubectl create serviceaccount reader'), 'serviceaccount/reader created\n');
  assert.equal(await ok('kubectl create rolebinding reader-view --clusterrole=view --serviceaccount=default:reader'), 'rolebinding.rbac.authorization.k8s.io/reader-view created\n');
  assert.equal(await ok('kubectl auth can-i list pods --as=system:serviceaccount:default:reader'), 'yes\n');
  const no = await run('kubectl auth can-i list secrets --as=system:serviceaccount:default:reader');
  assert.equal(no.code, 1);
  assert.equal(no.stdout, 'no\n');
  assert.match(await ok('kubectl create token reader --duration=10m'), /^eyJhbGciOiJSUzI1NiIsImtpZCI6I[\w-]+\.[\w-]+\.[\w-]+$/);
  await ok('kubectl delete rolebinding reader-view');
  await ok('kubectl delete serviceaccount reader');
});

test('extend the API with a CustomResourceDefinition', async () => {
  assert.equal(await ok('kubectl apply -f examples/crontab-crd.yaml'), 'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created\n');
  assert.equal(await ok('kubectl wait --for condition=established crd/crontabs.stable.example.com'), 'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com condition met\n');
  assert.equal(await ok('kubectl apply -f examples/crontab.yaml'), 'crontab.stable.example.com/my-new-cron-object created\n');
  assert.match(await ok('kubectl get ct'), /^NAME\s+SPEC\s+REPLICAS\s+AGE\nmy-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s\n$/);
  assert.equal(await ok('kubectl scale ct my-new-cron-object --replicas=3'), 'crontab.stable.example.com/my-new-cron-object scaled\n');
  assert.match(await ok('kubectl explain crontab.spec'), /replicas\t<integer>/);
  const bad = await run('kubectl apply -f test/fixtures/crd/crontab-invalid.yaml');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^The CronTab "my-bad-cron-object" is invalid: \n\* spec\.cronSpec: Invalid value: "\* \* \* \*": spec\.cronSpec in body should match/);
  assert.match(bad.stderr, /\* spec\.replicas: Invalid value: 15: spec\.replicas in body should be less than or equal to 10/);
  assert.equal(await ok('kubectl delete crd crontabs.stable.example.com'), 'customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted\n');
});

test('every kubectl command of the README walkthrough was run', async () => {
  const readme = await readFile(path.join(repo, 'README.md'), 'utf8');
  const commands = [...readme.matchAll(/^\$ (kubectl .*)$/gm)]
    .flatMap((m) => m[1]!.split(' && '))
    .map((s) => s.replace(/\s+#.*$/, '').trim())
    .filter((s) => s.startsWith('kubectl'));
  const missing = commands.filter((cmd) => !ran.has(cmd));
  assert.deepEqual(missing, []);
});
