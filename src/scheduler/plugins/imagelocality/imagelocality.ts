// ImageLocality: prefer nodes that already hold the pod's images, weighted by image size and by how
// widely the image is spread (an image on every node says little), between 23 MiB and 1000 MiB per container.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { Handle, ScorePlugin } from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import { normalizedImageName } from '../../framework/node-info.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';

export const NAME = 'ImageLocality';
const MB = 1024 * 1024;
export const MIN_THRESHOLD = 23 * MB;
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  let s = sumScores;
  if (s < MIN_THRESHOLD) s = MIN_THRESHOLD;
  else if (s > maxThreshold) s = maxThreshold;
  return Math.trunc((MAX_NODE_SCORE * (s - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}

export class ImageLocality implements ScorePlugin {
  readonly name = NAME;
  readonly #handle: Handle;
  constructor(handle: Handle) {
    this.#handle = handle;
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const containers = [...(pod.pod.spec?.initContainers ?? []), ...(pod.pod.spec?.containers ?? [])];
    if (node.imageStates.size === 0) return calculatePriority(0, containers.length);
    const total = this.#handle.nodes.list().length;
    let sum = 0;
    for (const c of containers) {
      const st = c.image ? node.imageStates.get(normalizedImageName(c.image)) : undefined;
      if (st) sum += Math.trunc(st.size * (st.numNodes / total));
    }
    return calculatePriority(sum, containers.length);
  }
}

export const factory = (h: Handle): ImageLocality => new ImageLocality(h);
