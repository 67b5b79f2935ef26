// The real kubectl through every control-plane command of kubectl-wire.md, against `tinykube server`,
// with the seed walkthrough's manifests. A test plays the node agent through the API (binding and
// status writes) so that get/describe/wait see a Running pod.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startCluster, kubectlBin, type Cluster } from './harness.ts';

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures', 'seed');
let c: Cluster;

before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const webPod = (image: string, port = 80, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
    tier: frontend
spec:
  containers:
  - name: nginx
    image: ${image}
    ports:
    - containerPort: ${port}
${extra}`;

/** Plays the node agent: binds the pod to a node and reports it Running and Ready. */
async function runOnNode(name: string, node = 'node-1', ns = 'default'): Promise<void> {
  const b = await c.api('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
  assert.equal(b.status, 201, b.text);
  const got = await c.api('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
  const pod = got.body as { spec: { containers: { name: string; image: string }[] }; status: Record<string, unknown> };
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  pod.status = {
    ...pod.status,
    phase: 'Running',
    hostIP: '10.0.0.1',
    podIP: '10.244.0.5',
    podIPs: [{ ip: '10.244.0.5' }],
    startTime: now,
    conditions: [
      { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      { type: 'Ready', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
    ],
    containerStatuses: pod.spec.containers.map((ct) => ({
      name: ct.name,
      image: ct.image,
      imageID: `${ct.image}@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${'a'.repeat(64)}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    })),
  };
  const put = await c.api('PUT', `/api/v1/namespaces/${ns}/pods/${name}/status`, pod);
  assert.equal(put.status, 200, put.text);
}

test('create -f the seed linkding pod, then AlreadyExists naming the file', async () => {
  const file = path.join(fixtures, 'linkding.yaml');
  assert.equal(await c.k('create', '-f', file), 'pod/linkding created\n');
  const again = await c.kubectl(['create', '-f', file]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /Error from server \(AlreadyExists\): error when creating ".*linkding.yaml": pods "linkding" already exists/);
  const pod = JSON.parse(await c.k('get', 'pod', 'linkding', '-o', 'json'));
  assert.equal(pod.spec.containers[0].imagePullPolicy, 'Always');
  assert.equal(pod.spec.containers[0].terminationMessagePath, '/dev/termination-log');
  assert.equal(pod.status.qosClass, 'BestEffort');
  await c.k('delete', '-f', file);
});

test('seed pod with requests and limits is Burstable', async () => {
  await c.k('apply', '-f', path.join(fixtures, 'linkding-resources.yaml'));
  const out = await c.k('describe', 'pod', 'linkding');
  assert.match(out, /^QoS Class:\s+Burstable$/m);
  assert.match(out, /Liveness:\s+http-get http:\/\/:9090\/healthy delay=5s timeout=1s period=10s #success=1 #failure=3/);
  assert.match(out, /Requests:\n\s+cpu:\s+500m\n\s+memory:\s+128Mi/);
  await c.k('delete', 'pod', 'linkding');
});

test('seed pod with the initialDeleySeconds typo is rejected naming the field', async () => {
  const r = await c.kubectl(['apply', '-f', path.join(fixtures, 'linkding-probe-typo.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /strict decoding error: unknown field "spec\.containers\[0\]\.livenessProbe\.initialDeleySeconds"/);
  const w = await c.kubectl(['create', '--validate=warn', '-f', path.join(fixtures, 'linkding-probe-typo.yaml')]);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /Warning: unknown field "spec\.containers\[0\]\.livenessProbe\.initialDeleySeconds"/);
  await c.k('delete', 'pod', 'linkding', '--wait=false');
});

test('seed pod with broken indentation gets a clear YAML error', async () => {
  const r = await c.kubectl(['apply', '-f', path.join(fixtures, 'linkding-resources-broken-indent.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /yaml: line \d+: /);
});

test('apply: created, unchanged, configured, immutable change rejected', async () => {
  const f = await c.writeFile('web.yaml', webPod('nginx:1.27'));
  assert.equal(await c.k('apply', '-f', f), 'pod/web created\n');
  assert.equal(await c.k('apply', '-f', f), 'pod/web unchanged\n');
  await c.writeFile('web.yaml', webPod('nginx:1.28'));
  assert.equal(await c.k('apply', '-f', f), 'pod/web configured\n');
  assert.equal(JSON.parse(await c.k('get', 'pod', 'web', '-o', 'json')).spec.containers[0].image, 'nginx:1.28');
  await c.writeFile('web.yaml', webPod('nginx:1.28', 8080));
  const r = await c.kubectl(['apply', '-f', f]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than/);
});

test('replace -f and a stale resourceVersion conflict', async () => {
  // The stored pod, image changed: a manifest without the kube-api-access volume the ServiceAccount
  // admission added would be a forbidden spec change, as on any Kubernetes.
  const current = JSON.parse(await c.k('get', 'pod', 'web', '-o', 'json'));
  current.spec.containers[0].image = 'nginx:1.29';
  const f = await c.writeFile('web-replace.json', JSON.stringify(current));
  assert.equal(await c.k('replace', '-f', f), 'pod/web replaced\n');
  const pod = JSON.parse(await c.k('get', 'pod', 'web', '-o', 'json'));
  pod.metadata.resourceVersion = '1';
  pod.spec.containers[0].image = 'nginx:1.30';
  const stale = await c.writeFile('web-stale.json', JSON.stringify(pod));
  const r = await c.kubectl(['replace', '-f', stale]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error from server \(Conflict\): error when replacing ".*web-stale.json": Operation cannot be fulfilled on pods "web": the object has been modified/);
});

test('get: wide, yaml, labels, all namespaces, field selectors', async () => {
  const wide = await c.k('get', 'pods', '-o', 'wide');
  assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
  assert.match(wide, /^web\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>$/m);
  const yaml = await c.k('get', 'pod', 'web', '-o', 'yaml');
  assert.match(yaml, /^kind: Pod$/m);
  assert.match(yaml, /^  uid: [0-9a-f-]{36}$/m);
  assert.match(await c.k('get', 'pods', '-l', 'app=web', '-o', 'name'), /^pod\/web$/m);
  assert.equal(await c.k('get', 'pods', '-l', 'app in (db,cache)', '-o', 'name'), '');
  assert.match(await c.k('get', 'pods', '-l', 'tier,!missing', '-o', 'name'), /^pod\/web$/m);
  await c.k('create', 'namespace', 'other');
  await c.k('run', 'elsewhere', '-n', 'other', '--image=busybox');
  const all = await c.k('get', 'pods', '-A');
  assert.match(all, /^NAMESPACE\s+NAME\s+READY/m);
  assert.match(all, /^other\s+elsewhere\s+0\/1\s+Pending/m);
  assert.match(all, /^default\s+web\s+/m);
  assert.match(await c.k('get', 'pods', '-A', '--field-selector', 'status.phase=Pending', '-o', 'name'), /pod\/elsewhere/);
  assert.equal(await c.k('get', 'pods', '-A', '--field-selector', 'status.phase=Running', '-o', 'name'), '');
  const bad = await c.kubectl(['get', 'pods', '--field-selector', 'spec.foo=bar']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /field label not supported: spec\.foo/);
  const chunked = await c.k('get', 'pods', '-A', '--chunk-size=1', '-o', 'name');
  assert.equal(chunked.trim().split('\n').length, 2);
});

test('get -w prints changes as they happen', async () => {
  await c.k('run', 'watch-a', '--image=busybox');
  const child = spawn(kubectlBin, ['--kubeconfig', c.kubeconfig, '--cache-dir', path.join(c.dir, 'kube-cache'), 'get', 'pods', '-w'], { env: { ...process.env, HOME: c.dir } });
  let out = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  });
  const seen = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!re.test(out)) return;
        clearTimeout(t);
        waiters.delete(check);
        resolve();
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${re} in:\n${out}`));
      }, 20_000);
      waiters.add(check);
      check();
    });
  try {
    await seen(/^watch-a\s+0\/1\s+Pending/m);
    await c.k('run', 'watched', '--image=busybox');
    await seen(/^watched\s+0\/1\s+Pending\s+0\s+\S+$/m);
  } finally {
    child.kill();
  }
});

test('a pod a node runs is Running and Ready for get, describe and wait', async () => {
  await c.k('run', 'ready-pod', '--image=busybox', '--labels=app=ready');
  const waiting = spawn(kubectlBin, ['--kubeconfig', c.kubeconfig, '--cache-dir', path.join(c.dir, 'kube-cache'), 'wait', '--for=condition=Ready', 'pod/ready-pod', '--timeout=30s'], { env: { ...process.env, HOME: c.dir } });
  let wout = '';
  waiting.stdout.on('data', (b: Buffer) => (wout += b.toString()));
  const exited = new Promise<number | null>((resolve) => waiting.on('exit', resolve));
  await runOnNode('ready-pod');
  assert.equal(await exited, 0);
  assert.equal(wout, 'pod/ready-pod condition met\n');
  assert.match(await c.k('get', 'pod', 'ready-pod', '-o', 'wide'), /^ready-pod\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.0\.5\s+node-1\s+<none>\s+<none>$/m);
  const d = await c.k('describe', 'pod', 'ready-pod');
  assert.match(d, /^Node:\s+node-1\/10\.0\.0\.1$/m);
  assert.match(d, /^Status:\s+Running$/m);
  assert.match(d, /^IP:\s+10\.244\.0\.5$/m);
  assert.match(d, /Container ID:\s+containerd:\/\/a{64}/);
  // An event about the pod shows in describe (matched by involvedObject.uid) and in get events.
  const pod = JSON.parse(await c.k('get', 'pod', 'ready-pod', '-o', 'json'));
  const ev = await c.api('POST', '/api/v1/namespaces/default/events', {
    metadata: { name: 'ready-pod.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'ready-pod', uid: pod.metadata.uid, apiVersion: 'v1' },
    reason: 'Started', message: 'Started container ready-pod', type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: pod.metadata.creationTimestamp, lastTimestamp: pod.metadata.creationTimestamp, count: 1,
  });
  assert.equal(ev.status, 201, ev.text);
  assert.match(await c.k('describe', 'pod', 'ready-pod'), /Normal\s+Started\s+\S+\s+kubelet\s+Started container ready-pod/);
  assert.match(await c.k('get', 'events'), /^\S+\s+Normal\s+Started\s+pod\/ready-pod\s+Started container ready-pod$/m);
});

test('deleting a pod on a node waits for the node; --force does not', async () => {
  await c.k('delete', 'pod', 'ready-pod', '--wait=false');
  assert.match(await c.k('get', 'pod', 'ready-pod'), /^ready-pod\s+1\/1\s+Terminating/m);
  const pod = JSON.parse(await c.k('get', 'pod', 'ready-pod', '-o', 'json'));
  assert.equal(pod.metadata.deletionGracePeriodSeconds, 30);
  // The node confirms: DELETE with grace 0.
  const del = await c.api('DELETE', '/api/v1/namespaces/default/pods/ready-pod', { gracePeriodSeconds: 0 });
  assert.equal(del.status, 200, del.text);
  assert.equal((await c.kubectl(['get', 'pod', 'ready-pod'])).code, 1);
  await c.k('run', 'forced', '--image=busybox');
  await runOnNode('forced');
  const r = await c.kubectl(['delete', 'pod', 'forced', '--grace-period=0', '--force']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pod "forced" force deleted/);
});

test('explain pods, pod.spec and the liveness probe', async () => {
  assert.match(await c.k('explain', 'pods'), /KIND:\s+Pod\nVERSION:\s+v1\n\nDESCRIPTION:\n\s+Pod is a collection of containers/);
  assert.match(await c.k('explain', 'pod.spec'), /FIELD: spec <PodSpec>/);
  assert.match(await c.k('explain', 'pod.spec.containers.livenessProbe'), /FIELD: livenessProbe <Probe>\n\n+DESCRIPTION:\n\s+Periodic probe of container liveness/);
});

test('delete in all its forms', async () => {
  for (const n of ['pod1', 'pod2', 'm1', 'm2']) await c.k('run', n, '--image=busybox', ...(n.startsWith('m') ? ['--labels=creation_method=manual'] : []));
  assert.equal(await c.k('delete', 'pods', 'pod1', 'pod2'), 'pod "pod1" deleted\npod "pod2" deleted\n');
  assert.equal(await c.k('delete', 'pod', '-l', 'creation_method=manual'), 'pod "m1" deleted\npod "m2" deleted\n');
  await c.k('create', 'namespace', 'custom-namespace');
  await c.k('run', 'inside', '-n', 'custom-namespace', '--image=busybox');
  assert.equal(await c.k('delete', 'ns', 'custom-namespace'), 'namespace "custom-namespace" deleted\n');
  assert.equal((await c.kubectl(['get', 'ns', 'custom-namespace'])).code, 1);
  const f = await c.writeFile('gone.yaml', webPod('nginx:1.27').replace('name: web', 'name: from-file'));
  await c.k('apply', '-f', f);
  assert.equal(await c.k('delete', '-f', f), 'pod "from-file" deleted\n');
  await c.k('run', 'a1', '--image=busybox');
  assert.match(await c.k('delete', 'pods', '--all'), /pod "a1" deleted/);
  await c.k('run', 'a2', '--image=busybox');
  assert.match(await c.k('delete', 'all', '--all'), /pod "a2" deleted/);
  const none = await c.kubectl(['get', 'pods']);
  assert.match(none.stderr, /No resources found in default namespace\./);
});

test('create namespace (protobuf body) and get namespaces', async () => {
  assert.equal(await c.k('create', 'namespace', 'demo'), 'namespace/demo created\n');
  assert.match(await c.k('get', 'ns'), /^demo\s+Active\s+\d+s$/m);
  // The serviceaccount controller gives the new namespace its default service account.
  let sa = '';
  for (let i = 0; i < 100 && sa === ''; i++) {
    sa = await c.k('get', 'serviceaccounts', '-n', 'demo', '-o', 'name');
    if (sa === '') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(sa, 'serviceaccount/default\n');
  const gone = await c.kubectl(['run', 'x', '-n', 'nope', '--image=busybox']);
  assert.match(gone.stderr, /Error from server \(NotFound\): namespaces "nope" not found/);
});

test('validation errors are 422 with field paths', async () => {
  const f = await c.writeFile('bad.json', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c' }] } }));
  const r = await c.kubectl(['create', '-f', f]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /The Pod "Bad_Name" is invalid: \n\* metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  assert.match(r.stderr, /\* spec\.containers\[0\]\.image: Required value/);
});

test('the server keeps everything across kill -9', async () => {
  await c.k('run', 'durable', '--image=busybox');
  await c.restart('SIGKILL');
  assert.match(await c.k('get', 'pod', 'durable', '-o', 'name'), /^pod\/durable$/m);
  assert.match(await c.k('get', 'ns', 'demo', '-o', 'name'), /^namespace\/demo$/m);
});

test('apply --server-side, patch of every type, label, annotate, dry-run', async () => {
  const f = await c.writeFile('ssa.yaml', webPod('nginx:1.27').replace('name: web', 'name: ssa'));
  assert.equal(await c.k('apply', '--server-side', '-f', f), 'pod/ssa serverside-applied\n');
  await c.writeFile('ssa.yaml', webPod('nginx:1.28').replace('name: web', 'name: ssa'));
  assert.equal(await c.k('apply', '--server-side', '-f', f), 'pod/ssa serverside-applied\n');
  const get = () => c.k('get', 'pod', 'ssa', '-o', 'json').then((s) => JSON.parse(s));
  assert.equal((await get()).spec.containers[0].image, 'nginx:1.28');
  assert.equal(await c.k('patch', 'pod', 'ssa', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}}}'), 'pod/ssa patched\n');
  assert.equal(await c.k('patch', 'pod', 'ssa', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/j","value":"2"}]'), 'pod/ssa patched\n');
  assert.equal(await c.k('patch', 'pod', 'ssa', '-p', '{"spec":{"containers":[{"name":"nginx","image":"nginx:1.29"}]}}'), 'pod/ssa patched\n');
  let pod = await get();
  assert.equal(pod.metadata.labels.m, '1');
  assert.equal(pod.metadata.labels.j, '2');
  assert.equal(pod.spec.containers[0].image, 'nginx:1.29');
  assert.equal(pod.spec.containers[0].ports[0].containerPort, 80);
  assert.equal(await c.k('label', 'pod', 'ssa', 'env=test'), 'pod/ssa labeled\n');
  assert.equal(await c.k('annotate', 'pod', 'ssa', 'note=hello'), 'pod/ssa annotated\n');
  pod = await get();
  assert.equal(pod.metadata.labels.env, 'test');
  assert.equal(pod.metadata.annotations.note, 'hello');
  const bad = await c.kubectl(['patch', 'pod', 'ssa', '--type=json', '-p', '[{"op":"test","path":"/metadata/name","value":"other"}]']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /The request is invalid: the server rejected our request due to an error in our request/);
  assert.equal(await c.k('run', 'dry', '--image=busybox', '--dry-run=server'), 'pod/dry created (server dry run)\n');
  assert.equal((await c.kubectl(['get', 'pod', 'dry'])).code, 1);
  await c.k('delete', 'pod', 'ssa');
});

test('create configmap, secret and serviceaccount (protobuf bodies)', async () => {
  assert.equal(await c.k('create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=two'), 'configmap/cfg created\n');
  const cm = JSON.parse(await c.k('get', 'configmap', 'cfg', '-o', 'json'));
  assert.deepEqual(cm.data, { a: '1', b: 'two' });
  assert.equal(await c.k('create', 'secret', 'generic', 'sec', '--from-literal=password=s3cret'), 'secret/sec created\n');
  const sec = JSON.parse(await c.k('get', 'secret', 'sec', '-o', 'json'));
  assert.equal(Buffer.from(sec.data.password, 'base64').toString(), 's3cret');
  assert.equal(sec.type, 'Opaque');
  assert.equal(await c.k('create', 'serviceaccount', 'robot'), 'serviceaccount/robot created\n');
  assert.match(await c.k('get', 'configmaps'), /^cfg\s+2\s+\S+$/m);
  assert.match(await c.k('get', 'secrets'), /^sec\s+Opaque\s+1\s+\S+$/m);
});

test('priority classes: create (protobuf), get pc, the Priority admission of pods and its refusals', async () => {
  assert.match(await c.k('get', 'pc'), /^system-cluster-critical\s+2000000000\s+false\s+\S+\s+PreemptLowerPriority$/m);
  assert.equal(await c.k('create', 'priorityclass', 'batch-high', '--value=1000', '--description=urgent work'), 'priorityclass.scheduling.k8s.io/batch-high created\n');
  assert.equal(await c.k('create', 'priorityclass', 'batch-default', '--value=10', '--global-default', '--preemption-policy=Never'), 'priorityclass.scheduling.k8s.io/batch-default created\n');
  assert.match(await c.k('get', 'priorityclasses'), /^batch-default\s+10\s+true\s+\S+\s+Never$/m);
  const second = await c.kubectl(['create', 'priorityclass', 'other-default', '--value=5', '--global-default']);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /priorityclasses.scheduling.k8s.io "other-default" is forbidden: PriorityClass batch-default is already marked as default. Only one default can exist/);
  const reserved = await c.kubectl(['create', 'priorityclass', 'system-mine', '--value=5']);
  assert.match(reserved.stderr, /metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only/);
  const changed = await c.kubectl(['patch', 'pc', 'batch-high', '-p', '{"value":5}']);
  assert.match(changed.stderr, /value: Forbidden: may not be changed in an update/);

  const podYaml = (name: string, extra: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${extra}  containers: [{name: c, image: busybox}]\n`;
  await c.k('create', '-f', await c.writeFile('pc-high.yaml', podYaml('pc-high', '  priorityClassName: batch-high\n')));
  await c.k('create', '-f', await c.writeFile('pc-none.yaml', podYaml('pc-none', '')));
  const high = JSON.parse(await c.k('get', 'pod', 'pc-high', '-o', 'json'));
  assert.deepEqual([high.spec.priority, high.spec.preemptionPolicy], [1000, 'PreemptLowerPriority']);
  const none = JSON.parse(await c.k('get', 'pod', 'pc-none', '-o', 'json'));
  assert.deepEqual([none.spec.priorityClassName, none.spec.priority, none.spec.preemptionPolicy], ['batch-default', 10, 'Never']);
  const missing = await c.kubectl(['create', '-f', await c.writeFile('pc-missing.yaml', podYaml('pc-missing', '  priorityClassName: nope\n'))]);
  assert.match(missing.stderr, /pods "pc-missing" is forbidden: no PriorityClass with name nope was found/);
  const forged = await c.kubectl(['create', '-f', await c.writeFile('pc-forged.yaml', podYaml('pc-forged', '  priorityClassName: batch-high\n  priority: 2000000000\n'))]);
  assert.match(forged.stderr, /the integer value of priority \(2000000000\) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name/);
  await c.k('delete', 'pod', 'pc-high', 'pc-none', '--wait=false');
  await c.k('delete', 'pc', 'batch-default', 'batch-high');
});

// Last: `delete ns --all` removes every namespace the earlier tests made.
test('the namespaces every cluster needs cannot be deleted; delete ns --all deletes the others', async () => {
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const r = await c.kubectl(['delete', 'namespace', ns]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted\n`);
  }
  await c.k('create', 'namespace', 'scratch');
  const all = await c.kubectl(['delete', 'ns', '--all']);
  assert.match(all.stdout, /namespace "scratch" deleted/);
  assert.match(all.stderr, /namespaces "default" is forbidden: this namespace may not be deleted/);
  assert.match(await c.k('get', 'ns', 'default', 'kube-system', 'kube-public', '-o', 'name'), /^namespace\/default\nnamespace\/kube-system\nnamespace\/kube-public\n$/);
});
