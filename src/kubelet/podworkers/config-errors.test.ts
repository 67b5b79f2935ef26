// Container configuration failures, mount failures and image pulls, through the pod worker.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerConfig } from '../runtime/runtime.ts';
import { FakeRuntime } from '../runtime/fake-runtime.ts';
import { FakeClock } from '../../util/clock.ts';
import { makePod, makeStack } from './testing.ts';
import { defaultPullPolicy } from '../images/puller.ts';
import { ContainerConfigError, expand, expandSubPathExpr } from './container-config.ts';

describe('container configuration', () => {
  it('env from configMaps and secrets, envFrom with prefix', async () => {
    const s = makeStack();
    try {
      s.source.configMaps.set('default/cfg', { data: { LEVEL: 'debug', 'bad key': 'x' } });
      s.source.secrets.set('default/sec', { data: { TOKEN: Buffer.from('t0k').toString('base64') } });
      const pod = makePod('env').container({
        name: 'app',
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
        env: [
          { name: 'LVL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'TOKEN' } } },
          { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'nope', key: 'x', optional: true } } },
        ],
      }).build();
      s.workers.update(pod);
      await s.until(() => s.runtime.calls.some((c) => c.method === 'createContainer'), 'created');
      const cfg = s.runtime.calls.find((c) => c.method === 'createContainer')!.args[1] as ContainerConfig;
      assert.deepEqual(Object.fromEntries(cfg.envs!.map((e) => [e.key, e.value])), { CFG_LEVEL: 'debug', LVL: 'debug', TOKEN: 't0k', OPT: '' });
    } finally {
      await s.close();
    }
  });

  it('a missing configMap key is CreateContainerConfigError with a Failed event, fixed by creating it', async () => {
    const s = makeStack();
    try {
      s.source.configMaps.set('default/cfg', { data: {} });
      const pod = makePod('cfgerr').container({ name: 'app', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'x' } } }] }).build();
      s.workers.update(pod);
      await s.until(() => s.statusOf(pod) !== undefined, 'status');
      const w = s.statusOf(pod)!.containerStatuses![0].state?.waiting;
      assert.deepEqual(w, { reason: 'CreateContainerConfigError', message: "couldn't find key x in ConfigMap default/cfg" });
      assert.ok(s.recorder.events.some((e) => e.reason === 'Failed' && e.message === "Error: couldn't find key x in ConfigMap default/cfg"));
      s.source.configMaps.set('default/cfg', { data: { x: '1' } });
      await s.advance(3000);
      assert.ok(s.statusOf(pod)!.containerStatuses![0].state?.running);
    } finally {
      await s.close();
    }
  });

  it('runAsNonRoot refuses a root image', async () => {
    const s = makeStack();
    try {
      const pod = makePod('nonroot').container({ name: 'app', securityContext: { runAsNonRoot: true } }).build();
      s.workers.update(pod);
      await s.until(() => s.statusOf(pod) !== undefined, 'status');
      const w = s.statusOf(pod)!.containerStatuses![0].state?.waiting;
      assert.equal(w?.reason, 'CreateContainerConfigError');
      assert.match(w?.message ?? '', /^container has runAsNonRoot and image will run as root/);
      assert.equal(s.runtime.calls.filter((c) => c.method === 'createContainer').length, 0);
    } finally {
      await s.close();
    }
  });

  it('a volume that cannot be set up: FailedMount, ContainerCreating with the reason, no sandbox', async () => {
    const s = makeStack();
    try {
      const pod = makePod('mnt').container({ name: 'app', volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }).with((p) => (p.spec!.volumes = [{ name: 'cfg', configMap: { name: 'later' } }])).build();
      s.workers.update(pod);
      await s.until(() => s.statusOf(pod) !== undefined, 'status');
      const w = s.statusOf(pod)!.containerStatuses![0].state?.waiting;
      assert.deepEqual(w, { reason: 'ContainerCreating', message: 'MountVolume.SetUp failed for volume "cfg" : configmap "later" not found' });
      assert.equal(s.statusOf(pod)!.phase, 'Pending');
      assert.equal(s.recorder.events[0].reason, 'FailedMount');
      assert.equal(s.recorder.events[0].type, 'Warning');
      assert.equal(s.runtime.calls.filter((c) => c.method === 'runPodSandbox').length, 0);
      s.source.configMaps.set('default/later', { data: { 'app.conf': 'x=1' } });
      await s.advance(3000);
      assert.ok(s.statusOf(pod)!.containerStatuses![0].state?.running);
      const cfg = s.runtime.calls.find((c) => c.method === 'createContainer')!.args[1] as ContainerConfig;
      const m = cfg.mounts!.find((x) => x.containerPath === '/cfg')!;
      assert.equal(m.readonly, true);
      assert.equal(readFileSync(`${m.hostPath}/app.conf`, 'utf8'), 'x=1');
    } finally {
      await s.close();
    }
  });

  it('a subPath (or subPathExpr) through a link out of the volume is CreateContainerConfigError with a Failed event; one inside is mounted', async () => {
    const s = makeStack();
    try {
      const outside = join(s.dir, 'host-etc');
      mkdirSync(outside);
      writeFileSync(join(outside, 'passwd'), 'root:x:0:0');
      const pod = makePod('escape')
        .container({
          name: 'app',
          env: [{ name: 'WHERE', value: 'esc2' }],
          volumeMounts: [
            { name: 'data', mountPath: '/ok', subPath: 'inside' },
            { name: 'data', mountPath: '/etc-of-host', subPath: 'escape' },
          ],
        })
        .container({ name: 'expr', volumeMounts: [{ name: 'data', mountPath: '/x', subPathExpr: '$(WHERE)' }], env: [{ name: 'WHERE', value: 'esc2' }] })
        .with((p) => (p.spec!.volumes = [{ name: 'data', emptyDir: {} }]))
        .build();
      // What an init container would have left in the emptyDir.
      const vol = join(s.dir, 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~empty-dir', 'data');
      mkdirSync(join(vol, 'inside'), { recursive: true });
      symlinkSync(outside, join(vol, 'escape'));
      symlinkSync('../../../../../host-etc', join(vol, 'esc2'));
      s.workers.update(pod);
      await s.until(() => (s.statusOf(pod)?.containerStatuses ?? []).filter((c) => c.state?.waiting?.reason === 'CreateContainerConfigError').length === 2, 'both refused');
      const byName = new Map(s.statusOf(pod)!.containerStatuses!.map((c) => [c.name, c.state?.waiting]));
      assert.deepEqual(byName.get('app'), { reason: 'CreateContainerConfigError', message: 'failed to prepare subPath for volumeMount "data" of container "app"' });
      assert.deepEqual(byName.get('expr'), { reason: 'CreateContainerConfigError', message: 'failed to prepare subPath for volumeMount "data" of container "expr"' });
      const failed = s.recorder.events.filter((e) => e.reason === 'Failed').map((e) => e.message);
      assert.ok(failed.includes('Error: failed to prepare subPath for volumeMount "data" of container "app"'), failed.join('\n'));
      assert.ok(failed.includes('Error: failed to prepare subPath for volumeMount "data" of container "expr"'), failed.join('\n'));
      assert.equal(s.runtime.calls.filter((c) => c.method === 'createContainer').length, 0);
      // Once the link is gone (the volume holds a real directory there), the same spec starts.
      rmSync(join(vol, 'escape'));
      rmSync(join(vol, 'esc2'));
      mkdirSync(join(vol, 'esc2'));
      await s.advance(3000);
      const cfg = s.runtime.calls.filter((c) => c.method === 'createContainer').map((c) => c.args[1] as ContainerConfig).find((c) => c.metadata.name === 'app')!;
      assert.ok(cfg, 'app created');
      assert.equal(cfg.mounts!.find((m) => m.containerPath === '/ok')!.hostPath, join(realpathSync(vol), 'inside'));
      assert.equal(cfg.mounts!.find((m) => m.containerPath === '/etc-of-host')!.hostPath, join(realpathSync(vol), 'escape'));
      assert.equal(statSync(join(vol, 'escape')).isDirectory(), true);
      assert.equal(readdirSync(outside).join(','), 'passwd');
    } finally {
      await s.close();
    }
  });

  it('terminationMessagePath and FallbackToLogsOnError feed the terminated message', async () => {
    const s = makeStack();
    try {
      const pod = makePod('msg').restartPolicy('Never').container({ name: 'app', command: ['sh', '-c', 'exit 4'] }).build();
      s.workers.update(pod);
      await s.until(() => s.runtime.calls.some((c) => c.method === 'startContainer'), 'started');
      const cfg = s.runtime.calls.find((c) => c.method === 'createContainer')!.args[1] as ContainerConfig;
      const host = cfg.mounts!.find((m) => m.containerPath === '/dev/termination-log')!.hostPath;
      const { writeFileSync } = await import('node:fs');
      writeFileSync(host, 'disk full');
      await s.advance(1000);
      const t = s.statusOf(pod)!.containerStatuses![0].state?.terminated;
      assert.deepEqual({ code: t?.exitCode, reason: t?.reason, message: t?.message }, { code: 4, reason: 'Error', message: 'disk full' });
      assert.equal(s.statusOf(pod)!.phase, 'Failed');
    } finally {
      await s.close();
    }
  });
});

describe('image pulls', () => {
  it('defaults the pull policy as Kubernetes does', () => {
    assert.deepEqual(['busybox', 'busybox:latest', 'busybox:1.36', 'r.io:5000/x', 'r.io:5000/x:v1', 'x@sha256:ab'].map(defaultPullPolicy), ['Always', 'Always', 'IfNotPresent', 'Always', 'IfNotPresent', 'IfNotPresent']);
  });

  it('Never without the image: ErrImageNeverPull', async () => {
    const s = makeStack();
    try {
      const pod = makePod('never').container({ name: 'app', image: 'example.com/absent:1', imagePullPolicy: 'Never' }).build();
      s.workers.update(pod);
      await s.until(() => s.statusOf(pod) !== undefined, 'status');
      assert.deepEqual(s.statusOf(pod)!.containerStatuses![0].state?.waiting, { reason: 'ErrImageNeverPull', message: 'Container image "example.com/absent:1" is not present with pull policy of Never' });
    } finally {
      await s.close();
    }
  });

  it('a failing pull: ErrImagePull, then ImagePullBackOff; a later pull succeeds with Pulling/Pulled', async () => {
    const clock = new FakeClock();
    const s = makeStack({ clock, runtime: new FakeRuntime({ clock, images: ['busybox'] }) });
    try {
      const pod = makePod('pull').container({ name: 'app', image: 'registry.local/app:1' }).build();
      s.workers.update(pod);
      await s.until(() => s.statusOf(pod) !== undefined, 'status');
      assert.equal(s.statusOf(pod)!.containerStatuses![0].state?.waiting?.reason, 'ErrImagePull');
      assert.deepEqual(s.recorder.reasons(), ['Pulling', 'Failed', 'Failed']);
      await s.advance(2000);
      s.workers.kick(pod.metadata!.uid!);
      await s.advance(500);
      assert.equal(s.statusOf(pod)!.containerStatuses![0].state?.waiting?.reason, 'ImagePullBackOff');
      assert.ok(s.recorder.reasons().includes('BackOff'));
      s.runtime.addRegistryImage('registry.local/app:1');
      await s.advance(12_000);
      assert.ok(s.statusOf(pod)!.containerStatuses![0].state?.running);
      assert.match(s.recorder.events.filter((e) => e.reason === 'Pulled').at(-1)!.message, /^Successfully pulled image "registry.local\/app:1" in /);
    } finally {
      await s.close();
    }
  });

  it('expands $(VAR) as Kubernetes does', () => {
    const v = new Map([['A', 'x']]);
    assert.deepEqual(['$(A)', '$$(A)', '$(B)', 'a$(A)b', '$(A', '$'].map((s) => expand(s, v)), ['x', '$(A)', '$(B)', 'axb', '$(A', '$']);
  });

  it('expands subPathExpr, refusing references to unset or empty variables as the kubelet does', () => {
    const v = new Map([['POD', 'web-1'], ['EMPTY', '']]);
    const cases: { expr: string; want: string | RegExp }[] = [
      { expr: 'logs/$(POD)', want: 'logs/web-1' },
      { expr: '$$(POD)/x', want: '$(POD)/x' },
      { expr: '$(POD)/$(NOPE)', want: /^missing value for NOPE$/ },
      { expr: '$(ZED)/$(EMPTY)/$(NOPE)', want: /^missing value for EMPTY, NOPE, ZED$/ },
    ];
    for (const c of cases) {
      if (typeof c.want === 'string') assert.equal(expandSubPathExpr(c.expr, v), c.want, c.expr);
      else assert.throws(() => expandSubPathExpr(c.expr, v), (err: unknown) => err instanceof ContainerConfigError && c.want instanceof RegExp && c.want.test(err.message), c.expr);
    }
  });
});
