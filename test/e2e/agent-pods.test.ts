// The node agent end to end: the real kubectl, `tinykube server`, `tinykube agent` (a child process,
// so it can be killed with SIGKILL) with its private containerd, real pods. Pods are bound with
// spec.nodeName (the scheduler is tested elsewhere). Everything the agent made on the machine
// (containerd, shims, mounts, cgroups, bridge, temp dirs) is removed afterwards, even on failure. Last,
// the server's certificates are rotated under the running agent (`tinykube certs rotate`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import path from 'node:path';
import { startCluster, type Cluster } from './harness.ts';
import { mountsUnder, processesUsing } from '../../src/kubelet/containerd/testing.ts';
import { containerdLayout } from '../../src/kubelet/containerd/config.ts';
import { bridgeName } from '../../src/kubelet/network/cni.ts';
import { cgroupMounts } from '../../src/kubelet/cgroups/pod-cgroups.ts';
import { until } from '../../src/testing/until.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const node = `tk-e2e-${randomBytes(3).toString('hex')}`;

let c: Cluster;
let agent: ChildProcess | undefined;
let agentLog = '';
let agentDir = '';
let logRoot = '';

function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function startAgent(): Promise<void> {
  const p = spawn(path.join(repo, 'bin', 'tinykube'), [
    'agent', '--server', c.url, '--token-file', c.nodeToken, '--data-dir', agentDir, '--name', node, '--log-root', logRoot, '--crashloop-backoff', '2,60', '--drain',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent = p;
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      agentLog += b.toString();
      if (/registered with/.test(agentLog.slice(-2000))) resolve();
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', (b: Buffer) => (agentLog += b.toString()));
    p.once('exit', (code) => reject(new Error(`agent exited (${code}):\n${agentLog}`)));
  });
}

async function stopAgent(signal: NodeJS.Signals): Promise<void> {
  const p = agent;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = once(p, 'exit');
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(t);
}

/** Real pods on a real node: seconds; on timeout the message carries the agent's log tail. */
const WAIT = { timeoutMs: 60_000, intervalMs: 250, detail: () => `agent log:\n${agentLog.slice(-4000)}` };

interface PodJson {
  metadata: { uid: string; name: string; deletionTimestamp?: string };
  status: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    qosClass?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      containerID?: string;
      state: { running?: object; waiting?: { reason: string; message?: string }; terminated?: { exitCode: number; reason: string } };
      lastState: { terminated?: { exitCode: number; reason: string; finishedAt?: string; startedAt?: string } };
    }[];
  };
}

async function getPod(name: string): Promise<PodJson> {
  return JSON.parse(await c.k('get', 'pod', name, '-o', 'json')) as PodJson;
}

async function apply(yaml: string): Promise<void> {
  const file = await c.writeFile(`m-${randomBytes(4).toString('hex')}.yaml`, yaml);
  await c.k('apply', '-f', file);
}

async function cleanupMachine(): Promise<void> {
  // Whatever the drain left: containerd and shims by PID, mounts, cgroups, the bridge, the dirs.
  const layout = containerdLayout(path.join(agentDir, 'containerd'));
  for (const pid of processesUsing(layout.socket)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (existsSync(layout.pidFile)) {
    const pid = Number(readFileSync(layout.pidFile, 'utf8').trim());
    try {
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const mp of mountsUnder(agentDir)) await sh('umount', ['-l', mp]);
  for (const m of cgroupMounts()) {
    const dir = path.join(m.path, 'tinykube', node);
    if (existsSync(dir)) await sh('sh', ['-c', `find ${JSON.stringify(dir)} -depth -type d -exec rmdir {} + 2>/dev/null; true`]);
    await sh('rmdir', [path.join(m.path, 'tinykube')]);
  }
  await sh('ip', ['link', 'del', bridgeName(node)]);
}

before(async () => {
  c = await startCluster();
  agentDir = path.join(c.dir, 'agent');
  logRoot = path.join(c.dir, 'pod-logs');
  await startAgent();
  await until('node Ready', async () => {
    const n = JSON.parse(await c.k('get', 'node', node, '-o', 'json')) as { status?: { conditions?: { type: string; status: string }[] } };
    return n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
  }, { ...WAIT, timeoutMs: 30_000 });
});

after(async () => {
  try {
    await stopAgent('SIGTERM');
  } finally {
    await cleanupMachine();
    await c?.stop();
    await rm(agentDir, { recursive: true, force: true });
  }
});

describe('node', () => {
  it('registers with capacity, addresses, podCIDR, nodeInfo and a lease', async () => {
    const n = JSON.parse(await c.k('get', 'node', node, '-o', 'json')) as {
      spec: { podCIDR?: string };
      status: { capacity: Record<string, string>; addresses: { type: string; address: string }[]; nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string }; conditions: { type: string }[] };
    };
    assert.match(n.spec.podCIDR ?? '', /^10\.244\.\d+\.0\/24$/);
    assert.equal(n.status.capacity.pods, '110');
    assert.ok(Number(n.status.capacity.cpu) >= 1);
    assert.match(n.status.capacity.memory, /^\d+Ki$/);
    assert.ok(n.status.addresses.some((a) => a.type === 'InternalIP'));
    assert.match(n.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    // The kubelet's four, and the pod network's (tinykube agent runs the overlay by default) once it is up.
    const conditions = await until('NetworkUnavailable False', async () => {
      const cs = (JSON.parse(await c.k('get', 'node', node, '-o', 'json')) as { status: { conditions: { type: string; status: string }[] } }).status.conditions;
      return cs.some((x) => x.type === 'NetworkUnavailable' && x.status === 'False') && cs;
    }, WAIT);
    assert.deepEqual(conditions.map((x) => x.type).sort(), ['DiskPressure', 'MemoryPressure', 'NetworkUnavailable', 'PIDPressure', 'Ready']);
    const out = await c.k('get', 'nodes');
    assert.match(out, new RegExp(`^${node}\\s+Ready\\s`, 'm'));
    const lease = await until('lease', async () => JSON.parse(await c.k('get', 'lease', '-n', 'kube-node-lease', node, '-o', 'json')) as { spec: { holderIdentity: string } }, WAIT);
    assert.equal(lease.spec.holderIdentity, node);
  });
});

describe('pods', () => {
  it('runs the linkding stand-in to 1/1 Running, with logs on disk and describe showing it all', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: linkding
  labels: {app: linkding}
spec:
  nodeName: ${node}
  containers:
  - name: linkding
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/healthy && echo serving on 9090 && exec httpd -f -p 9090 -h /www"]
    ports:
    - containerPort: 9090
    readinessProbe:
      httpGet: {path: /healthy, port: 9090}
      periodSeconds: 1
    livenessProbe:
      tcpSocket: {port: 9090}
      periodSeconds: 2
    resources:
      requests: {cpu: 50m, memory: 16Mi}
      limits: {memory: 64Mi}
`);
    await until('linkding 1/1 Running', async () => /^linkding\s+1\/1\s+Running\s+0\s/m.test(await c.k('get', 'pods')), WAIT);
    const pod = await getPod('linkding');
    assert.equal(pod.status.phase, 'Running');
    assert.match(pod.status.podIP ?? '', /^10\.244\./);
    assert.equal(pod.status.qosClass, 'Burstable');
    const cs = pod.status.containerStatuses![0];
    assert.match(cs.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    for (const t of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) {
      assert.equal(pod.status.conditions?.find((x) => x.type === t)?.status, 'True', t);
    }
    const d = await c.k('describe', 'pod', 'linkding');
    assert.match(d, new RegExp(`Node:\\s+${node}/`));
    assert.match(d, new RegExp(`IP:\\s+${pod.status.podIP!.replace(/\./g, '\\.')}`));
    assert.match(d, /Container ID:\s+containerd:\/\//);
    assert.match(d, /State:\s+Running/);
    assert.match(d, /Readiness:\s+http-get http:\/\/:9090\/healthy/);
    assert.match(d, /QoS Class:\s+Burstable/);
    assert.match(d, /Normal\s+Created\s.*kubelet\s+Created container linkding/);
    assert.match(d, /Normal\s+Started\s.*kubelet\s+Started container linkding/);
    // the pod answers on its IP from the node
    const r = await sh('wget', ['-q', '-O', '-', '-T', '5', `http://${pod.status.podIP}:9090/healthy`]);
    assert.equal(r.stdout, 'ok\n');
    // CRI log file
    const dir = path.join(logRoot, `default_linkding_${pod.metadata.uid}`, 'linkding');
    const log = readFileSync(path.join(dir, '0.log'), 'utf8');
    assert.match(log, /^\S+ stdout F serving on 9090$/m);
  });

  it('delete ends the containers within the grace period and removes the pod', async () => {
    const pod = await getPod('linkding');
    const t0 = Date.now();
    // httpd as PID 1 ignores SIGTERM: the grace period (3 s) must be what ends it.
    await c.k('delete', 'pod', 'linkding', '--grace-period=3', '--wait=true');
    const took = Date.now() - t0;
    assert.ok(took < 12_000, `delete took ${took} ms`);
    assert.ok(took >= 2_500, `delete took only ${took} ms: the grace period was not honoured`);
    // The node's cleanup follows the API deletion.
    await until('log dir removed', async () => !existsSync(path.join(logRoot, `default_linkding_${pod.metadata.uid}`)), { ...WAIT, timeoutMs: 10_000 });
    await until('pod cgroups removed', async () => cgroupMounts().every((m) => !existsSync(path.join(m.path, 'tinykube', node, 'kubepods', 'burstable', `pod${pod.metadata.uid}`))), { ...WAIT, timeoutMs: 10_000 });
  });
});

describe('pod behaviours', () => {
  it('two containers share an emptyDir, localhost and the hostname, but not their files', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  nodeName: ${node}
  volumes:
  - name: shared
    emptyDir: {}
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "hostname > /data/hostname-web; (while true; do if [ -e /tmp/sidecar-only ]; then echo yes; else echo no; fi > /data/web-sees-sidecar-file; sleep 1; done) & exec httpd -f -p 8080 -h /data"]
    volumeMounts: [{name: shared, mountPath: /data}]
  - name: sidecar
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "touch /tmp/sidecar-only; hostname > /content/hostname-sidecar; echo hello-from-sidecar > /content/index.html; while true; do wget -q -O /content/via-localhost http://127.0.0.1:8080/index.html; sleep 1; done"]
    volumeMounts: [{name: shared, mountPath: /content}]
`);
    await until('duo 2/2 Running', async () => /^duo\s+2\/2\s+Running\s+0\s/m.test(await c.k('get', 'pods')), WAIT);
    const ip = (await getPod('duo')).status.podIP!;
    const get = async (p: string) => (await sh('wget', ['-q', '-O', '-', '-T', '5', `http://${ip}:8080/${p}`])).stdout;
    assert.equal(await get('index.html'), 'hello-from-sidecar\n');
    await until('sidecar reached web on localhost', async () => (await get('via-localhost')) === 'hello-from-sidecar\n', { ...WAIT, timeoutMs: 20_000 });
    assert.equal(await get('hostname-web'), 'duo\n');
    assert.equal(await get('hostname-sidecar'), 'duo\n');
    await until('web looked for the sidecar file', async () => (await get('web-sees-sidecar-file')) !== '', { ...WAIT, timeoutMs: 10_000 });
    assert.equal(await get('web-sees-sidecar-file'), 'no\n');
  });

  it('a failing liveness probe restarts the container with Unhealthy and Killing events', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: sickly
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "mkdir -p /www; echo ok > /www/healthy; (sleep 3; rm /www/healthy) & exec httpd -f -p 8080 -h /www"]
    livenessProbe:
      httpGet: {path: /healthy, port: 8080}
      periodSeconds: 1
      failureThreshold: 2
`);
    const pod = await until('a liveness restart', async () => {
      const p = await getPod('sickly');
      return (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    }, { ...WAIT, timeoutMs: 40_000 });
    assert.equal(pod.status.containerStatuses![0].lastState.terminated?.exitCode, 137);
    await until('RESTARTS shown', async () => /^sickly\s+\d\/1\s+\S+\s+[1-9]/m.test(await c.k('get', 'pods')), WAIT);
    const d = await c.k('describe', 'pod', 'sickly');
    assert.match(d, /Warning\s+Unhealthy\s.*Liveness probe failed: HTTP probe failed with statuscode: 404/);
    assert.match(d, /Normal\s+Killing\s.*Container app failed liveness probe, will be restarted/);
    assert.match(d, /Liveness:\s+http-get http:\/\/:8080\/healthy delay=0s timeout=1s period=1s #success=1 #failure=2/);
    await c.k('delete', 'pod', 'sickly', '--wait=false');
  });

  it('a container over its 32Mi memory limit is OOMKilled with exit code 137', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  nodeName: ${node}
  containers:
  - name: hog
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"]
    resources:
      limits: {memory: 32Mi}
`);
    const pod = await until('OOMKilled in lastState', async () => {
      const p = await getPod('hog');
      const cs = p.status.containerStatuses?.[0];
      const t = cs?.lastState.terminated ?? cs?.state.terminated;
      return t?.reason === 'OOMKilled' ? p : undefined;
    }, { ...WAIT, timeoutMs: 40_000 });
    const cs = pod.status.containerStatuses![0];
    const t = cs.lastState.terminated ?? cs.state.terminated!;
    assert.equal(t.exitCode, 137);
    const d = await c.k('describe', 'pod', 'hog');
    assert.match(d, /Reason:\s+OOMKilled/);
    assert.match(d, /Exit Code:\s+137/);
    await c.k('delete', 'pod', 'hog', '--wait=false');
  });

  it('a crashing container enters CrashLoopBackOff with a growing delay', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  nodeName: ${node}
  containers:
  - name: crasher
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo crashing; exit 3"]
`);
    // The agent runs with --crashloop-backoff 2,60: restarts after 0, 2, 4, 8 s.
    const seen = new Map<number, number>();
    let backoffMessage = '';
    await until('three restarts', async () => {
      const cs = (await getPod('crasher')).status.containerStatuses?.[0];
      if (!cs) return undefined;
      if (!seen.has(cs.restartCount)) seen.set(cs.restartCount, Date.now());
      if (cs.state.waiting?.reason === 'CrashLoopBackOff') backoffMessage = cs.state.waiting.message ?? '';
      return cs.restartCount >= 3 ? true : undefined;
    }, { ...WAIT, timeoutMs: 40_000 });
    assert.ok(seen.has(2) && seen.has(3), `restarts seen: ${[...seen.keys()].join(',')}`);
    const gap23 = seen.get(3)! - seen.get(2)!;
    assert.ok(gap23 >= 3000, `third restart came ${gap23} ms after the second (backoff should be 4 s)`);
    assert.match(backoffMessage, /^back-off \d+s restarting failed container=crasher pod=crasher_default\(/);
    const pod = await getPod('crasher');
    assert.equal(pod.status.containerStatuses![0].lastState.terminated?.exitCode, 3);
    assert.equal(pod.status.phase, 'Running');
    const d = await c.k('describe', 'pod', 'crasher');
    assert.match(d, /Warning\s+BackOff\s.*Back-off restarting failed container crasher in pod crasher_default/);
    await c.k('delete', 'pod', 'crasher', '--wait=false');
  });

  it('configMap volumes and env, a memory-backed emptyDir with sizeLimit, and FailedMount until the configMap exists', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: configured
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  volumes:
  - name: cfg
    configMap: {name: web-config}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 8Mi}
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: web-config, key: greeting}}
    command: ["sh", "-c", "mkdir -p /www; cp /cfg/index.html /www/; echo $GREETING > /www/env; df -k /scratch | tail -1 > /www/df; grep ' /scratch ' /proc/mounts > /www/mounts; exec httpd -f -p 8080 -h /www"]
    volumeMounts:
    - {name: cfg, mountPath: /cfg}
    - {name: mem, mountPath: /scratch}
`);
    const waiting = await until('FailedMount', async () => {
      const d = await c.k('describe', 'pod', 'configured');
      return /Warning\s+FailedMount\s.*MountVolume\.SetUp failed for volume "cfg" : configmap "web-config" not found/.test(d) ? d : undefined;
    }, { ...WAIT, timeoutMs: 20_000 });
    assert.match(waiting, /Reason:\s+ContainerCreating/);
    assert.match(await c.k('get', 'pod', 'configured'), /configured\s+0\/1\s+ContainerCreating/);
    // (kubectl create configmap sends protobuf, which the API server does not decode for ConfigMaps yet.)
    await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {index.html: from-configmap, greeting: hi}
`);
    await until('configured Running', async () => /^configured\s+1\/1\s+Running/m.test(await c.k('get', 'pods')), { ...WAIT, timeoutMs: 30_000 });
    const ip = (await getPod('configured')).status.podIP!;
    const get = async (p: string) => (await sh('wget', ['-q', '-O', '-', '-T', '5', `http://${ip}:8080/${p}`])).stdout;
    assert.equal(await get('index.html'), 'from-configmap');
    assert.equal(await get('env'), 'hi\n');
    assert.match(await get('mounts'), /^tmpfs \/scratch tmpfs /);
    assert.equal(Number((await get('df')).trim().split(/\s+/)[1]), 8192);
    await c.k('delete', 'pod', 'configured', '--wait=true');
    await until('tmpfs unmounted', async () => mountsUnder(path.join(agentDir, 'pods')).length === 0, { ...WAIT, timeoutMs: 10_000 });
  });

  it('a subPath through a link an init container planted out of the volume is refused; links inside are mounted', async () => {
    // The init container's "/etc" is a name: followed on the host it would be the host's /etc (CVE-2017-1002101).
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: subpath-escape
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  volumes:
  - name: vol
    emptyDir: {}
  initContainers:
  - name: plant
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "ln -s /etc /vol/escape && ln -s ../../../../../../../../../../etc /vol/climb && mkdir /vol/ok && echo inside > /vol/ok/file && mkdir -p /vol/real/cfg && echo linked > /vol/real/cfg/file && ln -s real/cfg /vol/link"]
    volumeMounts: [{name: vol, mountPath: /vol}]
  containers:
  - name: good
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    volumeMounts: [{name: vol, mountPath: /ok, subPath: ok}, {name: vol, mountPath: /linked, subPath: link}]
  - name: bad
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    volumeMounts: [{name: vol, mountPath: /host-etc, subPath: escape}]
  - name: climber
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    env: [{name: WHERE, value: climb}]
    volumeMounts: [{name: vol, mountPath: /host-etc, subPathExpr: $(WHERE)}]
`);
    const pod = await until('good Running, bad and climber refused', async () => {
      const p = await getPod('subpath-escape');
      const st = new Map((p.status.containerStatuses ?? []).map((x) => [x.name, x.state]));
      return st.get('good')?.running && st.get('bad')?.waiting?.reason === 'CreateContainerConfigError' && st.get('climber')?.waiting?.reason === 'CreateContainerConfigError' ? p : undefined;
    });
    const statuses = new Map(pod.status.containerStatuses!.map((x) => [x.name, x]));
    for (const name of ['bad', 'climber']) {
      const s = statuses.get(name)!;
      assert.deepEqual(s.state.waiting, { reason: 'CreateContainerConfigError', message: `failed to prepare subPath for volumeMount "vol" of container "${name}"` });
      assert.equal(s.containerID, undefined, `${name} was never created`);
      assert.equal(s.restartCount, 0);
    }
    const d = await c.k('describe', 'pod', 'subpath-escape');
    assert.match(d, /Warning\s+Failed\s.*Error: failed to prepare subPath for volumeMount "vol" of container "bad"/);
    assert.match(d, /Warning\s+Failed\s.*Error: failed to prepare subPath for volumeMount "vol" of container "climber"/);
    assert.equal(await c.k('exec', 'subpath-escape', '-c', 'good', '--', 'cat', '/ok/file'), 'inside\n');
    assert.equal(await c.k('exec', 'subpath-escape', '-c', 'good', '--', 'cat', '/linked/file'), 'linked\n');
    // The runtime was given the agent's binds of the opened directories, not paths into the volume.
    const binds = path.join(agentDir, 'pods', pod.metadata.uid, 'volume-subpaths', 'vol');
    assert.deepEqual(mountsUnder(binds).sort(), [path.join(binds, 'good', '0'), path.join(binds, 'good', '1')]);
    await c.k('delete', 'pod', 'subpath-escape', '--wait=true');
    await until('subPath binds unmounted', async () => mountsUnder(path.join(agentDir, 'pods')).length === 0, { timeoutMs: 10_000 });
  });

  it('after kill -9 and a restart of the agent, nothing restarts and container IDs stay', async () => {
    const ids = async () => {
      const p = await getPod('duo');
      return p.status.containerStatuses!.map((s) => `${s.name}=${s.containerID}/${s.restartCount}`).sort().join(' ');
    };
    const before = await ids();
    await stopAgent('SIGKILL');
    await startAgent();
    // The restarted agent is live once it runs a new pod.
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: after-restart
spec:
  nodeName: ${node}
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
`);
    await until('after-restart Running', async () => /^after-restart\s+1\/1\s+Running/m.test(await c.k('get', 'pods')), WAIT);
    assert.equal(await ids(), before);
    assert.match(await c.k('get', 'pod', 'duo'), /^duo\s+2\/2\s+Running\s+0\s/m);
  });
});

describe('server certificate rotation', () => {
  it('`tinykube certs rotate` on the running server: the agent keeps its node Ready, runs new pods, serves logs and exec', async () => {
    await apply(echoPod('before-rotation', 'started before the rotation'));
    await until('before-rotation Running', async () => /^before-rotation\s+1\/1\s+Running/m.test(await c.k('get', 'pods')), WAIT);
    const pki = path.join(c.dataDir, 'pki');
    const oldServing = new X509Certificate(readFileSync(path.join(pki, 'server.crt'))).serialNumber;
    assert.equal(await servingSerial(), oldServing);
    const rotatedAt = Date.now();
    // Serving, admin and the API server's client certificate toward agents, renewed on disk; the
    // server installs them without a restart (it watches pki/).
    const r = await sh(path.join(repo, 'bin', 'tinykube'), ['certs', 'rotate', '--data-dir', c.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const newServing = new X509Certificate(readFileSync(path.join(pki, 'server.crt'))).serialNumber;
    assert.notEqual(newServing, oldServing);
    await until('the server serves the renewed certificate', async () => (await servingSerial()) === newServing, WAIT);

    // The agent pinned the CA, not the serving certificate: its Lease is renewed after the rotation
    // and its node stays Ready.
    await until('a lease renewal after the rotation', async () => {
      const lease = JSON.parse(await c.k('get', 'lease', '-n', 'kube-node-lease', node, '-o', 'json')) as { spec: { renewTime?: string } };
      return Date.parse(lease.spec.renewTime ?? '') > rotatedAt;
    }, { ...WAIT, timeoutMs: 30_000 });
    assert.match(await c.k('get', 'nodes'), new RegExp(`^${node}\\s+Ready\\s`, 'm'));
    // The API server reaches the agent with its renewed client certificate (logs, exec), and the
    // agent still sees new pods and reports their status.
    assert.equal(await c.k('logs', 'before-rotation'), 'started before the rotation\n');
    assert.equal(await c.k('exec', 'before-rotation', '--', 'echo', 'exec after the rotation'), 'exec after the rotation\n');
    await apply(echoPod('after-rotation', 'started after the rotation'));
    await until('after-rotation Running', async () => /^after-rotation\s+1\/1\s+Running/m.test(await c.k('get', 'pods')), WAIT);
    assert.equal(await c.k('logs', 'after-rotation'), 'started after the rotation\n');
    await c.k('delete', 'pod', 'before-rotation', 'after-rotation', '--grace-period=1', '--wait=true');
  });
});

/** A busybox pod on the agent's node that prints `line` and sleeps. */
function echoPod(name: string, line: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: ${node}
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo ${line}; exec sleep 3600"]
`;
}

/** The serial of the certificate a new TLS handshake with the API server gets, verified against the cluster CA. */
function servingSerial(): Promise<string> {
  const u = new URL(c.url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), ca: readFileSync(path.join(c.dataDir, 'pki', 'ca.crt')), servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.once('error', reject);
  });
}
