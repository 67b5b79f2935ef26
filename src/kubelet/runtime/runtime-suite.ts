// The one behaviour suite every ContainerRuntime passes (style rule 6): FakeRuntime in a unit test,
// CriRuntime against a real containerd in test/integration/cri-runtime.test.ts. It pins down what the
// pod workers rely on: lifecycle states, exit codes and reasons, filters, exec results, idempotent
// stop/remove and the error codes of the unhappy paths.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CriError } from './errors.ts';
import type { ContainerConfig, ContainerRuntime, ContainerState, PodSandboxConfig } from './runtime.ts';

export interface RuntimeSuiteHarness {
  runtime: ContainerRuntime;
  /** A present image with busybox's sh, sleep, hostname, echo, true. */
  image: string;
  /** A reference that is certainly absent. */
  absentImage: string;
  /** Lets asynchronous state changes happen: advance a fake clock, or wait a few real ms. */
  tick(): Promise<void>;
  /** An existing directory for a sandbox's logs. */
  logDirectory(podName: string): string;
  /** Whether sandboxes get a pod IP (true for a CNI network and for the fake). */
  podNetwork: boolean;
  /** Called after the whole suite. */
  close(): Promise<void>;
}

export interface RuntimeSuiteOptions {
  /** Upper bound of ticks while waiting for a state (default 500). */
  maxTicks?: number;
}

async function rejectsWith(p: Promise<unknown>, code: CriError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CriError, `expected a CriError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Registers the suite under `name`; `makeHarness` runs once before its tests. */
export function runtimeSuite(name: string, makeHarness: () => Promise<RuntimeSuiteHarness>, opts: RuntimeSuiteOptions = {}): void {
  describe(name, () => {
    let h: RuntimeSuiteHarness;
    let rt: ContainerRuntime;
    let seq = 0;
    const made: string[] = [];

    before(async () => {
      h = await makeHarness();
      rt = h.runtime;
    });
    after(async () => {
      if (!h) return;
      for (const id of made) {
        await rt.stopPodSandbox(id).catch(() => undefined);
        await rt.removePodSandbox(id).catch(() => undefined);
      }
      await h.close();
    });

    const sandboxConfig = (labels: Record<string, string> = {}): PodSandboxConfig => {
      const n = `suite-${process.pid}-${++seq}`;
      return {
        metadata: { name: n, uid: `uid-${n}`, namespace: 'default', attempt: 0 },
        hostname: n,
        logDirectory: h.logDirectory(n),
        labels: { 'tinykube.io/suite': 'runtime', ...labels },
        annotations: { 'tinykube.io/note': 'kept verbatim' },
      };
    };
    const runSandbox = async (labels?: Record<string, string>): Promise<[string, PodSandboxConfig]> => {
      const c = sandboxConfig(labels);
      const id = await rt.runPodSandbox(c);
      made.push(id);
      return [id, c];
    };
    const containerConfig = (name: string, argv: string[], more: Partial<ContainerConfig> = {}): ContainerConfig => ({
      metadata: { name, attempt: 0 },
      image: { image: h.image },
      command: argv,
      logPath: `${name}/0.log`,
      ...more,
    });
    const waitState = async (id: string, state: ContainerState) => {
      for (let i = 0; i < (opts.maxTicks ?? 500); i++) {
        const s = await rt.containerStatus(id);
        if (s.state === state) return s;
        await h.tick();
      }
      assert.fail(`container ${id} never reached ${state}`);
    };
    const runContainer = async (sid: string, sc: PodSandboxConfig, name: string, argv: string[], more?: Partial<ContainerConfig>) => {
      const id = await rt.createContainer(sid, containerConfig(name, argv, more), sc);
      await rt.startContainer(id);
      return id;
    };

    it('reports a version and ready conditions', async () => {
      const v = await rt.version();
      assert.equal(v.runtimeApiVersion, 'v1');
      assert.ok(v.runtimeName.length > 0);
      const conds = await rt.status();
      assert.equal(conds.find((c) => c.type === 'RuntimeReady')?.status, true);
      assert.equal(conds.find((c) => c.type === 'NetworkReady')?.status, true);
    });

    it('runs a sandbox and reports it back verbatim', async () => {
      const [id, c] = await runSandbox();
      const s = await rt.podSandboxStatus(id);
      assert.equal(s.id, id);
      assert.equal(s.state, 'ready');
      assert.deepEqual(s.metadata, c.metadata);
      assert.deepEqual(s.labels, c.labels);
      assert.deepEqual(s.annotations, c.annotations);
      assert.ok(s.createdAt > 0);
      if (h.podNetwork) assert.match(s.ip, /^\d+\.\d+\.\d+\.\d+$/);
      // Kubernetes' default: containers do not see each other's processes unless asked to.
      assert.equal(s.namespaceOptions?.pid, 'CONTAINER');
    });

    it('lists sandboxes by id, state and labels', async () => {
      const tag = `t${seq}`;
      const [a] = await runSandbox({ group: tag, role: 'a' });
      const [b] = await runSandbox({ group: tag, role: 'b' });
      const ids = async (f: Parameters<ContainerRuntime['listPodSandbox']>[0]) => (await rt.listPodSandbox(f)).map((s) => s.id).sort();
      assert.deepEqual(await ids({ labelSelector: { group: tag } }), [a, b].sort());
      assert.deepEqual(await ids({ labelSelector: { group: tag, role: 'b' } }), [b]);
      assert.deepEqual(await ids({ id: a }), [a]);
      await rt.stopPodSandbox(b);
      assert.deepEqual(await ids({ labelSelector: { group: tag }, state: 'ready' }), [a]);
      assert.deepEqual(await ids({ labelSelector: { group: tag }, state: 'notready' }), [b]);
    });

    it('takes a container through created, running, exited and removed', async () => {
      const [sid, sc] = await runSandbox();
      const id = await rt.createContainer(sid, containerConfig('main', ['sleep', '3600'], { labels: { app: 'x' }, annotations: { hash: '1' } }), sc);
      let s = await rt.containerStatus(id);
      assert.equal(s.state, 'created');
      assert.ok(s.createdAt > 0);
      assert.equal(s.startedAt, 0);
      assert.deepEqual(s.metadata, { name: 'main', attempt: 0 });
      assert.deepEqual(s.labels, { app: 'x' });
      assert.deepEqual(s.annotations, { hash: '1' });
      assert.equal(s.logPath, `${sc.logDirectory}/main/0.log`);
      assert.match(s.imageRef, /^sha256:[0-9a-f]{64}$/);
      await rt.startContainer(id);
      s = await rt.containerStatus(id);
      assert.equal(s.state, 'running');
      assert.ok(s.startedAt >= s.createdAt);
      await rt.stopContainer(id, 0);
      s = await waitState(id, 'exited');
      assert.equal(s.exitCode, 137);
      assert.equal(s.reason, 'Error');
      assert.ok(s.finishedAt >= s.startedAt);
      await rt.removeContainer(id);
      await rejectsWith(rt.containerStatus(id), 'ERR_CRI_NOT_FOUND');
      assert.deepEqual(await rt.listContainers({ id }), []);
    });

    it('reports exit codes and reasons of containers that end by themselves', async () => {
      const [sid, sc] = await runSandbox();
      const cases: { argv: string[]; exitCode: number; reason: string }[] = [
        { argv: ['true'], exitCode: 0, reason: 'Completed' },
        { argv: ['false'], exitCode: 1, reason: 'Error' },
        { argv: ['sh', '-c', 'echo bye; exit 3'], exitCode: 3, reason: 'Error' },
      ];
      const ids = await Promise.all(cases.map((c, i) => runContainer(sid, sc, `c${i}`, c.argv)));
      for (const [i, c] of cases.entries()) {
        const s = await waitState(ids[i], 'exited');
        assert.equal(s.exitCode, c.exitCode, c.argv.join(' '));
        assert.equal(s.reason, c.reason, c.argv.join(' '));
      }
    });

    it('lists containers by sandbox, state, labels and id', async () => {
      const [s1, c1] = await runSandbox();
      const [s2, c2] = await runSandbox();
      const a = await runContainer(s1, c1, 'a', ['sleep', '3600'], { labels: { tier: 'web' } });
      const b = await rt.createContainer(s1, containerConfig('b', ['sleep', '3600'], { labels: { tier: 'db' } }), c1);
      const c = await runContainer(s2, c2, 'c', ['sleep', '3600'], { labels: { tier: 'web' } });
      const ids = async (f: Parameters<ContainerRuntime['listContainers']>[0]) => (await rt.listContainers(f)).map((x) => x.id).sort();
      assert.deepEqual(await ids({ podSandboxId: s1 }), [a, b].sort());
      assert.deepEqual(await ids({ podSandboxId: s1, state: 'running' }), [a]);
      assert.deepEqual(await ids({ podSandboxId: s1, state: 'created' }), [b]);
      assert.deepEqual(await ids({ labelSelector: { tier: 'web' } }), [a, c].sort());
      assert.deepEqual(await ids({ id: c }), [c]);
      const listed = (await rt.listContainers({ id: a }))[0];
      assert.equal(listed.podSandboxId, s1);
      assert.deepEqual(listed.metadata, { name: 'a', attempt: 0 });
      assert.equal(listed.state, 'running');
    });

    it('runs commands with execSync: output, exit codes, hostname', async () => {
      const [sid, sc] = await runSandbox();
      const id = await runContainer(sid, sc, 'main', ['sleep', '3600']);
      const host = await rt.execSync(id, ['hostname'], 10);
      assert.equal(host.stdout.toString(), `${sc.hostname}\n`);
      assert.equal(host.exitCode, 0);
      const r = await rt.execSync(id, ['sh', '-c', 'echo out; echo err >&2; exit 4'], 10);
      assert.deepEqual([r.stdout.toString(), r.stderr.toString(), r.exitCode], ['out\n', 'err\n', 4]);
      assert.equal((await rt.execSync(id, ['false'], 10)).exitCode, 1);
    });

    it('refuses exec and a second start on a container that is not running', async () => {
      const [sid, sc] = await runSandbox();
      const created = await rt.createContainer(sid, containerConfig('idle', ['sleep', '3600']), sc);
      await rejectsWith(rt.execSync(created, ['true'], 5), 'ERR_CRI_FAILED_PRECONDITION');
      // Stopping a container that never started is a no-op: it can still be started afterwards.
      await rt.stopContainer(created, 0);
      assert.equal((await rt.containerStatus(created)).state, 'created');
      const id = await runContainer(sid, sc, 'main', ['true']);
      await waitState(id, 'exited');
      await rejectsWith(rt.execSync(id, ['true'], 5), 'ERR_CRI_FAILED_PRECONDITION');
      await rejectsWith(rt.startContainer(id), 'ERR_CRI_FAILED_PRECONDITION');
    });

    it('treats stop and remove as idempotent, for unknown ids too', async () => {
      const [sid, sc] = await runSandbox();
      const id = await runContainer(sid, sc, 'main', ['sleep', '3600']);
      await rt.stopContainer(id, 0);
      await rt.stopContainer(id, 0);
      await rt.removeContainer(id);
      await rt.removeContainer(id);
      await rt.stopContainer(id, 0);
      await rt.stopPodSandbox(sid);
      await rt.stopPodSandbox(sid);
      await rt.removePodSandbox(sid);
      await rt.removePodSandbox(sid);
      // The NOT_FOUND containerd answers for a removed sandbox counts as stopped.
      await rt.stopPodSandbox(sid);
      const unknown = 'f'.repeat(64);
      await rt.stopContainer(unknown, 0);
      await rt.removeContainer(unknown);
      await rt.stopPodSandbox(unknown);
      await rt.removePodSandbox(unknown);
      await rt.removeImage(h.absentImage);
    });

    it('answers NOT_FOUND for unknown sandboxes and containers', async () => {
      const unknown = 'e'.repeat(64);
      await rejectsWith(rt.podSandboxStatus(unknown), 'ERR_CRI_NOT_FOUND');
      await rejectsWith(rt.containerStatus(unknown), 'ERR_CRI_NOT_FOUND');
      await rejectsWith(rt.startContainer(unknown), 'ERR_CRI_NOT_FOUND');
      await rejectsWith(rt.execSync(unknown, ['true'], 5), 'ERR_CRI_NOT_FOUND');
      const [sid, sc] = await runSandbox();
      await rejectsWith(rt.createContainer(unknown, containerConfig('x', ['true']), sc), 'ERR_CRI_NOT_FOUND');
      void sid;
    });

    it('refuses absent images and reused container names', async () => {
      const [sid, sc] = await runSandbox();
      await rejectsWith(rt.createContainer(sid, { ...containerConfig('x', ['true']), image: { image: h.absentImage } }, sc), 'ERR_CRI_NOT_FOUND');
      await rt.createContainer(sid, containerConfig('dup', ['true']), sc);
      await rejectsWith(rt.createContainer(sid, containerConfig('dup', ['true']), sc), 'ERR_CRI_ALREADY_EXISTS');
      // The next attempt of the same container is a new name.
      await rt.createContainer(sid, { ...containerConfig('dup', ['true']), metadata: { name: 'dup', attempt: 1 }, logPath: 'dup/1.log' }, sc);
    });

    it('stopping a sandbox kills its containers and refuses new ones', async () => {
      const [sid, sc] = await runSandbox();
      const id = await runContainer(sid, sc, 'main', ['sleep', '3600']);
      await rt.stopPodSandbox(sid);
      const s = await waitState(id, 'exited');
      assert.equal(s.exitCode, 137);
      const ss = await rt.podSandboxStatus(sid);
      assert.equal(ss.state, 'notready');
      assert.equal(ss.ip, '');
      await rejectsWith(rt.createContainer(sid, containerConfig('late', ['true']), sc), 'ERR_CRI_FAILED_PRECONDITION');
    });

    it('removing a ready sandbox removes its running containers', async () => {
      const [sid, sc] = await runSandbox();
      const id = await runContainer(sid, sc, 'main', ['sleep', '3600']);
      await rt.removePodSandbox(sid);
      await rejectsWith(rt.containerStatus(id), 'ERR_CRI_NOT_FOUND');
      await rejectsWith(rt.podSandboxStatus(sid), 'ERR_CRI_NOT_FOUND');
      assert.deepEqual(await rt.listPodSandbox({ id: sid }), []);
    });

    it('reports present and absent images', async () => {
      const img = await rt.imageStatus(h.image);
      assert.ok(img, `${h.image} should be present`);
      assert.match(img.id, /^sha256:[0-9a-f]{64}$/);
      assert.ok(img.size > 0);
      assert.equal(await rt.imageStatus(h.absentImage), undefined);
      assert.ok((await rt.listImages()).some((i) => i.id === img.id));
      const byId = await rt.imageStatus(img.id);
      assert.equal(byId?.id, img.id);
      // Usage figures lag (containerd samples them every 10 s); the filesystem itself must be named.
      const fs = await rt.imageFsInfo();
      assert.ok(fs.length > 0 && fs[0].mountpoint.length > 0);
    });
  });
}
