// The Job controller's decisions as tables: back-off, index notation, which pods count as failed,
// the pod failure policy, the restart-count backoff of OnFailure Jobs, the deadline, conditions.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, Pod } from '../../api/types.ts';
import * as L from './logic.ts';

const T0 = Date.UTC(2026, 0, 1);

const job = (spec: Partial<NonNullable<Job['spec']>> = {}, status: Job['status'] = {}): Job => ({ metadata: { name: 'j', namespace: 'ns' }, spec: { template: {}, ...spec }, status });

const pod = (o: { phase?: string; deleting?: boolean; exit?: number; container?: string; conditions?: Array<{ type: string; status: string }>; restarts?: number } = {}): Pod => ({
  metadata: { name: 'p', namespace: 'ns', ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { containers: [{ name: 'c' }] },
  status: {
    phase: o.phase ?? 'Running',
    conditions: o.conditions as NonNullable<Pod['status']>['conditions'],
    containerStatuses: [{ name: o.container ?? 'c', ready: false, restartCount: o.restarts ?? 0, image: '', imageID: '', ...(o.exit !== undefined ? { state: { terminated: { exitCode: o.exit } } } : {}) }],
  },
});

describe('back-off of failed pods', () => {
  test('delays double from the base and stop at the cap', () => {
    const table: Array<[number, number]> = [[0, 0], [1, 10_000], [2, 20_000], [3, 40_000], [6, 320_000], [7, 360_000], [30, 360_000]];
    for (const [failures, want] of table) assert.equal(L.backoffDelay(failures), want, `${failures} failures`);
  });

  test('remaining time counts from the last failure', () => {
    const table: Array<{ rec?: L.BackoffRecord; now: number; want: number }> = [
      { now: T0, want: 0 },
      { rec: { failuresAfterLastSuccess: 0, lastFailureTime: T0 }, now: T0, want: 0 },
      { rec: { failuresAfterLastSuccess: 1, lastFailureTime: T0 }, now: T0 + 4_000, want: 6_000 },
      { rec: { failuresAfterLastSuccess: 2, lastFailureTime: T0 }, now: T0 + 4_000, want: 16_000 },
      { rec: { failuresAfterLastSuccess: 2, lastFailureTime: T0 }, now: T0 + 30_000, want: 0 },
    ];
    for (const c of table) assert.equal(L.remainingBackoff(c.rec, c.now), c.want, JSON.stringify(c));
  });

  test('a success resets the count, failures add up', () => {
    let r = L.nextBackoffRecord(undefined, 0, 1, T0);
    assert.deepEqual(r, { failuresAfterLastSuccess: 1, lastFailureTime: T0 });
    r = L.nextBackoffRecord(r, 0, 2, T0 + 1);
    assert.deepEqual(r, { failuresAfterLastSuccess: 3, lastFailureTime: T0 + 1 });
    r = L.nextBackoffRecord(r, 1, 0, T0 + 2);
    assert.equal(r.failuresAfterLastSuccess, 0);
  });
});

describe('completion indexes', () => {
  test('interval notation both ways', () => {
    const table: Array<[number[], string]> = [[[], ''], [[0], '0'], [[0, 1], '0-1'], [[3, 1, 2, 7, 9, 8], '1-3,7-9'], [[0, 2, 4], '0,2,4']];
    for (const [xs, s] of table) {
      assert.equal(L.formatIndexes(xs), s);
      assert.deepEqual([...L.parseIndexes(s)].sort((a, b) => a - b), [...new Set(xs)].sort((a, b) => a - b));
    }
    assert.deepEqual([...L.parseIndexes('0-9', 3)], [0, 1, 2]);
  });

  test('first pending indexes skip what is done or running', () => {
    assert.deepEqual(L.firstPendingIndexes(2, 5, new Set([0, 2])), [1, 3]);
    assert.deepEqual(L.firstPendingIndexes(5, 3, new Set([1])), [0, 2]);
    assert.deepEqual(L.firstPendingIndexes(1, 2, new Set([0, 1])), []);
  });
});

describe('failed pods', () => {
  test('a deleted pod counts as failed unless only failed pods are replaced', () => {
    const table: Array<{ what: string; p: Pod; j: Job; want: boolean }> = [
      { what: 'Failed', p: pod({ phase: 'Failed' }), j: job(), want: true },
      { what: 'Running', p: pod(), j: job(), want: false },
      { what: 'deleted while running', p: pod({ deleting: true }), j: job(), want: true },
      { what: 'deleted after success', p: pod({ phase: 'Succeeded', deleting: true }), j: job(), want: false },
      { what: 'deleted, podReplacementPolicy Failed', p: pod({ deleting: true }), j: job({ podReplacementPolicy: 'Failed' }), want: false },
    ];
    for (const c of table) assert.equal(L.isPodFailed(c.p, c.j), c.want, c.what);
  });

  test('pod failure policy: first matching rule wins', () => {
    const policy = {
      rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
        { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
      ],
    } as NonNullable<Job['spec']>['podFailurePolicy'];
    const table: Array<{ what: string; p: Pod; want: ReturnType<typeof L.matchPodFailurePolicy> }> = [
      { what: 'disrupted', p: pod({ phase: 'Failed', exit: 42, conditions: [{ type: 'DisruptionTarget', status: 'True' }] }), want: { action: 'Ignore' } },
      { what: 'exit 42', p: pod({ phase: 'Failed', exit: 42 }), want: { action: 'FailJob', message: 'Container c for pod ns/p failed with exit code 42 matching FailJob rule at index 1' } },
      { what: 'exit 42 in another container', p: pod({ phase: 'Failed', exit: 42, container: 'd' }), want: { action: 'Count' } },
      { what: 'exit 1', p: pod({ phase: 'Failed', exit: 1 }), want: undefined },
      { what: 'exit 0 never matches', p: pod({ phase: 'Failed', exit: 0 }), want: undefined },
    ];
    for (const c of table) assert.deepEqual(L.matchPodFailurePolicy(policy, c.p), c.want, c.what);
    assert.equal(L.matchPodFailurePolicy(undefined, pod({ phase: 'Failed', exit: 42 })), undefined);
  });

  test('OnFailure Jobs count container restarts against backoffLimit', () => {
    const table: Array<{ limit: number; restarts: number; policy: string; want: boolean }> = [
      { limit: 6, restarts: 5, policy: 'OnFailure', want: false },
      { limit: 6, restarts: 6, policy: 'OnFailure', want: true },
      { limit: 0, restarts: 1, policy: 'OnFailure', want: true },
      { limit: 0, restarts: 0, policy: 'OnFailure', want: false },
      { limit: 1, restarts: 9, policy: 'Never', want: false },
    ];
    for (const c of table) {
      const j = job({ backoffLimit: c.limit, template: { spec: { restartPolicy: c.policy, containers: [] } } });
      assert.equal(L.pastBackoffLimitOnFailure(j, [pod({ restarts: c.restarts })]), c.want, JSON.stringify(c));
    }
  });
});

describe('deadline and conditions', () => {
  test('activeDeadlineSeconds counts from startTime, not while suspended', () => {
    const start = '2026-01-01T00:00:00Z';
    assert.equal(L.deadlineRemaining(job({ activeDeadlineSeconds: 10 }, { startTime: start }), T0 + 4_000), 6_000);
    assert.equal(L.deadlineRemaining(job({ activeDeadlineSeconds: 10 }, { startTime: start }), T0 + 11_000), -1_000);
    assert.equal(L.deadlineRemaining(job({ activeDeadlineSeconds: 10, suspend: true }, { startTime: start }), T0 + 11_000), undefined);
    assert.equal(L.deadlineRemaining(job({}, { startTime: start }), T0), undefined);
  });

  test('conditions: added when True, changed only when their status changes', () => {
    assert.equal(L.withCondition(undefined, 'Suspended', 'False', 'JobResumed', 'Job resumed', T0), undefined);
    const added = L.withCondition(undefined, 'Suspended', 'True', 'JobSuspended', 'Job suspended', T0)!;
    assert.deepEqual(added, [{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }]);
    assert.equal(L.withCondition(added, 'Suspended', 'True', 'JobSuspended', 'Job suspended', T0 + 5_000), undefined);
    const resumed = L.withCondition(added, 'Suspended', 'False', 'JobResumed', 'Job resumed', T0 + 5_000)!;
    assert.deepEqual([resumed[0].status, resumed[0].reason, resumed[0].lastTransitionTime], ['False', 'JobResumed', '2026-01-01T00:00:05Z']);
    assert.deepEqual(L.finalConditionFor({ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'm' }), { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'm' });
    assert.deepEqual(L.finalConditionFor({ type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'm' }), { type: 'Complete', reason: 'CompletionsReached', message: 'm' });
  });
});
