// The node's pod masquerade rule (src/kubelet/network/cni.ts) against the real iptables, in network
// namespaces this test makes: added once however often the agent starts, an older agent's rule (which
// also masqueraded traffic to other nodes' pods) replaced, every copy removed on drain, and rules that
// are not ours left alone. The rule is checked as iptables-save prints it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureMasquerade, removeMasquerade } from '../../src/kubelet/network/cni.ts';
import { NetnsLab } from '../../src/proxy/testing/netns.ts';

const lab = new NetnsLab('mq');
after(() => lab.cleanup());

const RULE = '-A POSTROUTING -s 10.244.3.0/24 ! -d 10.244.0.0/16 -m comment --comment "tinykube tkbrtest" -j MASQUERADE';
const CURRENT = ['-s', '10.244.3.0/24', '!', '-d', '10.244.0.0/16', '-m', 'comment', '--comment', 'tinykube tkbrtest', '-j', 'MASQUERADE'];
const LEGACY = ['-s', '10.244.3.0/24', '!', '-d', '10.244.3.0/24', '-m', 'comment', '--comment', 'tinykube tkbrtest', '-j', 'MASQUERADE'];
const FOREIGN = ['-s', '10.9.0.0/16', '-j', 'MASQUERADE'];

async function postrouting(ns: string): Promise<string[]> {
  return (await lab.exec(ns, ['iptables-save', '-t', 'nat'])).split('\n').filter((l) => l.startsWith('-A POSTROUTING '));
}

describe('pod masquerade rule', () => {
  it('is added once, however often the agent starts', async () => {
    const ns = await lab.ns('once');
    await ensureMasquerade('10.244.3.0/24', 'tkbrtest', { netns: ns });
    await ensureMasquerade('10.244.3.0/24', 'tkbrtest', { netns: ns });
    assert.deepEqual(await postrouting(ns), [RULE]);
  });

  it('replaces an older agent\'s rule (every copy of it) and keeps rules that are not ours', async () => {
    const ns = await lab.ns('legacy');
    for (const rule of [FOREIGN, LEGACY, LEGACY]) await lab.exec(ns, ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', ...rule]);
    await ensureMasquerade('10.244.3.0/24', 'tkbrtest', { netns: ns });
    assert.deepEqual(await postrouting(ns), ['-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE', RULE]);
  });

  it('follows the cluster CIDR it is given', async () => {
    const ns = await lab.ns('cidr');
    await ensureMasquerade('10.244.3.0/24', 'tkbrtest', { netns: ns, clusterCidr: '10.240.0.0/12' });
    assert.deepEqual(await postrouting(ns), [RULE.replace('10.244.0.0/16', '10.240.0.0/12')]);
  });

  it('goes on drain with every copy and an older agent\'s, twice in a row without failing', async () => {
    const ns = await lab.ns('drain');
    await ensureMasquerade('10.244.3.0/24', 'tkbrtest', { netns: ns });
    // A second copy of ours (as an agent before the check-then-add could leave), an older one, a foreign one.
    for (const rule of [FOREIGN, LEGACY, CURRENT]) await lab.exec(ns, ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', ...rule]);
    assert.equal((await postrouting(ns)).length, 4);
    await removeMasquerade('10.244.3.0/24', 'tkbrtest', { netns: ns });
    assert.deepEqual(await postrouting(ns), ['-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE']);
    await removeMasquerade('10.244.3.0/24', 'tkbrtest', { netns: ns });
    assert.deepEqual(await postrouting(ns), ['-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE']);
  });
});
