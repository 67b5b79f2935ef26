// What the node reports about the machine: capacity (cpu, memory, pods, ephemeral-storage of the
// agent's data dir), nodeInfo, addresses and the pressure signals. Read once at start (capacity,
// nodeInfo) and at every status update (pressure). No writes.
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';

export const KUBELET_VERSION = 'v1.32.4-tinykube';
export const MAX_PODS = 110;

export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  storageBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

export function readMachineInfo(dataDir: string): MachineInfo {
  let storageBytes = 0;
  try {
    const s = statfsSync(dataDir);
    storageBytes = s.blocks * s.bsize;
  } catch {
    storageBytes = 0;
  }
  const osRelease = read('/etc/os-release');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? 'Linux';
  const machineID = read('/etc/machine-id');
  return {
    cpus: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    storageBytes,
    machineID,
    systemUUID: read('/sys/class/dmi/id/product_uuid') || machineID,
    bootID: read('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: pretty,
    architecture: goArch(),
  };
}

/** The first non-internal IPv4 address of the machine (the node's InternalIP by default). */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export interface Pressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

/** The kubelet's default hard eviction thresholds: memory.available < 100Mi, nodefs.available < 10%. */
export function readPressure(dataDir: string): Pressure {
  let disk = false;
  try {
    const s = statfsSync(dataDir);
    disk = s.bavail / Math.max(1, s.blocks) < 0.1;
  } catch {
    disk = false;
  }
  const memAvail = /^MemAvailable:\s+(\d+) kB$/m.exec(read('/proc/meminfo'))?.[1];
  const memory = memAvail !== undefined && Number(memAvail) * 1024 < 100 * 1024 * 1024;
  const pidMax = Number(read('/proc/sys/kernel/pid_max')) || 32768;
  // The 4th field of loadavg is "running/total" scheduling entities.
  const procs = Number(read('/proc/loadavg').split(' ')[3]?.split('/')[1] ?? 0) || 0;
  return { memory, disk, pid: procs > pidMax * 0.9 };
}
