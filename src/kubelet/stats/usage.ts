// Disk usage of a directory tree and figures of the filesystem it lives on, as the kubelet measures a
// volume (pkg/volume/metrics_du.go over pkg/volume/util/fs): used bytes are the blocks the files
// really occupy (st_blocks × 512, so sparse files count what they use), every inode counts once
// (hard links are deduplicated), symbolic links are counted but never followed, and the walk stays on
// the tree's own filesystem (a mount below it is someone else's). Capacity, available and inode
// totals come from statfs(2) of the tree's filesystem.
//
// Pure I/O helpers with no state: callable concurrently; a tree that changes while it is walked is
// measured as found (entries removed meanwhile are skipped, as the kubelet's walk skips them).
import { lstat, opendir, statfs } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';

export interface Usage {
  bytes: number;
  inodes: number;
}

/** A filesystem's figures (the kubelet's fs.Info): bytes and inodes. */
export interface FsInfo {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesFree: number;
  inodesUsed: number;
}

/** How many lstat calls one directory's entries are measured with at once. */
const PARALLEL = 32;

function isGone(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The du of `root`: bytes of blocks used and inodes, without following symlinks, without crossing
 * into other filesystems, hard-linked files once. A missing `root` is an error (the caller's volume
 * is not there); entries vanishing during the walk are not.
 */
export async function diskUsage(root: string): Promise<Usage> {
  const top = await lstat(root, { bigint: true });
  const seen = new Set<bigint>();
  const usage: Usage = { bytes: 0, inodes: 0 };
  const count = (s: BigIntStats): void => {
    if (s.nlink > 1n) {
      if (seen.has(s.ino)) return;
      seen.add(s.ino);
    }
    usage.bytes += Number(s.blocks) * 512;
    usage.inodes++;
  };
  count(top);
  if (!top.isDirectory()) return usage;
  const dirs: string[] = [root];
  while (dirs.length > 0) {
    const dir = dirs.pop()!;
    let names: string[];
    try {
      names = [];
      for await (const e of await opendir(dir)) names.push(e.name);
    } catch (err) {
      if (isGone(err)) continue;
      throw err;
    }
    for (let i = 0; i < names.length; i += PARALLEL) {
      const batch = names.slice(i, i + PARALLEL).map((n) => join(dir, n));
      const stats = await Promise.all(batch.map((p) => lstat(p, { bigint: true }).catch((err: unknown) => {
        if (isGone(err)) return undefined;
        throw err;
      })));
      stats.forEach((s, j) => {
        // Another filesystem mounted below (a bind, a tmpfs) is not this volume's usage.
        if (!s || s.dev !== top.dev) return;
        count(s);
        if (s.isDirectory()) dirs.push(batch[j]!);
      });
    }
  }
  return usage;
}

/** statfs(2) of the filesystem holding `path`, as the kubelet's fs.Info reports it. */
export async function fsInfo(path: string): Promise<FsInfo> {
  const s = await statfs(path, { bigint: true });
  const capacity = s.blocks * s.bsize;
  return {
    capacityBytes: Number(capacity),
    availableBytes: Number(s.bavail * s.bsize),
    usedBytes: Number((s.blocks - s.bfree) * s.bsize),
    inodes: Number(s.files),
    inodesFree: Number(s.ffree),
    inodesUsed: Number(s.files - s.ffree),
  };
}
