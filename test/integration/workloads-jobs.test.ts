// Jobs end to end on simulated nodes: completions with a retried failure, an Indexed Job, the
// backoff limit, TTL cleanup, kubectl's create/wait/get for Jobs and CronJobs, and bad input.
// Pods exit by the simulator's annotations; one pod is told to fail by patching its exit code
// before it exits (the first pod the Job creates), so the single failure is deterministic.

import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Event, Job, Pod } from '../../src/api/types.ts';
import { ApiError } from '../../src/client/errors.ts';
import { CronJobs, Events, Jobs, Pods } from '../../src/client/resources.ts';
import { ANNOTATION_EXIT_AFTER, ANNOTATION_EXIT_CODE } from '../../src/kubelet/simulated/pods.ts';
import { CronJobController } from '../../src/controllers/cronjob/controller.ts';
import { MemoryEventSink } from '../../src/controllers/events.ts';
import { SharedInformers } from '../../src/controllers/informers.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { until } from '../../src/testing/until.ts';
import { startWorkloadCluster, type Watched, type WorkloadCluster } from './workloads-harness.ts';

const NS = 'default';
let c: WorkloadCluster;
let pods: Watched<Pod>;
let jobs: Watched<Job>;

before(async () => {
  // The cluster's own CronJob controller is off: the one under test runs on a FakeClock below.
  c = await startWorkloadCluster({ nodes: 2, controllerOptions: { job: { backoffBaseMs: 200, backoffMaxMs: 1000 }, cronJob: false } });
  pods = await c.watch<Pod>(Pods, NS);
  jobs = await c.watch<Job>(Jobs, NS);
});

after(async () => {
  await c?.close();
});

function jobManifest(name: string, spec: Partial<NonNullable<Job['spec']>>, annotations: Record<string, string>): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      ...spec,
      template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } },
    },
  };
}

const condition = (j: Job | undefined, type: string) => j?.status?.conditions?.find((x) => x.type === type && x.status === 'True');
const byName = (all: Job[], name: string) => all.find((j) => j.metadata?.name === name);
const podsOf = (name: string) => pods.items().filter((p) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === name);

describe('Job controller', () => {
  test('5 completions, parallelism 2, the first pod fails once: Complete with 5 succeeded and 1 failed', async () => {
    let failing: string | undefined;
    const stop = pods.informer.addEventHandler({
      onAdd: (p) => {
        if (failing || p.metadata?.labels?.['job-name'] !== 'five') return;
        failing = p.metadata.name;
        void c.client.patch(Pods, NS, failing!, 'merge', { metadata: { annotations: { [ANNOTATION_EXIT_CODE]: '1' } } });
      },
    });
    await c.client.create(Jobs, NS, jobManifest('five', { completions: 5, parallelism: 2 }, { [ANNOTATION_EXIT_AFTER]: '600ms' }));
    // At no moment more than 2 pods run at once.
    let maxActive = 0;
    const all = await jobs.until((js) => {
      maxActive = Math.max(maxActive, podsOf('five').filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length);
      return !!condition(byName(js, 'five'), 'Complete');
    }, 'job five complete', 30_000);
    stop();
    const job = byName(all, 'five')!;
    assert.equal(job.status?.succeeded, 5);
    assert.equal(job.status?.failed, 1);
    assert.equal(job.status?.active ?? 0, 0);
    assert.ok(condition(job, 'SuccessCriteriaMet'), 'SuccessCriteriaMet precedes Complete');
    assert.equal(condition(job, 'Complete')?.reason, 'CompletionsReached');
    assert.ok(job.status?.completionTime && job.status.startTime);
    assert.ok(maxActive <= 2, `at most 2 active pods, saw ${maxActive}`);
    // Every pod was released from the tracking finalizer.
    await pods.until(() => podsOf('five').every((p) => !(p.metadata?.finalizers ?? []).includes('batch.kubernetes.io/job-tracking')), 'finalizers removed');
    const describe = await c.kubectl(['describe', 'job', 'five']);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 5 Succeeded \/ 1 Failed/);
    const failedPod = podsOf('five').find((p) => p.metadata?.name === failing);
    assert.equal(failedPod?.status?.phase, 'Failed');
    const get = await c.kubectl(['get', 'jobs', 'five']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n/);
    assert.match(get.stdout, /five\s+Complete\s+5\/5\s+\S+\s+\S+/);
  });

  test('an Indexed Job runs indexes 0..3 with their annotation, label, hostname and JOB_COMPLETION_INDEX', async () => {
    await c.client.create(Jobs, NS, jobManifest('idx', { completions: 4, parallelism: 4, completionMode: 'Indexed' }, { [ANNOTATION_EXIT_AFTER]: '300ms' }));
    const all = await jobs.until((js) => !!condition(byName(js, 'idx'), 'Complete'), 'indexed job complete', 30_000);
    const job = byName(all, 'idx')!;
    assert.equal(job.status?.completedIndexes, '0-3');
    assert.equal(job.status?.succeeded, 4);
    const mine = podsOf('idx');
    const indexes = mine.map((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(indexes, ['0', '1', '2', '3']);
    for (const p of mine) {
      const ix = p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];
      assert.equal(p.metadata?.labels?.['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal(p.spec?.hostname, `idx-${ix}`);
      assert.ok(p.metadata?.name?.startsWith(`idx-${ix}-`), p.metadata?.name);
    }
    // The cache trims container env: read one pod whole.
    const full = await c.client.get<Pod>(Pods, NS, mine[0].metadata!.name!);
    const env = full.spec?.containers[0].env?.find((e) => e.name === 'JOB_COMPLETION_INDEX');
    assert.equal(env?.valueFrom?.fieldRef?.fieldPath, "metadata.labels['batch.kubernetes.io/job-completion-index']");
  });

  test('backoffLimitPerIndex with a FailIndex rule: failed indexes are not retried, the Job fails with FailedIndexes', async () => {
    const spec = {
      completions: 3,
      parallelism: 3,
      completionMode: 'Indexed',
      backoffLimitPerIndex: 2,
      podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [42] } }] },
    } as Partial<NonNullable<Job['spec']>>;
    await c.client.create(Jobs, NS, jobManifest('perindex', spec, { [ANNOTATION_EXIT_AFTER]: '200ms', [ANNOTATION_EXIT_CODE]: '42' }));
    const all = await jobs.until((js) => !!condition(byName(js, 'perindex'), 'Failed'), 'job perindex failed', 30_000);
    const job = byName(all, 'perindex')!;
    assert.deepEqual([condition(job, 'Failed')?.reason, condition(job, 'Failed')?.message], ['FailedIndexes', 'Job has failed indexes']);
    assert.equal(job.status?.failedIndexes, '0-2');
    assert.equal(job.status?.failed, 3);
    assert.equal(job.spec?.backoffLimit, 2147483647);
    assert.equal(podsOf('perindex').length, 3);
  });

  test('a Job over its backoffLimit ends Failed with BackoffLimitExceeded', async () => {
    await c.client.create(Jobs, NS, jobManifest('doomed', { backoffLimit: 1 }, { [ANNOTATION_EXIT_AFTER]: '200ms', [ANNOTATION_EXIT_CODE]: '3' }));
    const all = await jobs.until((js) => !!condition(byName(js, 'doomed'), 'Failed'), 'job doomed failed', 30_000);
    const job = byName(all, 'doomed')!;
    assert.equal(condition(job, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(condition(job, 'Failed')?.message, 'Job has reached the specified backoff limit');
    assert.equal(condition(job, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal(job.status?.failed, 2);
    assert.equal(job.status?.completionTime, undefined);
    const get = await c.kubectl(['get', 'job', 'doomed', '-o', 'wide']);
    assert.match(get.stdout, /doomed\s+Failed\s+0\/1\s+\S+\s+\S+\s+work\s+busybox\s+batch\.kubernetes\.io\/controller-uid=/);
  });

  test('events: SuccessfulCreate for each pod, BackoffLimitExceeded on failure, Completed on success', async () => {
    const reasons = async (name: string) => (await c.client.list<Event>(Events, NS)).items.filter((e) => e.involvedObject?.name === name && e.involvedObject.kind === 'Job').map((e) => `${e.type} ${e.reason}: ${e.message}`);
    await until('events of doomed', async () => (await reasons('doomed')).includes('Warning BackoffLimitExceeded: Job has reached the specified backoff limit'));
    assert.equal((await reasons('doomed')).filter((r) => r.startsWith('Normal SuccessfulCreate: Created pod: doomed-')).length, 2);
    await until('events of five', async () => (await reasons('five')).includes('Normal Completed: Job completed'));
  });

  test('activeDeadlineSeconds ends a Job that runs too long (DeadlineExceeded), its pods deleted', async () => {
    await c.client.create(Jobs, NS, jobManifest('slow', { activeDeadlineSeconds: 1, parallelism: 2, completions: 2 }, {}));
    const all = await jobs.until((js) => !!condition(byName(js, 'slow'), 'Failed'), 'job slow past its deadline', 30_000);
    const job = byName(all, 'slow')!;
    assert.deepEqual([condition(job, 'Failed')?.reason, condition(job, 'Failed')?.message], ['DeadlineExceeded', 'Job was active longer than specified deadline']);
    assert.equal(job.status?.failed, 2);
    await pods.until(() => podsOf('slow').length === 0, 'pods of slow gone', 30_000);
  });

  test('podFailurePolicy FailJob on an exit code fails the Job at once (PodFailurePolicy)', async () => {
    const j = jobManifest('policy', { backoffLimit: 6, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } }, { [ANNOTATION_EXIT_AFTER]: '200ms', [ANNOTATION_EXIT_CODE]: '42' });
    await c.client.create(Jobs, NS, j);
    const all = await jobs.until((js) => !!condition(byName(js, 'policy'), 'Failed'), 'job policy failed', 30_000);
    const job = byName(all, 'policy')!;
    assert.equal(condition(job, 'Failed')?.reason, 'PodFailurePolicy');
    assert.match(condition(job, 'Failed')?.message ?? '', /^Container work for pod default\/policy-\w+ failed with exit code 42 matching FailJob rule at index 0$/);
    assert.equal(job.status?.failed, 1);
  });

  test('suspend: no pods while suspended (Suspended condition), pods once resumed', async () => {
    await c.client.create(Jobs, NS, jobManifest('later', { suspend: true }, { [ANNOTATION_EXIT_AFTER]: '100ms' }));
    const all = await jobs.until((js) => !!condition(byName(js, 'later'), 'Suspended'), 'job later suspended');
    assert.equal(condition(byName(all, 'later'), 'Suspended')?.reason, 'JobSuspended');
    assert.equal(podsOf('later').length, 0);
    assert.equal(byName(all, 'later')?.status?.startTime, undefined);
    const get = await c.kubectl(['get', 'job', 'later']);
    assert.match(get.stdout, /later\s+Suspended\s+0\/1/);
    await c.client.patch(Jobs, NS, 'later', 'merge', { spec: { suspend: false } });
    const done = await jobs.until((js) => !!condition(byName(js, 'later'), 'Complete'), 'job later complete after resume', 30_000);
    const s = done.find((j) => j.metadata?.name === 'later')!.status!.conditions!.find((x) => x.type === 'Suspended');
    assert.deepEqual([s?.status, s?.reason], ['False', 'JobResumed']);
  });

  test('suspending a running Job deletes its pods without counting them as failed', async () => {
    await c.client.create(Jobs, NS, jobManifest('pause', { parallelism: 2, completions: 4, backoffLimit: 0 }, {}));
    await pods.until(() => podsOf('pause').filter((p) => p.status?.phase === 'Running').length === 2, 'two running pods of pause');
    await c.client.patch(Jobs, NS, 'pause', 'merge', { spec: { suspend: true } });
    await pods.until(() => podsOf('pause').length === 0, 'pods of pause deleted', 30_000);
    const all = await jobs.until((js) => !!condition(byName(js, 'pause'), 'Suspended') && byName(js, 'pause')?.status?.active === 0, 'pause suspended');
    const job = byName(all, 'pause')!;
    assert.equal(job.status?.failed ?? 0, 0);
    assert.equal(condition(job, 'Failed'), undefined);
    await c.client.delete(Jobs, NS, 'pause');
  });

  test('a running pod deleted by hand is counted as failed and replaced; deleting the Job removes its pods', async () => {
    await c.client.create(Jobs, NS, jobManifest('keep', { backoffLimit: 3 }, {}));
    await pods.until(() => podsOf('keep').some((p) => p.status?.phase === 'Running'), 'a running pod of keep');
    const [first] = podsOf('keep');
    await c.client.delete(Pods, NS, first.metadata!.name!);
    await jobs.until((js) => byName(js, 'keep')?.status?.failed === 1, 'the deleted pod counted as failed');
    await pods.until(() => podsOf('keep').some((p) => p.metadata?.name !== first.metadata?.name && p.status?.phase === 'Running'), 'a replacement pod');
    const del = await c.kubectl(['delete', 'job', 'keep']);
    assert.equal(del.code, 0, del.stderr);
    await pods.until(() => podsOf('keep').length === 0, 'pods of keep gone', 30_000);
  });

  test('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
    await c.client.create(Jobs, NS, jobManifest('brief', { ttlSecondsAfterFinished: 1 }, { [ANNOTATION_EXIT_AFTER]: '100ms' }));
    await jobs.until((js) => !!condition(byName(js, 'brief'), 'Complete'), 'job brief complete', 30_000);
    await jobs.until((js) => !byName(js, 'brief'), 'job brief deleted by its TTL', 30_000);
    await pods.until(() => podsOf('brief').length === 0, 'pods of brief deleted', 30_000);
  });

  test('kubectl create job and kubectl wait --for=condition=complete', async () => {
    const made = await c.kubectl(['create', 'job', 'hello', '--image=busybox', '--', 'true']);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout.trim(), 'job.batch/hello created');
    // kubectl's job has no exit annotation: tell its pod to exit.
    await pods.until(() => podsOf('hello').length > 0, 'pod of hello');
    const [pod] = podsOf('hello');
    await c.client.patch(Pods, NS, pod.metadata!.name!, 'merge', { metadata: { annotations: { [ANNOTATION_EXIT_AFTER]: '100ms' } } });
    const wait = await c.kubectl(['wait', '--for=condition=complete', 'job/hello', '--timeout=30s']);
    assert.equal(wait.code, 0, wait.stderr);
    assert.equal(wait.stdout.trim(), 'job.batch/hello condition met');
  });
});

describe('CronJobs through kubectl', () => {
  test('kubectl create cronjob, get cronjobs columns, create job --from=cronjob', async () => {
    const made = await c.kubectl(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date']);
    assert.equal(made.code, 0, made.stderr);
    const cj = await c.client.get<CronJob>(CronJobs, NS, 'tick');
    assert.deepEqual([cj.spec?.concurrencyPolicy, cj.spec?.suspend, cj.spec?.successfulJobsHistoryLimit, cj.spec?.failedJobsHistoryLimit], ['Allow', false, 3, 1]);
    const get = await c.kubectl(['get', 'cronjobs', '-o', 'wide']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    assert.match(get.stdout, /tick\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\S+\s+tick\s+busybox\s+<none>/);
    const fromCj = await c.kubectl(['create', 'job', 'manual', '--from=cronjob/tick']);
    assert.equal(fromCj.code, 0, fromCj.stderr);
    const job = await c.client.get<Job>(Jobs, NS, 'manual');
    assert.equal(job.metadata?.ownerReferences?.[0]?.kind, 'CronJob');
    assert.equal(job.metadata?.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(job.spec?.selector?.matchLabels?.['batch.kubernetes.io/controller-uid'], job.metadata?.uid);
  });

  test('bad input is a 422 naming the field with kube\'s message', async () => {
    const cases: Array<{ what: string; ref: typeof Jobs; body: Record<string, unknown>; message: RegExp }> = [
      {
        what: 'bad schedule',
        ref: CronJobs,
        body: { metadata: { name: 'bad-schedule' }, spec: { schedule: 'bad', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } },
        message: /spec\.schedule: Invalid value: "bad": expected exactly 5 fields, found 1: \[bad\]/,
      },
      {
        what: 'unknown time zone',
        ref: CronJobs,
        body: { metadata: { name: 'bad-tz' }, spec: { schedule: '@hourly', timeZone: 'Mars/Olympus', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } },
        message: /spec\.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/,
      },
      {
        what: 'TZ in the schedule',
        ref: CronJobs,
        body: { metadata: { name: 'tz-in-schedule' }, spec: { schedule: 'TZ=UTC 0 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } },
        message: /spec\.schedule: Invalid value: "TZ=UTC 0 \* \* \* \*": cannot use TZ or CRON_TZ in schedule, use timeZone field instead/,
      },
      {
        what: 'restartPolicy Always',
        ref: Jobs,
        body: { metadata: { name: 'always' }, spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'busybox' }] } } } },
        message: /spec\.template\.spec\.restartPolicy: Required value: valid values: "OnFailure", "Never"/,
      },
      {
        what: 'Indexed without completions',
        ref: Jobs,
        body: { metadata: { name: 'indexed' }, spec: { completionMode: 'Indexed', parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
        message: /spec\.completions: Required value: when completion mode is Indexed/,
      },
    ];
    for (const k of cases) {
      await assert.rejects(c.client.create(k.ref, NS, k.body as never), (err: unknown) => {
        assert.ok(err instanceof ApiError, k.what);
        assert.equal(err.code, 422, k.what);
        assert.match(err.message, k.message, k.what);
        return true;
      });
    }
    // The template of a Job is immutable; its selector too.
    const job = await c.client.get<Job>(Jobs, NS, 'five');
    const changed = structuredClone(job);
    changed.spec!.template.spec!.containers[0].image = 'other';
    await assert.rejects(c.client.update(Jobs, NS, changed), (err: unknown) => err instanceof ApiError && err.code === 422 && /spec\.template: Invalid value: .*field is immutable/.test(err.message));
    assert.deepEqual(c.controllerErrors.filter((e) => !(e instanceof ApiError && e.code === 409)), []);
  });
});

describe('CronJob controller on a FakeClock against the API server', () => {
  // Each test runs its own controller on a FakeClock starting at the server's (real) time, since the
  // API server stamps creationTimestamp with it.
  let clock: FakeClock;
  let sink: MemoryEventSink;
  let informers: SharedInformers;
  let ctl: CronJobController;
  beforeEach(() => {
    clock = new FakeClock(Date.now());
    sink = new MemoryEventSink();
    informers = new SharedInformers(c.client);
    ctl = new CronJobController({ client: c.client, informers, clock, events: sink });
    ctl.start();
  });
  afterEach(async () => {
    await ctl.stop();
    await informers.stop();
  });

  const cronJob = (name: string, spec: Partial<NonNullable<CronJob['spec']>>, exitAfter?: string): CronJob => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: NS },
    spec: {
      schedule: '* * * * *',
      ...spec,
      jobTemplate: { spec: { template: { metadata: { annotations: exitAfter ? { [ANNOTATION_EXIT_AFTER]: exitAfter } : {} }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
    },
  });
  // Each probe nudges fake time by 10 ms, so a retry the work queue scheduled on it (a conflict) runs.
  const settle = <T>(what: string, probe: () => T | undefined | false) =>
    until(what, () => {
      clock.advance(10);
      return probe();
    }, { timeoutMs: 20_000 });
  // The next minute's schedule comes due: fake time moves to one second past the next minute boundary. Advancing
  // by a plain 60 s from a start late in a minute let the settles' 10 ms nudges (hundreds under load) cross
  // the following boundary too, and an extra run came due within the same step.
  const nextMinute = () => clock.advance(Math.floor(clock.now() / 60_000) * 60_000 + 61_000 - clock.now());
  const jobsOf = (cj: string) => jobs.items().filter((j) => j.metadata?.ownerReferences?.[0]?.name === cj && !j.metadata?.deletionTimestamp);
  const eventsOf = (cj: string, reason: string) => sink.events.filter((e) => e.target.name === cj && e.reason === reason);
  const active = async (cj: string) => (await c.client.get<CronJob>(CronJobs, NS, cj)).status?.active ?? [];

  test('Forbid: one Job per due time, none while the last runs (JobAlreadyActive)', async () => {
    await c.client.create(CronJobs, NS, cronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    await settle('first sync of forbid', () => informers.resource(CronJobs).store.get(NS, 'forbid') !== undefined && clock.pendingTimers() > 0);
    nextMinute();
    const [job] = await settle('the first job of forbid', () => jobsOf('forbid').length === 1 && jobsOf('forbid'));
    const minute = Math.floor(Date.parse(job.metadata!.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']) / 60_000);
    assert.equal(job.metadata?.name, `forbid-${minute}`);
    assert.equal(job.metadata?.ownerReferences?.[0]?.kind, 'CronJob');
    await settle('forbid lists its job as active', async () => (await active('forbid')).length === 1);
    const cj = await c.client.get<CronJob>(CronJobs, NS, 'forbid');
    assert.equal(Date.parse(cj.status!.lastScheduleTime!), minute * 60_000);
    nextMinute();
    await settle('JobAlreadyActive', () => eventsOf('forbid', 'JobAlreadyActive').length > 0);
    assert.equal(jobsOf('forbid').length, 1);
    assert.deepEqual(eventsOf('forbid', 'SuccessfulCreate').map((e) => e.message), [`Created job forbid-${minute}`]);
    await c.client.delete(CronJobs, NS, 'forbid');
  });

  test('Replace: the running Job is deleted and the next one takes its place', async () => {
    await c.client.create(CronJobs, NS, cronJob('replace', { concurrencyPolicy: 'Replace' }));
    await settle('first sync of replace', () => informers.resource(CronJobs).store.get(NS, 'replace') !== undefined);
    nextMinute();
    const [first] = await settle('the first job of replace', () => jobsOf('replace').length === 1 && jobsOf('replace'));
    await settle('replace lists its job as active', async () => (await active('replace')).length === 1);
    nextMinute();
    const [second] = await settle('the first job replaced', () => {
      const js = jobsOf('replace');
      return js.length === 1 && js[0].metadata?.name !== first.metadata?.name && js;
    });
    await settle('only the second job active', async () => {
      const a = await active('replace');
      return a.length === 1 && a[0].name === second.metadata?.name;
    });
    assert.deepEqual(eventsOf('replace', 'SuccessfulDelete').map((e) => e.message), [`Deleted job ${first.metadata?.name}`]);
    assert.deepEqual(eventsOf('replace', 'UnexpectedJob'), []);
    await c.client.delete(CronJobs, NS, 'replace');
  });

  test('history limits: finished Jobs beyond successfulJobsHistoryLimit go; lastSuccessfulTime is set', async () => {
    await c.client.create(CronJobs, NS, cronJob('hist', { successfulJobsHistoryLimit: 2 }, '50ms'));
    await settle('first sync of hist', () => informers.resource(CronJobs).store.get(NS, 'hist') !== undefined);
    for (let run = 1; run <= 4; run++) {
      nextMinute();
      // Distinct jobs: a sync retried after a lost status write says SawCompletedJob again for the same job,
      // and counting events would let the loop move on before this run's job completed.
      await settle(`run ${run} of hist seen completed`, () => new Set(eventsOf('hist', 'SawCompletedJob').map((e) => e.message)).size >= run);
    }
    await settle('two finished jobs kept', () => jobsOf('hist').length === 2);
    const cj = await c.client.get<CronJob>(CronJobs, NS, 'hist');
    assert.ok(cj.status?.lastSuccessfulTime);
    // The deletions' events are written after the deletions themselves: await them, do not read once.
    assert.equal(new Set(eventsOf('hist', 'SuccessfulCreate').map((e) => e.message)).size, 4, 'one Job per step of the clock');
    await settle('two SuccessfulDelete events', () => new Set(eventsOf('hist', 'SuccessfulDelete').map((e) => e.message)).size >= 2);
    assert.equal(new Set(eventsOf('hist', 'SuccessfulDelete').map((e) => e.message)).size, 2);
    assert.match(eventsOf('hist', 'SawCompletedJob')[0].message, /^Saw completed job: hist-\d+, condition: Complete$/);
    await c.client.delete(CronJobs, NS, 'hist');
  });

  test('more than 100 missed start times: a TooManyMissedTimes warning, and the most recent one runs', async () => {
    await c.client.create(CronJobs, NS, cronJob('late', {}));
    const made = await c.client.get<CronJob>(CronJobs, NS, 'late');
    // As if the controller had been down for 200 minutes since its last run.
    const long = new Date(Math.floor(clock.now() / 60_000) * 60_000 - 200 * 60_000).toISOString().replace('.000Z', 'Z');
    await c.client.updateStatus(CronJobs, NS, { ...made, status: { lastScheduleTime: long } });
    await settle('TooManyMissedTimes', () => eventsOf('late', 'TooManyMissedTimes').length > 0);
    const [w] = eventsOf('late', 'TooManyMissedTimes');
    assert.equal(w.type, 'Warning');
    assert.equal(w.message, 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    const [job] = await settle('the most recent run started', () => jobsOf('late').length === 1 && jobsOf('late'));
    assert.equal(job.metadata?.name, `late-${Math.floor(clock.now() / 60_000)}`);
    await c.client.delete(CronJobs, NS, 'late');
  });
});
