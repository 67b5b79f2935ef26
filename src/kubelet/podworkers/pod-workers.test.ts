// The pod workers over FakeRuntime and a FakeClock: what is sent to CRI, the status computed, the
// events written, restarts and backoff, init containers, probes, adoption and termination.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerConfig, PodSandboxConfig } from '../runtime/runtime.ts';
import { FakeRuntime } from '../runtime/fake-runtime.ts';
import { FakeClock } from '../../util/clock.ts';
import { CriError } from '../runtime/errors.ts';
import { LABEL_POD_UID } from './labels.ts';
import { makePod, makeStack, type Stack } from './testing.ts';
import type { Pod } from '../../api/types.ts';

/** A FakeRuntime whose containerStatus can be held (once, for a call `match` picks) until released. */
class HoldingRuntime extends FakeRuntime {
  #hold: { match: (id: string) => boolean; enter: () => void; gate: Promise<void> } | undefined;
  holdContainerStatus(match: (id: string) => boolean): { entered: Promise<void>; release: () => void } {
    let enter!: () => void;
    let release!: () => void;
    const entered = new Promise<void>((r) => (enter = r));
    const gate = new Promise<void>((r) => (release = r));
    this.#hold = { match, enter, gate };
    return { entered, release };
  }
  override async containerStatus(id: string): ReturnType<FakeRuntime['containerStatus']> {
    const h = this.#hold;
    if (h?.match(id)) {
      this.#hold = undefined;
      h.enter();
      await h.gate;
    }
    return super.containerStatus(id);
  }
}

function created(s: Stack): ContainerConfig[] {
  return s.runtime.calls.filter((c) => c.method === 'createContainer').map((c) => c.args[1] as ContainerConfig);
}

async function running(s: Stack, pod: Pod, n = 1): Promise<void> {
  await s.until(() => (s.statusOf(pod)?.containerStatuses ?? []).filter((c) => c.state?.running).length >= n, `${n} running in ${pod.metadata?.name}`);
}

describe('pod workers', () => {

  it('starts an ephemeral container added to a running pod once, in its target\'s PID namespace, and never restarts it', async () => {
    const s = makeStack();
    try {
      const pod = makePod('web').container({ name: 'app' }).build();
      s.workers.update(pod);
      await running(s, pod);
      const appId = s.statusOf(pod)!.containerStatuses![0].containerID!.replace('containerd://', '');
      const debugged: Pod = { ...pod, metadata: { ...pod.metadata, resourceVersion: '2' }, spec: { ...pod.spec!, ephemeralContainers: [{ name: 'dbg', image: pod.spec!.containers[0].image, imagePullPolicy: 'IfNotPresent', command: ['sh'], stdin: true, tty: true, targetContainerName: 'app', terminationMessagePolicy: 'File' }] } };
      s.workers.update(debugged);
      await s.until(() => Boolean(s.statusOf(pod)?.ephemeralContainerStatuses?.[0]?.state?.running), 'dbg running');
      const cfg = created(s).find((c) => c.metadata.name === 'dbg')!;
      assert.deepEqual(cfg.linux?.securityContext?.namespaceOptions, { network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: appId });
      assert.equal(cfg.stdin, true);
      assert.equal(cfg.tty, true);
      assert.equal(cfg.labels?.['io.tinykube.container.kind'], 'ephemeral');
      const es = s.statusOf(pod)!.ephemeralContainerStatuses![0];
      assert.equal(es.ready, false);
      assert.equal('started' in es, false);
      assert.ok(s.recorder.events.some((e) => e.reason === 'Started' && e.obj.fieldPath === 'spec.ephemeralContainers{dbg}'));
      // It exits: reported terminated, and never started again.
      s.runtime.exitContainer(es.containerID!.replace('containerd://', ''), 0);
      await s.advance(5000);
      await s.until(() => s.statusOf(pod)?.ephemeralContainerStatuses?.[0]?.state?.terminated?.exitCode === 0, 'dbg terminated');
      await s.advance(30_000);
      assert.equal(created(s).filter((c) => c.metadata.name === 'dbg').length, 1);
      assert.equal(s.statusOf(pod)!.phase, 'Running');
      assert.ok(s.statusOf(pod)!.containerStatuses![0].state?.running);
    } finally {
      await s.close();
    }
  });
  it('starts a pod: sandbox, container config, status and events', async () => {
    const s = makeStack();
    try {
      const pod = makePod('web')
        .container({
          name: 'web',
          command: ['sh', '-c', 'echo $(GREETING) && httpd -f'],
          env: [
            { name: 'GREETING', value: 'hello' },
            { name: 'MSG', value: '$(GREETING) world $$(X)' },
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
            { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          ],
          resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
        })
        .build();
      s.workers.update(pod);
      await running(s, pod);
      const sb = s.runtime.calls.find((c) => c.method === 'runPodSandbox')!.args[0] as PodSandboxConfig;
      assert.equal(sb.hostname, 'web');
      assert.equal(sb.linux?.securityContext?.namespaceOptions?.pid, 'CONTAINER');
      assert.equal(sb.linux?.cgroupParent, `/tinykube/node-1/kubepods/burstable/pod${pod.metadata!.uid}`);
      assert.equal(sb.logDirectory, join(s.dir, 'logs', `default_web_${pod.metadata!.uid}`));
      const [cfg] = created(s);
      assert.deepEqual(cfg.command, ['sh', '-c', 'echo hello && httpd -f']);
      const env = Object.fromEntries((cfg.envs ?? []).map((e) => [e.key, e.value]));
      assert.deepEqual(env, { GREETING: 'hello', MSG: 'hello world $(X)', POD: 'web', NODE_IP: '192.0.2.10', MEM: '128' });
      assert.equal(cfg.logPath, 'web/0.log');
      assert.deepEqual(
        { shares: cfg.linux?.resources?.cpuShares, quota: cfg.linux?.resources?.cpuQuota, period: cfg.linux?.resources?.cpuPeriod, mem: cfg.linux?.resources?.memoryLimitInBytes },
        { shares: 256, quota: 50_000, period: 100_000, mem: 128 * 2 ** 20 },
      );
      assert.ok(cfg.mounts?.some((m) => m.containerPath === '/etc/hosts'));
      assert.ok(cfg.mounts?.some((m) => m.containerPath === '/dev/termination-log'));
      const hosts = readFileSync(join(s.dir, 'pods', pod.metadata!.uid!, 'etc-hosts'), 'utf8');
      assert.match(hosts, /^10\.88\.0\.\d+\tweb$/m);
      const st = s.statusOf(pod)!;
      assert.equal(st.phase, 'Running');
      assert.equal(st.qosClass, 'Burstable');
      assert.match(st.podIP ?? '', /^10\.88\.0\./);
      assert.equal(st.hostIP, '192.0.2.10');
      assert.deepEqual(st.conditions?.map((c) => `${c.type}=${c.status}`), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
      const cs = st.containerStatuses![0];
      assert.match(cs.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
      assert.equal(cs.ready, true);
      assert.equal(cs.started, true);
      assert.equal(cs.restartCount, 0);
      assert.deepEqual(s.recorder.reasons(), ['Pulled', 'Created', 'Started']);
      assert.equal(s.recorder.events[1].obj.fieldPath, 'spec.containers{web}');
      assert.equal(s.recorder.events[1].obj.uid, pod.metadata!.uid);
      // A resync with nothing new writes nothing.
      const writes = s.writer.writes.length;
      await s.advance(2000);
      assert.equal(s.writer.writes.length, writes);
    } finally {
      await s.close();
    }
  });

  it('shareProcessNamespace gives the sandbox a POD pid namespace', async () => {
    const s = makeStack();
    try {
      const pod = makePod('shared').container({ name: 'a' }).with((p) => (p.spec!.shareProcessNamespace = true)).build();
      s.workers.update(pod);
      await running(s, pod);
      const sb = s.runtime.calls.find((c) => c.method === 'runPodSandbox')!.args[0] as PodSandboxConfig;
      assert.equal(sb.linux?.securityContext?.namespaceOptions?.pid, 'POD');
    } finally {
      await s.close();
    }
  });

  it('restarts a crashing container with CrashLoopBackOff: 0, 10 s, 20 s, 40 s', async () => {
    const s = makeStack();
    try {
      const pod = makePod('crash').container({ name: 'c', command: ['sh', '-c', 'exit 2'] }).build();
      s.workers.update(pod);
      await s.until(() => created(s).length === 1, 'first start');
      await s.advance(1000);
      assert.equal(created(s).length, 2, 'the first restart is immediate');
      const st = s.statusOf(pod)!;
      const cs = st.containerStatuses![0];
      assert.equal(cs.state?.waiting?.reason, 'CrashLoopBackOff');
      assert.match(cs.state?.waiting?.message ?? '', /^back-off 10s restarting failed container=c pod=crash_default\(uid-crash-\d+\)$/);
      assert.equal(cs.lastState?.terminated?.exitCode, 2);
      assert.equal(cs.lastState?.terminated?.reason, 'Error');
      assert.equal(cs.restartCount, 1);
      assert.equal(st.phase, 'Running');
      // When each further restart happens, in fake time.
      const at: number[] = [];
      let n = created(s).length;
      const t0 = s.clock.now();
      while (at.length < 4) {
        await s.advance(500);
        if (created(s).length !== n) {
          n = created(s).length;
          at.push(s.clock.now() - t0);
        }
      }
      const gaps = at.map((t, i) => (i === 0 ? t : t - at[i - 1]));
      for (const [i, want] of [10_000, 20_000, 40_000, 80_000].entries()) {
        assert.ok(Math.abs(gaps[i] - want) <= 1000, `gap ${i} was ${gaps[i]} ms, want ~${want}`);
      }
      assert.equal(s.statusOf(pod)!.containerStatuses![0].restartCount, 5);
      assert.ok(s.recorder.reasons().includes('BackOff'));
    } finally {
      await s.close();
    }
  });

  it('a CrashLoopBackOff restart comes when the backoff ends, however far the clock moved while the sync went on awaiting the runtime', async () => {
    const clock = new FakeClock();
    const runtime = new HoldingRuntime({ clock, images: ['busybox'] });
    const s = makeStack({ runtime, clock });
    try {
      const pod = makePod('crashy').container({ name: 'c', command: ['sh', '-c', 'exit 2'] }).container({ name: 'b' }).build();
      const createdC = () => created(s).filter((c) => c.metadata.name === 'c').length;
      s.workers.update(pod);
      await s.until(() => createdC() === 1, 'first start');
      await s.advance(1000);
      await s.until(() => s.statusOf(pod)?.containerStatuses?.find((c) => c.name === 'c')?.state?.waiting?.reason === 'CrashLoopBackOff', 'c in CrashLoopBackOff');
      assert.equal(createdC(), 2, 'the first restart is immediate; the next waits 10 s');
      const b = s.statusOf(pod)!.containerStatuses!.find((c) => c.name === 'b')!.containerID!.replace('containerd://', '');
      // The next sync decides the backoff (a BackOff event), then reads b's status: hold that read.
      const backOffs = () => s.recorder.reasons().filter((r) => r === 'BackOff').length;
      const seen = backOffs();
      const held = runtime.holdContainerStatus((id) => id === b && backOffs() > seen);
      s.workers.kick(pod.metadata!.uid!);
      await held.entered;
      const decidedAt = clock.now();
      clock.advance(5000);
      held.release();
      await s.until(() => !s.workers.busy(), 'the held sync finished');
      // The backoff ends within 10 s of the decision (the crash was before it): the restart is due by then,
      // not 5 s later as a delay counted from after the held read would make it.
      clock.advance(decidedAt + 10_000 - clock.now());
      await s.until(() => createdC() === 3, 'c restarted when its backoff ended');
    } finally {
      await s.close();
    }
  });

  it('maps phases: OnFailure exit 0 → Succeeded, Never exit 1 → Failed, OnFailure exit 1 → restarts', async () => {
    const cases: { policy: 'OnFailure' | 'Never'; code: number; phase: string; restarts: boolean }[] = [
      { policy: 'OnFailure', code: 0, phase: 'Succeeded', restarts: false },
      { policy: 'Never', code: 1, phase: 'Failed', restarts: false },
      { policy: 'OnFailure', code: 1, phase: 'Running', restarts: true },
    ];
    for (const c of cases) {
      const s = makeStack();
      try {
        const pod = makePod(`p${c.code}`).restartPolicy(c.policy).container({ name: 'c', command: ['sh', '-c', `exit ${c.code}`] }).build();
        s.workers.update(pod);
        await s.until(() => created(s).length === 1, 'started');
        await s.advance(1500);
        const st = s.statusOf(pod)!;
        assert.equal(st.phase, c.phase, JSON.stringify(c));
        assert.equal(created(s).length > 1, c.restarts, JSON.stringify(c));
        if (!c.restarts) {
          assert.equal(st.containerStatuses![0].state?.terminated?.exitCode, c.code);
          assert.equal(st.containerStatuses![0].state?.terminated?.reason, c.code === 0 ? 'Completed' : 'Error');
          assert.equal(st.conditions?.find((x) => x.type === 'Ready')?.reason, 'PodCompleted');
          assert.ok(s.runtime.calls.some((x) => x.method === 'stopPodSandbox'), 'terminal pod sandbox stopped');
        }
      } finally {
        await s.close();
      }
    }
  });

  it('runs init containers in order before the app containers', async () => {
    const s = makeStack();
    try {
      const pod = makePod('inits').init({ name: 'one', command: ['sleep', '2'] }).init({ name: 'two', command: ['true'] }).container({ name: 'app' }).build();
      s.workers.update(pod);
      await s.until(() => created(s).length === 1, 'first init');
      await s.status.idle();
      assert.equal(s.statusOf(pod)?.containerStatuses?.[0].state?.waiting?.reason, 'PodInitializing');
      assert.equal(s.statusOf(pod)?.conditions?.find((c) => c.type === 'Initialized')?.message, 'containers with incomplete status: [one two]');
      assert.equal(s.statusOf(pod)?.phase, 'Pending');
      await s.advance(3000);
      await running(s, pod);
      assert.deepEqual(created(s).map((c) => c.metadata.name), ['one', 'two', 'app']);
      const st = s.statusOf(pod)!;
      assert.deepEqual(st.initContainerStatuses?.map((c) => c.state?.terminated?.reason), ['Completed', 'Completed']);
      assert.equal(st.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
    } finally {
      await s.close();
    }
  });

  it('a failed init container fails a Never pod and is retried for others', async () => {
    const s = makeStack();
    try {
      const never = makePod('initfail').restartPolicy('Never').init({ name: 'bad', command: ['false'] }).container({ name: 'app' }).build();
      s.workers.update(never);
      await s.until(() => created(s).length === 1, 'init started');
      await s.advance(1000);
      assert.equal(s.statusOf(never)?.phase, 'Failed');
      assert.deepEqual(created(s).map((c) => c.metadata.name), ['bad']);
    } finally {
      await s.close();
    }
  });

  it('OOMKilled from the runtime shows as lastState with exit code 137', async () => {
    const clock = new FakeClock();
    const s = makeStack({ runtime: new FakeRuntime({ clock, images: ['busybox'] }), clock });
    try {
      const pod = makePod('hog').container({ name: 'hog', command: ['hog'] }).build();
      s.runtime.program((ctx) => (ctx.argv[0] === 'hog' && ctx.config.metadata.attempt === 0 ? { exitAfterMs: 0, exitCode: 137, reason: 'OOMKilled' } : undefined));
      s.workers.update(pod);
      await s.until(() => created(s).length === 1, 'started');
      await s.advance(1000);
      assert.equal(s.statusOf(pod)!.containerStatuses![0].lastState!.terminated!.exitCode, 137);
    } finally {
      await s.close();
    }
  });

  it('a failing liveness probe kills and restarts the container with Unhealthy and Killing events', async () => {
    const s = makeStack();
    try {
      let healthy = true;
            // Only the first instance gets sick.
      s.runtime.execScript((ctx) => {
        if (ctx.cmd[0] !== 'check') return undefined;
        const ok = healthy || ctx.config.metadata.attempt > 0;
        return { stdout: Buffer.from(''), stderr: Buffer.from(ok ? '' : 'sick\n'), exitCode: ok ? 0 : 1 };
      });
      const pod = makePod('live').container({ name: 'app', livenessProbe: { exec: { command: ['check'] }, periodSeconds: 5, failureThreshold: 2 } }).build();
      s.workers.update(pod);
      await running(s, pod);
      await s.advance(10_000);
      assert.equal(created(s).length, 1);
      healthy = false;
      await s.advance(3000);
      assert.equal(s.recorder.reasons().filter((r) => r === 'Unhealthy').length, 1);
      assert.equal(created(s).length, 1, 'one failure is below the threshold');
      await s.advance(5000);
      await s.until(() => created(s).length === 2, 'restart after the second failure');
      const ev = s.recorder.events.filter((e) => e.reason === 'Unhealthy' || e.reason === 'Killing').map((e) => `${e.reason}: ${e.message}`);
      assert.deepEqual(ev, ['Unhealthy: Liveness probe failed: sick\n', 'Unhealthy: Liveness probe failed: sick\n', 'Killing: Container app failed liveness probe, will be restarted']);
      await s.advance(2000);
      const cs = s.statusOf(pod)!.containerStatuses![0];
      assert.equal(cs.restartCount, 1);
      assert.ok(cs.state?.running);
      assert.equal(cs.lastState?.terminated?.exitCode, 137);
      await s.advance(20_000);
      assert.equal(created(s).length, 2, 'healthy again: no more restarts');
    } finally {
      await s.close();
    }
  });

  it('readiness drives the Ready condition; the startup probe gates liveness', async () => {
    const s = makeStack();
    try {
      let ready = false;
      let started = false;
      s.runtime.execScript((ctx) => {
        const ok = ctx.cmd[0] === 'ready' ? ready : ctx.cmd[0] === 'started' ? started : ctx.cmd[0] === 'live' ? false : undefined;
        return ok === undefined ? undefined : { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: ok ? 0 : 1 };
      });
      const pod = makePod('ready').container({
        name: 'app',
        readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 },
        startupProbe: { exec: { command: ['started'] }, periodSeconds: 1, failureThreshold: 100 },
        livenessProbe: { exec: { command: ['live'] }, periodSeconds: 1, failureThreshold: 1, initialDelaySeconds: 1000 },
      }).build();
      s.workers.update(pod);
      await running(s, pod);
      await s.advance(3000);
      let st = s.statusOf(pod)!;
      assert.equal(st.containerStatuses![0].started, false);
      assert.equal(st.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
      assert.equal(st.conditions?.find((c) => c.type === 'Ready')?.message, 'containers with unready status: [app]');
      started = true;
      await s.advance(2000);
      st = s.statusOf(pod)!;
      assert.equal(st.containerStatuses![0].started, true);
      assert.equal(st.containerStatuses![0].ready, false);
      ready = true;
      await s.advance(2000);
      st = s.statusOf(pod)!;
      assert.equal(st.containerStatuses![0].ready, true);
      assert.equal(st.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      ready = false;
      await s.advance(4000);
      assert.equal(s.statusOf(pod)!.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
      assert.equal(created(s).length, 1);
    } finally {
      await s.close();
    }
  });

  it('a restarted agent adopts running containers: no new containers, same IDs and restart counts', async () => {
    const s1 = makeStack();
    const pod = makePod('adopt').container({ name: 'a' }).container({ name: 'b', command: ['flaky'] }).build();
    // b crashes once, then runs.
    s1.runtime.program((ctx) => (ctx.argv[0] === 'flaky' ? (ctx.config.metadata.attempt === 0 ? { exitAfterMs: 0, exitCode: 1 } : {}) : undefined));
    s1.workers.update(pod);
    await s1.until(() => created(s1).length === 2, 'started');
    await s1.advance(1000);
    assert.equal(s1.statusOf(pod)?.containerStatuses?.[1]?.restartCount, 1);
    const before = s1.statusOf(pod)!.containerStatuses!.map((c) => `${c.name} ${c.containerID} ${c.restartCount}`);
    await s1.workers.stop();
    s1.status.stop();
    const calls = s1.runtime.calls.length;
    const s2 = makeStack({ runtime: s1.runtime, clock: s1.clock, dir: s1.dir });
    try {
      s2.workers.update({ ...pod, status: s1.statusOf(pod) });
      await s2.until(() => s2.statusOf(pod) !== undefined || s2.runtime.calls.slice(calls).some((c) => c.method === 'listContainers'), 'adopting sync');
      await s2.advance(500);
      const mutating = s2.runtime.calls.slice(calls).filter((c) => ['runPodSandbox', 'createContainer', 'startContainer', 'stopContainer', 'removeContainer'].includes(c.method));
      assert.deepEqual(mutating, []);
      const after = (s2.statusOf(pod) ?? s1.statusOf(pod))!.containerStatuses!.map((c) => `${c.name} ${c.containerID} ${c.restartCount}`);
      assert.deepEqual(after, before);
      assert.equal(s2.writer.writes.length, 0, 'an unchanged status is not written again');
    } finally {
      await s2.close();
    }
  });

  it('a failing postStart hook kills the container with FailedPostStartHook', async () => {
    const s = makeStack();
    try {
      s.runtime.execScript((ctx) => (ctx.cmd[0] === 'setup' ? { stdout: Buffer.alloc(0), stderr: Buffer.from('no db'), exitCode: 1 } : undefined));
      const pod = makePod('hook').restartPolicy('Never').container({ name: 'app', lifecycle: { postStart: { exec: { command: ['setup'] } } } }).build();
      s.workers.update(pod);
      await s.until(() => s.recorder.reasons().includes('Killing'), 'killed');
      const ev = s.recorder.events.find((e) => e.reason === 'FailedPostStartHook')!;
      assert.equal(ev.type, 'Warning');
      assert.match(ev.message, /^Exec lifecycle hook \(\["setup"\]\) for Container "app" failed - error: command 'setup' exited with 1: no db/);
      await s.advance(1000);
      assert.equal(s.statusOf(pod)!.phase, 'Failed');
    } finally {
      await s.close();
    }
  });

  it('a dead sandbox is killed and re-created with SandboxChanged; the containers start anew in it', async () => {
    const s = makeStack();
    try {
      const pod = makePod('phoenix').container({ name: 'app' }).build();
      s.workers.update(pod);
      await running(s, pod);
      const [first] = await s.runtime.listPodSandbox();
      await s.runtime.stopPodSandbox(first.id);
      await s.advance(1000);
      await running(s, pod);
      const sandboxes = s.runtime.calls.filter((c) => c.method === 'runPodSandbox').map((c) => (c.args[0] as PodSandboxConfig).metadata.attempt);
      assert.deepEqual(sandboxes, [0, 1]);
      assert.ok(s.recorder.events.some((e) => e.reason === 'SandboxChanged' && e.message === 'Pod sandbox changed, it will be killed and re-created.'));
      assert.deepEqual((await s.runtime.listPodSandbox()).map((x) => x.metadata.attempt), [1], 'the old sandbox is removed');
      assert.deepEqual(created(s).map((c) => `${c.metadata.name}/${c.metadata.attempt}`), ['app/0', 'app/0']);
      assert.equal(s.statusOf(pod)!.containerStatuses![0].restartCount, 0);
    } finally {
      await s.close();
    }
  });

  it('a sandbox that dies under a running container: the container gets its grace period, then every old sandbox is stopped and removed, then a new one', async () => {
    const s = makeStack();
    try {
      const pod = makePod('orphaned').gracePeriod(12).container({ name: 'app' }).build();
      s.workers.update(pod);
      await running(s, pod);
      const [first] = await s.runtime.listPodSandbox();
      const [app] = await s.runtime.listContainers();
      s.runtime.loseSandbox(first.id);
      const from = s.runtime.calls.length;
      await s.advance(1000);
      await running(s, pod);
      const calls = s.runtime.calls.slice(from).filter((c) => ['stopContainer', 'stopPodSandbox', 'removePodSandbox', 'runPodSandbox'].includes(c.method));
      assert.deepEqual(calls.map((c) => `${c.method} ${c.method === 'runPodSandbox' ? (c.args[0] as PodSandboxConfig).metadata.attempt : c.args.join(' ')}`), [
        `stopContainer ${app.id} 12`,
        `stopPodSandbox ${first.id}`,
        `removePodSandbox ${first.id}`,
        'runPodSandbox 1',
      ]);
      assert.ok(s.recorder.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container app'));
    } finally {
      await s.close();
    }
  });

  it('a restartPolicy Never pod whose sandbox died after its containers ran gets no new sandbox', async () => {
    const s = makeStack();
    try {
      const pod = makePod('once').restartPolicy('Never').container({ name: 'app' }).build();
      s.workers.update(pod);
      await running(s, pod);
      const [sb] = await s.runtime.listPodSandbox();
      await s.runtime.stopPodSandbox(sb.id);
      await s.advance(2000);
      assert.equal(s.runtime.calls.filter((c) => c.method === 'runPodSandbox').length, 1);
      assert.equal(created(s).length, 1);
      const st = s.statusOf(pod)!;
      assert.equal(st.containerStatuses![0].state?.terminated?.exitCode, 137);
      assert.equal(st.conditions?.find((c) => c.type === 'PodReadyToStartContainers')?.status, 'False');
    } finally {
      await s.close();
    }
  });

  it('a restartPolicy Never pod whose sandbox died under its running container: the container is stopped with its grace period, no new sandbox', async () => {
    const s = makeStack();
    try {
      const pod = makePod('once-more').restartPolicy('Never').gracePeriod(9).container({ name: 'app' }).build();
      s.workers.update(pod);
      await running(s, pod);
      const [sb] = await s.runtime.listPodSandbox();
      const [app] = await s.runtime.listContainers();
      s.runtime.loseSandbox(sb.id);
      await s.advance(2000);
      assert.deepEqual(s.runtime.calls.filter((c) => c.method === 'stopContainer').map((c) => c.args), [[app.id, 9]]);
      assert.equal(s.runtime.calls.filter((c) => c.method === 'runPodSandbox').length, 1);
      assert.ok(s.recorder.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container app'));
      assert.equal(s.statusOf(pod)!.containerStatuses![0].state?.terminated?.exitCode, 137);
    } finally {
      await s.close();
    }
  });

  it('a changed container spec (its image) kills and restarts the container at once', async () => {
    const s = makeStack();
    try {
      s.runtime.addImage('busybox:1.36');
      const pod = makePod('upd').container({ name: 'app' }).build();
      s.workers.update(pod);
      await running(s, pod);
      const updated = structuredClone(pod);
      updated.spec!.containers[0].image = 'busybox:1.36';
      s.workers.update(updated);
      await s.until(() => created(s).length === 2, 'restarted with the new image');
      await s.advance(500);
      assert.deepEqual(created(s).map((c) => c.image.image), ['busybox', 'busybox:1.36']);
      assert.ok(s.recorder.events.some((e) => e.reason === 'Killing' && e.message === 'Container app definition changed, will be restarted'));
      const cs = s.statusOf(updated)!.containerStatuses![0];
      assert.equal(cs.restartCount, 1);
      assert.ok(cs.state?.running);
    } finally {
      await s.close();
    }
  });

  it('lists the pod in the runtime at most once per sync, and not at all for a pod new since start-up', async () => {
    const s = makeStack();
    try {
      let syncs = 0;
      const sync = s.syncer.sync.bind(s.syncer);
      s.syncer.sync = (pod, st) => {
        syncs++;
        return sync(pod, st);
      };
      const listings = (method: string) => s.runtime.calls.filter((c) => c.method === method && (c.args[0] as { labelSelector?: Record<string, string> } | undefined)?.labelSelector?.[LABEL_POD_UID]).length;
      const pod = makePod('lister').init({ name: 'setup' }).container({ name: 'crash', command: ['sh', '-c', 'exit 1'] }).container({ name: 'web' }).build();
      s.workers.update(pod, true);
      await s.until(() => syncs === 1 && !s.workers.busy(), 'first sync');
      assert.equal(listings('listContainers') + listings('listPodSandbox'), 0, 'a fresh pod is not listed');
      await s.advance(3000);
      const [sb] = await s.runtime.listPodSandbox({ state: 'ready' });
      await s.runtime.stopPodSandbox(sb.id);
      await s.advance(3000);
      assert.ok(s.recorder.reasons().includes('SandboxChanged'));
      assert.ok(syncs >= 5, `${syncs} syncs`);
      assert.equal(listings('listContainers'), syncs - 1);
      assert.equal(listings('listPodSandbox'), syncs - 1);
    } finally {
      await s.close();
    }
  });

  it('deletion: a termination that keeps failing is tried again until it succeeds, and only then confirmed', async () => {
    const s = makeStack();
    try {
      const pod = makePod('stubborn').gracePeriod(0).container({ name: 'app' }).build();
      s.workers.update(pod);
      await running(s, pod);
      const [sb] = await s.runtime.listPodSandbox();
      for (let i = 0; i < 7; i++) s.runtime.failNext('stopPodSandbox', new CriError('ERR_CRI_UNKNOWN', 'StopPodSandbox', `sandbox ${sb.id} is stuck`));
      s.workers.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:30Z', deletionGracePeriodSeconds: 0 } });
      await s.advance(30_000, 1000);
      assert.deepEqual(s.deleted, [], 'not confirmed while the sandbox cannot be stopped');
      assert.equal(s.workers.couldHaveRunningContainers(pod.metadata!.uid!), true);
      // Attempts 1, 2, 4, 8, 10, 10 s apart, then at most 10 s for the eighth.
      await s.advance(30_000, 1000);
      assert.deepEqual(s.deleted, ['stubborn']);
      assert.equal(s.runtime.calls.filter((c) => c.method === 'stopPodSandbox' && c.args[0] === sb.id).length >= 8, true);
      await s.workers.whenNoWorkers();
    } finally {
      await s.close();
    }
  });

  it('deletion: preStop, stop with the grace period, confirmation, cleanup', async () => {
    const s = makeStack();
    try {
      const pod = makePod('bye').container({ name: 'app', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye'] } } } }).build();
      s.workers.update(pod);
      await running(s, pod);
      const podDir = join(s.dir, 'pods', pod.metadata!.uid!);
      assert.ok(existsSync(podDir));
      assert.equal(s.workers.couldHaveRunningContainers(pod.metadata!.uid!), true);
      s.workers.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:30Z', deletionGracePeriodSeconds: 7 } });
      await s.until(() => s.deleted.includes('bye'), 'deletion confirmed');
      // Its containers are stopped before the deletion is confirmed: admission no longer counts it.
      assert.equal(s.workers.couldHaveRunningContainers(pod.metadata!.uid!), false);
      await s.workers.whenNoWorkers();
      const execs = s.runtime.calls.filter((c) => c.method === 'execSync').map((c) => c.args[1]);
      assert.deepEqual(execs, [['sh', '-c', 'echo bye']]);
      const stop = s.runtime.calls.find((c) => c.method === 'stopContainer')!;
      assert.ok((stop.args[1] as number) >= 2 && (stop.args[1] as number) <= 7);
      assert.ok(s.recorder.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container app'));
      assert.deepEqual(await s.runtime.listPodSandbox(), []);
      assert.deepEqual(await s.runtime.listContainers(), []);
      assert.equal(existsSync(podDir), false);
      assert.equal(s.cgroups.ensured.has(pod.metadata!.uid!), false);
    } finally {
      await s.close();
    }
  });
});
