import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNodePassword, NodePasswordRejectedError } from './bootstrap.ts';
import { ClientConfigError } from './errors.ts';

test('the node password: made once (random, 0600), then read back; concurrent starts agree; an empty file is an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-nodepw-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent', 'node-password');
  const [a, b] = await Promise.all([ensureNodePassword(file), ensureNodePassword(file)]);
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.equal(b, a);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(await ensureNodePassword(file), a);
  assert.notEqual(await ensureNodePassword(join(dir, 'other', 'node-password')), a);
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  await assert.rejects(ensureNodePassword(empty), ClientConfigError);
});

test('a refused join says which node and what to do', () => {
  const e = new NodePasswordRejectedError('n1', '/var/lib/tinykube/agent/node-password', 'Node password rejected');
  assert.equal(e.code, 'ERR_NODE_PASSWORD_REJECTED');
  assert.match(e.message, /^node "n1": the server refused this machine's join \(Node password rejected\)/);
  assert.match(e.message, /\/var\/lib\/tinykube\/agent\/node-password/);
  assert.match(e.message, /`kubectl delete node n1`/);
  assert.match(e.message, /another --name/);
});
