// The CronJob controller's schedule arithmetic (kube-controller-manager's cronjob controller v2,
// pkg/controller/cronjob/utils.go): which scheduled time is due, how many were missed, when to look
// again, the Job's deterministic name and its scheduled-timestamp annotation. Pure; `now` is given.

import type { CronJob } from '../../api/types.ts';
import type { Schedule } from '../../api/cron/schedule.ts';

/** Requeues land this long after the scheduled time, for clock skew (nextScheduleDelta). */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** More missed start times than this raise the TooManyMissedTimes warning. */
export const MANY_MISSED = 100;
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export type Missed = 'none' | 'few' | 'many';

export interface MostRecent {
  earliest: number;
  /** The latest scheduled time at or before now, after `earliest`; undefined when none. */
  mostRecent?: number;
  missed: Missed;
  /** The schedule never fires twice a second apart (e.g. "59 23 31 2 *"). */
  error?: string;
}

/** mostRecentScheduleTime. */
export function mostRecentScheduleTime(cj: CronJob, now: number, sched: Schedule, includeStartingDeadline: boolean): MostRecent {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? '');
  if (Number.isNaN(earliest)) earliest = now;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && sds != null) earliest = Math.max(earliest, now - sds * 1000);
  const t1 = sched.next(earliest);
  if (t1 === undefined || now < t1) return { earliest, missed: 'none' };
  const t2 = sched.next(t1);
  if (t2 === undefined || now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.trunc((now - t1) / 1000);
  const missedCount = Math.trunc(elapsed / between) + 1;
  // Jump close to now by the interval, then let the schedule find the exact times (as kube does).
  let t = sched.next(t1 + (missedCount - 2) * between * 1000);
  let mostRecent: number | undefined;
  while (t !== undefined && t <= now) {
    mostRecent = t;
    t = sched.next(t);
  }
  const missed: Missed = missedCount > MANY_MISSED ? 'many' : 'few';
  return mostRecent === undefined ? { earliest, missed } : { earliest, mostRecent, missed };
}

/** nextScheduleTime: the due time to start now (honouring startingDeadlineSeconds), if any. */
export function nextScheduleTime(cj: CronJob, now: number, sched: Schedule): { time?: number; tooManyMissed: boolean; error?: string } {
  const r = mostRecentScheduleTime(cj, now, sched, true);
  if (r.mostRecent === undefined || r.mostRecent > now) return { tooManyMissed: false, error: r.error };
  return { time: r.mostRecent, tooManyMissed: r.missed === 'many', error: r.error };
}

/** nextScheduleTimeDuration: how long until the controller should look again (ms). */
export function requeueAfter(cj: CronJob, now: number, sched: Schedule): number {
  const r = mostRecentScheduleTime(cj, now, sched, false);
  let from: number;
  if (r.error) from = now;
  else if (r.mostRecent === undefined) from = r.missed === 'none' ? r.earliest : now;
  else from = r.mostRecent;
  const next = sched.next(from) ?? now + 60_000;
  return next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** getJobName: `<cronjob>-<scheduled time in minutes since the epoch>`. */
export function jobName(cronJobName: string, scheduled: number): string {
  return `${cronJobName}-${Math.floor(scheduled / 60_000)}`;
}

/** Go's time.Format(time.RFC3339) of `ms` in `tz`: `2026-01-01T09:00:00+01:00`, `Z` in UTC. */
export function rfc3339InZone(ms: number, tz: string | undefined): string {
  const zone = tz || 'UTC';
  const secs = Math.floor(ms / 1000) * 1000;
  if (zone === 'UTC') return new Date(secs).toISOString().replace('.000Z', 'Z');
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(secs))
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offMin = Math.round((local - secs) / 60_000);
  const wall = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  if (offMin === 0) return `${wall}Z`;
  const sign = offMin < 0 ? '-' : '+';
  const a = Math.abs(offMin);
  return `${wall}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Go's time.RFC1123Z in UTC (the MissSchedule event): `Mon, 02 Jan 2006 15:04:05 +0000`. */
export function rfc1123z(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
