// Timed requeues against a clock that moves while a sync is blocked on the API server. A controller that
// computed "look again in N ms" from a `now` read before its awaits had the timer counted from after
// them: the CronJob history test's FakeClock, advanced by the test under load during a sync, pushed the
// next run a whole minute late. Each test here holds one API call of a controller running on a FakeClock,
// moves the clock meanwhile, and awaits the requeue at the absolute time it was computed for.
//
// The held sync is the controller's first (a controller just started, as after a restart or a new
// leader) and writes nothing, so no watch event follows it to start a fresh sync that would mask a late
// timer. The cluster's own CronJob and disruption controllers are off: the ones under test own the objects.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CronJob, Job, Pod, PodDisruptionBudget, StatefulSet } from '../../src/api/types.ts';
import type { ApiClient, HasMetadata } from '../../src/client/client.ts';
import { CronJobs, Jobs, PodDisruptionBudgets, Pods, StatefulSets, type ResourceRef } from '../../src/client/resources.ts';
import { CronJobController } from '../../src/controllers/cronjob/controller.ts';
import { NEXT_SCHEDULE_DELTA_MS } from '../../src/controllers/cronjob/logic.ts';
import { DisruptionController } from '../../src/controllers/disruption/controller.ts';
import { DELETION_TIMEOUT_MS } from '../../src/controllers/disruption/budget.ts';
import { MemoryEventSink } from '../../src/controllers/events.ts';
import { SharedInformers } from '../../src/controllers/informers.ts';
import { until } from '../../src/testing/until.ts';
import { FakeClock, rfc3339 } from '../../src/util/clock.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

const NS = 'default';
let c: WorkloadCluster;
let pods: Watched<Pod>;

before(async () => {
  c = await startWorkloadCluster({ nodes: 1, controllerOptions: { cronJob: false, disruption: false } });
  pods = await c.watch<Pod>(Pods, NS);
});

after(async () => {
  await c?.close();
});

interface Hold {
  /** Resolves when the held call was made (and is waiting). */
  entered: Promise<void>;
  /** Lets the held call go to the API server. */
  release(): void;
}

/**
 * `client` for a controller, with one call (the first `match` picks after hold()) held before it is sent
 * until released. The methods run on the real client (its private state is not reachable through a proxy).
 */
function holdingClient(client: ApiClient): { client: ApiClient; hold(match: (method: string, args: readonly unknown[]) => boolean): Hold } {
  let armed: { match: (method: string, args: readonly unknown[]) => boolean; enter: () => void; gate: Promise<void> } | undefined;
  const proxy = new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const h = armed;
        if (h?.match(String(prop), args)) {
          armed = undefined;
          h.enter();
          return h.gate.then(() => method.apply(target, args));
        }
        return method.apply(target, args);
      };
    },
  });
  return {
    client: proxy,
    hold(match) {
      let enter!: () => void;
      let release!: () => void;
      const entered = new Promise<void>((r) => (enter = r));
      const gate = new Promise<void>((r) => (release = r));
      armed = { match, enter, gate };
      return { entered, release };
    },
  };
}

/**
 * Starts a controller's informers and awaits their first lists: KeyLoop starts the workers at once, and a
 * first sync on a partial cache (budgets listed, pods not yet) would write a status of its own.
 */
async function synced(informers: SharedInformers, ...refs: ResourceRef[]): Promise<void> {
  informers.pods();
  for (const r of refs) informers.resource(r);
  informers.start();
  await informers.waitForSync();
}

/** Awaits `probe`, nudging fake time by 1 ms per look (a conflict's retry is due after a few ms). */
const settle = <T>(clock: FakeClock, what: string, probe: () => T | undefined | false | Promise<T | undefined | false>) =>
  until(what, () => {
    clock.advance(1);
    return probe();
  }, { timeoutMs: 10_000 });

test('CronJob: the next run starts at its scheduled time although the clock moved 45 s while the sync awaited the API', async () => {
  const clock = new FakeClock(Date.now());
  // A Job of no CronJob, listed as the CronJob's active one: the sync reads it (uncached) and changes nothing.
  const standin = await c.client.create<Job & HasMetadata>(Jobs, NS, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'requeue-standin' },
    spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  const made = await c.client.create<CronJob & HasMetadata>(CronJobs, NS, {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'held' },
    spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
  });
  await c.client.updateStatus<CronJob & HasMetadata>(CronJobs, NS, { ...made, status: { active: [{ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name: 'requeue-standin', uid: standin.metadata?.uid }] } });

  const held = holdingClient(c.client);
  const hold = held.hold((method, args) => method === 'get' && args[0] === Jobs && args[2] === 'requeue-standin');
  const informers = new SharedInformers(c.client);
  const ctl = new CronJobController({ client: held.client, informers, clock, events: new MemoryEventSink() });
  try {
    informers.resource(CronJobs);
    informers.resource(Jobs);
    await synced(informers);
    ctl.start();
    await hold.entered;
    const decidedAt = clock.now();
    const scheduled = Math.floor(decidedAt / 60_000) * 60_000 + 60_000;
    clock.advance(45_000);
    hold.release();
    // Due at the scheduled minute; a delay counted from after the held read would come 45 s late.
    clock.advance(Math.max(0, scheduled + NEXT_SCHEDULE_DELTA_MS - clock.now()));
    const name = `held-${scheduled / 60_000}`;
    const ran = await settle(clock, `${name} started`, async () => (await c.client.list<Job>(Jobs, NS)).items.find((j) => j.metadata?.name === name));
    assert.equal(ran.metadata?.ownerReferences?.[0]?.name, 'held');
  } finally {
    await ctl.stop();
    await informers.stop();
    await c.client.delete(CronJobs, NS, 'held');
    await c.client.delete(Jobs, NS, 'requeue-standin');
  }
});

test('disruption: a recorded eviction whose pod stays expires on time although the clock moved 30 s while the sync awaited the owner\'s scale', async () => {
  const clock = new FakeClock(Date.now());
  const set: StatefulSet & HasMetadata = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'held-web' },
    spec: { serviceName: 'held-web', replicas: 1, selector: { matchLabels: { app: 'held-web' } }, template: { metadata: { labels: { app: 'held-web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  await c.client.create(StatefulSets, NS, set);
  await pods.until((all) => all.some((p) => p.metadata?.name === 'held-web-0' && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')), 'held-web-0 ready');
  const pdb = () => c.client.get<PodDisruptionBudget & HasMetadata>(PodDisruptionBudgets, NS, 'held-pdb');

  // A first controller brings the budget's status up to date with an eviction the API server recorded.
  const firstInformers = new SharedInformers(c.client);
  const first = new DisruptionController({ client: c.client, informers: firstInformers, clock, events: new MemoryEventSink() });
  let firstStopped: Promise<void> | undefined;
  const stopFirst = () => (firstStopped ??= first.stop().then(() => firstInformers.stop()));
  const sink = new MemoryEventSink();
  const held = holdingClient(c.client);
  const informers = new SharedInformers(c.client);
  const ctl = new DisruptionController({ client: held.client, informers, clock, events: sink });
  try {
    await synced(firstInformers, PodDisruptionBudgets);
    first.start();
    await c.client.create(PodDisruptionBudgets, NS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'held-pdb' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'held-web' } } } });
    const counted = await settle(clock, 'held-pdb counts its pod', async () => {
      const b = await pdb();
      return b.status?.observedGeneration === b.metadata?.generation && b.status?.currentHealthy === 1 && b;
    });
    const evictedAt = rfc3339(clock.now());
    await c.client.updateStatus(PodDisruptionBudgets, NS, { ...counted, status: { ...counted.status!, disruptionsAllowed: 0, disruptedPods: { 'held-web-0': evictedAt } } });
    await settle(clock, 'held-pdb counts the eviction', async () => (await pdb()).status?.currentHealthy === 0);
    await stopFirst();

    // The next controller's first sync reads the owner's scale; it is held while the clock moves.
    const hold = held.hold((method, args) => method === 'get' && (args[3] as { subresource?: string } | undefined)?.subresource === 'scale');
    await synced(informers, PodDisruptionBudgets);
    ctl.start();
    await hold.entered;
    clock.advance(30_000);
    hold.release();
    // Looked at again a second after the eviction's two minutes; a delay counted from after the held
    // read would come 30 s late.
    const due = Date.parse(evictedAt) + DELETION_TIMEOUT_MS + 1000;
    assert.ok(due > clock.now(), 'the eviction has not expired yet');
    clock.advance(due - clock.now());
    await settle(clock, 'the eviction forgotten', async () => Object.keys((await pdb()).status?.disruptedPods ?? {}).length === 0);
    assert.deepEqual(sink.events.filter((e) => e.reason === 'NotDeleted').map((e) => e.message), ['Pod was expected by PDB default/held-pdb to be deleted but it wasn\'t']);
  } finally {
    await stopFirst();
    await ctl.stop();
    await informers.stop();
    await c.client.delete(PodDisruptionBudgets, NS, 'held-pdb');
    await c.client.delete(StatefulSets, NS, 'held-web');
  }
});
