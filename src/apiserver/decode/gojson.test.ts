import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goJsonSyntaxError, summarizeBody } from './gojson.ts';

describe("goJsonSyntaxError: encoding/json's wording", () => {
  const cases: [string, string | undefined][] = [
    ['{"a":1}', undefined],
    [' [1, -2.5e+3, "x\\u00e9", true, false, null, {}] ', undefined],
    ['', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{"apiVersion":"v1"', 'unexpected end of JSON input'],
    ['{"a":"x', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{"a":}', "invalid character '}' looking for beginning of value"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['{"a":1}}', "invalid character '}' after top-level value"],
    ['{"a":1}\n{"b":2}', "invalid character '{' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.e5', "invalid character 'e' after decimal point in numeric literal"],
    ['1e+x', "invalid character 'x' in exponent of numeric literal"],
    ['tru', 'unexpected end of JSON input'],
    ['trve', "invalid character 'v' in literal true (expecting 'u')"],
    ['nul!', "invalid character '!' in literal null (expecting 'l')"],
    ['"a\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['"a\u0001"', "invalid character '\\x01' in string literal"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":NaN}', "invalid character 'N' looking for beginning of value"],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.equal(goJsonSyntaxError(Buffer.from(input)), want));
  }
  it('does not recurse on deep nesting', () => {
    assert.equal(goJsonSyntaxError(Buffer.from('['.repeat(1_000_000))), 'unexpected end of JSON input');
  });
});

describe('summarizeBody (summarizeData)', () => {
  const cases: [string, string][] = [
    ['', '<empty>'],
    ['{"kind":"Pod"}', '{"kind":"Pod"}'],
    ['{"apiVersion":"v1","kind":"Namespace","metadata":{}}', '{"apiVersion":"v1","kind":"Nam ...'],
    ['[1]', '5b315d'],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.equal(summarizeBody(Buffer.from(input)), want));
});
