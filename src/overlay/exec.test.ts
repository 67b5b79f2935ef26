import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandExec } from './exec.ts';

test('CommandExec aims ip and bridge with -n, everything else with nsenter, nothing without a namespace', () => {
  const cases: Array<[string | undefined, string[], string[]]> = [
    ['n1', ['ip', '-j', 'route', 'show'], ['ip', '-n', 'n1', '-j', 'route', 'show']],
    ['n1', ['bridge', '-j', 'fdb', 'show'], ['bridge', '-n', 'n1', '-j', 'fdb', 'show']],
    ['n1', ['sysctl', '-qw', 'net.ipv4.ip_forward=1'], ['nsenter', '--net=/run/netns/n1', 'sysctl', '-qw', 'net.ipv4.ip_forward=1']],
    [undefined, ['ethtool', '-K', 'x'], ['ethtool', '-K', 'x']],
  ];
  for (const [netns, argv, want] of cases) assert.deepEqual(new CommandExec({ netns }).argvFor(argv), want);
});

test('CommandExec: a missing program and a failing one are values', async () => {
  const missing = await new CommandExec().run(['tinykube-no-such-program']);
  assert.equal(missing.missing, true);
  assert.equal(missing.code, 127);
  const failing = await new CommandExec().run(['sh', '-c', 'echo nope >&2; exit 3']);
  assert.deepEqual({ code: failing.code, stderr: failing.stderr, missing: failing.missing }, { code: 3, stderr: 'nope\n', missing: false });
});
