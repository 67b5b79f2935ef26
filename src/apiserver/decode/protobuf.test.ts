import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../util/status.ts';
import { decodeBody } from './body.ts';
import { decodeProtobuf } from './protobuf.ts';
import { decodeEnvelope } from '../protobuf/envelope.ts';

// A minimal protobuf writer for building test messages.
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const bytesField = (field: number, payload: number[]): number[] => [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
const str = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s)]);
const int = (field: number, n: number): number[] => [...varint(field << 3), ...varint(n)];
const envelope = (apiVersion: string, kind: string, raw: number[]): Uint8Array =>
  Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...bytesField(1, [...str(1, apiVersion), ...str(2, kind)]), ...bytesField(2, raw), ...str(3, ''), ...str(4, '')]);

describe('decode: protobuf', () => {
  it('decodes the exact body of `kubectl create namespace demo`', () => {
    // The observed bytes (kubectl-wire.md §19).
    const observed = Uint8Array.from([
      0x6b, 0x38, 0x73, 0x00,
      0x0a, 0x0f, 0x0a, 0x02, ...Buffer.from('v1'), 0x12, 0x09, ...Buffer.from('Namespace'),
      0x12, 0x1c,
      0x0a, 0x14, 0x0a, 0x04, ...Buffer.from('demo'), 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00,
      0x12, 0x00,
      0x1a, 0x02, 0x0a, 0x00,
      0x1a, 0x00, 0x22, 0x00,
    ]);
    assert.deepEqual(decodeBody('application/vnd.kubernetes.protobuf', observed), { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'demo' }, spec: {}, status: {} });
  });

  it('decodes metadata maps, finalizers, spec.finalizers and status.phase', () => {
    const meta = [
      ...str(2, 'team-'), ...str(3, ''),
      ...bytesField(11, [...str(1, 'env'), ...str(2, 'prod')]),
      ...bytesField(11, [...str(1, 'tier'), ...str(2, 'web')]),
      ...bytesField(12, [...str(1, 'note'), ...str(2, 'hello')]),
      ...str(14, 'example.com/hold'),
      ...int(7, 3),
      ...bytesField(8, int(1, 1700000000)),
    ];
    const raw = [...bytesField(1, meta), ...bytesField(2, str(1, 'kubernetes')), ...bytesField(3, str(1, 'Active'))];
    assert.deepEqual(decodeProtobuf(envelope('v1', 'Namespace', raw)), {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        generateName: 'team-',
        labels: { env: 'prod', tier: 'web' },
        annotations: { note: 'hello' },
        finalizers: ['example.com/hold'],
        generation: 3,
        creationTimestamp: '2023-11-14T22:13:20Z',
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  });

  it('reads the envelope of any kind', () => {
    const env = decodeEnvelope(envelope('apps/v1', 'Deployment', [1, 2, 3]));
    assert.equal(env.apiVersion, 'apps/v1');
    assert.equal(env.kind, 'Deployment');
    assert.deepEqual([...env.raw], [1, 2, 3]);
  });

  const failures: [string, Uint8Array, number][] = [
    ['a kind with no protobuf form → 415', envelope('stable.example.com/v1', 'CronTab', []), 415],
    ['wrong wire type for metadata → 400', envelope('v1', 'Pod', int(1, 5)), 400],
    ['no magic → 400', Uint8Array.from([0x0a, 0x00]), 400],
    ['truncated → 400', Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x10, 0x0a]), 400],
  ];
  for (const [name, body, code] of failures) {
    it(name, () => {
      assert.throws(() => decodeProtobuf(body), (e: unknown) => e instanceof StatusError && e.code === code);
    });
  }
});
