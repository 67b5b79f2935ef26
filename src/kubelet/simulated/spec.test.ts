import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCapacity, parseDurationMs, parseLabels, parseTaints, SimulateConfigError, slotAddresses, slotOfPodCIDR } from './spec.ts';

describe('simulate flag parsers', () => {
  it('parses labels', () => {
    const cases: Array<[string | undefined, Record<string, string>]> = [
      [undefined, {}],
      ['', {}],
      ['zone=a', { zone: 'a' }],
      ['topology.kubernetes.io/zone=z1, tier=gpu', { 'topology.kubernetes.io/zone': 'z1', tier: 'gpu' }],
      ['empty=', { empty: '' }],
    ];
    for (const [text, want] of cases) assert.deepEqual(parseLabels(text), want, String(text));
    assert.throws(() => parseLabels('novalue'), SimulateConfigError);
    assert.throws(() => parseLabels('=v'), SimulateConfigError);
  });

  it('parses taints as kubectl taint spells them', () => {
    const cases: Array<[string, unknown]> = [
      ['gpu=true:NoSchedule', [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]],
      ['dedicated:NoExecute', [{ key: 'dedicated', effect: 'NoExecute' }]],
      ['a=1:PreferNoSchedule,b:NoSchedule', [{ key: 'a', value: '1', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'NoSchedule' }]],
      ['example.com/x=a:b:NoSchedule', [{ key: 'example.com/x', value: 'a:b', effect: 'NoSchedule' }]],
    ];
    for (const [text, want] of cases) assert.deepEqual(parseTaints(text), want, text);
    for (const bad of ['gpu=true', 'gpu:Sometimes', ':NoSchedule', '=v:NoSchedule']) assert.throws(() => parseTaints(bad), SimulateConfigError, bad);
  });

  it('parses durations', () => {
    const cases: Array<[string, number]> = [['0', 0], ['5', 5000], ['1.5', 1500], ['250ms', 250], ['5s', 5000], ['1m30s', 90_000], ['2h', 7_200_000], ['0.5s', 500]];
    for (const [text, want] of cases) assert.equal(parseDurationMs(text), want, text);
    for (const bad of ['', 's', '5x', '5s3', '-1s']) assert.throws(() => parseDurationMs(bad), SimulateConfigError, bad);
  });

  it('checks capacity quantities', () => {
    checkCapacity({ cpu: '500m', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '4' });
    assert.throws(() => checkCapacity({ cpu: 'lots' }), SimulateConfigError);
    assert.throws(() => checkCapacity({ pods: '1.5' }), SimulateConfigError);
  });

  it('gives each slot its own pod CIDR and node IP, outside the cluster CIDR', () => {
    const cases: Array<[number, string, string]> = [
      [0, '100.64.0.0/24', '198.18.0.1'],
      [1, '100.64.1.0/24', '198.18.0.2'],
      [256, '100.65.0.0/24', '198.18.1.1'],
      [16383, '100.127.255.0/24', '198.18.64.0'],
    ];
    for (const [slot, cidr, ip] of cases) {
      const a = slotAddresses(slot);
      assert.equal(a.podCIDR, cidr);
      assert.equal(a.nodeIP, ip);
      assert.equal(slotOfPodCIDR(cidr), slot);
    }
    for (const other of ['10.244.3.0/24', '100.128.0.0/24', '100.63.0.0/24', '100.64.0.0/16']) assert.equal(slotOfPodCIDR(other), undefined, other);
  });
});
