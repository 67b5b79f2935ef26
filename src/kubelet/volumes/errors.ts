// A volume the agent cannot set up: the message is the FailedMount event's, in the kubelet's words.

export class VolumeError extends Error {
  readonly code = 'ERR_VOLUME_SETUP_FAILED';
  readonly volume: string;
  /**
   * `setUp`: the volume plugin's SetUp failed (`MountVolume.SetUp failed for volume ...`).
   * `process`: the volume could not even be resolved (a claim not bound, its PV missing): the
   * kubelet's populator error, which WaitForAttachAndMount reports for the pod.
   */
  constructor(volume: string, message: string, stage: 'setUp' | 'process' = 'setUp') {
    super(
      stage === 'setUp'
        ? `MountVolume.SetUp failed for volume "${volume}" : ${message}`
        : `Unable to attach or mount volumes: unmounted volumes=[${volume}], unattached volumes=[], failed to process volumes=[${volume}]: ${message}`,
    );
    this.name = 'VolumeError';
    this.volume = volume;
  }
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several deduplicated in brackets. */
export function aggregateMessage(messages: readonly string[]): string {
  const seen = [...new Set(messages)];
  return seen.length === 1 ? seen[0] : `[${seen.join(', ')}]`;
}
