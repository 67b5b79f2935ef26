import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../../testing/objects.ts';
import { harness, scoreAll } from '../../testing/harness.ts';
import { calculatePriority, MAX_CONTAINER_THRESHOLD, MIN_THRESHOLD } from './imagelocality.ts';

const MB = 1024 * 1024;

test('calculatePriority clamps between 23 MiB and 1000 MiB per container', () => {
  const cases: Array<[sum: number, containers: number, want: number]> = [
    [0, 1, 0],
    [MIN_THRESHOLD, 1, 0],
    [MAX_CONTAINER_THRESHOLD, 1, 100],
    [5000 * MB, 1, 100],
    [MAX_CONTAINER_THRESHOLD, 2, 49],
    [500 * MB, 1, 48],
  ];
  for (const [sum, n, want] of cases) assert.equal(calculatePriority(sum, n), want, `${sum} / ${n}`);
});

test('ImageLocality prefers nodes holding the images, scaled by how widely they are spread', () => {
  const big = 800 * MB;
  const h = harness(['ImageLocality'], [
    makeNode('has').images({ names: ['registry.local/app:1.0'], sizeBytes: big }).build(),
    makeNode('also').images({ names: ['registry.local/app:1.0'], sizeBytes: big }).build(),
    makeNode('none').build(),
    makeNode('other').images({ names: ['busybox:latest'], sizeBytes: big }).build(),
  ]);
  const s = scoreAll(h, makePod('p').image('registry.local/app:1.0').build());
  // On 2 of 4 nodes: 800 MiB × 0.5 = 400 MiB → (400 - 23) × 100 / 977 = 38.
  assert.deepEqual(s, { has: 38, also: 38, none: 0, other: 0 });
  // An untagged image name means :latest.
  assert.equal(scoreAll(h, makePod('q').image('busybox').build()).other, 18);
});
