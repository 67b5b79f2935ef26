import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, parseTime, timestampSince } from './duration.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

describe('humanDuration (apimachinery HumanDuration)', () => {
  const cases: Array<[number, string]> = [
    [-3 * S, '<invalid>'],
    [-2 * S, '<invalid>'],
    [-1999, '0s'], // clock skew under 2 s is "now"
    [-1 * S, '0s'],
    [-500, '0s'],
    [0, '0s'],
    [999, '0s'],
    [6 * S, '6s'],
    [59 * S + 999, '59s'],
    [60 * S, '60s'],
    [119 * S + 999, '119s'],
    [2 * M, '2m'],
    [2 * M + 3 * S, '2m3s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M, '10m'],
    [10 * M + 59 * S, '10m'],
    [179 * M + 59 * S, '179m'],
    [3 * H, '3h'],
    [3 * H + 5 * M, '3h5m'],
    [7 * H + 59 * M + 59 * S, '7h59m'],
    [8 * H, '8h'],
    [8 * H + 30 * M, '8h'],
    [47 * H + 59 * M, '47h'],
    [2 * D, '2d'],
    [2 * D + 3 * H, '2d3h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D, '8d'],
    [8 * D + 23 * H, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [2 * Y + 45 * D, '2y45d'],
    [7 * Y + 364 * D, '7y364d'],
    [8 * Y, '8y'],
    [8 * Y + 100 * D, '8y'],
    [12 * Y, '12y'],
  ];
  for (const [ms, want] of cases) {
    it(`${ms} ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe('timestamps', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it('measures RFC 3339 and MicroTime values from now', () => {
    assert.equal(timestampSince('2026-01-01T11:57:57Z', now), '2m3s');
    assert.equal(timestampSince('2026-01-01T11:59:15.123456Z', now), '44s');
    assert.equal(timestampSince('2026-01-01T13:00:00+01:00', now), '0s');
  });
  it('prints <unknown> for missing, null, zero or unparseable times', () => {
    for (const ts of [undefined, null, '', '0001-01-01T00:00:00Z', 'yesterday', 42]) {
      assert.equal(timestampSince(ts, now), '<unknown>', String(ts));
    }
    assert.equal(parseTime('0001-01-01T00:00:00Z'), undefined);
  });
  it('shows a small future skew as 0s and a larger one as <invalid>', () => {
    assert.equal(timestampSince('2026-01-01T12:00:01Z', now), '0s');
    assert.equal(timestampSince('2026-01-01T12:00:05Z', now), '<invalid>');
  });
});
