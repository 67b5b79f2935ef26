import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseResolvConf, DEFAULT_RESOLV_CONF, nameservers, SYSTEMD_RESOLVED_UPSTREAMS } from './resolvconf.ts';

test('chooseResolvConf: the flag, else /etc/resolv.conf unless it names only loopback, else systemd-resolved upstreams, else a warning', () => {
  const resolved = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n';
  const upstreams = '# This is /run/systemd/resolve/resolv.conf\nnameserver 192.168.1.1\nnameserver fd00::1\n';
  const cases: [string, string | undefined, Record<string, string>, string, boolean][] = [
    ['the flag wins, unread', '/etc/k8s-resolv.conf', { [DEFAULT_RESOLV_CONF]: resolved }, '/etc/k8s-resolv.conf', false],
    ['a plain resolver', undefined, { [DEFAULT_RESOLV_CONF]: 'nameserver 10.255.255.53\n' }, DEFAULT_RESOLV_CONF, false],
    ['one real among loopback is enough', undefined, { [DEFAULT_RESOLV_CONF]: 'nameserver 127.0.0.1\nnameserver 10.0.0.2\n' }, DEFAULT_RESOLV_CONF, false],
    ['systemd-resolved stub', undefined, { [DEFAULT_RESOLV_CONF]: resolved, [SYSTEMD_RESOLVED_UPSTREAMS]: upstreams }, SYSTEMD_RESOLVED_UPSTREAMS, false],
    ['stub, no upstream file', undefined, { [DEFAULT_RESOLV_CONF]: resolved }, DEFAULT_RESOLV_CONF, true],
    ['stub, upstream file also loopback', undefined, { [DEFAULT_RESOLV_CONF]: 'nameserver ::1\n', [SYSTEMD_RESOLVED_UPSTREAMS]: 'nameserver 127.0.0.1\n' }, DEFAULT_RESOLV_CONF, true],
    ['nothing readable', undefined, {}, DEFAULT_RESOLV_CONF, true],
  ];
  for (const [name, flag, files, path, warns] of cases) {
    const got = chooseResolvConf(flag, (p) => files[p]);
    assert.equal(got.path, path, name);
    assert.equal(got.warning !== undefined, warns, `${name}: ${got.warning}`);
  }
  assert.match(chooseResolvConf(undefined, (p) => (p === DEFAULT_RESOLV_CONF ? resolved : undefined)).warning!, /names only loopback resolvers \(127\.0\.0\.53\).*--resolv-conf/);
});

test('nameservers: in order, comments and other lines skipped', () => {
  assert.deepEqual(nameservers('# nameserver 1.1.1.1\nsearch x\nnameserver 10.0.0.1\n  nameserver  ::1 \noptions ndots:5\n'), ['10.0.0.1', '::1']);
});
