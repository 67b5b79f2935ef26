// Pod-level cgroups (cgroupfs driver, as our containerd uses): `<root>/kubepods[/burstable|/besteffort]/pod<uid>`,
// the kubelet's layout under a per-agent root so several agents on one machine never share a tree.
// containerd/runc create the containers' cgroups below the parent the sandbox names, but never remove
// the parent: the agent creates it (with the pod's memory limit and CPU shares, as the kubelet's
// pod container manager does) and removes it in every hierarchy when the pod goes.
//
// Callers: pod workers (ensure before the sandbox, killProcesses when the pod is terminated, remove after
// it), the agent's orphan cleanup (list). Different pods concurrently; ensure, killProcesses and remove
// are idempotent.
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../api/types.ts';
import { milliValue, tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';
import { qosClass } from '../status/qos.ts';

export interface PodCgroups {
  /** The cgroup parent to give the sandbox (cgroupfs form, absolute). */
  parentFor(pod: Pod): string;
  ensure(pod: Pod): Promise<void>;
  /**
   * SIGKILLs every process left in the pod's cgroup (any hierarchy, any level below it) and resolves
   * once none is left, with the pids it found: the kubelet's pod container manager does this before
   * it destroys a terminated pod's cgroup, so nothing outlives the pod's final status. Throws
   * PodCgroupError when processes are still there after the wait. Idempotent.
   */
  killProcesses(uid: string): Promise<number[]>;
  /** Removes the pod's cgroup everywhere; its processes must be gone. Idempotent. */
  remove(uid: string): Promise<void>;
  /** Pod uids that have a cgroup under this agent's root. */
  list(): Promise<string[]>;
}

/** For unit tests and simulated nodes: names parents, touches nothing. */
export class NoopPodCgroups implements PodCgroups {
  readonly root: string;
  readonly ensured = new Set<string>();
  constructor(root = '/tinykube') {
    this.root = root;
  }
  parentFor(pod: Pod): string {
    return podCgroupPath(this.root, pod);
  }
  async ensure(pod: Pod): Promise<void> {
    this.ensured.add(pod.metadata?.uid ?? '');
  }
  async killProcesses(): Promise<number[]> {
    return [];
  }
  async remove(uid: string): Promise<void> {
    this.ensured.delete(uid);
  }
  async list(): Promise<string[]> {
    return [...this.ensured];
  }
}

export function podCgroupPath(root: string, pod: Pod): string {
  const uid = pod.metadata?.uid ?? '';
  const qos = qosClass(pod);
  const tier = qos === 'Guaranteed' ? '' : `/${qos.toLowerCase()}`;
  return `${root}/kubepods${tier}/pod${uid}`;
}

/** Mount points of cgroup hierarchies (v1 controllers, named, and the v2 unified one). */
export function cgroupMounts(): { path: string; controllers: string[] }[] {
  const out: { path: string; controllers: string[] }[] = [];
  let text = '';
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [, mp, type, opts] = line.split(' ');
    if (type === 'cgroup') out.push({ path: mp, controllers: opts.split(',').filter((o) => !['rw', 'ro', 'relatime', 'nosuid', 'nodev', 'noexec'].includes(o)) });
    else if (type === 'cgroup2') out.push({ path: mp, controllers: ['unified'] });
  }
  return out;
}

function sumResource(pod: Pod, kind: 'requests' | 'limits', res: string, all: boolean): number | undefined {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const q = tryParseQuantity((c.resources?.[kind] as Record<string, unknown> | undefined)?.[res] ?? (kind === 'requests' ? (c.resources?.limits as Record<string, unknown> | undefined)?.[res] : undefined));
    if (!q) {
      if (all) return undefined;
      continue;
    }
    sum += res === 'cpu' ? milliValue(q) : quantityValue(q);
  }
  let initMax = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const q = tryParseQuantity((c.resources?.[kind] as Record<string, unknown> | undefined)?.[res]);
    if (q) initMax = Math.max(initMax, res === 'cpu' ? milliValue(q) : quantityValue(q));
  }
  return Math.max(sum, initMax);
}

/** CPU shares for a millicore request, as the kubelet computes them (min 2). */
export function milliToShares(milli: number): number {
  return milli <= 0 ? 2 : Math.max(2, Math.floor((milli * 1024) / 1000));
}

export class CgroupfsPodCgroups implements PodCgroups {
  readonly root: string;

  /** `root` is the agent's own subtree, e.g. "/tinykube/node-1". */
  constructor(root: string) {
    this.root = root.replace(/\/+$/, '');
  }

  parentFor(pod: Pod): string {
    return podCgroupPath(this.root, pod);
  }

  async ensure(pod: Pod): Promise<void> {
    const rel = this.parentFor(pod);
    const qos = qosClass(pod);
    for (const m of cgroupMounts()) {
      // cpuset needs cpus/mems copied into each new level: runc does that right when it creates the
      // path itself, so leave cpuset (and the named systemd hierarchy) to runc.
      if (m.controllers.includes('cpuset') || m.controllers.some((c) => c.startsWith('name='))) continue;
      const dir = join(m.path, rel);
      try {
        await mkdir(dir, { recursive: true });
      } catch {
        continue; // a hierarchy we may not write to: runc will report what matters
      }
      if (m.controllers.includes('memory')) {
        const mem = sumResource(pod, 'limits', 'memory', true);
        if (mem !== undefined && qos !== 'BestEffort') await writeFile(join(dir, 'memory.limit_in_bytes'), String(mem)).catch(() => undefined);
      }
      if (m.controllers.includes('cpu')) {
        const cpu = sumResource(pod, 'requests', 'cpu', false) ?? 0;
        await writeFile(join(dir, 'cpu.shares'), String(milliToShares(qos === 'BestEffort' ? 0 : cpu))).catch(() => undefined);
      }
    }
  }

  async killProcesses(uid: string): Promise<number[]> {
    const found = await this.#pids(uid);
    let left = found;
    // SIGKILL is delivered at once, but a process ends (and leaves its cgroup) a moment later.
    for (let i = 0; left.length > 0 && i < KILL_POLLS; i++) {
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // ended between the read and the kill
        }
      }
      await new Promise((r) => setTimeout(r, KILL_POLL_MS));
      left = await this.#pids(uid);
    }
    if (left.length > 0) throw new PodCgroupError(`processes ${left.join(', ')} are still in the cgroup of pod ${uid} after SIGKILL`);
    return found;
  }

  async #pids(uid: string): Promise<number[]> {
    const pids = new Set<number>();
    for (const m of cgroupMounts()) {
      for (const tier of TIERS) await collectPids(join(m.path, this.root, `kubepods${tier}`, `pod${uid}`), pids);
    }
    return [...pids];
  }

  async remove(uid: string): Promise<void> {
    for (const m of cgroupMounts()) {
      for (const tier of TIERS) {
        await removeTree(join(m.path, this.root, `kubepods${tier}`, `pod${uid}`));
      }
    }
  }

  async list(): Promise<string[]> {
    const uids = new Set<string>();
    for (const m of cgroupMounts()) {
      for (const tier of TIERS) {
        let names: string[] = [];
        try {
          names = await readdir(join(m.path, this.root, `kubepods${tier}`));
        } catch {
          continue;
        }
        for (const n of names) if (n.startsWith('pod')) uids.add(n.slice(3));
      }
    }
    return [...uids];
  }

  /** Removes the agent's whole subtree (drain at shutdown, tests); only empty cgroups go. */
  async removeRoot(): Promise<void> {
    for (const m of cgroupMounts()) await removeTree(join(m.path, this.root));
    // The shared parent ("/tinykube") goes too once no agent uses it.
    const parent = this.root.split('/').slice(0, -1).join('/');
    if (parent) for (const m of cgroupMounts()) await rmdir(join(m.path, parent)).catch(() => undefined);
  }
}

const TIERS = ['', '/burstable', '/besteffort'];
/** How long killProcesses waits for the killed processes to leave the cgroup: 50 × 20 ms. */
const KILL_POLLS = 50;
const KILL_POLL_MS = 20;

export class PodCgroupError extends Error {
  readonly code = 'ERR_POD_CGROUP_BUSY';
  constructor(message: string) {
    super(message);
    this.name = 'PodCgroupError';
  }
}

/** The pids in a cgroup directory and every one below it (none when it does not exist). */
async function collectPids(dir: string, into: Set<number>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const line of (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n')) {
    if (line) into.add(Number(line));
  }
  for (const e of entries) if (e.isDirectory()) await collectPids(join(dir, e.name), into);
}

/** rmdir of a cgroup directory tree, deepest first (cgroup files cannot be unlinked, only dirs). */
async function removeTree(dir: string): Promise<void> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) await removeTree(join(dir, e.name));
  }
  await rmdir(dir).catch(() => undefined);
}
