// The machine the agents started in integration tests report (instead of reading the host's).
import type { MachineInfo } from '../../src/kubelet/node/machine.ts';

/** A small machine: 2 CPUs, 4 GiB of memory, 100 GiB of disk. */
export const TEST_MACHINE: MachineInfo = {
  cpus: 2, memoryBytes: 4 * 2 ** 30, storageBytes: 100 * 2 ** 30, machineID: 'm', systemUUID: 'u', bootID: 'b', kernelVersion: 'k', osImage: 'test', architecture: 'amd64',
};
