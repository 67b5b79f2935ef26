import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseListOptions, queryInt64 } from './listoptions.ts';
import { StatusError } from '../util/status.ts';

const q = (s: string) => new URLSearchParams(s);

function code(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err.code;
  }
}

describe('queryInt64', () => {
  const cases: [string, number | undefined | 400][] = [
    ['', undefined],
    ['limit=', undefined],
    ['limit=5', 5],
    ['limit=%2B5', 5],
    ['limit=+5', 400], // a form-encoded space, as Go's url.ParseQuery reads it
    ['limit=-5', -5],
    ['limit=9223372036854775807', 9223372036854775807],
    ['limit=9223372036854775808', 400],
    ['limit=99999999999999999999', 400],
    ['limit=1.5', 400],
    ['limit=1e3', 400],
    ['limit=0x10', 400],
    ['limit=%201', 400],
    ['limit=abc', 400],
    ['limit=abc&limit=1', 400],
    ['limit=1&limit=abc', 1],
  ];
  for (const [query, want] of cases) {
    it(`${JSON.stringify(query)} -> ${want}`, () => {
      if (want === 400) assert.equal(code(() => queryInt64(q(query), 'limit')), 400);
      else assert.equal(queryInt64(q(query), 'limit'), want);
    });
  }
  it('names the value as strconv does', () => {
    assert.throws(() => queryInt64(q('timeoutSeconds=x'), 'timeoutSeconds'), /strconv\.ParseInt: parsing "x": invalid syntax/);
  });
});

describe('parseListOptions', () => {
  const cases: [string, boolean, number][] = [
    ['limit=500&continue=abc', false, 0],
    ['resourceVersion=5&resourceVersionMatch=NotOlderThan', false, 0],
    ['resourceVersion=5&resourceVersionMatch=Exact', false, 0],
    ['resourceVersionMatch=Exact', false, 422],
    ['resourceVersion=0&resourceVersionMatch=Exact', false, 422],
    ['resourceVersion=5&resourceVersionMatch=exact', false, 422],
    ['resourceVersion=5&resourceVersionMatch=Exact&continue=x', false, 422],
    ['sendInitialEvents=true', false, 422],
    ['timeoutSeconds=abc', false, 400],
    ['resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=30', true, 0],
    ['resourceVersion=5&resourceVersionMatch=NotOlderThan', true, 422],
    ['sendInitialEvents=true&resourceVersionMatch=NotOlderThan', true, 422],
    ['sendInitialEvents=true', true, 422],
    ['limit=x', true, 400],
    ['continue=garbage', true, 0],
  ];
  for (const [query, watch, want] of cases) {
    it(`${watch ? 'watch' : 'list'} ${query} -> ${want || 'ok'}`, () => assert.equal(code(() => parseListOptions(q(query), watch)), want));
  }

  it('reads the values it accepts', () => {
    const o = parseListOptions(q('limit=-1&timeoutSeconds=30&allowWatchBookmarks=1&labelSelector=a%3Db&resourceVersion=7'), true);
    assert.deepEqual(o, {
      labelSelector: 'a=b',
      fieldSelector: null,
      limit: undefined,
      continue: undefined,
      resourceVersion: '7',
      resourceVersionMatch: undefined,
      timeoutSeconds: 30,
      allowWatchBookmarks: true,
    });
  });

  it('reports forbidden combinations as an Invalid ListOptions', () => {
    assert.throws(
      () => parseListOptions(q('resourceVersion=1&resourceVersionMatch=Exact'), true),
      (err: unknown) => err instanceof StatusError && err.code === 422 && /^ListOptions\.meta\.k8s\.io "" is invalid: .*resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided/.test(err.message),
    );
  });
});
