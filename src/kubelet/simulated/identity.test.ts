import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatedNodePassword } from './identity.ts';

test('a simulated node password is the same for one token and name, and another for any other', () => {
  const token = 'K10' + 'a'.repeat(64) + '::node:secret';
  const p = simulatedNodePassword(token, 'sim-0');
  assert.match(p, /^[0-9a-f]{64}$/);
  assert.equal(simulatedNodePassword(token, 'sim-0'), p, 'a rerun joins as the same node');
  assert.notEqual(simulatedNodePassword(token, 'sim-1'), p);
  assert.notEqual(simulatedNodePassword(token.replace('secret', 'other'), 'sim-0'), p, 'another cluster, another password');
  assert.ok(!p.includes('secret'));
});
