import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODE } from './errors.ts';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where our codes are written: a class field (`readonly code = '...'`), a union of codes
 * (`| 'ERR_...'`), the first argument of a coded error's constructor. Comparisons are left out: they
 * also test system and Node codes (ENOENT, HPE_HEADER_OVERFLOW), and ours are typed unions anyway.
 */
const SITES = [/\bcode(?:\s*:\s*\w+)?\s*=\s*'([^']+)'/g, /^\s*\|\s*'([A-Z][A-Z0-9_]*)'/gm, /new \w+Error\('([A-Z][A-Z0-9_]*)'/g];

test('error codes: every code under src/ is ERR_<AREA>_<WHAT>', () => {
  const files = globSync('**/*.ts', { cwd: SRC }).filter((f) => !f.endsWith('.test.ts'));
  const seen: string[] = [];
  const bad: string[] = [];
  for (const f of files) {
    const text = readFileSync(path.join(SRC, f), 'utf8');
    for (const re of SITES) {
      for (const m of text.matchAll(re)) {
        seen.push(m[1]);
        if (!ERROR_CODE.test(m[1])) bad.push(`src/${f}: '${m[1]}'`);
      }
    }
  }
  assert.ok(seen.length > 30, `found only ${seen.length} codes: the patterns no longer match how codes are written`);
  assert.deepEqual(bad, [], 'codes outside the convention of src/util/errors.ts');
});

test('error codes: the shape', () => {
  const cases: Array<[string, boolean]> = [
    ['ERR_FIELD_SELECTOR_PARSE', true],
    ['ERR_PKI', true],
    ['TK_ERR_CIDR', false],
    ['TK_CRI_NOT_FOUND', false],
    ['WriteQueueFull', false],
    ['ERR_lower', false],
  ];
  for (const [code, want] of cases) assert.equal(ERROR_CODE.test(code), want, code);
});
