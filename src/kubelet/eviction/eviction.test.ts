// Local-storage eviction: the decision over measured figures (table), the manager's loop over a fake
// summary and terminator, and the whole path over the pod workers and FakeRuntime with a real
// measurement of an emptyDir on disk.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../api/types.ts';
import { FakeClock } from '../../util/clock.ts';
import { MemoryEventRecorder } from '../events/recorder.ts';
import { makePod, makeStack } from '../podworkers/testing.ts';
import { SummaryProvider } from '../stats/summary.ts';
import type { PodStats, Summary } from '../stats/types.ts';
import { EvictionManager, type PodTerminator, type Termination } from './manager.ts';
import { isCriticalPod, localStorageViolation, podEphemeralStorageLimit } from './local-storage.ts';
import { formatQuantity } from '../../api/quantity.ts';

const T = '2026-01-01T00:00:00Z';

function stats(o: { volumes?: Record<string, number>; ephemeral?: number; containers?: Record<string, { logs?: number; rootfs?: number }> } = {}): PodStats {
  return {
    podRef: { name: 'p', namespace: 'default', uid: 'uid-p' },
    startTime: T,
    containers: Object.entries(o.containers ?? {}).map(([name, c]) => ({
      name, startTime: T, ...(c.logs !== undefined ? { logs: { time: T, usedBytes: c.logs } } : {}), ...(c.rootfs !== undefined ? { rootfs: { time: T, usedBytes: c.rootfs } } : {}),
    })),
    volume: Object.entries(o.volumes ?? {}).map(([name, usedBytes]) => ({ time: T, name, usedBytes })),
    'ephemeral-storage': { time: T, usedBytes: o.ephemeral ?? 0 },
  };
}

describe('localStorageViolation', () => {
  const withDir = (limit: string | undefined, medium?: string) => makePod('p').container({ name: 'app' }).with((p) => {
    p.spec!.volumes = [{ name: 'cache', emptyDir: { ...(limit ? { sizeLimit: limit } : {}), ...(medium ? { medium } : {}) } }, { name: 'other', emptyDir: {} }];
  }).build();
  const cases: Array<{ name: string; pod: Pod; stats: PodStats; want: string | undefined }> = [
    { name: 'emptyDir over its sizeLimit', pod: withDir('1Mi'), stats: stats({ volumes: { cache: 2 * 2 ** 20 } }), want: 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ' },
    { name: 'emptyDir exactly at its limit', pod: withDir('1Mi'), stats: stats({ volumes: { cache: 2 ** 20 } }), want: undefined },
    { name: 'emptyDir one byte over', pod: withDir('1Mi'), stats: stats({ volumes: { cache: 2 ** 20 + 1 } }), want: 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ' },
    { name: 'the limit printed in canonical form', pod: withDir('1024Ki'), stats: stats({ volumes: { cache: 3 * 2 ** 20 } }), want: 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ' },
    { name: 'a decimal limit', pod: withDir('1M'), stats: stats({ volumes: { cache: 1_000_001 } }), want: 'Usage of EmptyDir volume "cache" exceeds the limit "1M". ' },
    { name: 'no sizeLimit: no limit', pod: withDir(undefined), stats: stats({ volumes: { cache: 2 ** 40 } }), want: undefined },
    { name: 'a zero sizeLimit is no limit', pod: withDir('0'), stats: stats({ volumes: { cache: 2 ** 20 } }), want: undefined },
    { name: 'not measured: nothing to judge', pod: withDir('1Ki'), stats: stats({}), want: undefined },
    {
      name: 'pod ephemeral-storage limit over its containers',
      pod: makePod('p').container({ name: 'a', resources: { limits: { 'ephemeral-storage': '1Mi' } } }).container({ name: 'b', resources: { limits: { 'ephemeral-storage': '1Mi' } } }).build(),
      stats: stats({ ephemeral: 3 * 2 ** 20 }),
      want: 'Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. ',
    },
    {
      name: 'container ephemeral-storage limit by logs and writable layer',
      pod: makePod('p').container({ name: 'a' }).container({ name: 'b', resources: { limits: { 'ephemeral-storage': '100Mi' } } }).build(),
      // The pod limit (100Mi) holds; container b alone does not.
      stats: stats({ ephemeral: 90 * 2 ** 20, containers: { a: { logs: 0 }, b: { logs: 60 * 2 ** 20, rootfs: 50 * 2 ** 20 } } }),
      want: 'Container b exceeded its local ephemeral storage limit "100Mi". ',
    },
    {
      name: 'the pod total over its containers\' sum',
      pod: makePod('p').container({ name: 'a', resources: { limits: { 'ephemeral-storage': '1Gi' } } }).container({ name: 'b', resources: { limits: { 'ephemeral-storage': '10Mi' } } }).build(),
      stats: stats({ ephemeral: 2 * 2 ** 30, containers: { b: { logs: 1, rootfs: 1 } } }),
      want: 'Pod ephemeral local storage usage exceeds the total limit of containers 1034Mi. ',
    },
    {
      name: 'the emptyDir is judged first',
      pod: makePod('p').container({ name: 'a', resources: { limits: { 'ephemeral-storage': '1Ki' } } }).with((p) => (p.spec!.volumes = [{ name: 'cache', emptyDir: { sizeLimit: '1Ki' } }])).build(),
      stats: stats({ volumes: { cache: 4096 }, ephemeral: 8192 }),
      want: 'Usage of EmptyDir volume "cache" exceeds the limit "1Ki". ',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(localStorageViolation(c.pod, c.stats), c.want));

  it('the pod limit is PodLimits: sum of app containers, at least each init container, plus overhead', () => {
    const pod = makePod('p')
      .container({ name: 'a', resources: { limits: { 'ephemeral-storage': '1Gi' } } })
      .init({ name: 'i', resources: { limits: { 'ephemeral-storage': '3Gi' } } })
      .overhead({ 'ephemeral-storage': '1Gi' })
      .build();
    assert.equal(formatQuantity(podEphemeralStorageLimit(pod)!), '4Gi');
    assert.equal(podEphemeralStorageLimit(makePod('q').container({ name: 'a' }).build()), undefined);
  });

  it('critical pods: mirror pods and system-critical priorities', () => {
    assert.equal(isCriticalPod(makePod('a').container().build()), false);
    assert.equal(isCriticalPod(makePod('a').container().priority(2_000_000_000).build()), true);
    assert.equal(isCriticalPod(makePod('a').container().annotations({ 'kubernetes.io/config.mirror': 'x' }).build()), true);
  });
});

class RecordingTerminator implements PodTerminator {
  readonly calls: Array<{ pod: string; t: Termination }> = [];
  readonly refuse = new Set<string>();
  terminateAbnormally(pod: Pod, t: Termination): boolean {
    if (this.refuse.has(pod.metadata?.name ?? '')) return false;
    this.calls.push({ pod: pod.metadata?.name ?? '', t });
    this.refuse.add(pod.metadata?.name ?? '');
    return true;
  }
}

describe('EvictionManager', () => {
  it('evicts each pod over a limit once, with the grace period 1 and an Evicted event; spares critical pods', async () => {
    const clock = new FakeClock();
    const pod = (name: string, priority = 0) => makePod(name).uid(`uid-${name}`).container({ name: 'app' }).priority(priority).with((p) => (p.spec!.volumes = [{ name: 'scratch', emptyDir: { sizeLimit: '1Ki' } }])).build();
    const pods = [pod('big'), pod('small'), pod('critical', 2_000_000_000)];
    const usage: Record<string, number> = { big: 8192, small: 512, critical: 8192 };
    const asked: number[] = [];
    const summary = async (maxAgeMs: number): Promise<Summary> => {
      asked.push(maxAgeMs);
      return {
        node: { nodeName: 'node-1', startTime: T },
        pods: pods.map((p) => ({ ...stats({ volumes: { scratch: usage[p.metadata!.name!]! } }), podRef: { name: p.metadata!.name!, namespace: 'default', uid: p.metadata!.uid! } })),
      };
    };
    const terminator = new RecordingTerminator();
    const recorder = new MemoryEventRecorder();
    const m = new EvictionManager({ clock, activePods: () => pods, summary, terminator, recorder, periodMs: 10_000 });
    m.start();
    try {
      clock.advance(0);
      await new Promise((r) => setImmediate(r));
      const msg = 'Usage of EmptyDir volume "scratch" exceeds the limit "1Ki". ';
      assert.deepEqual(terminator.calls, [{ pod: 'big', t: { gracePeriodSeconds: 1, reason: 'Evicted', message: msg } }]);
      assert.deepEqual(recorder.events.map((e) => [e.obj.name, e.type, e.reason, e.message]), [['big', 'Warning', 'Evicted', msg]]);
      assert.deepEqual(asked, [0], 'the eviction manager measures afresh');
      // The next period: `small` grew past its limit; `big` is already being ended (the terminator refuses).
      usage.small = 4096;
      clock.advance(10_000);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(terminator.calls.map((c) => c.pod), ['big', 'small']);
      assert.deepEqual(recorder.events.map((e) => e.obj.name), ['big', 'small']);
    } finally {
      await m.stop();
    }
  });
});

describe('eviction through the pod workers', () => {
  it('an emptyDir written past its sizeLimit: containers killed, pod Failed/Evicted, never restarted, volume removed', async () => {
    const s = makeStack();
    const pod = makePod('hog').container({ name: 'app', volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] })
      .with((p) => (p.spec!.volumes = [{ name: 'scratch', emptyDir: { sizeLimit: '16Ki' } }, { name: 'plain', emptyDir: {} }]))
      .build();
    const uid = pod.metadata!.uid!;
    const summary = new SummaryProvider({
      nodeName: 'node-1',
      clock: s.clock,
      rootDir: s.dir,
      runtime: s.runtime,
      machine: async () => ({}),
      pods: {
        activePods: () => (s.workers.couldHaveRunningContainers(uid) ? [{
          pod,
          volumes: new Map([...(s.workers.state(uid)?.volumes ?? new Map<string, { hostPath: string }>())].map(([k, v]) => [k, v.hostPath])),
          logDir: join(s.dir, 'logs', `default_hog_${uid}`),
          started: new Map(),
        }] : []),
      },
    });
    const m = new EvictionManager({
      clock: s.clock,
      activePods: () => (s.workers.couldHaveRunningContainers(uid) ? [pod] : []),
      summary: (age) => summary.get(age),
      terminator: s.workers,
      recorder: s.recorder,
    });
    try {
      s.workers.update(pod);
      await s.until(() => Boolean(s.statusOf(pod)?.containerStatuses?.[0]?.state?.running), 'running');
      const dir = s.workers.state(uid)!.volumes!.get('scratch')!.hostPath;
      await writeFile(join(dir, 'small'), Buffer.alloc(4096, 1));
      assert.deepEqual(await m.synchronize(), [], 'within its limit');
      await writeFile(join(dir, 'big'), Buffer.alloc(64 * 1024, 1));
      const evicted = await m.synchronize();
      assert.deepEqual(evicted.map((p) => p.metadata?.name), ['hog']);
      assert.equal(await m.synchronize().then((e) => e.length), 0, 'evicted once');
      const msg = 'Usage of EmptyDir volume "scratch" exceeds the limit "16Ki". ';
      await s.until(() => s.statusOf(pod)?.phase === 'Failed', 'Failed');
      const st = s.statusOf(pod)!;
      assert.equal(st.reason, 'Evicted');
      assert.equal(st.message, msg);
      assert.equal(st.containerStatuses![0].state?.terminated?.exitCode, 137);
      assert.deepEqual(st.conditions?.filter((c) => c.type === 'Ready').map((c) => [c.status, c.reason]), [['False', 'PodCompleted']]);
      const stop = s.runtime.calls.find((c) => c.method === 'stopContainer')!;
      assert.equal(stop.args[1], 1, 'the immediate eviction grace period');
      const reasons = s.recorder.reasons();
      assert.ok(reasons.indexOf('Evicted') < reasons.indexOf('Killing'), reasons.join(','));
      assert.equal(s.recorder.events.find((e) => e.reason === 'Evicted')!.message, msg);
      await s.until(() => !existsSync(dir), 'volume removed');
      assert.equal(s.workers.couldHaveRunningContainers(uid), false);
      // restartPolicy Always: still nothing restarts, and the reason stays.
      const starts = s.runtime.calls.filter((c) => c.method === 'startContainer').length;
      await s.advance(70_000, 10_000);
      assert.equal(s.runtime.calls.filter((c) => c.method === 'startContainer').length, starts);
      assert.equal(s.statusOf(pod)!.reason, 'Evicted');
      assert.deepEqual(await s.runtime.listPodSandbox({ state: 'ready' }), []);
      // A later deletion still goes through the normal path, keeping the eviction as the last word.
      s.workers.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:01:30Z', deletionGracePeriodSeconds: 30 } });
      await s.until(() => s.deleted.includes('hog'), 'deletion confirmed');
      assert.equal(s.statusOf(pod)!.message, msg);
    } finally {
      await s.close();
    }
  });
});
