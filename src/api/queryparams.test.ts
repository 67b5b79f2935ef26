import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { queryBool, queryFlag } from './queryparams.ts';

describe('queryBool (apimachinery Convert_Slice_string_To_bool)', () => {
  const cases: [string, boolean | undefined][] = [
    ['', undefined],
    ['other=true', undefined],
    ['b=true', true],
    ['b=True', true], // the Python client's str(True)
    ['b=TRUE', true],
    ['b=1', true],
    ['b=yes', true],
    ['b=perhaps', true],
    ['b', true],
    ['b=', true],
    ['b=f', true], // unlike strconv.ParseBool, only "0" and "false" are false
    ['b=F', true],
    ['b=00', true],
    ['b=%20false', true],
    ['b=false', false],
    ['b=False', false],
    ['b=FALSE', false],
    ['b=0', false],
    ['b=false&b=true', false],
    ['b=true&b=false', true],
  ];
  for (const [query, want] of cases) {
    it(`${JSON.stringify(query)} -> ${want}`, () => {
      assert.equal(queryBool(new URLSearchParams(query), 'b'), want);
      assert.equal(queryFlag(new URLSearchParams(query), 'b'), want ?? false);
    });
  }
});
