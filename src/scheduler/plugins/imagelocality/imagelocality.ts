// ImageLocality: prefer nodes that already hold the pod's images, weighted by image size and by how
// widely the image is spread (an image on every node says little), between 23 MiB and 1000 MiB per container.

import type { CycleState } from '../../framework/cycle-state.ts';
import { stateKey } from '../../framework/cycle-state.ts';
import type { Handle, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import { normalizedImageName } from '../../framework/node-info.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

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

interface Images {
  /** Normalised image name per container, init containers included (each counts, as in Kubernetes). */
  names: string[];
  totalNodes: number;
}
const imagesKey = stateKey<Images>(`${NAME}/images`);

// Kubernetes' ImageLocality has no PreScore; computing the pod's image names once per cycle rather than
// once per node changes nothing but the cost.
export class ImageLocality implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly #handle: Handle;
  constructor(handle: Handle) {
    this.#handle = handle;
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const names: string[] = [];
    for (const c of pod.pod.spec?.initContainers ?? []) names.push(c.image ? normalizedImageName(c.image) : '');
    for (const c of pod.pod.spec?.containers ?? []) names.push(c.image ? normalizedImageName(c.image) : '');
    state.write(imagesKey, { names, totalNodes: this.#handle.nodes.list().length });
    return success();
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const im = state.read(imagesKey);
    if (!im) return 0;
    if (node.imageStates.size === 0) return calculatePriority(0, im.names.length);
    let sum = 0;
    for (const name of im.names) {
      const st = node.imageStates.get(name);
      if (st) sum += Math.trunc(st.size * (st.numNodes / im.totalNodes));
    }
    return calculatePriority(sum, im.names.length);
  }
}

export const factory = (h: Handle): ImageLocality => new ImageLocality(h);
