// The node's Summary (the kubelet's stats.SummaryProvider): the node's filesystem (the agent's data
// dir), its cpu and memory, and per active pod its containers (cpu, memory and writable layer from the
// runtime's ContainerStats, log usage from the CRI log files), its volumes and its ephemeral storage.
//
// Volumes are measured as the kubelet's volume plugins measure them: a du of the volume's directory
// plus statfs of its filesystem for emptyDir, configMap, secret, downwardAPI, projected and claims
// (claims with their pvcRef); statfs alone for nfs; nothing for hostPath (the kubelet's hostPath
// plugin has no metrics). Ephemeral storage is, as in the kubelet's calcEphemeralStorage, the
// containers' writable layers, the pod's logs, its etc-hosts file and its local ephemeral volumes
// (util.IsLocalEphemeralVolume: disk-backed emptyDir and configMap), which the Summary lists first.
//
// Measuring walks directories, so a summary is kept for `cacheMs` and concurrent callers share one
// measurement; the eviction manager asks for a fresh one (maxAgeMs 0). Volumes that cannot be over a
// local-storage limit (claims, secrets, projected...) are walked at most every `volumeStatsMs`, as the
// kubelet refreshes volume stats every --volume-stats-agg-period, so a large claim is not walked on
// every eviction pass. Callers: the streaming server's GET /stats/summary and the eviction manager,
// concurrently.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { Pod, Volume } from '../../api/types.ts';
import { rfc3339, type Clock } from '../../util/clock.ts';
import type { ContainerRuntime, ContainerStats as CriContainerStats } from '../runtime/runtime.ts';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../podworkers/labels.ts';
import type { ContainerStats, CPUStats, FsStats, MemoryStats, NodeStats, PodStats, Summary, VolumeStats } from './types.ts';
import { diskUsage, fsInfo, type FsInfo, type Usage } from './usage.ts';

/** One pod the node runs, as the summary measures it. */
export interface StatsPod {
  pod: Pod;
  /** Host directories of the pod's volumes that are set up, by volume name. */
  volumes: ReadonlyMap<string, string>;
  /** The pod's CRI log directory (`<logRoot>/<ns>_<name>_<uid>`), containers' logs below it by name. */
  logDir: string;
  /** The pod's etc-hosts file, when the agent wrote one. */
  etcHosts?: string;
  /** Running containers' start times (epoch ms), by name. */
  started: ReadonlyMap<string, number>;
}

/** Who feeds the summary its pods (the agent); called once per measurement. */
export interface StatsPodSource {
  /** The pods whose containers may be running (the kubelet's active pods). */
  activePods(): StatsPod[];
}

export interface SummaryProviderOptions {
  nodeName: string;
  clock: Clock;
  pods: StatsPodSource;
  /** The directory whose filesystem is the node's fs (the agent's data dir; the kubelet's root dir). */
  rootDir: string;
  runtime?: Pick<ContainerRuntime, 'listContainerStats'>;
  /** How long a measurement serves callers that do not ask for a fresher one (default 5 s). */
  cacheMs?: number;
  /** How long a du of a volume no limit applies to is reused (default 60 s). */
  volumeStatsMs?: number;
  /** The node's cpu and memory (default: /proc); tests give fixed figures. */
  machine?: () => Promise<{ cpu?: Omit<CPUStats, 'time'>; memory?: Omit<MemoryStats, 'time'> }>;
  /** When the node booted (epoch ms; default from the uptime). */
  bootTime?: number;
}

/** How a volume is measured: a du plus statfs, statfs alone, or not at all. */
export type VolumeMetrics = 'du' | 'statfs' | 'none';

/** How the kubelet measures a volume of this type (which plugins have MetricsDu, MetricsStatFS, none). */
export function volumeMetrics(v: Volume): VolumeMetrics {
  if (v.hostPath) return 'none';
  if (v.nfs) return 'statfs';
  if (v.emptyDir || v.configMap || v.secret || v.downwardAPI || v.projected || v.persistentVolumeClaim || v.ephemeral) return 'du';
  return 'none';
}

/** util.IsLocalEphemeralVolume: what counts toward the pod's ephemeral storage. */
export function isLocalEphemeralVolume(v: Volume): boolean {
  return Boolean(v.configMap || (v.emptyDir && (v.emptyDir.medium ?? '') === ''));
}

/** The claim behind a volume (a generic ephemeral volume's is `<pod>-<volume>`), or undefined. */
export function claimOf(pod: Pod, v: Volume): string | undefined {
  if (v.persistentVolumeClaim) return v.persistentVolumeClaim.claimName;
  if (v.ephemeral) return `${pod.metadata?.name ?? ''}-${v.name}`;
  return undefined;
}

function fsStats(time: string, info: FsInfo | undefined, used: Usage | undefined): FsStats {
  const s: FsStats = { time };
  if (info) {
    s.availableBytes = info.availableBytes;
    s.capacityBytes = info.capacityBytes;
    s.inodesFree = info.inodesFree;
    s.inodes = info.inodes;
  }
  s.usedBytes = used ? used.bytes : info?.usedBytes;
  s.inodesUsed = used ? used.inodes : info?.inodesUsed;
  if (s.usedBytes === undefined) delete s.usedBytes;
  if (s.inodesUsed === undefined) delete s.inodesUsed;
  return s;
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A measurement of something that may not exist (yet, or no longer): undefined then. */
async function maybe<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export class SummaryProvider {
  readonly #o: SummaryProviderOptions;
  #cached: { at: number; summary: Summary } | undefined;
  #inflight: Promise<Summary> | undefined;
  /** du results of volumes, by path, for volumeStatsMs; paths not measured in a pass are dropped. */
  #du = new Map<string, { at: number; usage: Usage }>();
  #duSeen = new Set<string>();
  /** The previous node cpu sample, for usageNanoCores. */
  #lastCpu: { at: number; ns: number } | undefined;

  constructor(o: SummaryProviderOptions) {
    this.#o = o;
  }

  /** A summary no older than `maxAgeMs` (default the cache period). */
  async get(maxAgeMs = this.#o.cacheMs ?? 5000): Promise<Summary> {
    const now = this.#o.clock.now();
    if (this.#cached && now - this.#cached.at < maxAgeMs) return this.#cached.summary;
    this.#inflight ??= this.#measure().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #measure(): Promise<Summary> {
    const o = this.#o;
    const at = o.clock.now();
    const time = rfc3339(at);
    const pods = o.pods.activePods();
    const [rootFs, crStats, machine] = await Promise.all([
      fsInfo(o.rootDir),
      o.runtime ? o.runtime.listContainerStats() : Promise.resolve([] as CriContainerStats[]),
      (o.machine ?? (() => this.#procMachine(at)))(),
    ]);
    const node: NodeStats = {
      nodeName: o.nodeName,
      startTime: rfc3339(o.bootTime ?? Math.round(Date.now() - os.uptime() * 1000)),
      fs: fsStats(time, rootFs, undefined),
    };
    if (machine.cpu) node.cpu = { time, ...machine.cpu };
    if (machine.memory) node.memory = { time, ...machine.memory };
    const byPod = new Map<string, CriContainerStats[]>();
    for (const c of crStats) {
      const uid = c.labels[LABEL_POD_UID];
      if (!uid) continue;
      let list = byPod.get(uid);
      if (!list) byPod.set(uid, (list = []));
      list.push(c);
    }
    const out: PodStats[] = [];
    this.#duSeen = new Set();
    for (const p of pods) out.push(await this.#podStats(p, time, rootFs, byPod.get(p.pod.metadata?.uid ?? '') ?? []));
    for (const k of this.#du.keys()) if (!this.#duSeen.has(k)) this.#du.delete(k);
    const summary: Summary = { node, pods: out };
    this.#cached = { at, summary };
    return summary;
  }

  async #podStats(p: StatsPod, time: string, rootFs: FsInfo, cri: CriContainerStats[]): Promise<PodStats> {
    const pod = p.pod;
    const uid = pod.metadata?.uid ?? '';
    const ps: PodStats = {
      podRef: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', uid },
      startTime: pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? time,
      containers: [],
    };
    // Ephemeral storage starts from the node's root fs, as the kubelet's calcEphemeralStorage does.
    const eph = { bytes: 0, inodes: 0 };
    let cpu: CPUStats | undefined;
    let memory: MemoryStats | undefined;
    for (const c of pod.spec?.containers ?? []) {
      const s = cri.find((x) => (x.labels[LABEL_CONTAINER_NAME] ?? x.name) === c.name);
      const started = p.started.get(c.name);
      if (!s && started === undefined) continue;
      const cs: ContainerStats = { name: c.name, startTime: rfc3339(started ?? this.#o.clock.now()) };
      if (s?.cpuUsageCoreNanoSeconds !== undefined || s?.cpuUsageNanoCores !== undefined) {
        cs.cpu = { time, usageNanoCores: s.cpuUsageNanoCores, usageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds };
        cpu = { time, usageNanoCores: (cpu?.usageNanoCores ?? 0) + (s.cpuUsageNanoCores ?? 0), usageCoreNanoSeconds: (cpu?.usageCoreNanoSeconds ?? 0) + (s.cpuUsageCoreNanoSeconds ?? 0) };
      }
      if (s?.memoryWorkingSetBytes !== undefined || s?.memoryUsageBytes !== undefined) {
        cs.memory = { time, usageBytes: s.memoryUsageBytes, workingSetBytes: s.memoryWorkingSetBytes, rssBytes: s.memoryRssBytes };
        memory = {
          time,
          usageBytes: (memory?.usageBytes ?? 0) + (s.memoryUsageBytes ?? 0),
          workingSetBytes: (memory?.workingSetBytes ?? 0) + (s.memoryWorkingSetBytes ?? 0),
          rssBytes: (memory?.rssBytes ?? 0) + (s.memoryRssBytes ?? 0),
        };
      }
      if (s?.writableLayerUsedBytes !== undefined) {
        cs.rootfs = { ...fsStats(time, rootFs, { bytes: s.writableLayerUsedBytes, inodes: 0 }) };
        delete cs.rootfs.inodesUsed;
        eph.bytes += s.writableLayerUsedBytes;
      }
      const logs = await maybe(diskUsage(join(p.logDir, c.name)));
      cs.logs = fsStats(time, rootFs, logs ?? { bytes: 0, inodes: 0 });
      ps.containers.push(cs);
    }
    if (cpu) ps.cpu = cpu;
    if (memory) ps.memory = memory;

    const ephemeral: VolumeStats[] = [];
    const others: VolumeStats[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      const dir = p.volumes.get(v.name);
      const how = volumeMetrics(v);
      if (!dir || how === 'none') continue;
      const info = await maybe(fsInfo(dir));
      if (!info) continue;
      const local = isLocalEphemeralVolume(v);
      // Every emptyDir may have a sizeLimit to check.
      const used = how === 'du' ? await this.#volumeUsage(dir, local || Boolean(v.emptyDir)) : undefined;
      if (how === 'du' && !used) continue;
      const vs: VolumeStats = { ...fsStats(time, info, used), name: v.name };
      const claim = claimOf(pod, v);
      if (claim !== undefined) vs.pvcRef = { name: claim, namespace: pod.metadata?.namespace ?? '' };
      if (local) {
        ephemeral.push(vs);
        eph.bytes += vs.usedBytes ?? 0;
        eph.inodes += vs.inodesUsed ?? 0;
      } else {
        others.push(vs);
      }
    }
    // The kubelet lists the local ephemeral volumes first, then the others.
    if (ephemeral.length + others.length > 0) ps.volume = [...ephemeral, ...others];
    for (const path of [p.logDir, p.etcHosts]) {
      if (!path) continue;
      const u = await maybe(diskUsage(path));
      if (u) {
        eph.bytes += u.bytes;
        eph.inodes += u.inodes;
      }
    }
    ps['ephemeral-storage'] = fsStats(time, rootFs, eph);
    return ps;
  }

  /** A volume's du: always fresh when a local-storage limit may apply to it, else reused for volumeStatsMs. */
  async #volumeUsage(dir: string, fresh: boolean): Promise<Usage | undefined> {
    const now = this.#o.clock.now();
    this.#duSeen.add(dir);
    const hit = this.#du.get(dir);
    if (!fresh && hit && now - hit.at < (this.#o.volumeStatsMs ?? 60_000)) return hit.usage;
    const usage = await maybe(diskUsage(dir));
    if (usage) this.#du.set(dir, { at: now, usage });
    else this.#du.delete(dir);
    return usage;
  }

  /** The node's cpu (all non-idle time in /proc/stat) and memory (/proc/meminfo). */
  async #procMachine(at: number): Promise<{ cpu?: Omit<CPUStats, 'time'>; memory?: Omit<MemoryStats, 'time'> }> {
    const out: { cpu?: Omit<CPUStats, 'time'>; memory?: Omit<MemoryStats, 'time'> } = {};
    const stat = await readFile('/proc/stat', 'utf8').catch(() => '');
    const line = /^cpu\s+(.*)$/m.exec(stat)?.[1];
    if (line) {
      // user nice system idle iowait irq softirq steal ...; USER_HZ is 100 on Linux.
      const f = line.trim().split(/\s+/).map(Number);
      const busy = f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0);
      const ns = busy * 10_000_000;
      const prev = this.#lastCpu;
      this.#lastCpu = { at, ns };
      out.cpu = { usageCoreNanoSeconds: ns };
      if (prev && at > prev.at) out.cpu.usageNanoCores = Math.round(((ns - prev.ns) / (at - prev.at)) * 1e6);
    }
    const mem = await readFile('/proc/meminfo', 'utf8').catch(() => '');
    const kb = (k: string) => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(mem);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    const total = kb('MemTotal');
    const free = kb('MemFree');
    const available = kb('MemAvailable');
    if (total !== undefined && available !== undefined && free !== undefined) {
      out.memory = { availableBytes: available, usageBytes: total - free, workingSetBytes: total - available };
    }
    return out;
  }
}

/** The summary as `?only_cpu_and_memory=true` asks for it (the kubelet's GetCPUAndMemoryStats). */
export function cpuAndMemoryOnly(s: Summary): Summary {
  const pick = <T extends { cpu?: CPUStats; memory?: MemoryStats }>(o: T) => ({ ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) });
  return {
    node: { nodeName: s.node.nodeName, startTime: s.node.startTime, ...pick(s.node) },
    pods: s.pods.map((p) => ({
      podRef: p.podRef,
      startTime: p.startTime,
      containers: p.containers.map((c) => ({ name: c.name, startTime: c.startTime, ...pick(c) })),
      ...pick(p),
    })),
  };
}
