// The simulated pod lifecycle on fake time: start delay, statuses from the real status code, exits
// and restarts by restartPolicy, deletion confirmation within the grace period, adoption.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodStatus } from '../../api/types.ts';
import { makePod, type PodBuilder } from '../../testing/objects.ts';
import { FakeClock } from '../../util/clock.ts';
import { DueQueue } from './due-queue.ts';
import { ANNOTATION_EXIT_AFTER, ANNOTATION_EXIT_CODE, ANNOTATION_START_DELAY, SimulatedPods, type PodHost } from './pods.ts';
import { SimulatedAdmission } from './admission.ts';
import { standInNode } from '../admission/predicates.ts';

class Host implements PodHost {
  readonly name = 'sim-0';
  readonly hostIP = '198.18.0.1';
  // 1 cpu: room for ten of simPod's 100m pods.
  readonly admission = new SimulatedAdmission('sim-0', () => standInNode('sim-0', { 'kubernetes.io/hostname': 'sim-0' }, { cpu: '1', memory: '4Gi', pods: '110' }));
  readonly written: Array<{ name: string; status: PodStatus }> = [];
  readonly removed: string[] = [];
  readonly status = {
    setPodStatus: (pod: Pod, status: PodStatus) => void this.written.push({ name: pod.metadata?.name ?? '', status }),
    removePod: (uid: string) => void this.removed.push(uid),
  };
  next = 2;
  released: string[] = [];
  allocateIP(preferred?: string): string {
    return preferred ?? `100.64.0.${this.next++}`;
  }
  releaseIP(ip: string): void {
    this.released.push(ip);
  }
  last(name: string): PodStatus | undefined {
    return this.written.filter((w) => w.name === name).at(-1)?.status;
  }
}

/**
 * A pod bound to the simulated node, with one Burstable container (100m of the node's 1 cpu). The uid
 * follows the name: a pod built twice is the same pod (an update, a DELETED event).
 */
const simPod = (name: string): PodBuilder =>
  makePod(name)
    .uid(`uid-${name}`)
    .resourceVersion('1')
    .onNode('sim-0')
    .restartPolicy('Always')
    .condition('PodScheduled', 'True')
    .container({ name: 'app', resources: { requests: { cpu: '100m' }, limits: { cpu: '100m', memory: '64Mi' } } });

function setup(o: { startDelayMs?: number; deleteDelayMs?: number } = {}) {
  const clock = new FakeClock();
  const host = new Host();
  const cache = new Map<string, Pod>();
  const deleted: string[] = [];
  let failDeletes = 0;
  const errors: string[] = [];
  const sim = new SimulatedPods({
    clock,
    queue: new DueQueue(clock),
    host: (n) => (n === host.name ? host : undefined),
    getPod: (k) => cache.get(k),
    confirmDeletion: async (p) => {
      if (failDeletes > 0) {
        failDeletes--;
        throw new Error('server down');
      }
      deleted.push(p.metadata?.name ?? '');
    },
    startDelayMs: o.startDelayMs ?? 0,
    deleteDelayMs: o.deleteDelayMs ?? 0,
    jitter: 0,
    onError: (_e, ctx) => errors.push(ctx),
  });
  const put = (p: Pod): void => {
    cache.set(`${p.metadata?.namespace}/${p.metadata?.name}`, p);
    sim.update(p);
  };
  return { clock, host, sim, put, deleted, errors, failNextDeletes: (n: number) => (failDeletes = n) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('simulated pods', () => {
  it('ignores pods not bound to a simulated node', () => {
    const t = setup();
    t.put(simPod('elsewhere').onNode('real-node').build());
    t.put(simPod('unbound').onNode('').build());
    t.clock.advance(1000);
    assert.equal(t.host.written.length, 0);
    assert.equal(t.sim.stats().pods, 0);
  });

  it('reports a bound pod Running and Ready after the start delay, through the real status code', () => {
    const t = setup({ startDelayMs: 2000 });
    t.put(simPod('web').init({ name: 'setup', image: 'busybox:1.36' }).build());
    t.clock.advance(1999);
    assert.equal(t.host.written.length, 0);
    t.clock.advance(1);
    const st = t.host.last('web')!;
    assert.equal(st.phase, 'Running');
    assert.equal(st.qosClass, 'Burstable');
    assert.equal(st.podIP, '100.64.0.2');
    assert.equal(st.hostIP, '198.18.0.1');
    const cond = Object.fromEntries((st.conditions ?? []).map((c) => [c.type, c.status]));
    assert.deepEqual(cond, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
    assert.equal(st.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime, '2026-01-01T00:00:00Z');
    const c = st.containerStatuses![0];
    assert.equal(c.ready, true);
    assert.equal(c.started, true);
    assert.ok(c.state?.running?.startedAt);
    assert.equal(c.image, 'docker.io/library/busybox:latest');
    assert.match(c.imageID ?? '', /^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
    assert.match(c.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    assert.equal(st.initContainerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    // Further updates of a running pod cost nothing.
    t.put(simPod('web').init({ name: 'setup', image: 'busybox:1.36' }).labels({ x: 'y' }).build());
    t.clock.advance(60_000);
    assert.equal(t.host.written.length, 1);
    assert.equal(t.sim.stats().started, 1);
  });

  it('rejects a pod that does not fit, as the kubelet does, and admits again once one finishes or goes', () => {
    const t = setup();
    for (let i = 0; i < 10; i++) t.put(simPod(`p${i}`).restartPolicy('Never').annotations(i === 0 ? { [ANNOTATION_EXIT_AFTER]: '5s' } : {}).build());
    t.clock.advance(1);
    assert.equal(t.host.last('p9')?.phase, 'Running');
    // The eleventh 100m pod on a 1-cpu node: Failed, never started.
    t.put(simPod('over').build());
    const over = t.host.last('over')!;
    assert.deepEqual([over.phase, over.reason, over.message], ['Failed', 'OutOfcpu', 'Pod was rejected: Node didn\'t have enough resource: cpu, requested: 100, used: 1000, capacity: 1000']);
    assert.equal(t.sim.stats().rejected, 1);
    t.clock.advance(10_000);
    assert.equal(t.host.written.filter((w) => w.name === 'over').length, 1, 'a rejected pod is never started');
    // p0 exited (Succeeded): its 100m is free again.
    assert.equal(t.host.last('p0')?.phase, 'Succeeded');
    t.put(simPod('fits').build());
    t.clock.advance(1);
    assert.equal(t.host.last('fits')?.phase, 'Running');
    t.put(simPod('over-again').build());
    assert.equal(t.host.last('over-again')?.reason, 'OutOfcpu');
    // A pod that leaves the API frees its share too.
    t.sim.remove(simPod('p1').restartPolicy('Never').build());
    t.put(simPod('after-removal').build());
    t.clock.advance(1);
    assert.equal(t.host.last('after-removal')?.phase, 'Running');
  });

  it('honours a per-pod start delay annotation', () => {
    const t = setup({ startDelayMs: 0 });
    t.put(simPod('slow').annotations({ [ANNOTATION_START_DELAY]: '10s' }).build());
    t.clock.advance(9000);
    assert.equal(t.host.written.length, 0);
    t.clock.advance(1000);
    assert.equal(t.host.last('slow')?.phase, 'Running');
  });

  it('ends pods told to exit, by restartPolicy', () => {
    const cases: Array<{ policy: 'Always' | 'OnFailure' | 'Never'; code: string; phase: string; restarts: number }> = [
      { policy: 'Never', code: '0', phase: 'Succeeded', restarts: 0 },
      { policy: 'Never', code: '3', phase: 'Failed', restarts: 0 },
      { policy: 'OnFailure', code: '0', phase: 'Succeeded', restarts: 0 },
      { policy: 'OnFailure', code: '1', phase: 'Running', restarts: 1 },
      { policy: 'Always', code: '0', phase: 'Running', restarts: 1 },
    ];
    for (const c of cases) {
      const t = setup();
      t.put(simPod('job').restartPolicy(c.policy).annotations({ [ANNOTATION_EXIT_AFTER]: '5s', [ANNOTATION_EXIT_CODE]: c.code }).build());
      t.clock.advance(0);
      assert.equal(t.host.last('job')?.phase, 'Running');
      t.clock.advance(5000);
      const st = t.host.last('job')!;
      const what = `${c.policy} exit ${c.code}`;
      assert.equal(st.phase, c.phase, what);
      const cs = st.containerStatuses![0];
      assert.equal(cs.restartCount, c.restarts, what);
      if (c.restarts > 0) {
        assert.equal(cs.lastState?.terminated?.exitCode, Number(c.code), what);
        assert.ok(cs.state?.running, what);
      } else {
        assert.equal(cs.state?.terminated?.exitCode, Number(c.code), what);
        assert.equal(st.conditions?.find((x) => x.type === 'Ready')?.reason, 'PodCompleted', what);
        assert.equal(st.conditions?.find((x) => x.type === 'PodReadyToStartContainers')?.status, 'False', what);
        // Terminal: nothing more happens.
        const n = t.host.written.length;
        t.clock.advance(60_000);
        assert.equal(t.host.written.length, n, what);
      }
    }
  });

  it('honours an exit-after annotation added to a pod already running, counted from its start', () => {
    const t = setup();
    t.put(simPod('late').restartPolicy('Never').build());
    t.clock.advance(2000);
    assert.equal(t.host.last('late')?.phase, 'Running');
    const p = simPod('late').restartPolicy('Never').annotations({ [ANNOTATION_EXIT_AFTER]: '5s' }).build();
    t.put({ ...p, metadata: { ...p.metadata, resourceVersion: '2' } });
    t.clock.advance(2999);
    assert.equal(t.host.last('late')?.phase, 'Running', 'not before 5 s after the start');
    t.clock.advance(1);
    assert.equal(t.host.last('late')?.phase, 'Succeeded');
  });

  it('confirms a deletion after the delete delay, never beyond the grace period, and retries failures', async () => {
    const t = setup({ deleteDelayMs: 10_000 });
    t.put(simPod('a').build());
    t.put(simPod('b').build());
    t.clock.advance(0);
    const del = (name: string, grace: number): void => {
      const p = simPod(name).build();
      t.put({ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:10Z', deletionGracePeriodSeconds: grace } });
    };
    del('a', 30);
    del('b', 2);
    t.clock.advance(2000);
    await flush();
    assert.deepEqual(t.deleted, ['b']);
    t.failNextDeletes(1);
    t.clock.advance(8000);
    await flush();
    assert.deepEqual(t.deleted, ['b']);
    assert.deepEqual(t.errors, ['confirm deletion of default/a']);
    t.clock.advance(1000);
    await flush();
    assert.deepEqual(t.deleted, ['b', 'a']);
    // The DELETED events free the pods' state and IPs.
    t.sim.remove(simPod('a').build());
    t.sim.remove(simPod('b').build());
    assert.equal(t.sim.stats().pods, 0);
    assert.deepEqual(t.host.removed.sort(), ['uid-a', 'uid-b']);
    assert.deepEqual(t.host.released.sort(), ['100.64.0.2', '100.64.0.3']);
  });

  it('never starts a pod deleted before its start', async () => {
    const t = setup({ startDelayMs: 5000 });
    const p = simPod('gone').build();
    t.put(p);
    t.put({ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:01Z', deletionGracePeriodSeconds: 30 } });
    t.clock.advance(10_000);
    await flush();
    assert.equal(t.host.written.length, 0);
    assert.deepEqual(t.deleted, ['gone']);
  });

  it('adopts pods already running or finished without rewriting them', () => {
    const t = setup();
    const running = simPod('running')
      .status({ phase: 'Running', podIP: '100.64.0.77', startTime: '2026-01-01T00:00:00Z', containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 2, state: { running: { startedAt: '2025-12-31T23:59:58Z' } } }] })
      .annotations({ [ANNOTATION_EXIT_AFTER]: '5s' })
      .restartPolicy('Never')
      .build();
    t.put(running);
    t.put(simPod('done').status({ phase: 'Succeeded' }).build());
    t.clock.advance(0);
    assert.equal(t.host.written.length, 0);
    // The adopted run keeps its start time: it exits 5 s after 23:59:58, i.e. 3 s from now.
    t.clock.advance(3000);
    const st = t.host.last('running')!;
    assert.equal(st.phase, 'Succeeded');
    assert.equal(st.podIP, '100.64.0.77');
    assert.equal(st.containerStatuses?.[0]?.restartCount, 2);
  });

  it('treats a new uid under the same name as a new pod', () => {
    const t = setup();
    t.put(simPod('x').build());
    t.clock.advance(0);
    const again = simPod('x').uid('uid-x2').build();
    t.put(again);
    t.clock.advance(0);
    assert.deepEqual(t.host.removed, ['uid-x']);
    assert.equal(t.host.written.length, 2);
    assert.equal(t.sim.stats().pods, 1);
  });
});
