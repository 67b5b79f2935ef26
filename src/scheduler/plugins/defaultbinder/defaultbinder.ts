// DefaultBinder: POST pods/{name}/binding through the handle's bindPod (the API server sets
// spec.nodeName and PodScheduled=True). Runs concurrently for different pods.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { BindPlugin, Handle } from '../../framework/interfaces.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { errorStatus, success } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = 'DefaultBinder';

export class DefaultBinder implements BindPlugin {
  readonly name = NAME;
  readonly #handle: Handle;
  constructor(handle: Handle) {
    this.#handle = handle;
  }

  async bind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    if (!this.#handle.bindPod) return errorStatus(new Error('no API binder configured'));
    await this.#handle.bindPod(pod, nodeName);
    return success();
  }
}

export const factory = (h: Handle): DefaultBinder => new DefaultBinder(h);
