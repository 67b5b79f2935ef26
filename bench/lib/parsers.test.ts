import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContainerdLog, logTime } from './containerd-log.ts';
import { splitRule } from './podman.ts';

const SB = '892a22ad837547228a933724a5e1bb1b9aa0a032ffaf997b9c027359650d82e1';
const CID = 'dc62fe71f04da2a44b57f9738155ef4e1666eda04e9b199ab8c4d2efec227b53';
const line = (t: string, msg: string) => `time="2026-11-24T04:05:${t}Z" level=info msg="${msg}"`;
const log = [
  line('27.819256565', 'RunPodSandbox for &PodSandboxMetadata{Name:p,Uid:uid1,Namespace:default,Attempt:0,}'),
  line('27.900000000', 'some other message'),
  line('27.937681708', `RunPodSandbox for &PodSandboxMetadata{Name:p,Uid:uid1,Namespace:default,Attempt:0,} returns sandbox id \\"${SB}\\"`),
  line('27.942014557', `CreateContainer within sandbox \\"${SB}\\" for container &ContainerMetadata{Name:c,Attempt:0,}`),
  line('27.960047951', `CreateContainer within sandbox \\"${SB}\\" for &ContainerMetadata{Name:c,Attempt:0,} returns container id \\"${CID}\\"`),
  line('27.961979845', `StartContainer for \\"${CID}\\"`),
  line('28.018564178', `StartContainer for \\"${CID}\\" returns successfully`),
  line('28.1', 'RunPodSandbox for &PodSandboxMetadata{Name:q,Uid:uid2,Namespace:default,Attempt:0,}'),
].join('\n');

describe('containerd log', () => {
  it('keeps sub-millisecond precision', () => {
    const a = logTime(line('27.819256565', 'x'))!;
    const b = logTime(line('27.819756565', 'x'))!;
    assert.ok(Math.abs(b - a - 0.5) < 1e-3, `${b - a}`);
    assert.equal(logTime('not a log line'), undefined);
  });

  it('finds the three CRI calls of a pod by its UID', () => {
    const calls = new ContainerdLog(log).pod('uid1');
    assert.ok(calls);
    const ms = ([a, b]: [number, number]) => Math.round((b - a) * 1000) / 1000;
    assert.equal(ms(calls.runSandbox), 118.425);
    assert.equal(ms(calls.createContainer), 18.033);
    assert.equal(ms(calls.startContainer), 56.584);
    assert.ok(calls.runSandbox[1] < calls.createContainer[0]);
  });

  it('answers nothing for a pod whose calls did not all complete', () => {
    const l = new ContainerdLog(log);
    assert.equal(l.pod('uid2'), undefined);
    assert.equal(l.pod('absent'), undefined);
  });
});

describe('splitRule', () => {
  const cases: [string, string[]][] = [
    ['-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD', ['-A', 'FORWARD', '-m', 'comment', '--comment', 'netavark firewall plugin rules', '-j', 'NETAVARK_FORWARD']],
    ['-A POSTROUTING -j NETAVARK-HOSTPORT-MASQ', ['-A', 'POSTROUTING', '-j', 'NETAVARK-HOSTPORT-MASQ']],
    ['-A X -m comment --comment "a \\"quoted\\" word" -j Y', ['-A', 'X', '-m', 'comment', '--comment', 'a "quoted" word', '-j', 'Y']],
  ];
  for (const [rule, want] of cases) it(rule, () => assert.deepEqual(splitRule(rule), want));
});
