// A volume's group ownership for the pod's `securityContext.fsGroup`, as the kubelet's
// volume.SetVolumeOwnership does: every file and directory gets the group, read/write for it (read
// only on a read-only volume), and directories setgid and group-searchable so files created later
// inherit the group. With fsGroupChangePolicy OnRootMismatch the walk is skipped when the volume's
// root already has the group and those permissions (a large volume is not walked on every start).
//
// Called by the volume manager for the volume types the kubelet manages ownership of (emptyDir,
// configMap, secret, downwardAPI, projected, local PVs; never hostPath or NFS). Idempotent.
import type { Dirent, Stats } from 'node:fs';
import { chmod, lchown, lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

/** Whether OnRootMismatch may skip the walk (requiresPermissionChange is false). */
export async function rootMatches(dir: string, fsGroup: number, readOnly: boolean): Promise<boolean> {
  let st: Stats;
  try {
    st = await stat(dir);
  } catch {
    return false;
  }
  if (st.gid !== fsGroup || !st.isDirectory()) return false;
  const want = (readOnly ? RO_MASK : RW_MASK) | EXEC_MASK;
  return (st.mode & want) === want && (st.mode & SETGID) !== 0;
}

async function changeOne(path: string, info: Stats, fsGroup: number, readOnly: boolean): Promise<void> {
  await lchown(path, -1, fsGroup);
  // chmod follows a link: the target's own mode (the volume's defaultMode) must stay as it is.
  if (info.isSymbolicLink()) return;
  let mask = readOnly ? RO_MASK : RW_MASK;
  if (info.isDirectory()) mask |= SETGID | EXEC_MASK;
  await chmod(path, (info.mode & 0o7777) | mask);
}

export async function setVolumeOwnership(dir: string, fsGroup: number | undefined, policy: string | undefined, readOnly: boolean): Promise<void> {
  if (fsGroup === undefined) return;
  if (policy === 'OnRootMismatch' && (await rootMatches(dir, fsGroup, readOnly))) return;
  const walk = async (path: string, info: Stats): Promise<void> => {
    await changeOne(path, info, fsGroup, readOnly);
    if (!info.isDirectory()) return;
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(path, e.name);
      await walk(p, await lstat(p));
    }
  };
  await walk(dir, await lstat(dir));
}
