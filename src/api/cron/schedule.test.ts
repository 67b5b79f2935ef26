// Schedules as robfig/cron's ParseStandard judges them (kube-apiserver quotes its errors), and the
// times cron-parser computes for the valid ones.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKnownTimeZone, parseSchedule, scheduleError } from './schedule.ts';

test('schedule errors are robfig/cron\'s', () => {
  const table: Array<[string, string | undefined]> = [
    ['* * * * *', undefined],
    ['*/15 0-6,22 1 jan-mar MON-fri', undefined],
    ['@hourly', undefined],
    ['@every 90m', undefined],
    ['', 'empty spec string'],
    ['bad', 'expected exactly 5 fields, found 1: [bad]'],
    ['* * * * * *', 'expected exactly 5 fields, found 6: [* * * * * *]'],
    ['60 * * * *', 'end of range (60) above maximum (59): 60'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['@often', 'unrecognized descriptor: @often'],
  ];
  for (const [s, want] of table) assert.equal(scheduleError(s), want, s);
});

test('time zones', () => {
  assert.equal(isKnownTimeZone('Europe/Paris'), true);
  assert.equal(isKnownTimeZone('UTC'), true);
  assert.equal(isKnownTimeZone('Mars/Olympus'), false);
});

test('next activations', () => {
  const table: Array<{ s: string; tz?: string; after: string; want: string }> = [
    { s: '*/5 * * * *', after: '2026-01-01T00:00:00Z', want: '2026-01-01T00:05:00.000Z' },
    { s: '*/5 * * * *', after: '2026-01-01T00:04:59Z', want: '2026-01-01T00:05:00.000Z' },
    { s: '@daily', after: '2026-01-01T00:00:00Z', want: '2026-01-02T00:00:00.000Z' },
    { s: '@midnight', after: '2026-01-01T10:00:00Z', want: '2026-01-02T00:00:00.000Z' },
    { s: '0 9 * * *', tz: 'Europe/Paris', after: '2026-01-01T00:00:00Z', want: '2026-01-01T08:00:00.000Z' },
    { s: '0 0 * * 1', after: '2026-01-01T00:00:00Z', want: '2026-01-05T00:00:00.000Z' },
    { s: '@every 1h30m', after: '2026-01-01T00:00:00Z', want: '2026-01-01T01:30:00.000Z' },
  ];
  for (const c of table) {
    const p = parseSchedule(c.s, c.tz);
    assert.ok('schedule' in p, c.s);
    assert.equal(new Date(p.schedule.next(Date.parse(c.after))!).toISOString(), c.want, c.s);
  }
  assert.deepEqual(parseSchedule('* * * * *', 'Mars/Olympus'), { error: 'unknown time zone Mars/Olympus' });
});
