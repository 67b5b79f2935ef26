import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, clusterDNSIP, DEFAULT_SERVICE_RANGES, formatIPv4, formatNodePortRange, IPv4Error, kubernetesServiceIP, nthAddress, parseIPv4, parseIPv4Cidr, parseNodePortRange } from './network.ts';

test('IPv4 addresses parse as Go netip does: dotted quads, no leading zeros', () => {
  const cases: [string, number | undefined][] = [
    ['10.43.0.1', 0x0a2b0001],
    ['255.255.255.255', 0xffffffff],
    ['0.0.0.0', 0],
    ['010.1.1.1', undefined],
    ['256.1.1.1', undefined],
    ['1.2.3', undefined],
    ['::1', undefined],
    [' 1.2.3.4', undefined],
  ];
  for (const [s, want] of cases) assert.equal(parseIPv4(s), want, s);
  assert.equal(formatIPv4(0x0a2b0001), '10.43.0.1');
});

test('CIDRs: network address, size, membership, well-known Service addresses', () => {
  const c = parseIPv4Cidr('10.43.7.9/16');
  assert.equal(formatIPv4(c.base), '10.43.0.0');
  assert.equal(c.size, 65536);
  assert.ok(cidrContains(c, parseIPv4('10.43.255.255') ?? 0));
  assert.ok(!cidrContains(c, parseIPv4('10.44.0.0') ?? 0));
  assert.throws(() => parseIPv4Cidr('10.43.0.0/33'), /invalid IPv4 CIDR/);
  assert.throws(() => parseIPv4Cidr('10.43.0.0'), /invalid IPv4 CIDR/);
  assert.equal(kubernetesServiceIP(), '10.43.0.1');
  assert.equal(clusterDNSIP(), '10.43.0.10');
  assert.equal(clusterDNSIP('10.96.0.0/12'), '10.96.0.10');
  assert.throws(() => nthAddress('10.0.0.0/30', 4), /no address number 4/);
});

test('node port ranges as kube-apiserver writes them', () => {
  assert.deepEqual(parseNodePortRange('30000-32767'), { base: 30000, size: 2768 });
  assert.deepEqual(parseNodePortRange('31000'), { base: 31000, size: 1 });
  assert.equal(formatNodePortRange(DEFAULT_SERVICE_RANGES.nodePorts), '30000-32767');
  for (const bad of ['', '0-10', '32767-30000', '30000-70000', 'a-b']) assert.throws(() => parseNodePortRange(bad), IPv4Error, bad);
});
