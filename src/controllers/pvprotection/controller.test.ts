import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume } from '../../api/types.ts';
import { volumeFinalizers } from './controller.ts';

const F = 'kubernetes.io/pv-protection';
const DELETED = '2026-01-01T00:00:00Z';

test('volumeFinalizers: added when missing, removed once a deleted volume is not Bound', () => {
  const pv = (phase: string, finalizers?: string[], deletionTimestamp?: string): PersistentVolume => ({ metadata: { name: 'pv1', finalizers, deletionTimestamp }, status: { phase } });
  const cases: Array<[string, PersistentVolume, string[] | undefined]> = [
    ['new volume gets it', pv('Available'), [F]],
    ['others kept when adding', pv('Available', ['x']), ['x', F]],
    ['has it: unchanged', pv('Bound', [F]), undefined],
    ['deleted while Bound: kept', pv('Bound', [F, 'x'], DELETED), undefined],
    ['deleted and Released: removed', pv('Released', ['x', F], DELETED), ['x']],
    ['deleted and Available: removed', pv('Available', [F], DELETED), []],
    ['deleted and Failed: removed', pv('Failed', [F], DELETED), []],
    ['deleted without it: nothing to do', pv('Released', ['x'], DELETED), undefined],
  ];
  for (const [name, v, want] of cases) assert.deepEqual(volumeFinalizers(v), want, name);
});
