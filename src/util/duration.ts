// Go-style durations, as Kubernetes flags take them (`--event-ttl=1h0m0s`, `500ms`, `1m30s`).

export class DurationError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go-style duration (`250ms`, `5s`, `1m30s`, `0`) in milliseconds; a bare number is seconds. */
export function parseDurationMs(text: string, what = 'duration'): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) throw new DurationError(`${what}: ${JSON.stringify(text)} is not a duration (like 500ms, 5s, 1m)`);
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0) throw new DurationError(`${what}: empty duration`);
  return total;
}
