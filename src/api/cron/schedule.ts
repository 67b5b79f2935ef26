// CronJob schedules. Kubernetes parses them with robfig/cron's ParseStandard (five fields, the
// @yearly-style descriptors and @every); a schedule it refuses is refused here with robfig's own error
// text, because kube-apiserver puts that text in its 422 (`spec.schedule: Invalid value: "bad":
// expected exactly 5 fields, found 1: [bad]`). The times a valid schedule fires are computed by
// cron-parser in the CronJob's time zone (DST included). Pure.

import { CronExpressionParser } from 'cron-parser';

export interface Schedule {
  /** The first activation strictly after `after` (epoch ms), or undefined when there is none. */
  next(after: number): number | undefined;
}

export type ParsedSchedule = { schedule: Schedule } | { error: string };

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: readonly Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
];

/** robfig's descriptors, as five-field expressions. */
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Go's strconv.Atoi error text inside robfig's "failed to parse int from" message. */
function parseUint(expr: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(expr)) return `failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`;
  const n = Number.parseInt(expr, 10);
  if (!Number.isSafeInteger(n)) return `failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: value out of range`;
  if (n < 0) return `negative number (${n}) not allowed: ${expr}`;
  return n;
}

function parseIntOrName(expr: string, names: Record<string, number> | undefined): number | string {
  const named = names?.[expr.toLowerCase()];
  return named ?? parseUint(expr);
}

/** robfig's getRange: the error of one comma-separated part of a field, or undefined. */
function rangeError(expr: string, r: Bounds): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
  } else {
    const s = parseIntOrName(lowAndHigh[0], r.names);
    if (typeof s === 'string') return s;
    start = s;
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) {
      const e = parseIntOrName(lowAndHigh[1], r.names);
      if (typeof e === 'string') return e;
      end = e;
    } else return `too many hyphens: ${expr}`;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const s = parseUint(rangeAndStep[1]);
    if (typeof s === 'string') return s;
    step = s;
    if (lowAndHigh.length === 1) end = r.max;
  } else if (rangeAndStep.length > 2) return `too many slashes: ${expr}`;
  if (start < r.min) return `beginning of range (${start}) below minimum (${r.min}): ${expr}`;
  if (end > r.max) return `end of range (${end}) above maximum (${r.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

/** Go's time.ParseDuration, for `@every` (the units robfig accepts through it). */
function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (s === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number.parseFloat(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return pos > 0 ? total : undefined;
}

/** The schedule's validation error as robfig/cron ParseStandard words it, or undefined when valid. */
export function scheduleError(spec: string): string | undefined {
  if (spec.length === 0) return 'empty spec string';
  let rest = spec;
  // robfig reads a leading TZ=/CRON_TZ= itself (kube refuses it separately, see validation).
  if (rest.startsWith('TZ=') || rest.startsWith('CRON_TZ=')) {
    const i = rest.indexOf(' ');
    const loc = rest.slice(rest.indexOf('=') + 1, i < 0 ? undefined : i);
    if (!isKnownTimeZone(loc)) return `provided bad location ${loc}: unknown time zone ${loc}`;
    rest = i < 0 ? '' : rest.slice(i).trim();
  }
  if (rest.startsWith('@')) {
    if (DESCRIPTORS[rest]) return undefined;
    if (rest.startsWith('@every ')) {
      const d = rest.slice('@every '.length);
      return parseGoDuration(d) === undefined ? `failed to parse duration ${rest}: time: invalid duration ${JSON.stringify(d)}` : undefined;
    }
    return `unrecognized descriptor: ${rest}`;
  }
  const fields = rest.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i].split(',')) {
      const err = rangeError(part, FIELDS[i]);
      if (err) return err;
    }
  }
  return undefined;
}

/** Whether the runtime knows an IANA time zone name (Go's time.LoadLocation; "UTC" always). */
export function isKnownTimeZone(tz: string): boolean {
  if (tz === '' || tz === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A schedule in `timeZone` (UTC when absent, as tinykube's controller runs in UTC). Callers pass a
 * schedule that validated; an error here means the time zone became unknown (kube's UnknownTimeZone)
 * or the schedule was stored by something that skipped validation.
 */
export function parseSchedule(spec: string, timeZone?: string): ParsedSchedule {
  const err = scheduleError(spec);
  if (err) return { error: err };
  let expr = spec.trim();
  let tz = timeZone ?? 'UTC';
  if (expr.startsWith('TZ=') || expr.startsWith('CRON_TZ=')) {
    const i = expr.indexOf(' ');
    tz = expr.slice(expr.indexOf('=') + 1, i);
    expr = expr.slice(i).trim();
  }
  if (!isKnownTimeZone(tz)) return { error: `unknown time zone ${tz}` };
  if (expr.startsWith('@every ')) {
    // robfig's ConstantDelaySchedule: at least a second, whole seconds, from the previous time.
    const ms = Math.max(1000, Math.floor((parseGoDuration(expr.slice('@every '.length)) ?? 0) / 1000) * 1000);
    return { schedule: { next: (after) => Math.floor(after / 1000) * 1000 + ms } };
  }
  const fields = DESCRIPTORS[expr] ?? expr;
  // robfig: day-of-month and day-of-week are ANDed when either starts with * or ?, ORed otherwise;
  // cron-parser follows classic cron (ORed when both are restricted), which is the same rule.
  const cron = `0 ${fields}`;
  return {
    schedule: {
      next(after) {
        try {
          // cron-parser's next() is strictly after currentDate at second precision.
          const it = CronExpressionParser.parse(cron, { currentDate: new Date(Math.floor(after / 1000) * 1000), tz });
          return it.next().getTime();
        } catch {
          return undefined;
        }
      },
    },
  };
}
