import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeName, hostsFile, pickPodCidr, renderConflist, splitRuleLine } from './cni.ts';

describe('pod network', () => {
  it('picks the same /24 of 10.244.0.0/16 for a name, and skips taken ones', () => {
    const a = pickPodCidr('node-a');
    assert.match(a, /^10\.244\.\d{1,3}\.0\/24$/);
    assert.equal(pickPodCidr('node-a'), a);
    const b = pickPodCidr('node-a', new Set([a]));
    assert.notEqual(b, a);
    assert.match(b, /^10\.244\.\d{1,3}\.0\/24$/);
  });

  it('names bridges uniquely per node within 15 characters', () => {
    assert.notEqual(bridgeName('a'), bridgeName('b'));
    assert.ok(bridgeName('a-very-long-node-name.example.com').length <= 15);
  });

  it('renders bridge + host-local over the podCIDR + portmap', () => {
    const c = JSON.parse(renderConflist({ name: 'tinykube', bridge: 'tkbr1', podCidr: '10.244.7.0/24', ipamDataDir: '/d/ipam' }));
    assert.deepEqual(c.plugins.map((p: { type: string }) => p.type), ['bridge', 'portmap']);
    assert.deepEqual(c.plugins[0].ipam.ranges, [[{ subnet: '10.244.7.0/24', gateway: '10.244.7.1' }]]);
    assert.equal(c.plugins[0].ipam.dataDir, '/d/ipam');
    assert.equal(c.plugins[0].bridge, 'tkbr1');
  });

  it('writes /etc/hosts with the pod IP and hostname', () => {
    const h = hostsFile(['10.244.7.5'], 'web', undefined, undefined, [{ ip: '1.2.3.4', hostnames: ['foo', 'bar'] }]);
    assert.match(h, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(h, /^10\.244\.7\.5\tweb$/m);
    assert.match(h, /^1\.2\.3\.4\tfoo\tbar$/m);
  });

  it('reads iptables-save rule lines word by word, quoted comments as one word', () => {
    const cases: [string, string[]][] = [
      ['-A POSTROUTING -s 10.244.3.0/24 ! -d 10.244.0.0/16 -m comment --comment "tinykube tkbr1" -j MASQUERADE', ['-A', 'POSTROUTING', '-s', '10.244.3.0/24', '!', '-d', '10.244.0.0/16', '-m', 'comment', '--comment', 'tinykube tkbr1', '-j', 'MASQUERADE']],
      ['-A X -m comment --comment "say \\"hi\\" \\\\ there" -j ACCEPT', ['-A', 'X', '-m', 'comment', '--comment', 'say "hi" \\ there', '-j', 'ACCEPT']],
      ['-A X -m comment --comment plain -j ACCEPT', ['-A', 'X', '-m', 'comment', '--comment', 'plain', '-j', 'ACCEPT']],
    ];
    for (const [line, words] of cases) assert.deepEqual(splitRuleLine(line), words, line);
  });
});
