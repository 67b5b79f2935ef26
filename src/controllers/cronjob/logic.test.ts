// The CronJob controller's schedule arithmetic on fixed times: due runs, missed runs, the
// starting deadline, when to look again, job names and scheduled-timestamp annotations.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob } from '../../api/types.ts';
import { parseSchedule, type Schedule } from '../../api/cron/schedule.ts';
import * as L from './logic.ts';

const at = (iso: string) => Date.parse(iso);
const sched = (s: string, tz?: string): Schedule => {
  const p = parseSchedule(s, tz);
  if ('error' in p) throw new Error(p.error);
  return p.schedule;
};
const cj = (created: string, last?: string, sds?: number): CronJob => ({
  metadata: { name: 'c', creationTimestamp: created },
  spec: { schedule: '', jobTemplate: {}, ...(sds != null ? { startingDeadlineSeconds: sds } : {}) },
  status: last ? { lastScheduleTime: last } : {},
});

describe('next schedule time', () => {
  test('the most recent due time since the last run or creation', () => {
    const table: Array<{ what: string; c: CronJob; s: string; now: string; want?: string; many?: boolean }> = [
      { what: 'nothing due yet', c: cj('2026-01-01T00:00:10Z'), s: '* * * * *', now: '2026-01-01T00:00:50Z' },
      { what: 'one due', c: cj('2026-01-01T00:00:10Z'), s: '* * * * *', now: '2026-01-01T00:01:05Z', want: '2026-01-01T00:01:00Z' },
      { what: 'several missed: the latest', c: cj('2026-01-01T00:00:10Z'), s: '* * * * *', now: '2026-01-01T00:05:30Z', want: '2026-01-01T00:05:00Z' },
      { what: 'after the last run', c: cj('2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z'), s: '*/5 * * * *', now: '2026-01-01T00:09:59Z' },
      { what: 'hourly', c: cj('2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'), s: '@hourly', now: '2026-01-01T03:30:00Z', want: '2026-01-01T03:00:00Z' },
      { what: 'too many missed', c: cj('2026-01-01T00:00:00Z'), s: '* * * * *', now: '2026-01-01T03:00:30Z', want: '2026-01-01T03:00:00Z', many: true },
      { what: 'starting deadline hides old misses', c: cj('2026-01-01T00:00:00Z'), s: '* * * * *', now: '2026-01-01T03:00:30Z', want: '2026-01-01T03:00:00Z', many: false },
      { what: 'in a time zone', c: cj('2026-06-01T00:00:00Z'), s: '0 9 * * *', now: '2026-06-01T07:00:30Z', want: '2026-06-01T07:00:00Z' },
    ];
    for (const c of table) {
      if (c.what === 'starting deadline hides old misses') c.c.spec!.startingDeadlineSeconds = 120;
      const r = L.nextScheduleTime(c.c, at(c.now), sched(c.s, c.what === 'in a time zone' ? 'Europe/Paris' : undefined));
      assert.equal(r.time === undefined ? undefined : new Date(r.time).toISOString().replace('.000Z', 'Z'), c.want, c.what);
      if (c.many !== undefined) assert.equal(r.tooManyMissed, c.many, c.what);
    }
  });

  test('an impossible date is an error, not a loop', () => {
    const r = L.nextScheduleTime(cj('2026-01-01T00:00:00Z'), at('2030-01-01T00:00:00Z'), sched('0 0 31 2 *'));
    assert.equal(r.time, undefined);
  });

  test('requeue lands 100 ms after the next scheduled time', () => {
    const table: Array<{ c: CronJob; s: string; now: string; want: number }> = [
      { c: cj('2026-01-01T00:00:10Z'), s: '* * * * *', now: '2026-01-01T00:00:20Z', want: 40_100 },
      { c: cj('2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z'), s: '*/5 * * * *', now: '2026-01-01T00:06:00Z', want: 240_100 },
      { c: cj('2026-01-01T00:00:00Z'), s: '* * * * *', now: '2026-01-01T00:10:30Z', want: 30_100 },
    ];
    for (const c of table) assert.equal(L.requeueAfter(c.c, at(c.now), sched(c.s)), c.want, JSON.stringify(c));
  });
});

describe('job names and annotations', () => {
  test('name is minutes since the epoch', () => {
    assert.equal(L.jobName('hello', at('2026-01-01T00:01:00Z')), `hello-${at('2026-01-01T00:01:00Z') / 60_000}`);
  });

  test('scheduled timestamp in the CronJob time zone, as Go formats RFC 3339', () => {
    const table: Array<[string | undefined, string]> = [
      [undefined, '2026-06-01T07:00:00Z'],
      ['UTC', '2026-06-01T07:00:00Z'],
      ['Europe/Paris', '2026-06-01T09:00:00+02:00'],
      ['America/New_York', '2026-06-01T03:00:00-04:00'],
      ['Asia/Kolkata', '2026-06-01T12:30:00+05:30'],
    ];
    for (const [tz, want] of table) assert.equal(L.rfc3339InZone(at('2026-06-01T07:00:00Z'), tz), want, tz);
    assert.equal(L.rfc1123z(at('2026-01-02T03:04:05Z')), 'Fri, 02 Jan 2026 03:04:05 +0000');
  });
});
