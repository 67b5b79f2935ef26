import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePod } from '../../testing/objects.ts';
import type { PodBuilder } from '../../testing/objects.ts';
import { podNonZeroRequests, podRequests } from './resources.ts';

const MI = 1024 * 1024;

test('pod requests are computed as resource.PodRequests does', () => {
  const cases: Array<{ name: string; pod: PodBuilder; cpu: number; memory: number; scalar?: Record<string, number>; eph?: number }> = [
    { name: 'one container', pod: makePod('a').withRequests({ cpu: '500m', memory: '128Mi' }), cpu: 500, memory: 128 * MI },
    { name: 'containers add up', pod: makePod('a').withRequests({ cpu: '250m' }, { cpu: '1', memory: '1Gi' }), cpu: 1250, memory: 1024 * MI },
    { name: 'init container larger than the sum wins', pod: makePod('a').withRequests({ cpu: '100m' }).init({ resources: { requests: { cpu: '2' } } }), cpu: 2000, memory: 0 },
    { name: 'init container smaller than the sum does not add', pod: makePod('a').withRequests({ cpu: '1' }).init({ resources: { requests: { cpu: '500m' } } }), cpu: 1000, memory: 0 },
    {
      // sidecar 200m runs alongside the app (1000m + 200m); the later init container runs beside it (300m + 200m).
      name: 'sidecars add to the app containers and to later init containers',
      pod: makePod('a').withRequests({ cpu: '1' }).sidecar({ resources: { requests: { cpu: '200m' } } }).init({ resources: { requests: { cpu: '300m' } } }),
      cpu: 1200,
      memory: 0,
    },
    {
      name: 'an init container after a sidecar can dominate',
      pod: makePod('a').withRequests({ cpu: '100m' }).sidecar({ resources: { requests: { cpu: '200m' } } }).init({ resources: { requests: { cpu: '2' } } }),
      cpu: 2200,
      memory: 0,
    },
    { name: 'overhead is added', pod: makePod('a').withRequests({ cpu: '1' }).overhead({ cpu: '250m', memory: '64Mi' }), cpu: 1250, memory: 64 * MI },
    { name: 'a missing request falls back to the limit', pod: makePod('a').withLimits({ cpu: '2', memory: '1Gi' }), cpu: 2000, memory: 1024 * MI },
    { name: 'extended resources are scalar', pod: makePod('a').withRequests({ 'nvidia.com/gpu': '2' }), cpu: 0, memory: 0, scalar: { 'nvidia.com/gpu': 2 } },
    { name: 'fractions round up', pod: makePod('a').withRequests({ cpu: '0.0001', memory: '1.5' }), cpu: 1, memory: 2 },
    { name: 'ephemeral storage', pod: makePod('a').withRequests({ 'ephemeral-storage': '1Gi' }), cpu: 0, memory: 0, eph: 1024 * MI },
  ];
  for (const c of cases) {
    const r = podRequests(c.pod.build());
    assert.equal(r.milliCPU, c.cpu, `${c.name}: cpu`);
    assert.equal(r.memory, c.memory, `${c.name}: memory`);
    assert.deepEqual(Object.fromEntries(r.scalar), c.scalar ?? {}, `${c.name}: scalar`);
    assert.equal(r.ephemeralStorage, c.eph ?? 0, `${c.name}: ephemeral-storage`);
  }
});

test('non-zero requests default cpu and memory per container that sets none', () => {
  const cases: Array<{ pod: PodBuilder; cpu: number; memory: number }> = [
    { pod: makePod('a').withRequests({}), cpu: 100, memory: 200 * MI },
    { pod: makePod('a').withRequests({}, {}), cpu: 200, memory: 400 * MI },
    { pod: makePod('a').withRequests({ cpu: '1' }), cpu: 1000, memory: 200 * MI },
    { pod: makePod('a').withRequests({ cpu: '0', memory: '0' }), cpu: 0, memory: 0 },
  ];
  for (const c of cases) {
    const r = podNonZeroRequests(c.pod.build());
    assert.deepEqual([r.milliCPU, r.memory], [c.cpu, c.memory]);
  }
});
