// The runtime layer against a real, private containerd (root needed): the shared runtime suite on
// CriRuntime, the launcher (two instances side by side, adoption, clean stop), and one two-container
// pod on a CNI bridge, end to end, with the figures the design cares about printed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Containerd } from '../../src/kubelet/containerd/launcher.ts';
import { mountsUnder, processesUsing, startTestContainerd, type TestContainerd } from '../../src/kubelet/containerd/testing.ts';
import { CriRuntime } from '../../src/kubelet/cri/cri-runtime.ts';
import type { ContainerConfig, ContainerStatus, PodSandboxConfig } from '../../src/kubelet/runtime/runtime.ts';
import { runtimeSuite } from '../../src/kubelet/runtime/runtime-suite.ts';
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from '../../src/kubelet/images/builtin.ts';
import { ensureBuiltinImages } from '../../src/kubelet/images/import.ts';
import { tmpdir } from 'node:os';

const ms = (t0: number) => `${(performance.now() - t0).toFixed(1)} ms`;

runtimeSuite('CriRuntime on containerd passes the runtime suite', async () => {
  const afters: (() => Promise<void> | void)[] = [];
  const tc = await startTestContainerd({ after: (fn) => afters.push(fn) });
  const logs = join(tc.dataDir, 'pods');
  return {
    runtime: tc.runtime,
    image: 'busybox',
    absentImage: 'tinykube.local/absent:1',
    // CRI 1.6 has no event stream: state changes are only seen by asking again.
    tick: () => new Promise((r) => setTimeout(r, 20)),
    logDirectory: (pod) => {
      const d = join(logs, pod);
      mkdirSync(d, { recursive: true });
      return d;
    },
    podNetwork: true,
    close: async () => {
      for (const fn of afters) await fn();
    },
  };
});

describe('containerd launcher', () => {
  it('runs instances side by side, adopts a running one, and stops by PID', async (t) => {
    const dirs = [mkdtempSync(join(tmpdir(), 'tk-ctd-')), mkdtempSync(join(tmpdir(), 'tk-ctd-'))];
    const started: Containerd[] = [];
    t.after(async () => {
      for (const c of started) await c.stop(2000);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const t0 = performance.now();
    const [a, b] = await Promise.all(dirs.map((dataDir) => Containerd.start({ dataDir })));
    started.push(a, b);
    console.log(`containerd start: ${a.startMs.toFixed(1)} ms and ${b.startMs.toFixed(1)} ms (two at once, ${ms(t0)} total)`);
    assert.notEqual(a.pid, b.pid);
    assert.notEqual(a.socket, b.socket);
    for (const c of [a, b]) assert.equal((await c.cri.version()).runtimeName, 'containerd');

    const again = await Containerd.start({ dataDir: dirs[0] });
    started.push(again);
    assert.equal(again.adopted, true);
    assert.equal(again.pid, a.pid);
    console.log(`containerd adopt: ${again.startMs.toFixed(1)} ms`);

    const stop = await b.stop();
    console.log(`containerd stop: ${stop.how} in ${stop.ms.toFixed(1)} ms`);
    assert.equal(stop.how, 'sigterm');
    assert.equal(b.running, false);
    assert.equal(existsSync(b.layout.pidFile), false);
    assert.equal((await again.stop()).how, 'sigterm');
    assert.equal(a.running, false);
    assert.equal((await a.stop()).how, 'gone');
  });
  it('fails start-up with coded errors', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tk-ctd-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    await assert.rejects(Containerd.start({ dataDir, binary: '/nonexistent/containerd' }), { code: 'ERR_CONTAINERD_NOT_INSTALLED' });
    // A "containerd" that exits at once: the readiness wait notices instead of waiting out its timeout.
    const t0 = performance.now();
    await assert.rejects(Containerd.start({ dataDir, binary: 'false', startTimeoutMs: 10_000 }), { code: 'ERR_CONTAINERD_START_FAILED' });
    assert.ok(performance.now() - t0 < 5000);
  });
});

describe('a two-container pod on a private containerd', () => {
  it('shares localhost, answers on its pod IP, runs exec and writes CRI logs', async (t) => {
    const t0 = performance.now();
    const tc: TestContainerd = await startTestContainerd(t);
    console.log(`harness ready in ${ms(t0)}: containerd start ${tc.containerd.startMs.toFixed(1)} ms, image build+import ${tc.images.ms.toFixed(1)} ms (pause ${tc.images.pause.ms.toFixed(1)} ms, busybox ${tc.images.busybox.ms.toFixed(1)} ms)`);
    const skip = await ensureBuiltinImages(tc.containerd.socket, join(tmpdir(), 'tinykube-test-images'), { cri: tc.containerd.cri });
    console.log(`image import when already present: ${skip.ms.toFixed(1)} ms`);
    assert.equal(skip.pause.imported, false);
    assert.equal(skip.busybox.imported, false);
    const rt: CriRuntime = tc.runtime;
    assert.ok(await rt.imageStatus(PAUSE_IMAGE));
    assert.equal((await rt.imageStatus('busybox'))?.id, (await rt.imageStatus(BUSYBOX_IMAGE))?.id);

    const logDirectory = join(tc.dataDir, 'pods', 'default_web_uid-web');
    mkdirSync(logDirectory, { recursive: true });
    const sc: PodSandboxConfig = {
      metadata: { name: 'web', uid: 'uid-web', namespace: 'default', attempt: 0 },
      hostname: 'web',
      logDirectory,
      labels: { 'io.kubernetes.pod.name': 'web' },
      dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
    };
    let t1 = performance.now();
    const sid = await rt.runPodSandbox(sc);
    console.log(`RunPodSandbox: ${ms(t1)}`);
    const sandbox = await rt.podSandboxStatus(sid);
    assert.equal(sandbox.state, 'ready');
    const ip = sandbox.ip;
    assert.ok(ip.startsWith(tc.network.subnet.split('.').slice(0, 3).join('.') + '.'), `${ip} in ${tc.network.subnet}`);

    const container = (name: string, script: string): ContainerConfig => ({
      metadata: { name, attempt: 0 },
      image: { image: 'busybox' },
      command: ['sh', '-c', script],
      logPath: `${name}/0.log`,
      labels: { 'io.kubernetes.container.name': name },
    });
    t1 = performance.now();
    const server = await rt.createContainer(sid, container('server', 'mkdir -p /var/www && echo hello-from-pod > /var/www/index.html && echo serving >&2 && exec httpd -f -p 9090 -h /var/www'), sc);
    await rt.startContainer(server);
    console.log(`create+start container: ${ms(t1)}`);
    t1 = performance.now();
    // The client retries: its container may start before httpd listens.
    const client = await rt.createContainer(sid, container('client', 'for i in $(seq 1 100); do wget -qO- http://localhost:9090/ && exit 0; sleep 0.05; done; exit 1'), sc);
    await rt.startContainer(client);
    console.log(`create+start second container: ${ms(t1)}`);

    const waitExit = async (id: string): Promise<ContainerStatus> => {
      for (;;) {
        const s = await rt.containerStatus(id);
        if (s.state === 'exited') return s;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const done = await waitExit(client);
    assert.equal(done.exitCode, 0, `client exited ${done.exitCode}`);
    assert.equal(done.reason, 'Completed');

    // From the host, by pod IP, through the bridge.
    const body = await new Promise<string>((resolve, reject) => {
      get({ host: ip, port: 9090, path: '/', timeout: 5000 }, (res) => {
        let s = '';
        res.setEncoding('utf8').on('data', (d: string) => (s += d)).on('end', () => resolve(s));
      }).on('error', reject);
    });
    assert.equal(body, 'hello-from-pod\n');

    t1 = performance.now();
    const hn = await rt.execSync(server, ['hostname'], 10);
    console.log(`ExecSync hostname: ${ms(t1)}`);
    assert.equal(hn.stdout.toString(), 'web\n');
    const resolv = await rt.execSync(server, ['cat', '/etc/resolv.conf'], 10);
    assert.match(resolv.stdout.toString(), /nameserver 10\.96\.0\.10/);
    // Separate PID namespaces per container unless shareProcessNamespace (containerd's default is POD).
    const ps = (await rt.execSync(server, ['ps', '-o', 'comm'], 10)).stdout.toString();
    assert.doesNotMatch(ps, /pause|catatonit/);

    // The streaming layer proxies these single-use URLs of containerd's loopback streaming server.
    assert.match(await rt.exec({ containerId: server, cmd: ['sh'], stdin: true, stdout: true, stderr: false, tty: true }), /^http:\/\/127\.0\.0\.1:\d+\/exec\/[\w-]+$/);
    assert.match(await rt.attach({ containerId: server, stdin: false, stdout: true, stderr: true, tty: false }), /^http:\/\/127\.0\.0\.1:\d+\/attach\/[\w-]+$/);
    assert.match(await rt.portForward(sid, [9090]), /^http:\/\/127\.0\.0\.1:\d+\/portforward\/[\w-]+$/);

    // CRI log format: <RFC3339Nano> <stream> <F|P> <text>
    const line = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([FP]) (.*)$/;
    const clientLog = readFileSync(join(logDirectory, 'client/0.log'), 'utf8').trimEnd().split('\n');
    const m = line.exec(clientLog[clientLog.length - 1]);
    assert.ok(m, `bad CRI log line: ${clientLog[clientLog.length - 1]}`);
    assert.deepEqual([m[2], m[3], m[4]], ['stdout', 'F', 'hello-from-pod']);
    assert.ok(!Number.isNaN(Date.parse(m[1])));
    const serverLog = readFileSync(join(logDirectory, 'server/0.log'), 'utf8').trimEnd().split('\n');
    assert.ok(serverLog.some((l) => / stderr F serving$/.test(l) && line.test(l)), serverLog.join('\n'));
    assert.equal((await rt.containerStatus(server)).logPath, join(logDirectory, 'server/0.log'));

    // Tear down in the kubelet's order, then everything the harness made.
    t1 = performance.now();
    // httpd is PID 1 and ignores SIGTERM: any grace period would be waited out in full.
    await rt.stopContainer(server, 0);
    await rt.removeContainer(server);
    await rt.removeContainer(client);
    await rt.stopPodSandbox(sid);
    await rt.removePodSandbox(sid);
    console.log(`teardown (stop+remove 2 containers, stop+remove sandbox): ${ms(t1)}`);
    assert.deepEqual(await rt.listPodSandbox(), []);
    const socket = tc.containerd.socket;
    const pid = tc.containerd.pid;
    await tc.cleanup();
    assert.equal(tc.containerd.running, false, `containerd ${pid} still running`);
    assert.deepEqual(processesUsing(socket), []);
    assert.deepEqual(mountsUnder(tc.dataDir), []);
    assert.equal(existsSync(tc.dataDir), false);
    assert.throws(() => execFileSync('ip', ['link', 'show', tc.network.bridge], { stdio: 'pipe' }));
  });
});
