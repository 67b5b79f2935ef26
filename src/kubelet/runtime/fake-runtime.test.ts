import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { CriError } from './errors.ts';
import { FakeRuntime } from './fake-runtime.ts';
import type { PodSandboxConfig } from './runtime.ts';
import { runtimeSuite } from './runtime-suite.ts';

runtimeSuite('FakeRuntime passes the runtime suite', async () => {
  const clock = new FakeClock();
  const runtime = new FakeRuntime({ clock, images: ['busybox'] });
  return {
    runtime,
    image: 'busybox',
    absentImage: 'tinykube.local/absent:1',
    tick: async () => clock.advance(100),
    logDirectory: (pod) => `/var/log/pods/default_${pod}_uid`,
    podNetwork: true,
    close: async () => undefined,
  };
});

const sandbox = (name = 'p'): PodSandboxConfig => ({ metadata: { name, uid: `u-${name}`, namespace: 'ns', attempt: 0 }, hostname: name, logDirectory: `/logs/${name}` });

async function started(rt: FakeRuntime, argv: string[], name = 'c') {
  const sc = sandbox(`pod-${name}`);
  const sid = await rt.runPodSandbox(sc);
  const id = await rt.createContainer(sid, { metadata: { name, attempt: 0 }, image: { image: 'busybox' }, command: argv }, sc);
  await rt.startContainer(id);
  return { sid, id, sc };
}

describe('FakeRuntime scripting', () => {
  it('exits containers on the injected clock', async () => {
    const clock = new FakeClock();
    const rt = new FakeRuntime({ clock, images: ['busybox'] });
    const { id } = await started(rt, ['sleep', '5']);
    clock.advance(4999);
    assert.equal((await rt.containerStatus(id)).state, 'running');
    clock.advance(1);
    const s = await rt.containerStatus(id);
    assert.deepEqual([s.state, s.exitCode, s.reason, s.finishedAt - s.startedAt], ['exited', 0, 'Completed', 5000]);
  });

  it('runs scripted programs, latest script first, and crashes on demand', async () => {
    const clock = new FakeClock();
    const rt = new FakeRuntime({ clock, images: ['busybox'] })
      .program((c) => (c.config.metadata.name === 'oom' ? { exitAfterMs: 200, exitCode: 137, reason: 'OOMKilled' } : undefined))
      .program((c) => (c.argv[0] === '/app' ? { startError: new CriError('ERR_CRI_UNKNOWN', 'StartContainer', 'exec: "/app": stat /app: no such file or directory') } : undefined));
    const oom = await started(rt, ['anything'], 'oom');
    clock.advance(200);
    assert.deepEqual([(await rt.containerStatus(oom.id)).exitCode, (await rt.containerStatus(oom.id)).reason], [137, 'OOMKilled']);

    const sc = sandbox('bad');
    const sid = await rt.runPodSandbox(sc);
    const bad = await rt.createContainer(sid, { metadata: { name: 'bad', attempt: 0 }, image: { image: 'busybox' }, command: ['/app'] }, sc);
    await assert.rejects(rt.startContainer(bad), /no such file/);
    assert.equal((await rt.containerStatus(bad)).reason, 'StartError');

    const server = await started(rt, ['httpd', '-f'], 'srv');
    rt.exitContainer(server.id, 2);
    assert.deepEqual([(await rt.containerStatus(server.id)).state, (await rt.containerStatus(server.id)).exitCode], ['exited', 2]);
  });

  it('answers exec scripts before the built-in commands, and can time out', async () => {
    const rt = new FakeRuntime({ clock: new FakeClock(), images: ['busybox'] }).execScript((c) => {
      if (c.cmd[0] === 'cat' && c.cmd[1] === '/tmp/healthy') return { stdout: Buffer.from('ok'), stderr: Buffer.alloc(0), exitCode: 0 };
      if (c.cmd[0] === 'slow') return 'timeout';
      return undefined;
    });
    const { id } = await started(rt, ['sleep', '3600']);
    assert.equal((await rt.execSync(id, ['cat', '/tmp/healthy'], 1)).stdout.toString(), 'ok');
    await assert.rejects(rt.execSync(id, ['slow'], 1), (e: unknown) => e instanceof CriError && e.code === 'ERR_CRI_DEADLINE_EXCEEDED');
    assert.equal((await rt.execSync(id, ['echo', 'a', 'b'], 1)).stdout.toString(), 'a b\n');
  });

  it('fails the next call of a method when told to, once', async () => {
    const rt = new FakeRuntime({ clock: new FakeClock(), images: ['busybox'] });
    rt.failNext('runPodSandbox', new CriError('ERR_CRI_UNKNOWN', 'RunPodSandbox', 'failed to setup network'));
    await assert.rejects(rt.runPodSandbox(sandbox()), /failed to setup network/);
    assert.ok(await rt.runPodSandbox(sandbox()));
    assert.deepEqual(rt.calls.map((c) => c.method), ['runPodSandbox', 'runPodSandbox']);
  });

  it('pulls from its registry, checking credentials', async () => {
    const rt = new FakeRuntime({ registry: { 'localhost:5000/app:1': { credentials: { username: 'u', password: 'p' } }, nginx: {} } });
    const ref = await rt.pullImage('nginx');
    assert.equal((await rt.imageStatus('docker.io/library/nginx:latest'))?.id, ref);
    await assert.rejects(rt.pullImage('localhost:5000/app:1'), /401 Unauthorized/);
    await assert.rejects(rt.pullImage('localhost:5000/app:1', { username: 'u', password: 'x' }), /401/);
    await rt.pullImage('localhost:5000/app:1', { auth: Buffer.from('u:p').toString('base64') });
    assert.ok(await rt.imageStatus('localhost:5000/app:1'));
    await assert.rejects(rt.pullImage('missing:1'), (e: unknown) => e instanceof CriError && /not found/.test(e.message));
    await rt.removeImage('nginx');
    assert.equal(await rt.imageStatus('nginx'), undefined);
  });

  it('hands out distinct pod IPs and reuses released ones', async () => {
    const rt = new FakeRuntime({ podCidr: '10.1.2.0/30' }); // room for exactly one pod (.2)
    const a = await rt.runPodSandbox(sandbox('a'));
    assert.equal((await rt.podSandboxStatus(a)).ip, '10.1.2.2');
    await assert.rejects(rt.runPodSandbox(sandbox('b')), /no IP addresses available/);
    await rt.stopPodSandbox(a);
    assert.equal((await rt.podSandboxStatus(await rt.runPodSandbox(sandbox('c')))).ip, '10.1.2.2');
  });

  it('refuses sandboxes while the network is not ready, except host-network ones', async () => {
    const rt = new FakeRuntime({ networkReady: false });
    await assert.rejects(rt.runPodSandbox(sandbox('a')), /cni plugin not initialized/);
    const host = await rt.runPodSandbox({ ...sandbox('h'), linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } });
    assert.equal((await rt.podSandboxStatus(host)).ip, '');
  });
});
